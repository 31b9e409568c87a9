-- 002_process_groups.sql - schema version 2: the process groups of running
-- jobs' commands.
--
-- A worker records here, before each command of a job runs, the command's
-- process group and what tells that group apart from a later one with the
-- same id (its leader's start time in clock ticks since boot, the kernel's
-- boot id, the PID namespace).  A restarted worker kills what is left of the
-- groups its previous run recorded, and waits until they are gone, before it
-- queues that run's jobs again.  A new table rather than columns on jobs:
-- CREATE TABLE IF NOT EXISTS is idempotent on MariaDB and MySQL alike, and
-- no ALTER of a large jobs table is needed.  docs/schema.md describes it.

CREATE TABLE IF NOT EXISTS job_processes (
	job_id BIGINT UNSIGNED NOT NULL,
	attempt INT UNSIGNED NOT NULL,
	owner CHAR(32) NOT NULL,
	backend VARCHAR(200) NULL,
	pgid INT UNSIGNED NOT NULL,
	pgid_start BIGINT UNSIGNED NOT NULL,
	kernel_boot CHAR(36) NOT NULL,
	pid_ns BIGINT UNSIGNED NOT NULL,
	host VARCHAR(255) NULL,
	recorded DATETIME(3) NOT NULL DEFAULT NOW(3),
	PRIMARY KEY (job_id, attempt),
	KEY ix_job_processes_backend (backend, owner)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO schema_version (version, name) VALUES (2, '002_process_groups');

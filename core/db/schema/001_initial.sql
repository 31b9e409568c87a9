-- 001_initial.sql - the Migration Database, schema version 1.
--
-- Applied by `dmfctl db migrate`.  Every statement is idempotent (IF NOT
-- EXISTS), so a migration interrupted half way can simply be run again.
-- MariaDB commits DDL implicitly: a version row is written only after every
-- statement of the file succeeded.  docs/schema.md describes every table
-- and column.

CREATE TABLE IF NOT EXISTS schema_version (
	version INT UNSIGNED NOT NULL PRIMARY KEY,
	name VARCHAR(200) NOT NULL,
	applied DATETIME(3) NOT NULL DEFAULT NOW(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS targets (
	name VARCHAR(64) NOT NULL PRIMARY KEY,
	description VARCHAR(255) NULL,
	created DATETIME(3) NOT NULL DEFAULT NOW(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS sources (
	name VARCHAR(64) NOT NULL PRIMARY KEY,
	description VARCHAR(255) NULL,
	created DATETIME(3) NOT NULL DEFAULT NOW(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS sourcehosts (
	name VARCHAR(255) NOT NULL PRIMARY KEY,
	host VARCHAR(255) NOT NULL,
	port INT UNSIGNED NOT NULL DEFAULT 143,
	`ssl` ENUM('no', 'imaps', 'starttls') NOT NULL DEFAULT 'no',
	commands LONGTEXT NULL CHECK (commands IS NULL OR JSON_VALID(commands)),
	created DATETIME(3) NOT NULL DEFAULT NOW(3),
	updated DATETIME(3) NOT NULL DEFAULT NOW(3) ON UPDATE NOW(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS backends (
	name VARCHAR(200) NOT NULL PRIMARY KEY,
	target VARCHAR(64) NOT NULL,
	memberid VARCHAR(128) NOT NULL,
	initial_state TINYINT UNSIGNED NOT NULL DEFAULT 1,
	max_threads INT UNSIGNED NOT NULL DEFAULT 10,
	status TINYINT UNSIGNED NOT NULL DEFAULT 3,
	threads INT UNSIGNED NOT NULL DEFAULT 0,
	command VARCHAR(16) NULL,
	boot_id CHAR(32) NULL,
	host VARCHAR(255) NULL,
	pid INT UNSIGNED NULL,
	version VARCHAR(64) NULL,
	created DATETIME(3) NOT NULL DEFAULT NOW(3),
	started DATETIME(3) NULL,
	updated DATETIME(3) NULL,
	heartbeat DATETIME(3) NULL,
	KEY ix_backends_target (target)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS backend_sources (
	backend VARCHAR(200) NOT NULL,
	source VARCHAR(64) NOT NULL,
	PRIMARY KEY (backend, source),
	CONSTRAINT fk_backend_sources_backend FOREIGN KEY (backend)
		REFERENCES backends (name) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS jobs (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	target VARCHAR(64) NOT NULL,
	source VARCHAR(64) NOT NULL,
	uid VARCHAR(255) NULL,
	ruid VARCHAR(255) NULL,
	email VARCHAR(255) NULL,
	sourcehost VARCHAR(255) NULL,
	sourceport INT UNSIGNED NULL,
	imapc_ssl VARCHAR(16) NULL,
	imapoptions VARCHAR(1024) NULL,
	exclude TEXT NULL,
	password VARBINARY(1024) NULL,
	password_key VARCHAR(128) NULL,
	password_iv VARBINARY(64) NULL,
	phase VARCHAR(16) NOT NULL DEFAULT 'sync',
	priority INT NOT NULL DEFAULT 0,
	submitted DATETIME(3) NOT NULL DEFAULT NOW(3),
	status ENUM('QUEUED', 'RUNNING', 'SUCCESS', 'FAILURE', 'CANCELED')
		NOT NULL DEFAULT 'QUEUED',
	attempts INT UNSIGNED NOT NULL DEFAULT 0,
	rescues INT UNSIGNED NOT NULL DEFAULT 0,
	cancel_requested TINYINT UNSIGNED NOT NULL DEFAULT 0,
	owner CHAR(32) NULL,
	backend VARCHAR(200) NULL,
	lease_until DATETIME(3) NULL,
	claimed DATETIME(3) NULL,
	started DATETIME(3) NULL,
	finished DATETIME(3) NULL,
	duration_ms BIGINT UNSIGNED NULL,
	details LONGTEXT NULL CHECK (details IS NULL OR JSON_VALID(details)),
	sync_saved BIGINT NULL,
	sync_expunged BIGINT NULL,
	target_messages BIGINT NULL,
	target_size BIGINT NULL,
	origin_messages BIGINT NULL,
	origin_size BIGINT NULL,
	error TEXT NULL,
	-- ordering key: ascending on every MariaDB/MySQL version (no DESC index)
	prio_key INT AS (-priority) STORED,
	-- one RUNNING job per mailbox of a target, enforced by the database
	running_key VARCHAR(330) AS
		(IF(status = 'RUNNING', CONCAT(target, 0x1F, uid), NULL)) STORED,
	UNIQUE KEY uq_jobs_running (running_key),
	KEY ix_jobs_claim (target, status, prio_key, submitted, id, source),
	KEY ix_jobs_owner (owner, status),
	KEY ix_jobs_lease (target, status, lease_until),
	KEY ix_jobs_backend (backend, status),
	KEY ix_jobs_uid (target, uid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS job_attempts (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	job_id BIGINT UNSIGNED NOT NULL,
	attempt INT UNSIGNED NOT NULL,
	target VARCHAR(64) NOT NULL,
	uid VARCHAR(255) NULL,
	owner CHAR(32) NOT NULL,
	backend VARCHAR(200) NULL,
	claimed DATETIME(6) NOT NULL,
	ended DATETIME(6) NULL,
	outcome VARCHAR(16) NULL,
	UNIQUE KEY uq_job_attempts (job_id, attempt),
	KEY ix_job_attempts_uid (target, uid, claimed)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO schema_version (version, name) VALUES (1, '001_initial');

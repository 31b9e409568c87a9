-- 003_job_progress.sql - schema version 3: live progress of running jobs.
--
-- While a job runs, its worker writes with each heartbeat (not per
-- message) the running totals its plugin reported: messages saved and
-- expunged so far, bytes of the saved messages, and when it wrote them.
-- A claim clears them; they stay as last written after the job ended
-- (the result's syncSaved/syncExpunged are the final counts).  One ALTER
-- adding every column, with MariaDB's IF NOT EXISTS, so that a migration
-- interrupted half way can simply be run again.  docs/schema.md
-- describes the columns.

ALTER TABLE jobs
	ADD COLUMN IF NOT EXISTS progress_saved BIGINT UNSIGNED NULL,
	ADD COLUMN IF NOT EXISTS progress_expunged BIGINT UNSIGNED NULL,
	ADD COLUMN IF NOT EXISTS progress_bytes BIGINT UNSIGNED NULL,
	ADD COLUMN IF NOT EXISTS progress_updated DATETIME(3) NULL;

INSERT IGNORE INTO schema_version (version, name) VALUES (3, '003_job_progress');

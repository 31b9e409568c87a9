-- 003_job_progress.sql - schema version 3: live progress of running jobs.
--
-- While a job runs, its worker writes with each heartbeat (not per
-- message) the running totals its plugin reported: messages saved and
-- expunged so far, bytes of the saved messages, and when it wrote them.
-- A claim clears them; they stay as last written after the job ended
-- (the result's syncSaved/syncExpunged are the final counts).  One ALTER
-- adding every column (atomic); MySQL 8 has no ADD COLUMN,
-- so `dmfctl db migrate` counts a duplicate column error (1060) on a run
-- repeated after an interruption as done.  docs/schema.md describes the
-- columns.

ALTER TABLE jobs
	ADD COLUMN progress_saved BIGINT UNSIGNED NULL,
	ADD COLUMN progress_expunged BIGINT UNSIGNED NULL,
	ADD COLUMN progress_bytes BIGINT UNSIGNED NULL,
	ADD COLUMN progress_updated DATETIME(3) NULL;

INSERT IGNORE INTO schema_version (version, name) VALUES (3, '003_job_progress');

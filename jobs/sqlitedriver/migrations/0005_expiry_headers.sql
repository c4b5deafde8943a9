-- Expiring jobs and job headers (issue #21): expires_at is the deadline for
-- a job to start (unix microseconds, 0 for none); headers are the job's
-- string metadata as a JSON object ('' for none), such as the W3C trace
-- context.
ALTER TABLE jobs ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN headers TEXT NOT NULL DEFAULT '';

-- Limiter listings (issue #21): each limiter's limit and window as last
-- used (per_us 0 for a concurrency limiter), when, and its admissions; and
-- who holds each slot of a concurrency limiter, for the Web UI.
ALTER TABLE limit_stats ADD COLUMN limit_n INTEGER NOT NULL DEFAULT 0;
ALTER TABLE limit_stats ADD COLUMN per_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE limit_stats ADD COLUMN admitted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE limit_stats ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE limit_holders ADD COLUMN job_id TEXT NOT NULL DEFAULT '';
ALTER TABLE limit_holders ADD COLUMN process TEXT NOT NULL DEFAULT '';

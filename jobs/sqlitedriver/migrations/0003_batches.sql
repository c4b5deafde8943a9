-- Batches (issue #21): a group of jobs tracked as one. A member is a job id,
-- or batch:<id> for a child batch; its outcome is '' until it finishes, then
-- 's' (succeeded) or 'x' (dead). complete and success are the states of the
-- two callbacks: '', 'firing' (claimed by one process), 'fired'. Times are
-- unix microseconds; expires_at is set once the batch finished or was
-- cancelled.

ALTER TABLE jobs ADD COLUMN batch_id TEXT NOT NULL DEFAULT '';

CREATE TABLE batches (
	id          TEXT    PRIMARY KEY,
	description TEXT    NOT NULL DEFAULT '',
	parent_id   TEXT    NOT NULL DEFAULT '',
	callbacks   TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	committed   INTEGER NOT NULL DEFAULT 0,
	cancelled   INTEGER NOT NULL DEFAULT 0,
	complete    TEXT    NOT NULL DEFAULT '',
	success     TEXT    NOT NULL DEFAULT '',
	firing_at   INTEGER NOT NULL DEFAULT 0,
	expires_at  INTEGER
);
CREATE INDEX batches_created ON batches (created_at);

CREATE TABLE batch_members (
	batch_id TEXT NOT NULL,
	member   TEXT NOT NULL,
	queue    TEXT NOT NULL,
	outcome  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (batch_id, member)
) WITHOUT ROWID;

-- The job store. Every job is one row of jobs, whatever its state; the
-- column pos orders the jobs of one queue in one state, as the score of a
-- sorted set would: ready jobs by their place in the queue, scheduled jobs
-- and retries by due time, running jobs by lease deadline, dead jobs by time
-- of death. One index on (queue, state, pos) then serves fetching, promotion,
-- rescue, listings, counts and the dead set cap. Times are unix
-- microseconds; 0 means unset.

CREATE TABLE jobs (
	seq                 INTEGER PRIMARY KEY, -- insertion order: breaks ties of pos
	id                  TEXT    NOT NULL UNIQUE,
	queue               TEXT    NOT NULL,
	state               TEXT    NOT NULL,
	pos                 INTEGER NOT NULL,
	type                TEXT    NOT NULL,
	args                TEXT    NOT NULL,
	attempt             INTEGER NOT NULL DEFAULT 0,
	max_retries         INTEGER NOT NULL DEFAULT 0,
	created_at          INTEGER NOT NULL DEFAULT 0,
	enqueued_at         INTEGER NOT NULL DEFAULT 0,
	scheduled_at        INTEGER NOT NULL DEFAULT 0,
	error               TEXT    NOT NULL DEFAULT '',
	failed_at           INTEGER NOT NULL DEFAULT 0,
	tags                TEXT    NOT NULL DEFAULT '', -- JSON array, or '' for none
	timeout_ns          INTEGER NOT NULL DEFAULT 0,
	backoff_base_ns     INTEGER NOT NULL DEFAULT 0, -- 0: the worker's retry delay
	backoff_max_ns      INTEGER NOT NULL DEFAULT 0,
	unique_key          TEXT    NOT NULL DEFAULT '',
	unique_until        INTEGER NOT NULL DEFAULT 0,
	lease               TEXT    NOT NULL DEFAULT '', -- held jobs only: fences outcomes
	cancel_requested_at INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX jobs_queue_state_pos ON jobs (queue, state, pos);

-- The next free places at either end of every queue: jobs that become ready
-- go to the back (back grows), jobs handed back or rescued go to the front
-- (front shrinks), so a queue is FIFO with hand-backs first.
CREATE TABLE ends (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	back  INTEGER NOT NULL,
	front INTEGER NOT NULL
);
INSERT INTO ends (id, back, front) VALUES (1, 0, 0);

CREATE TABLE queues (
	name   TEXT    PRIMARY KEY,
	paused INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Executions per queue: day '' holds the totals, other rows one UTC day
-- (2006-01-02) each.
CREATE TABLE counters (
	queue     TEXT    NOT NULL,
	day       TEXT    NOT NULL,
	processed INTEGER NOT NULL DEFAULT 0,
	failed    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (queue, day)
) WITHOUT ROWID;

CREATE TABLE processes (
	id         TEXT    PRIMARY KEY,
	info       TEXT    NOT NULL, -- jobdriver.ProcessInfo as JSON
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Unique keys held by jobs. expires_at NULL holds the key until its job
-- finishes (done, dead or deleted).
CREATE TABLE unique_keys (
	queue      TEXT NOT NULL,
	key        TEXT NOT NULL,
	job_id     TEXT NOT NULL,
	expires_at INTEGER,
	PRIMARY KEY (queue, key)
) WITHOUT ROWID;

CREATE INDEX unique_keys_expiry ON unique_keys (expires_at) WHERE expires_at IS NOT NULL;

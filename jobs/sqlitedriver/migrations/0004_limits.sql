-- Limiters (issue #21): the holders of each limiter, each until expires_at
-- (unix microseconds), and the count of refused acquisitions. A concurrency
-- limiter's holders are released when their execution ends; a rate
-- limiter's stay until they expire, one interval after admission.

CREATE TABLE limit_holders (
	name       TEXT    NOT NULL,
	token      TEXT    NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (name, token)
) WITHOUT ROWID;

CREATE INDEX limit_holders_expiry ON limit_holders (name, expires_at);

CREATE TABLE limit_stats (
	name     TEXT    PRIMARY KEY,
	rejected INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Leader terms: one row per name led ("scheduler"), held by a token until
-- expires_at (unix microseconds), renewed by the same token, taken over by
-- another once expired.

CREATE TABLE leaders (
	name       TEXT    PRIMARY KEY,
	token      TEXT    NOT NULL,
	expires_at INTEGER NOT NULL
);

-- Embedded Quire drops the index of entities by kind and value: no query of
-- Quire's reads it, and every entity written updated it at a random place
-- (URLs, names), which doubled the cost of saving a document's analysis on
-- the one writer all of a process's writes wait for. PostgreSQL, which
-- other applications read, keeps it.
DROP INDEX IF EXISTS entities_kind_value;

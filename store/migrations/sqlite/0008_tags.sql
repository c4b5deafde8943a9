-- The SQLite twin of migrations/postgres/0007_tags.sql: tags with their
-- matching rules, which documents carry them and who set each, and saved
-- views of the document list.

-- name_key is the name lowercased by Quire (Go's strings.ToLower), so that
-- names are unique in any case on both backends alike: SQLite's NOCASE folds
-- ASCII only.
CREATE TABLE tags (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL UNIQUE,
    color          TEXT NOT NULL DEFAULT '',
    match          TEXT NOT NULL DEFAULT 'none'
                   CHECK (match IN ('none', 'any', 'all', 'exact', 'regex', 'fuzzy', 'auto')),
    match_text     TEXT NOT NULL DEFAULT '',
    case_sensitive INTEGER NOT NULL DEFAULT 0 CHECK (case_sensitive IN (0, 1)),
    created_at     TEXT NOT NULL
) STRICT;

-- set_by: "user:<email>" (people, bulk actions), "rule" (matching rules),
-- "classifier:<model version id>" (the tag classifier).
CREATE TABLE document_tags (
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    tag_id      TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    set_by      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (document_id, tag_id)
) STRICT;
CREATE INDEX document_tags_tag_id ON document_tags (tag_id, document_id);

-- A saved view: a document list's query, filters and sort under a name.
-- owner is who saved it ("user:<email>", "token:<name>"); a shared view is
-- listed to everyone.
CREATE TABLE views (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    owner      TEXT NOT NULL,
    shared     INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
    query      TEXT NOT NULL DEFAULT '',
    filters    TEXT NOT NULL DEFAULT '{}' CHECK (json_type(filters) = 'object'),
    sort       TEXT NOT NULL DEFAULT '',
    dashboard  INTEGER NOT NULL DEFAULT 0 CHECK (dashboard IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner, name)
) STRICT;

-- Tags with their matching rules, which documents carry them and who set
-- each, and saved views of the document list. docs/schema.md describes the
-- columns.

-- name_key is the name lowercased by Quire (Go's strings.ToLower), so that
-- names are unique in any case on both backends alike.
CREATE TABLE tags (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    name_key       text NOT NULL UNIQUE,
    color          text NOT NULL DEFAULT '',
    match          text NOT NULL DEFAULT 'none'
                   CHECK (match IN ('none', 'any', 'all', 'exact', 'regex', 'fuzzy', 'auto')),
    match_text     text NOT NULL DEFAULT '',
    case_sensitive boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL
);

-- set_by: "user:<email>" (people, bulk actions), "rule" (matching rules),
-- "classifier:<model version id>" (the tag classifier).
CREATE TABLE document_tags (
    document_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    tag_id      text NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    set_by      text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (document_id, tag_id)
);
CREATE INDEX document_tags_tag_id ON document_tags (tag_id, document_id);

-- A saved view: a document list's query, filters and sort under a name.
-- owner is who saved it ("user:<email>", "token:<name>"); a shared view is
-- listed to everyone.
CREATE TABLE views (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    owner      text NOT NULL,
    shared     boolean NOT NULL DEFAULT false,
    query      text NOT NULL DEFAULT '',
    filters    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(filters) = 'object'),
    sort       text NOT NULL DEFAULT '',
    dashboard  boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (owner, name)
);

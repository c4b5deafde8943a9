-- Quire's first schema, the SQLite twin of migrations/postgres/0001_init.sql.
-- docs/schema.md describes every table and column. Tables are STRICT, so a
-- column holds only its declared type. Times are TEXT in UTC, always
-- 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (fixed width, so they sort as text);
-- booleans are INTEGER 0 or 1; JSON is TEXT.

CREATE TABLE documents (
    id             TEXT PRIMARY KEY,
    sha256         TEXT NOT NULL UNIQUE
                   CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    name           TEXT NOT NULL,
    mime_type      TEXT NOT NULL,
    size           INTEGER NOT NULL CHECK (size >= 0),
    state          TEXT NOT NULL
                   CHECK (state IN ('received', 'extracting', 'analyzing', 'indexed', 'done', 'failed')),
    failure_reason TEXT,
    failed_stage   TEXT,
    page_count     INTEGER,
    word_count     INTEGER,
    language       TEXT,
    title          TEXT,
    author         TEXT,
    summary        TEXT,
    parent_id      TEXT REFERENCES documents (id) ON DELETE SET NULL,
    source         TEXT NOT NULL CHECK (source IN ('upload', 'submit', 'inbox', 'process')),
    blob_key       TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    done_at        TEXT
) STRICT;
CREATE INDEX documents_state_id ON documents (state, id);
CREATE INDEX documents_mime_type_id ON documents (mime_type, id);
CREATE INDEX documents_parent_id ON documents (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX documents_created_at ON documents (created_at);
CREATE INDEX documents_updated_at ON documents (updated_at);

CREATE TABLE pages (
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL CHECK (number >= 1),
    text        TEXT NOT NULL,
    ocr         INTEGER NOT NULL DEFAULT 0 CHECK (ocr IN (0, 1)),
    PRIMARY KEY (document_id, number)
) STRICT;

-- id is the row's integer key, which the full-text index refers to; an
-- explicit INTEGER PRIMARY KEY keeps it stable across VACUUM.
CREATE TABLE document_text (
    id          INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL UNIQUE REFERENCES documents (id) ON DELETE CASCADE,
    text        TEXT NOT NULL
) STRICT;

-- The full-text index of document_text, holding no copy of the text. Like
-- PostgreSQL's 'simple' configuration it folds case, keeps diacritics and
-- does not stem. The triggers keep it in step with document_text, whoever
-- writes to it.
CREATE VIRTUAL TABLE document_fts USING fts5 (
    text,
    content = 'document_text',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER document_text_insert AFTER INSERT ON document_text BEGIN
    INSERT INTO document_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER document_text_delete AFTER DELETE ON document_text BEGIN
    INSERT INTO document_fts (document_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER document_text_update AFTER UPDATE ON document_text BEGIN
    INSERT INTO document_fts (document_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO document_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TABLE entities (
    id            INTEGER PRIMARY KEY,
    document_id   TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    model_version TEXT NOT NULL,
    kind          TEXT NOT NULL,
    value         TEXT NOT NULL,
    start_offset  INTEGER CHECK (start_offset >= 0),
    end_offset    INTEGER CHECK (end_offset >= start_offset),
    confidence    REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1)
) STRICT;
CREATE INDEX entities_document_id ON entities (document_id, model_version);
CREATE INDEX entities_kind_value ON entities (kind, value);

CREATE TABLE classifications (
    document_id   TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    model_version TEXT NOT NULL,
    label         TEXT NOT NULL,
    confidence    REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    PRIMARY KEY (document_id, model_version, label)
) STRICT;
CREATE INDEX classifications_label ON classifications (label);

CREATE TABLE labels (
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    set_by      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (document_id, label)
) STRICT;
CREATE INDEX labels_label ON labels (label);

CREATE TABLE model_versions (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    metrics    TEXT CHECK (json_type(metrics) = 'object'),
    active     INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    UNIQUE (kind, name, version)
) STRICT;
CREATE UNIQUE INDEX model_versions_active ON model_versions (kind, name) WHERE active;

-- AUTOINCREMENT: an event's id is never reused, even after the newest
-- events are deleted, so readers can follow the trail by id.
CREATE TABLE processing_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    stage       TEXT NOT NULL,
    event       TEXT NOT NULL CHECK (event IN ('started', 'done', 'failed', 'retried')),
    message     TEXT NOT NULL DEFAULT '',
    attempt     INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    at          TEXT NOT NULL
) STRICT;
CREATE INDEX processing_events_document_id ON processing_events (document_id, id);
CREATE INDEX processing_events_at ON processing_events (at);

CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL DEFAULT '',
    events     TEXT NOT NULL DEFAULT '[]' CHECK (json_type(events) = 'array'),
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL
) STRICT;

-- Quire's first schema. docs/schema.md describes every table and column;
-- other applications read these tables, so change them only by adding a
-- migration, and keep the columns documented as stable.

CREATE TABLE documents (
    id             text PRIMARY KEY,
    sha256         text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    name           text NOT NULL,
    mime_type      text NOT NULL,
    size           bigint NOT NULL CHECK (size >= 0),
    state          text NOT NULL
                   CHECK (state IN ('received', 'extracting', 'analyzing', 'indexed', 'done', 'failed')),
    failure_reason text,
    failed_stage   text,
    page_count     integer,
    word_count     integer,
    language       text,
    title          text,
    author         text,
    summary        text,
    parent_id      text REFERENCES documents (id) ON DELETE SET NULL,
    source         text NOT NULL CHECK (source IN ('upload', 'submit', 'inbox', 'process')),
    blob_key       text NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    done_at        timestamptz
);
CREATE INDEX documents_state_id ON documents (state, id);
CREATE INDEX documents_mime_type_id ON documents (mime_type, id);
CREATE INDEX documents_parent_id ON documents (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX documents_created_at ON documents (created_at);
CREATE INDEX documents_updated_at ON documents (updated_at);

CREATE TABLE pages (
    document_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    number      integer NOT NULL CHECK (number >= 1),
    text        text NOT NULL,
    ocr         boolean NOT NULL DEFAULT false,
    PRIMARY KEY (document_id, number)
);

-- to_tsvector fails on a text whose distinct words add up to more than 1 MB
-- ("string is too long for tsvector"). Such a text is rare (ordinary prose of
-- that size repeats its words) but would make the whole row unsaveable, so the
-- index then covers its first 250,000 characters, which is always under the
-- limit, rather than failing.
CREATE FUNCTION quire_text_tsvector(t text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
    SET search_path = pg_catalog
AS $$
BEGIN
    RETURN to_tsvector('simple'::regconfig, t);
EXCEPTION WHEN program_limit_exceeded THEN
    RETURN to_tsvector('simple'::regconfig, left(t, 250000));
END
$$;

CREATE TABLE document_text (
    document_id text PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    text        text NOT NULL,
    -- The 'simple' configuration lowercases and does not stem: documents
    -- come in many languages, and it matches the SQLite index's behaviour.
    tsv         tsvector GENERATED ALWAYS AS (quire_text_tsvector(text)) STORED
);
CREATE INDEX document_text_tsv ON document_text USING gin (tsv);

CREATE TABLE entities (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id   text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    model_version text NOT NULL,
    kind          text NOT NULL,
    value         text NOT NULL,
    start_offset  integer CHECK (start_offset >= 0),
    end_offset    integer CHECK (end_offset >= start_offset),
    confidence    double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1)
);
CREATE INDEX entities_document_id ON entities (document_id, model_version);
CREATE INDEX entities_kind_value ON entities (kind, value);

CREATE TABLE classifications (
    document_id   text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    model_version text NOT NULL,
    label         text NOT NULL,
    confidence    double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    PRIMARY KEY (document_id, model_version, label)
);
CREATE INDEX classifications_label ON classifications (label);

CREATE TABLE labels (
    document_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    label       text NOT NULL,
    set_by      text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (document_id, label)
);
CREATE INDEX labels_label ON labels (label);

CREATE TABLE model_versions (
    id         text PRIMARY KEY,
    kind       text NOT NULL,
    name       text NOT NULL,
    version    text NOT NULL,
    created_at timestamptz NOT NULL,
    metrics    jsonb CHECK (jsonb_typeof(metrics) = 'object'),
    active     boolean NOT NULL DEFAULT false,
    UNIQUE (kind, name, version)
);
CREATE UNIQUE INDEX model_versions_active ON model_versions (kind, name) WHERE active;

CREATE TABLE processing_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    stage       text NOT NULL,
    event       text NOT NULL CHECK (event IN ('started', 'done', 'failed', 'retried')),
    message     text NOT NULL DEFAULT '',
    attempt     integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    at          timestamptz NOT NULL
);
CREATE INDEX processing_events_document_id ON processing_events (document_id, id);
CREATE INDEX processing_events_at ON processing_events (at);

CREATE TABLE webhooks (
    id         text PRIMARY KEY,
    url        text NOT NULL,
    secret     text NOT NULL DEFAULT '',
    events     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(events) = 'array'),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL
);

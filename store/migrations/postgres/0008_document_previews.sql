-- A document's preview: a small picture of its first page, kept in blob
-- storage under blob_key (previews/…, by document ID). One row per document
-- that has one, gone with the document. version is the way it was made
-- (extract.ThumbnailVersion), part of its HTTP validator.
CREATE TABLE document_previews (
    document_id text PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    blob_key    text NOT NULL,
    mime_type   text NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    width       integer NOT NULL CHECK (width >= 1),
    height      integer NOT NULL CHECK (height >= 1),
    size        bigint NOT NULL CHECK (size >= 0),
    created_at  timestamptz NOT NULL
);

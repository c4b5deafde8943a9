-- A search filtered by media type found the newest documents of the type
-- in documents and then each one's text by its ID, one descent of the
-- primary key per document: a type that keeps one document in ten, with a
-- word in one text in fifty, took 100,000 of them (160 ms at a million) to
-- fill a window of 2,000. The text's own row now holds the type, indexed
-- with the document's ID, so the GIN index's matches are ANDed with the
-- newest texts of the type as two bitmaps, and no document is read.
--
-- Only the type: it is set by the extraction that saves the text, in the
-- same transaction, so the copy almost never changes. The state and the
-- language change after the text is saved, and a change to an indexed
-- column of this table writes every GIN entry of the row again.
--
-- Triggers keep the copy in step with documents, whoever writes to
-- either table. The column is filled here with the GIN index dropped and
-- built again afterwards: updating every row with it in place costs each
-- text's words inserted into the index again.
ALTER TABLE document_text ADD COLUMN mime_type text;

DROP INDEX document_text_tsv;
UPDATE document_text t SET mime_type = d.mime_type FROM documents d WHERE d.id = t.document_id;
CREATE INDEX document_text_tsv ON document_text USING gin (tsv);
CREATE INDEX document_text_mime_type_id ON document_text (mime_type, document_id);

CREATE FUNCTION quire_document_text_mime_type() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path FROM CURRENT
AS $$
BEGIN
    SELECT d.mime_type INTO NEW.mime_type FROM documents d WHERE d.id = NEW.document_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER document_text_mime_type BEFORE INSERT OR UPDATE OF document_id ON document_text
    FOR EACH ROW EXECUTE FUNCTION quire_document_text_mime_type();

CREATE FUNCTION quire_documents_text_mime_type() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path FROM CURRENT
AS $$
BEGIN
    UPDATE document_text SET mime_type = NEW.mime_type WHERE document_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER documents_text_mime_type AFTER UPDATE OF mime_type ON documents
    FOR EACH ROW WHEN (OLD.mime_type IS DISTINCT FROM NEW.mime_type)
    EXECUTE FUNCTION quire_documents_text_mime_type();

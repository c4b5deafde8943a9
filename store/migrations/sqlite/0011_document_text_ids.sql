-- Search finds matches in document_fts by the text's row (document_text.id)
-- and needs each one's document. Reading it from document_text read the
-- text's row, a page or more of text, for a few bytes: at 100,000 documents
-- that was the largest cost of a search's window of 5,000 matches. This
-- narrow table holds the same key and document, a hundred rows a page, in
-- the index's order, so a window's lookups stay in a few pages. The
-- triggers keep it in step with document_text, whoever writes to it.
CREATE TABLE document_text_ids (
    id          INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL
) STRICT;

INSERT INTO document_text_ids (id, document_id) SELECT id, document_id FROM document_text;

CREATE TRIGGER document_text_ids_insert AFTER INSERT ON document_text BEGIN
    INSERT INTO document_text_ids (id, document_id) VALUES (new.id, new.document_id);
END;
CREATE TRIGGER document_text_ids_delete AFTER DELETE ON document_text BEGIN
    DELETE FROM document_text_ids WHERE id = old.id;
END;
CREATE TRIGGER document_text_ids_update AFTER UPDATE OF id, document_id ON document_text BEGIN
    DELETE FROM document_text_ids WHERE id = old.id;
    INSERT INTO document_text_ids (id, document_id) VALUES (new.id, new.document_id);
END;

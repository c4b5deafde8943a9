-- Embedded Quire indexes a transaction's new texts once, just before it
-- commits, instead of in the trigger of each insert. The one writer commits
-- the transactions of many documents together, each in a savepoint of its
-- own, and FTS5 writes its pending terms out as a new segment at every
-- savepoint and at every statement that may need to be undone on its own
-- (a document's entities, inserted many rows at a time): a segment per
-- document, each merged again later, which cost a tenth of the pipeline's
-- CPU. Texts written in the transaction wait in document_fts_pending; the
-- store indexes them in one statement before every COMMIT, so none is left
-- pending by a commit of this version (one of an older Quire would leave
-- them to the next). A text is in document_fts exactly when it is not
-- pending, which the triggers keep true: FTS5 must be told to delete only
-- what it indexed.
CREATE TABLE document_fts_pending (
    id INTEGER PRIMARY KEY
) STRICT;

DROP TRIGGER document_text_insert;
DROP TRIGGER document_text_delete;
DROP TRIGGER document_text_update;

CREATE TRIGGER document_text_insert AFTER INSERT ON document_text BEGIN
    INSERT INTO document_fts_pending (id) VALUES (new.id);
END;
CREATE TRIGGER document_text_delete AFTER DELETE ON document_text BEGIN
    INSERT INTO document_fts (document_fts, rowid, text)
        SELECT 'delete', old.id, old.text
        WHERE NOT EXISTS (SELECT 1 FROM document_fts_pending WHERE id = old.id);
    DELETE FROM document_fts_pending WHERE id = old.id;
END;
CREATE TRIGGER document_text_update AFTER UPDATE ON document_text BEGIN
    INSERT INTO document_fts (document_fts, rowid, text)
        SELECT 'delete', old.id, old.text
        WHERE NOT EXISTS (SELECT 1 FROM document_fts_pending WHERE id = old.id);
    DELETE FROM document_fts_pending WHERE id = old.id;
    INSERT INTO document_fts_pending (id) VALUES (new.id);
END;

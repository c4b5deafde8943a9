-- Whether a document's stored text is its first bytes only: extraction
-- stopped at the text limit (--max-text-bytes). Saved with the text, so a
-- later extraction that is not cut short clears it.
ALTER TABLE documents ADD COLUMN text_truncated boolean NOT NULL DEFAULT false;

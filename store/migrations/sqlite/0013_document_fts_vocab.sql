-- The words of the full-text index, one row each: a search looks up the
-- words a prefix* term begins here and then looks for those words, which
-- FTS5 reads lazily, instead of having FTS5 merge the lists of all of them
-- into one before it returns the first match, again for the ranking and
-- again for the snippets (store/search_prefix.go).
CREATE VIRTUAL TABLE document_fts_vocab USING fts5vocab (document_fts, row);

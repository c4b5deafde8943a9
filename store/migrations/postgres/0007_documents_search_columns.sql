-- Search reads, for each match in its window, the document's state, media
-- type and language: to filter by them and to count the facets. With these
-- columns in an index of the primary key's order, those reads can be
-- index-only scans (once VACUUM has set the visibility map) rather than a
-- heap fetch per match. The twin of SQLite's migration 0010.
CREATE INDEX documents_search_columns ON documents (id) INCLUDE (state, mime_type, language);

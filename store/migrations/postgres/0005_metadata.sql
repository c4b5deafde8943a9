-- What a document says of itself beyond its title and author: created and
-- modified dates, page, sheet or slide counts, a recording's duration, an
-- email's headers, a feed's language. One JSON object of strings, written
-- with the text; NULL for documents extracted before.
ALTER TABLE documents ADD COLUMN metadata jsonb;

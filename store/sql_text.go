package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
)

// snippetChars is how much of a long text PostgreSQL's ts_headline reads
// for a snippet: it parses all it is given, and the best passage of a long
// document is usually early. FTS5 needs no such cap.
const snippetChars = 200_000

func (s *sqlStore) SavePages(ctx context.Context, documentID string, pages []Page) error {
	if err := validatePages(pages); err != nil {
		return fmt.Errorf("save pages of document %s: %w", documentID, err)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// Updating the document first locks its row on PostgreSQL, so two
		// runs saving the same pages take turns instead of interleaving.
		if err := s.touchDocument(ctx, tx, documentID, "page_count = $3", len(pages)); err != nil {
			return err
		}
		return s.savePages(ctx, tx, documentID, pages)
	})
	if err != nil {
		return fmt.Errorf("save pages of document %s: %w", documentID, err)
	}
	return nil
}

// validatePages checks that page numbers are from 1 to the largest the
// schema holds, and unique.
func validatePages(pages []Page) error {
	seen := make(map[int]bool, len(pages))
	for _, pg := range pages {
		if pg.Number < 1 || pg.Number > math.MaxInt32 || seen[pg.Number] {
			return invalid(fmt.Errorf("page number %d is out of range or given twice", pg.Number))
		}
		seen[pg.Number] = true
	}
	return nil
}

// savePages replaces a document's pages, in a transaction that holds the
// document's row.
func (s *sqlStore) savePages(ctx context.Context, tx execer, documentID string, pages []Page) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM pages WHERE document_id = $1", documentID); err != nil {
		return fmt.Errorf("delete pages: %w", err)
	}
	err := s.insertMany(ctx, tx, "INSERT INTO pages (document_id, number, text, ocr)", 4, len(pages), func(i int) []any {
		return []any{documentID, pages[i].Number, cleanText(pages[i].Text), pages[i].OCR}
	})
	if err != nil {
		return fmt.Errorf("insert pages: %w", err)
	}
	return nil
}

// touchDocument sets columns of a document (set holds $3, $4, … for args)
// and its updated_at, and fails with ErrNotFound when there is no such
// document.
func (s *sqlStore) touchDocument(ctx context.Context, tx *sql.Tx, id, set string, args ...any) error {
	return execRow(ctx, tx, "UPDATE documents SET "+set+", updated_at = $2 WHERE id = $1",
		append([]any{id, s.ts(s.nowUTC())}, args...)...)
}

func (s *sqlStore) ListPages(ctx context.Context, documentID string) ([]Page, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT number, text, ocr FROM pages WHERE document_id = $1 ORDER BY number", documentID)
	if err != nil {
		return nil, fmt.Errorf("list pages of document %s: %w", documentID, err)
	}
	defer rows.Close()
	var pages []Page
	for rows.Next() {
		var p Page
		if err := rows.Scan(&p.Number, &p.Text, &p.OCR); err != nil {
			return nil, fmt.Errorf("list pages of document %s: %w", documentID, err)
		}
		pages = append(pages, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list pages of document %s: %w", documentID, err)
	}
	if len(pages) == 0 {
		if err := s.documentExists(ctx, s.r, documentID); err != nil {
			return nil, fmt.Errorf("list pages of document %s: %w", documentID, err)
		}
	}
	return pages, nil
}

func (s *sqlStore) SaveText(ctx context.Context, p *SaveTextParams) error {
	text := cleanText(p.Text)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.touchDocument(ctx, tx, p.DocumentID, "word_count = $3, title = $4, author = $5, text_truncated = $6, metadata = $7",
			countWords(text), nullable(cleanText(p.Title)), nullable(cleanText(p.Author)), p.Truncated, metadataValue(p.Metadata)); err != nil {
			return err
		}
		return saveText(ctx, tx, p.DocumentID, text)
	})
	if err != nil {
		return fmt.Errorf("save text of document %s: %w", p.DocumentID, err)
	}
	return nil
}

// saveText replaces a document's text, cleaned, in a transaction that holds
// the document's row. Unchanged text is left alone, so a repeated run does
// not make the index redo its work.
func saveText(ctx context.Context, tx execer, documentID, text string) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO document_text (document_id, text) VALUES ($1, $2)
		ON CONFLICT (document_id) DO UPDATE SET text = excluded.text
		WHERE document_text.text <> excluded.text`, documentID, text)
	if err != nil {
		return fmt.Errorf("save text: %w", err)
	}
	return nil
}

func (s *sqlStore) GetText(ctx context.Context, documentID string) (string, error) {
	var text string
	err := s.r.QueryRowContext(ctx, "SELECT text FROM document_text WHERE document_id = $1", documentID).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.documentExists(ctx, s.r, documentID)
	}
	if err != nil {
		return "", fmt.Errorf("get text of document %s: %w", documentID, err)
	}
	return text, nil
}

func (s *sqlStore) Search(ctx context.Context, p *SearchParams) ([]SearchHit, error) {
	limit, err := listLimit(p.Limit)
	if err == nil && p.Offset < 0 {
		err = invalid(fmt.Errorf("negative Offset %d", p.Offset))
	}
	if err == nil && p.State != "" && !p.State.Valid() {
		err = invalid(fmt.Errorf("state %q is not one of %v", p.State, States))
	}
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", p.Query, err)
	}
	q := parseQuery(p.Query)
	if q.empty() {
		return nil, nil
	}
	if s.fts != nil {
		if err := s.fts.flush(ctx); err != nil {
			return nil, fmt.Errorf("search %q: %w", p.Query, err)
		}
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var query string
	if s.pg() {
		match := arg(q.websearch())
		stateFilter := ""
		if p.State != "" {
			stateFilter = " AND d.state = " + arg(p.State)
		}
		// Rank every match, then make snippets for the page only:
		// ts_headline re-parses the text and is the costly part.
		query = `
			SELECT ` + docCols("d") + `, m.rank,
				ts_headline('simple', left(t.text, ` + fmt.Sprint(snippetChars) + `), m.q, ` +
			arg("StartSel="+markStart+", StopSel="+markEnd+", MinWords=15, MaxWords=35") + `)
			FROM (
				SELECT t.document_id, ts_rank(t.tsv, q) AS rank, q
				FROM document_text t
				JOIN documents d ON d.id = t.document_id,
				websearch_to_tsquery('simple', ` + match + `) q
				WHERE t.tsv @@ q` + stateFilter + `
				ORDER BY rank DESC, t.document_id DESC
				LIMIT ` + arg(limit) + ` OFFSET ` + arg(p.Offset) + `
			) m
			JOIN documents d ON d.id = m.document_id
			JOIN document_text t ON t.document_id = m.document_id
			ORDER BY m.rank DESC, d.id DESC`
	} else {
		snippet := "snippet(document_fts, 0, " + arg(markStart) + ", " + arg(markEnd) + ", '…', 24)"
		match := arg(q.fts5())
		stateFilter := ""
		if p.State != "" {
			stateFilter = " AND d.state = " + arg(p.State)
		}
		// bm25 is lower for better matches; Rank is higher for better.
		query = `
			SELECT ` + docCols("d") + `, -bm25(document_fts), ` + snippet + `
			FROM document_fts
			JOIN document_text t ON t.id = document_fts.rowid
			JOIN documents d ON d.id = t.document_id
			WHERE document_fts MATCH ` + match + stateFilter + `
			ORDER BY bm25(document_fts), d.id DESC
			LIMIT ` + arg(limit) + ` OFFSET ` + arg(p.Offset)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", p.Query, err)
	}
	defer rows.Close()
	var hits []SearchHit
	for rows.Next() {
		var (
			h       SearchHit
			snippet string
		)
		d, err := scanDocument(rows, &h.Rank, &snippet)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", p.Query, err)
		}
		h.Document = *d
		h.Snippet = parseSnippet(strings.TrimSpace(snippet))
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %q: %w", p.Query, err)
	}
	return hits, nil
}

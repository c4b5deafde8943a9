package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
)

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
		return s.saveText(ctx, tx, p.DocumentID, text)
	})
	if err != nil {
		return fmt.Errorf("save text of document %s: %w", p.DocumentID, err)
	}
	return nil
}

// pgTextWorkMem is the memory an insert into document_text may use to move
// the GIN index's pending list into the index, which the insert that finds
// the list past gin_pending_list_limit does (VACUUM does it with
// maintenance_work_mem). With the default 4 MB it moves about 14,000 texts
// a minute while other writers append theirs: a sustained import left
// 550,000 texts in the list at a million, which every search reads.
const pgTextWorkMem = "256MB"

// saveText replaces a document's text, cleaned, in a transaction that holds
// the document's row. Unchanged text is left alone, so a repeated run does
// not make the index redo its work.
func (s *sqlStore) saveText(ctx context.Context, tx execer, documentID, text string) error {
	if s.pg() {
		if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '"+pgTextWorkMem+"'"); err != nil {
			return fmt.Errorf("save text: %w", err)
		}
	}
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

package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/oklog/ulid/v2"
)

// documentColumns are the columns scanDocument reads, in its order.
var documentColumns = []string{
	"id", "sha256", "name", "mime_type", "size", "state", "failure_reason", "failed_stage",
	"page_count", "word_count", "language", "title", "author", "summary", "parent_id",
	"source", "blob_key", "created_at", "updated_at", "done_at",
}

// docCols lists the document columns, each prefixed with alias and a dot
// when alias is not empty.
func docCols(alias string) string {
	if alias == "" {
		return strings.Join(documentColumns, ", ")
	}
	return alias + "." + strings.Join(documentColumns, ", "+alias+".")
}

// scanDocument scans the columns of docCols, then extra.
func scanDocument(row interface{ Scan(...any) error }, extra ...any) (*Document, error) {
	var d Document
	dest := []any{
		&d.ID, &d.SHA256, &d.Name, &d.MIMEType, &d.Size, &d.State, str{&d.FailureReason}, str{&d.FailedStage},
		num{&d.PageCount}, num{&d.WordCount}, str{&d.Language}, str{&d.Title}, str{&d.Author}, str{&d.Summary}, str{&d.ParentID},
		&d.Source, &d.BlobKey, tm{&d.CreatedAt}, tm{&d.UpdatedAt}, tm{&d.DoneAt},
	}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	return &d, nil
}

func (s *sqlStore) CreateDocument(ctx context.Context, p *CreateDocumentParams) (*Document, bool, error) {
	if err := p.validate(); err != nil {
		return nil, false, fmt.Errorf("create document %q: %w", p.Name, err)
	}
	var (
		doc     *Document
		created bool
	)
	err := s.write(ctx, func(tx queryer) error {
		now := s.nowUTC()
		// Outside a transaction the existing document can be deleted
		// between the insert that found it and the read of it; then the
		// insert is tried again.
		for range 3 {
			row := tx.QueryRowContext(ctx, `
				INSERT INTO documents (id, sha256, name, mime_type, size, state, parent_id, source, blob_key, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
				ON CONFLICT (sha256) DO NOTHING
				RETURNING `+docCols(""),
				ulid.Make().String(), p.SHA256, cleanText(p.Name), cmp.Or(p.MIMEType, "application/octet-stream"), p.Size,
				StateReceived, nullable(p.ParentID), p.Source, p.BlobKey, s.ts(now))
			var err error
			doc, err = scanDocument(row)
			switch {
			case err == nil:
				created = true
				return nil
			case isForeignKeyViolation(err):
				return fmt.Errorf("parent document %s: %w", p.ParentID, ErrNotFound)
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			// The content is already here: the existing document is the
			// answer, whoever created it.
			doc, err = scanDocument(tx.QueryRowContext(ctx, "SELECT "+docCols("")+" FROM documents WHERE sha256 = $1", p.SHA256))
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		return errors.New("the document with this content was deleted while being created, three times over")
	})
	if err != nil {
		return nil, false, fmt.Errorf("create document %q (sha256 %s): %w", p.Name, p.SHA256, err)
	}
	return doc, created, nil
}

func (s *sqlStore) DeleteDocument(ctx context.Context, id string) error {
	if err := s.deleteByID(ctx, "documents", id); err != nil {
		return fmt.Errorf("delete document %s: %w", id, err)
	}
	return nil
}

func (s *sqlStore) GetDocument(ctx context.Context, id string) (*Document, error) {
	doc, err := scanDocument(s.r.QueryRowContext(ctx, "SELECT "+docCols("")+" FROM documents WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("get document %s: %w", id, notFound(err))
	}
	return doc, nil
}

func (s *sqlStore) GetDocumentBySHA(ctx context.Context, sha256 string) (*Document, error) {
	doc, err := scanDocument(s.r.QueryRowContext(ctx, "SELECT "+docCols("")+" FROM documents WHERE sha256 = $1", sha256))
	if err != nil {
		return nil, fmt.Errorf("get document by sha256 %s: %w", sha256, notFound(err))
	}
	return doc, nil
}

// listLimit applies the default and the maximum of a page size.
func listLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return ListLimitDefault, nil
	case limit < 0 || limit > ListLimitMax:
		return 0, invalid(fmt.Errorf("limit %d is not between 1 and %d", limit, ListLimitMax))
	}
	return limit, nil
}

func (s *sqlStore) ListDocuments(ctx context.Context, p *ListDocumentsParams) (*DocumentList, error) {
	if p == nil {
		p = &ListDocumentsParams{}
	}
	limit, err := listLimit(p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if p.State != "" {
		if !p.State.Valid() {
			return nil, fmt.Errorf("list documents: %w", invalid(fmt.Errorf("state %q is not one of %v", p.State, States)))
		}
		where = append(where, "d.state = "+arg(p.State))
	}
	if p.MIMEType != "" {
		where = append(where, "d.mime_type = "+arg(p.MIMEType))
	}
	if p.ParentID != "" {
		where = append(where, "d.parent_id = "+arg(p.ParentID))
	}
	if p.Cursor != "" {
		where = append(where, "d.id < "+arg(p.Cursor))
	}
	if p.Query != "" {
		q := parseQuery(p.Query)
		if q.empty() {
			return &DocumentList{}, nil
		}
		if s.pg() {
			where = append(where, "EXISTS (SELECT 1 FROM document_text t WHERE t.document_id = d.id AND t.tsv @@ websearch_to_tsquery('simple', "+arg(q.websearch())+"))")
		} else {
			where = append(where, "d.id IN (SELECT t.document_id FROM document_fts JOIN document_text t ON t.id = document_fts.rowid WHERE document_fts MATCH "+arg(q.fts5())+")")
		}
	}
	query := "SELECT " + docCols("d") + " FROM documents d"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	// ULIDs sort by creation time, so the ID orders newest first and is the
	// cursor.
	query += " ORDER BY d.id DESC LIMIT " + arg(limit+1)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	defer rows.Close()
	list := &DocumentList{}
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("list documents: %w", err)
		}
		list.Documents = append(list.Documents, *d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	if len(list.Documents) > limit {
		list.Documents = list.Documents[:limit]
		list.Next = list.Documents[limit-1].ID
	}
	return list, nil
}

func (s *sqlStore) SetState(ctx context.Context, p *SetStateParams) (*Document, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("set state of document %s: %w", p.ID, err)
	}
	var doc *Document
	err := s.write(ctx, func(tx queryer) error {
		now := s.ts(s.nowUTC())
		args := []any{p.ID, p.To, now}
		set := "state = $2, updated_at = $3"
		switch p.To {
		case StateFailed:
			args = append(args, cleanText(p.Reason), nullable(p.Stage))
			// In an UPDATE, state is the row's old value: the stage that
			// was running when it failed.
			set += ", failure_reason = $4, failed_stage = COALESCE($5, state), done_at = NULL"
		case StateDone:
			set += ", failure_reason = NULL, failed_stage = NULL, done_at = $3"
		default:
			set += ", failure_reason = NULL, failed_stage = NULL, done_at = NULL"
		}
		from := make([]any, len(p.From))
		for i, f := range p.From {
			from[i] = f
		}
		query := "UPDATE documents SET " + set + " WHERE id = $1 AND state IN (" + params(len(args)+1, len(from)) + ") RETURNING " + docCols("")
		var err error
		doc, err = scanDocument(tx.QueryRowContext(ctx, query, append(args, from...)...))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		doc, err = scanDocument(tx.QueryRowContext(ctx, "SELECT "+docCols("")+" FROM documents WHERE id = $1", p.ID))
		if err != nil {
			return notFound(err)
		}
		if doc.State == p.To {
			return nil // already there: a repeated run of the same stage
		}
		return &StateConflictError{ID: p.ID, Current: doc.State, From: p.From, To: p.To}
	})
	if err != nil {
		return nil, fmt.Errorf("set state of document %s to %s: %w", p.ID, p.To, err)
	}
	return doc, nil
}

func (s *sqlStore) Stats(ctx context.Context) (*Stats, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT state, count(*) FROM documents GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("count documents: %w", err)
	}
	defer rows.Close()
	st := &Stats{ByState: make(map[State]int64, len(States))}
	for _, state := range States {
		st.ByState[state] = 0
	}
	for rows.Next() {
		var (
			state State
			n     int64
		)
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count documents: %w", err)
		}
		st.ByState[state] = n
		st.Documents += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count documents: %w", err)
	}
	return st, nil
}

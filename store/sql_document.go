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
	"source", "blob_key", "created_at", "updated_at", "done_at", "text_truncated", "metadata",
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
		&d.Source, &d.BlobKey, tm{&d.CreatedAt}, tm{&d.UpdatedAt}, tm{&d.DoneAt}, &d.TextTruncated, jsonMap{&d.Metadata},
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
		var err error
		doc, created, err = s.createDocument(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("create document %q (sha256 %s): %w", p.Name, p.SHA256, err)
	}
	return doc, created, nil
}

// createDocument is CreateDocument's work on tx: the write transaction on
// SQLite; on PostgreSQL the pool, or a transaction (CreateDocuments).
func (s *sqlStore) createDocument(ctx context.Context, tx queryer, p *CreateDocumentParams) (doc *Document, created bool, err error) {
	_, inTx := tx.(*sql.Tx)
	err = func() error {
		now := s.nowUTC()
		// Outside a transaction the existing document can be deleted
		// between the insert that found it and the read of it; then the
		// insert is tried again.
		for range 3 {
			id := ulid.Make().String()
			query := `
				INSERT INTO documents (id, sha256, name, mime_type, size, state, parent_id, source, blob_key, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
				ON CONFLICT (sha256) DO NOTHING
				RETURNING ` + docCols("")
			args := []any{id, p.SHA256, cleanText(p.Name), cmp.Or(p.MIMEType, "application/octet-stream"), p.Size,
				StateReceived, nullable(p.ParentID), p.Source, p.BlobKey, s.ts(now)}
			var err error
			if s.pg() && !inTx && len(p.Events) > 0 {
				doc, err = s.pgInsertWithEvents(ctx, query, args, id, p.Events)
				if err == nil && doc == nil {
					err = sql.ErrNoRows
				}
			} else {
				doc, err = scanDocument(tx.QueryRowContext(ctx, query, args...))
				if err == nil && len(p.Events) > 0 {
					// tx is a transaction: SQLite's write transaction,
					// or CreateDocuments' on PostgreSQL.
					err = s.insertEvents(ctx, tx, id, p.Events)
				}
			}
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
	}()
	return doc, created, err
}

func (s *sqlStore) CreateDocuments(ctx context.Context, ps []*CreateDocumentParams) ([]CreateDocumentResult, error) {
	res := make([]CreateDocumentResult, len(ps))
	valid := 0
	for i, p := range ps {
		if err := p.validate(); err != nil {
			res[i].Err = fmt.Errorf("create document %q: %w", p.Name, err)
			continue
		}
		valid++
	}
	if valid == 0 {
		return res, nil
	}
	// One transaction, one commit (one wait for the disk) for all of them.
	// Any failure undoes them all, and then each is created on its own, so
	// that each gets its own outcome: the common case (no failure) is the
	// one that is fast.
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for i, p := range ps {
			if res[i].Err != nil {
				continue
			}
			doc, created, err := s.createDocument(ctx, tx, p)
			if err != nil {
				return err
			}
			res[i].Document, res[i].Created = doc, created
		}
		return nil
	})
	if err == nil {
		return res, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("create %d documents: %w", valid, err)
	}
	for i, p := range ps {
		if res[i].Err != nil {
			continue
		}
		res[i].Document, res[i].Created, res[i].Err = s.CreateDocument(ctx, p)
	}
	return res, nil
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
	for _, tag := range p.Tags {
		where = append(where, "EXISTS (SELECT 1 FROM document_tags dt JOIN tags tg ON tg.id = dt.tag_id WHERE dt.document_id = d.id AND tg.name_key = "+arg(tagKey(tag))+")")
	}
	if p.Cursor != "" {
		// The cursor is the last document's id: anything else is a
		// client's mistake, not a place to start from.
		if _, err := ulid.ParseStrict(p.Cursor); err != nil {
			return nil, fmt.Errorf("list documents: %w", invalid(fmt.Errorf("cursor %q is not one this listing gave", p.Cursor)))
		}
		where = append(where, "d.id < "+arg(p.Cursor))
	}
	if p.Query != "" {
		q := parseQuery(p.Query)
		if q.empty() {
			return &DocumentList{}, nil
		}
		if s.pg() {
			where = append(where, "EXISTS (SELECT 1 FROM document_text t WHERE t.document_id = d.id AND t.tsv @@ to_tsquery('simple', "+arg(q.tsquery())+"))")
		} else {
			if err := s.fts.flush(ctx); err != nil {
				return nil, fmt.Errorf("list documents: %w", err)
			}
			var err error
			if q, err = s.sqliteExpandPrefixes(ctx, q); err != nil {
				return nil, fmt.Errorf("list documents: %w", err)
			}
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
	docs, err := listRows(ctx, s.r, "list documents", func(row interface{ Scan(...any) error }) (*Document, error) {
		return scanDocument(row)
	}, query, args...)
	if err != nil {
		return nil, err
	}
	list := &DocumentList{Documents: docs}
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
	var (
		doc *Document
		err error
	)
	move := func(q queryer) error {
		query, args := s.moveQuery(p)
		doc, err = scanDocument(q.QueryRowContext(ctx, query, args...))
		if errors.Is(err, sql.ErrNoRows) {
			doc = nil
			return s.explainNoMove(ctx, q, p)
		}
		return err
	}
	switch {
	case p.hasResults() && s.pg():
		doc, err = s.pgMoveWithResults(ctx, p)
	case p.hasResults():
		err = s.txSynced(ctx, !p.Unsynced, func(tx *sql.Tx) error {
			if err := move(tx); err != nil {
				return err
			}
			return s.saveResults(ctx, tx, p)
		})
	default:
		err = s.write(ctx, move)
	}
	if errors.Is(err, errAlreadyThere) {
		// A repeated run of the stage that moved it: nothing is written.
		doc, err = s.GetDocument(ctx, p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("set state of document %s to %s: %w", p.ID, p.To, err)
	}
	return doc, nil
}

// errAlreadyThere says a move found the document already in its target
// state.
var errAlreadyThere = errors.New("already in that state")

// moveQuery is the UPDATE that moves the document and sets the columns its
// results summarise, returning the document; it matches no row when the
// document is not in one of p.From. One UPDATE, since on PostgreSQL every
// update of a row writes a new version of it and of its index entries.
func (s *sqlStore) moveQuery(p *SetStateParams) (string, []any) {
	now := s.ts(s.nowUTC())
	args := []any{p.ID, p.To, now}
	set := "state = $2, updated_at = $3"
	add := func(col string, v any) {
		args = append(args, v)
		set += fmt.Sprintf(", %s = $%d", col, len(args))
	}
	switch p.To {
	case StateFailed:
		add("failure_reason", cleanText(p.Reason))
		// In an UPDATE, state is the row's old value: the stage that was
		// running when it failed.
		args = append(args, nullable(p.Stage))
		set += fmt.Sprintf(", failed_stage = COALESCE($%d, state), done_at = NULL", len(args))
	case StateDone:
		set += ", failure_reason = NULL, failed_stage = NULL, done_at = $3"
	default:
		set += ", failure_reason = NULL, failed_stage = NULL, done_at = NULL"
	}
	if p.Pages != nil {
		add("page_count", len(p.Pages))
	}
	if p.Text != nil {
		add("word_count", countWords(cleanText(p.Text.Text)))
		add("title", nullable(cleanText(p.Text.Title)))
		add("author", nullable(cleanText(p.Text.Author)))
		add("text_truncated", p.Text.Truncated)
		add("metadata", metadataValue(p.Text.Metadata))
	}
	if p.MIMEType != "" {
		add("mime_type", p.MIMEType)
	}
	for _, a := range p.Analyses {
		if a.Language != "" {
			add("language", a.Language)
		}
		if a.Summary != "" {
			add("summary", cleanText(a.Summary))
		}
	}
	from := params(len(args)+1, len(p.From))
	for _, f := range p.From {
		args = append(args, f)
	}
	return "UPDATE documents SET " + set + " WHERE id = $1 AND state IN (" + from + ") RETURNING " + docCols(""), args
}

// explainNoMove tells why a move matched no row: the document is gone
// (ErrNotFound), already there (errAlreadyThere), or elsewhere
// (*StateConflictError).
func (s *sqlStore) explainNoMove(ctx context.Context, q queryer, p *SetStateParams) error {
	var cur State
	if err := q.QueryRowContext(ctx, "SELECT state FROM documents WHERE id = $1", p.ID).Scan(&cur); err != nil {
		return notFound(err)
	}
	if cur == p.To {
		return errAlreadyThere
	}
	return &StateConflictError{ID: p.ID, Current: cur, From: p.From, To: p.To}
}

// saveResults saves the results a move carries, in its transaction.
func (s *sqlStore) saveResults(ctx context.Context, tx execer, p *SetStateParams) error {
	if p.Pages != nil {
		if err := s.savePages(ctx, tx, p.ID, p.Pages); err != nil {
			return err
		}
	}
	if p.Text != nil {
		if err := s.saveText(ctx, tx, p.ID, cleanText(p.Text.Text)); err != nil {
			return err
		}
	}
	if err := s.saveAnalyses(ctx, tx, p.ID, p.Analyses); err != nil {
		return err
	}
	if p.Tags != nil {
		if err := s.replaceMachineTags(ctx, tx, p.ID, p.Tags); err != nil {
			return err
		}
	}
	return s.insertEvents(ctx, tx, p.ID, p.Events)
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

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/quirehq/quire/internal/sqlitesync"
)

// Both backends are one sqlStore, which plays every role of Store.
var _ Store = (*sqlStore)(nil)

// sqlStore is the Store of both backends. The SQL is shared: both accept
// $1-style parameters, ON CONFLICT and RETURNING. What differs (full-text
// search, time values, locking) is behind the few fields below.
type sqlStore struct {
	backend string // backendPostgres or backendSQLite
	// w runs every write, in a transaction. On SQLite it holds one
	// connection whose transactions begin IMMEDIATE, so writers of this
	// process queue here instead of in SQLite's busy loop.
	w *sql.DB
	// r runs reads outside transactions. On PostgreSQL it is w.
	r *sql.DB
	// migrations holds the numbered .sql files of the backend.
	migrations fs.FS
	// beginMigrate runs first in the migration transaction: it makes
	// concurrent migrators take turns and checks the database is ours.
	beginMigrate func(ctx context.Context, tx *sql.Tx) error
	// lockModel serialises activations of one model's versions (PostgreSQL;
	// SQLite has one writer anyway).
	lockModel func(ctx context.Context, tx *sql.Tx, kind, name string) error
	// sqliteWriter runs SQLite's write transactions, committing those that
	// wait together at once; nil on PostgreSQL, whose server groups
	// concurrent commits itself.
	sqliteWriter *sqlitesync.Writer
	// sqliteSynchronous is SQLite's synchronous level for synced commits;
	// unsynced ones (SetStateParams.Unsynced) commit with NORMAL. The log is
	// sequential, so the next synced commit covers the unsynced ones before
	// it.
	sqliteSynchronous string
	// fts keeps SQLite's full-text index current; nil on PostgreSQL,
	// whose index is a column kept by the row's own write.
	fts *ftsIndexer
	// pgStats are PostgreSQL's statistics the search estimates its window
	// from (search_pgstats.go).
	pgStats pgStatsCache
	// pgJoinedMatchesMax is pgJoinedMatchesMax, smaller in tests that
	// make a window's matches run past it.
	pgJoinedMatchesMax int
	close              func() error
	now                func() time.Time
}

const (
	backendPostgres = "postgres"
	backendSQLite   = "sqlite"
)

func (s *sqlStore) Backend() string { return s.backend }

func (s *sqlStore) Close() error { return s.close() }

func (s *sqlStore) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.backend, err)
	}
	return nil
}

func (s *sqlStore) pg() bool { return s.backend == backendPostgres }

// timeLayout is how SQLite holds times: UTC, microseconds, fixed width, so
// the text sorts in time order and round-trips PostgreSQL's precision.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// nowUTC is the current time as the database keeps it.
func (s *sqlStore) nowUTC() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// ts is a time as a query parameter.
func (s *sqlStore) ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if s.pg() {
		return t
	}
	return t.UTC().Format(timeLayout)
}

// tx runs fn in a write transaction, committed when fn returns nil.
func (s *sqlStore) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.txSynced(ctx, true, fn)
}

// txSynced is tx whose commit waits for the disk only if synced; see
// SetStateParams.Unsynced.
func (s *sqlStore) txSynced(ctx context.Context, synced bool, fn func(tx *sql.Tx) error) error {
	if s.sqliteWriter != nil {
		level := s.sqliteSynchronous
		if !synced {
			level = "NORMAL"
		}
		return s.sqliteWriter.Do(ctx, level, fn)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// write runs fn, a write whose statements are each correct on their own:
// one statement, or one followed by reads that only explain its outcome. On
// PostgreSQL each statement then commits by itself, which saves the BEGIN and
// COMMIT round trips of a transaction: about half of the pipeline's round
// trips. On SQLite fn runs in a write transaction all the same, since its
// BEGIN IMMEDIATE is what takes the write lock up front and lets a writer in
// another process wait for it instead of failing with SQLITE_BUSY.
func (s *sqlStore) write(ctx context.Context, fn func(q queryer) error) error {
	if s.pg() {
		return fn(s.w)
	}
	return s.tx(ctx, func(tx *sql.Tx) error { return fn(tx) })
}

// params returns "$from, $from+1, …" for n parameters.
func params(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

// anonymousParams is params for SQLite's anonymous parameters: "?, ?".
func anonymousParams(_, n int) string {
	return strings.Repeat("?, ", n-1) + "?"
}

// insertMany inserts rows in statements of at most 200 rows, far below the
// parameter limits of both backends. On SQLite the parameters are
// anonymous (?): SQLite looks each $N up in a list of the statement's names,
// a scan per parameter that costs more than the insert on a statement of
// hundreds of them.
func (s *sqlStore) insertMany(ctx context.Context, tx execer, head string, cols, rows int, row func(i int) []any) error {
	mark := params
	if !s.pg() {
		mark = anonymousParams
	}
	const batch = 200
	for start := 0; start < rows; start += batch {
		n := min(batch, rows-start)
		var b strings.Builder
		b.WriteString(head + " VALUES ")
		args := make([]any, 0, n*cols)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + mark(len(args)+1, cols) + ")")
			args = append(args, row(start+i)...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// nullable stores "" as NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// cleanText makes text storable on both backends: PostgreSQL holds neither
// NUL nor invalid UTF-8. NUL becomes a space, so byte offsets into the rest
// of the text stay right.
func cleanText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", " ")
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// str scans a nullable text column into a string ("" for NULL).
type str struct{ p *string }

func (d str) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*d.p = ""
	case string:
		*d.p = v
	case []byte:
		*d.p = string(v)
	default:
		return fmt.Errorf("scan %T into a string", v)
	}
	return nil
}

// jsonMap scans a JSON object of strings (the metadata column: jsonb on
// PostgreSQL, text on SQLite) into a map, nil for NULL.
type jsonMap struct{ p *map[string]string }

func (d jsonMap) Scan(v any) error {
	var b []byte
	switch v := v.(type) {
	case nil:
		*d.p = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan %T into a JSON object", v)
	}
	*d.p = nil
	if err := json.Unmarshal(b, d.p); err != nil {
		return fmt.Errorf("decode JSON object: %w", err)
	}
	return nil
}

// metadataValue is a document's metadata as the metadata column holds it:
// a JSON object of its non-empty fields, cleaned like every text the store
// keeps, or NULL when there are none.
func metadataValue(m map[string]string) any {
	clean := make(map[string]string, len(m))
	for k, v := range m {
		if k, v = cleanText(k), cleanText(v); k != "" && v != "" {
			clean[k] = v
		}
	}
	if len(clean) == 0 {
		return nil
	}
	b, err := json.Marshal(clean)
	if err != nil {
		return nil // strings always marshal
	}
	return string(b)
}

// num scans a nullable integer column into an int (0 for NULL).
type num struct{ p *int }

func (d num) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil {
		return err
	}
	*d.p = int(n.Int64)
	return nil
}

// tm scans a time column: a time.Time from PostgreSQL, text in timeLayout
// from SQLite, NULL as the zero time.
type tm struct{ p *time.Time }

func (d tm) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*d.p = time.Time{}
	case time.Time:
		*d.p = v.UTC()
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("parse time %q: %w", v, err)
		}
		*d.p = t.UTC()
	default:
		return fmt.Errorf("scan %T into a time", v)
	}
	return nil
}

// isForeignKeyViolation reports whether err is a foreign-key violation: a
// row naming a document that does not exist.
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// notFound maps sql.ErrNoRows to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// documentExists reports whether a document exists, for reads that found
// nothing and must tell an empty result from a missing document.
func (s *sqlStore) documentExists(ctx context.Context, q queryer, id string) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM documents WHERE id = $1", id).Scan(&one)
	return notFound(err)
}

// execer runs statements whose results are not read: a transaction, or a
// batch to be sent at once (batchExecer).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queryer is what *sql.DB and *sql.Tx share.
// listRows runs a query on q and returns every row as scan reads it;
// errors are wrapped with what is listed ("list webhooks").
func listRows[T any](ctx context.Context, q queryer, what string, scan func(row interface{ Scan(...any) error }) (*T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		list = append(list, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return list, nil
}

type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// execRow runs a statement that must change a row: ErrNotFound when it
// changed none.
func execRow(ctx context.Context, q execer, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// deleteByID deletes the row of table with the given id; ErrNotFound when
// there is none.
func (s *sqlStore) deleteByID(ctx context.Context, table, id string) error {
	return s.write(ctx, func(q queryer) error {
		return execRow(ctx, q, "DELETE FROM "+table+" WHERE id = $1", id)
	})
}

package store_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/store/storetest"
)

// newPostgresDatabase creates a database for one test.
func newPostgresDatabase(t testing.TB) string { return testenv.NewPostgresDatabase(t) }

func openSQL(driver string) func(t testing.TB, url string) *sql.DB {
	return func(t testing.TB, url string) *sql.DB {
		if driver == "sqlite" {
			url = strings.TrimPrefix(url, "sqlite://")
		}
		db, err := sql.Open(driver, url)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, storetest.Harness{NewURL: newPostgresDatabase, OpenSQL: openSQL("pgx")})
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, storetest.Harness{
		NewURL: func(t testing.TB) string {
			return "sqlite://" + filepath.Join(t.TempDir(), "quire.db")
		},
		OpenSQL: openSQL("sqlite"),
	})
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	tests := []struct {
		name string
		url  string
		want []string
	}{
		{"UnknownScheme", "mysql://root:hunter2@db/quire", []string{"mysql://root:xxxxx@db/quire", `unsupported scheme "mysql"`}},
		{"PostgresDown", "postgres://quire:hunter2@127.0.0.1:1/quire?sslmode=disable&connect_timeout=2", []string{"postgres://quire:xxxxx@127.0.0.1:1/quire"}},
		{"PostgresPasswordParam", "postgres://127.0.0.1:1/quire?password=hunter2&connect_timeout=2", []string{"password=xxxxx"}},
		{"BadPostgresURL", "postgres://127.0.0.1:1/quire?pool_max_conns=many", []string{"pool_max_conns"}},
		{"KeywordValue", "host=db password=hunter2 dbname=quire", []string{"password=xxxxx", "use a postgres:// URL"}},
		{"SQLiteDirectory", "sqlite://" + dir, []string{"is a directory"}},
		{"SQLiteNoPath", "sqlite://", []string{"no file path"}},
		{"SQLiteUnknownSetting", "sqlite://" + dir + "/q.db?busy=1s", []string{`unknown setting "busy"`}},
		{"SQLiteBadSynchronous", "sqlite://" + dir + "/q.db?synchronous=OFF", []string{"use FULL or NORMAL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, err := store.Open(ctx, tt.url)
			if err == nil {
				st.Close()
			}
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestOpenSQLiteForms(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	for _, u := range []string{
		"sqlite://" + filepath.Join(dir, "abs", "quire.db") + "?busy_timeout=2s&synchronous=normal",
		"sqlite://rel/quire.db",
		"sqlite://./dot/quire.db",
		"sqlite:opaque/quire.db",
		"plain/quire.db",
		filepath.Join(dir, "plainabs.db"),
	} {
		st, err := store.Open(ctx, u)
		require.NoError(t, err, u)
		require.Equal(t, "sqlite", st.Backend())
		require.NoError(t, st.Migrate(ctx), u)
		require.NoError(t, st.Close())
	}
	for _, f := range []string{"abs/quire.db", "rel/quire.db", "dot/quire.db", "opaque/quire.db", "plain/quire.db", "plainabs.db"} {
		require.FileExists(t, filepath.Join(dir, f))
	}
}

// A store refuses a SQLite file that is not its own, such as the job
// engine's database, instead of adding tables to it.
func TestSQLiteForeignFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobs.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec("PRAGMA application_id = 1364348738") // "QJOB"
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = store.Open(ctx, path)
	require.ErrorContains(t, err, "not a Quire store database")

	other := filepath.Join(t.TempDir(), "other.db")
	db, err = sql.Open("sqlite", other)
	require.NoError(t, err)
	_, err = db.Exec("CREATE TABLE notes (body TEXT)")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	st, err := store.Open(ctx, other)
	require.NoError(t, err)
	defer st.Close()
	require.ErrorContains(t, st.Migrate(ctx), "another application's tables")
}

func BenchmarkPostgres(b *testing.B) {
	storetest.Benchmark(b, storetest.Harness{NewURL: newPostgresDatabase, OpenSQL: openSQL("pgx")})
}

func BenchmarkSQLite(b *testing.B) {
	storetest.Benchmark(b, storetest.Harness{
		NewURL:  func(t testing.TB) string { return "sqlite://" + filepath.Join(t.TempDir(), "quire.db") },
		OpenSQL: openSQL("sqlite"),
	})
}

// TestPostgresFailedResultsRollBack: on PostgreSQL a move's results are sent
// in a batch after the move itself; when one of them fails, the move is
// undone too and the connection goes back to the pool outside any
// transaction. One connection in the pool shows that it does.
func TestPostgresFailedResultsRollBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := newPostgresDatabase(t)
	st := storetest.Open(t, dbURL+"&pool_max_conns=1&lock_timeout=200")
	doc, _, err := st.CreateDocument(ctx, &store.CreateDocumentParams{
		SHA256: strings.Repeat("ab", 32), Name: "report.pdf", MIMEType: "application/pdf", Size: 10,
		Source: store.SourceUpload, BlobKey: "k",
	})
	require.NoError(t, err)
	_, err = st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: []store.State{store.StateReceived}, To: store.StateExtracting})
	require.NoError(t, err)

	// Another application holds the pages table: the page insert, sent
	// after the move, waits out its lock timeout and fails on the server.
	other := openSQL("pgx")(t, dbURL)
	tx, err := other.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, "LOCK TABLE pages IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)
	move := &store.SetStateParams{ID: doc.ID, From: []store.State{store.StateExtracting}, To: store.StateAnalyzing,
		Pages:  []store.Page{{Number: 1, Text: "Quarterly report"}},
		Text:   &store.SaveTextParams{Text: "Quarterly report"},
		Events: []store.AddEventParams{{Stage: "extract", Type: store.EventDone}},
	}
	_, err = st.SetState(ctx, move)
	require.ErrorContains(t, err, "lock timeout")
	require.NoError(t, tx.Rollback())

	got, err := st.GetDocument(ctx, doc.ID)
	require.NoError(t, err)
	require.Equal(t, store.StateExtracting, got.State, "the move was rolled back with its results")
	text, err := st.GetText(ctx, doc.ID)
	require.NoError(t, err)
	require.Empty(t, text)
	events, err := st.ListEvents(ctx, doc.ID)
	require.NoError(t, err)
	require.Empty(t, events)

	got, err = st.SetState(ctx, move)
	require.NoError(t, err)
	require.Equal(t, store.StateAnalyzing, got.State)
	require.Equal(t, 1, got.PageCount)
}

// TestSQLiteFilesPrivate: the database, its -wal and -shm files and the
// directory made for them are their owner's alone, whatever the umask (the
// tests' is usually 022): they hold documents' text, password hashes and
// webhook secrets.
func TestSQLiteFilesPrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "quire-data")
	path := filepath.Join(dir, "quire.db")
	st, err := store.Open(ctx, path)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Migrate(ctx))
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, want, fi.Mode().Perm(), p)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 3, "no temporary file is left: %v", entries)
}

// TestPostgresOneConnection runs the suite on a pool of one connection:
// a store that reads through the pool while it holds a connection waits
// forever once every connection is held so, which a pool of one shows at
// the first such read.
func TestPostgresOneConnection(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, storetest.Harness{
		NewURL: func(t testing.TB) string {
			u, err := url.Parse(newPostgresDatabase(t))
			require.NoError(t, err)
			q := u.Query()
			q.Set("pool_max_conns", "1")
			u.RawQuery = q.Encode()
			return u.String()
		},
		OpenSQL: func(t testing.TB, raw string) *sql.DB {
			// A plain connection: pgxpool's settings would reach the
			// server as unknown parameters.
			u, err := url.Parse(raw)
			require.NoError(t, err)
			q := u.Query()
			q.Del("pool_max_conns")
			u.RawQuery = q.Encode()
			return openSQL("pgx")(t, u.String())
		},
	})
}

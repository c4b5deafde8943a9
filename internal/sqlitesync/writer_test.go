package sqlitesync_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/quirehq/quire/internal/sqlitesync"
)

func open(t *testing.T) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "w.db") + "?_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec("CREATE TABLE rows (id INTEGER PRIMARY KEY, writer TEXT NOT NULL)")
	require.NoError(t, err)
	return db
}

// TestWriterGroups runs many writers at once, some failing, one panicking,
// one whose context is already cancelled: each learns its own outcome, and
// exactly the writes of those that succeeded are kept.
func TestWriterGroups(t *testing.T) {
	db := open(t)
	w := sqlitesync.NewWriter(db, nil)
	const n = 300
	errBoom := errors.New("boom")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	errs := make([]error, n)
	var wg sync.WaitGroup
	// A first writer holds the connection until every other one waits, so
	// that they make one group whatever the scheduler does.
	holding, release := make(chan struct{}), make(chan struct{})
	wg.Go(func() {
		require.NoError(t, w.Do(context.Background(), "FULL", func(*sql.Tx) error {
			close(holding)
			<-release
			return nil
		}))
	})
	<-holding
	go func() {
		for sqlitesync.Pending(w) < n-1 { // all but the cancelled one, refused at once
			time.Sleep(time.Millisecond)
		}
		close(release)
	}()
	for i := range n {
		wg.Go(func() {
			ctx := context.Background()
			if i == 7 {
				ctx = cancelled
			}
			level := "NORMAL"
			if i%3 == 0 {
				level = "FULL"
			}
			errs[i] = w.Do(ctx, level, func(tx *sql.Tx) error {
				// Two statements: a failure must undo both, not only the
				// second.
				if _, err := tx.ExecContext(ctx, "INSERT INTO rows (id, writer) VALUES (?, ?)", i, "first"); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, "UPDATE rows SET writer = ? WHERE id = ?", fmt.Sprint(i), i); err != nil {
					return err
				}
				switch {
				case i%10 == 5:
					return errBoom
				case i == 42:
					panic("a bug in a writer")
				}
				return nil
			})
		})
	}
	wg.Wait()

	rows, err := db.Query("SELECT id, writer FROM rows")
	require.NoError(t, err)
	kept := map[int]string{}
	for rows.Next() {
		var id int
		var writer string
		require.NoError(t, rows.Scan(&id, &writer))
		kept[id] = writer
	}
	require.NoError(t, rows.Err())
	for i, err := range errs {
		switch {
		case i == 7:
			require.ErrorIs(t, err, context.Canceled)
		case i%10 == 5:
			require.ErrorIs(t, err, errBoom, "writer %d", i)
		case i == 42:
			require.ErrorContains(t, err, "panicked")
		default:
			require.NoError(t, err, "writer %d", i)
			require.Equal(t, fmt.Sprint(i), kept[i], "writer %d's writes are kept whole", i)
			delete(kept, i)
		}
	}
	require.Empty(t, kept, "writes of failed writers were rolled back")
}

func TestWriterRefusesUnknownLevel(t *testing.T) {
	w := sqlitesync.NewWriter(open(t), nil)
	err := w.Do(context.Background(), "SOMETIMES", func(*sql.Tx) error { return nil })
	require.ErrorContains(t, err, `unknown synchronous level "SOMETIMES"`)
}

// TestWriterBeforeCommit checks that the hook sees every member's writes of
// its group, once per group, and that its failure undoes the whole group.
func TestWriterBeforeCommit(t *testing.T) {
	db := open(t)
	_, err := db.Exec("CREATE TABLE seen (n INTEGER NOT NULL)")
	require.NoError(t, err)
	w := sqlitesync.NewWriter(db, nil)
	errHook := errors.New("hook")
	fail := false
	w.BeforeCommit(func(ctx context.Context, tx *sql.Tx) error {
		if fail {
			return errHook
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO seen SELECT count(*) FROM rows")
		return err
	})
	insert := func(name string) error {
		return w.Do(context.Background(), "NORMAL", func(tx *sql.Tx) error {
			_, err := tx.Exec("INSERT INTO rows (writer) VALUES (?)", name)
			return err
		})
	}
	// A group of one holding the connection, then a group of ten.
	holding, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		require.NoError(t, w.Do(context.Background(), "NORMAL", func(tx *sql.Tx) error {
			close(holding)
			<-release
			_, err := tx.Exec("INSERT INTO rows (writer) VALUES ('first')")
			return err
		}))
	})
	<-holding
	go func() {
		for sqlitesync.Pending(w) < 10 {
			time.Sleep(time.Millisecond)
		}
		close(release)
	}()
	for i := range 10 {
		wg.Go(func() { require.NoError(t, insert(fmt.Sprint("w", i))) })
	}
	wg.Wait()
	var seen []int
	rows, err := db.Query("SELECT n FROM seen ORDER BY n")
	require.NoError(t, err)
	for rows.Next() {
		var n int
		require.NoError(t, rows.Scan(&n))
		seen = append(seen, n)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []int{1, 11}, seen, "the hook runs once a group, after all its members")

	fail = true
	require.ErrorIs(t, insert("undone"), errHook)
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM rows WHERE writer = 'undone'").Scan(&n))
	require.Zero(t, n, "a failing hook rolls the group back")
}

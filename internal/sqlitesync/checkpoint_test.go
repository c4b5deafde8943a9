package sqlitesync_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/sqlitesync"
)

// TestCheckpointer: a writer without automatic checkpoints leaves its log
// to grow; the checkpointer's connection copies all of it into the
// database file while the writer keeps its connection open, and the writer
// then starts the log over instead of growing it.
func TestCheckpointer(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.db")
	w, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma="+sqlitesync.NoAutoCheckpoint)
	require.NoError(t, err)
	w.SetMaxOpenConns(1)
	t.Cleanup(func() { w.Close() })
	_, err = w.Exec("CREATE TABLE pages (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
	require.NoError(t, err)
	body := strings.Repeat("x", 3000)
	write := func(n int) {
		t.Helper()
		for range n {
			_, err := w.Exec("INSERT INTO pages (body) VALUES (?)", body)
			require.NoError(t, err)
		}
	}
	walSize := func() int64 {
		t.Helper()
		fi, err := os.Stat(path + "-wal")
		require.NoError(t, err)
		return fi.Size()
	}
	write(1500) // past SQLite's automatic checkpoint, 1000 pages
	grown := walSize()
	require.Greater(t, grown, int64(1000*4096), "the writer checkpointed by itself")

	cp, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	c := sqlitesync.StartCheckpointer(cp, 0, nil)
	require.NoError(t, c.Checkpoint(t.Context()))
	var busy, logFrames, copied int
	require.NoError(t, w.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied))
	require.Equal(t, logFrames, copied, "the checkpointer left frames in the log")

	write(1500) // the log starts over: it is reused, not doubled
	require.Less(t, walSize(), grown*11/10, "the log grew on instead of starting over")
	require.NoError(t, c.Close())
}

// TestCheckpointerEmptiesALongLog: past WALFramesMax, a checkpoint copies
// the whole log and empties its file, where a PASSIVE one leaves the file
// at its length for the writer to reuse only once all of it was copied,
// which a writer that never pauses never lets happen.
func TestCheckpointerEmptiesALongLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.db")
	w, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma="+sqlitesync.NoAutoCheckpoint)
	require.NoError(t, err)
	w.SetMaxOpenConns(1)
	t.Cleanup(func() { w.Close() })
	_, err = w.Exec("CREATE TABLE pages (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
	require.NoError(t, err)
	body := strings.Repeat("x", 3000)
	for range 1500 {
		_, err := w.Exec("INSERT INTO pages (body) VALUES (?)", body)
		require.NoError(t, err)
	}
	walSize := func() int64 {
		t.Helper()
		fi, err := os.Stat(path + "-wal")
		require.NoError(t, err)
		return fi.Size()
	}
	require.Greater(t, walSize(), int64(1000*4096), "the writer checkpointed by itself")

	cp, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	c := sqlitesync.StartCheckpointer(cp, time.Hour, nil)
	t.Cleanup(func() { c.Close() })

	sqlitesync.SetWALFramesMax(c, 1<<30)
	require.NoError(t, c.Checkpoint(t.Context()))
	require.Greater(t, walSize(), int64(1000*4096), "a log shorter than the limit was emptied")

	sqlitesync.SetWALFramesMax(c, 1000)
	require.NoError(t, c.Checkpoint(t.Context()))
	require.Zero(t, walSize(), "the log past the limit was not emptied")
	var n int
	require.NoError(t, w.QueryRow("SELECT count(*) FROM pages").Scan(&n))
	require.Equal(t, 1500, n)
}

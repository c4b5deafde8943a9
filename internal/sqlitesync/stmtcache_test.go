package sqlitesync

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpenDBKeepsStatements: an Exec's statement is prepared once and used
// again, also after it failed; a script of several statements runs whole;
// past the bound, statements run without being kept.
func TestOpenDBKeepsStatements(t *testing.T) {
	ctx := context.Background()
	db := OpenDB("file:" + filepath.Join(t.TempDir(), "cache.db"))
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	kept := func() map[string]bool {
		out := map[string]bool{}
		require.NoError(t, conn.Raw(func(dc any) error {
			for q := range dc.(*cachingConn).stmts {
				out[q] = true
			}
			return nil
		}))
		return out
	}

	_, err = conn.ExecContext(ctx, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL); CREATE INDEX t_v ON t (v)")
	require.NoError(t, err)
	var n int
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name IN ('t', 't_v')").Scan(&n))
	require.Equal(t, 2, n, "both statements of the script ran")

	insert := "INSERT INTO t (k, v) VALUES (?, ?)"
	for k := range 3 {
		_, err := conn.ExecContext(ctx, insert, k, fmt.Sprint("v", k))
		require.NoError(t, err)
	}
	_, err = conn.ExecContext(ctx, insert, 1, "again")
	require.ErrorContains(t, err, "UNIQUE constraint failed", "the kept statement reports the failure")
	_, err = conn.ExecContext(ctx, insert, 3, "v3")
	require.NoError(t, err, "and is usable after it")
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n))
	require.Equal(t, 4, n)
	require.True(t, kept()[insert])

	for i := range stmtCacheMax + 10 {
		_, err := conn.ExecContext(ctx, fmt.Sprintf("UPDATE t SET v = v WHERE k = %d", i))
		require.NoError(t, err)
	}
	require.Len(t, kept(), stmtCacheMax)
}

// TestOpenDBKeepsQueries: a query's statement is kept too, and two queries
// of the same text read at once (the second while the first's rows are
// open) each see their own rows; an Exec of a statement being read runs
// apart from it.
func TestOpenDBKeepsQueries(t *testing.T) {
	ctx := context.Background()
	db := OpenDB("file:" + filepath.Join(t.TempDir(), "queries.db"))
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	_, err := db.ExecContext(ctx, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
	require.NoError(t, err)
	for k := range 5 {
		_, err := db.ExecContext(ctx, "INSERT INTO t (k, v) VALUES (?, ?)", k, fmt.Sprint("v", k))
		require.NoError(t, err)
	}

	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	query := "SELECT k, v FROM t WHERE k >= ? ORDER BY k"
	outer, err := tx.QueryContext(ctx, query, 1)
	require.NoError(t, err)
	types, err := outer.ColumnTypes()
	require.NoError(t, err)
	require.Equal(t, "INTEGER", types[0].DatabaseTypeName())
	var got []string
	for outer.Next() {
		var k int
		var v string
		require.NoError(t, outer.Scan(&k, &v))
		// The same text again while the outer rows are open.
		var inner []int
		rows, err := tx.QueryContext(ctx, query, 3)
		require.NoError(t, err)
		for rows.Next() {
			var k2 int
			var v2 string
			require.NoError(t, rows.Scan(&k2, &v2))
			inner = append(inner, k2)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		require.Equal(t, []int{3, 4}, inner)
		got = append(got, v)
	}
	require.NoError(t, outer.Err())
	require.NoError(t, outer.Close())
	require.Equal(t, []string{"v1", "v2", "v3", "v4"}, got, "the outer rows went on after the inner query")

	// Kept and used again once its rows are closed: by a query and by an
	// INSERT … RETURNING, which database/sql sends as a query.
	var n int
	for range 3 {
		require.NoError(t, tx.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE k >= ?", 2).Scan(&n))
		require.Equal(t, 3, n)
	}
	for k := 10; k < 13; k++ {
		var v string
		require.NoError(t, tx.QueryRowContext(ctx, "INSERT INTO t (k, v) VALUES (?, ?) RETURNING v", k, fmt.Sprint("w", k)).Scan(&v))
		require.Equal(t, fmt.Sprint("w", k), v)
	}
	err = tx.QueryRowContext(ctx, "INSERT INTO t (k, v) VALUES (?, ?) RETURNING v", 10, "again").Scan(new(string))
	require.ErrorContains(t, err, "UNIQUE constraint failed")
	require.NoError(t, tx.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n))
	require.Equal(t, 8, n)
	require.NoError(t, tx.Commit())
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.Raw(func(dc any) error {
		stmts := dc.(*cachingConn).stmts
		require.Contains(t, stmts, query)
		require.Contains(t, stmts, "INSERT INTO t (k, v) VALUES (?, ?) RETURNING v")
		for q, ks := range stmts {
			require.False(t, ks.reading, "rows of %q left open", q)
		}
		return nil
	}))
}

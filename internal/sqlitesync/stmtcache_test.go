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

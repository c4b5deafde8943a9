package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/bench"
	"github.com/quirehq/quire/internal/testenv"
)

// TestBenchSearch runs the search bench on a small store of each backend
// and checks its JSON line: the headline figures first, every kind of
// query measured, and queries that found what the documents hold.
func TestBenchSearch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		store   string
		args    func(t *testing.T) []string
		cleanup string
	}{
		{"SQLite", "sqlite", func(t *testing.T) []string { return []string{"--data-dir", t.TempDir()} }, "bench: removed its data"},
		{"PostgreSQL", "postgres", func(t *testing.T) []string {
			return []string{"--postgres-url", testenv.NewPostgresDatabase(t)}
		}, "bench: dropped its database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"bench", "search", "--docs", "2000", "--queries", "200", "--warmup", "10", "--json"}, tt.args(t)...)
			r := runCLI(t.Context(), t, nil, args...)
			require.Equal(t, exitOK, r.code, r.stderr)
			line := r.lastLine()
			require.True(t, strings.HasPrefix(line, `{"docs":2000,"p50_ms":`), "the headline figures come first: %s", line)

			var res bench.SearchResult
			require.NoError(t, json.Unmarshal([]byte(line), &res))
			require.Equal(t, tt.store, res.Store)
			require.Equal(t, 200, res.Queries)
			require.Positive(t, res.P50MS)
			require.GreaterOrEqual(t, res.P95MS, res.P50MS)
			require.Positive(t, res.QPS)
			require.Positive(t, res.GenerateS)
			require.Positive(t, res.TextMiB)
			require.Positive(t, res.DBMiB)
			n := 0
			for _, kind := range []string{"common", "rare", "multi", "phrase", "prefix", "filtered"} {
				require.Contains(t, res.Kinds, kind)
				n += res.Kinds[kind].Queries
			}
			require.Equal(t, res.Queries, n, "every query is of one kind")
			common := res.Kinds["common"]
			require.InDelta(t, 1.0, common.WithHits, 1e-9, "a frequent word is in some document")
			require.Greater(t, common.DocShareP50, 0.05, "the mix searches for words most documents hold")
			require.Positive(t, res.Kinds["phrase"].WithHits)
			require.Positive(t, res.Kinds["filtered"].WithHits)
			require.Contains(t, r.stderr, tt.cleanup)
		})
	}
}

func TestBenchSearchFlags(t *testing.T) {
	t.Parallel()
	r := runCLI(t.Context(), t, nil, "bench", "search", "--docs", "0", "--limit", "1001", "--keep", "--existing", "x.db")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "invalid --docs 0")
	require.Contains(t, r.stderr, "invalid --limit 1001")
	require.Contains(t, r.stderr, "--keep and --existing")
}

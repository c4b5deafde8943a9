package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/quirehq/quire/internal/app"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/bench"
)

func TestBenchJobs(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		args []string
	}{
		{name: "Bulk", args: []string{"--jobs", "2000", "--concurrency", "20"}},
		{name: "Paced", args: []string{"--jobs", "300", "--concurrency", "20", "--rate", "2000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t) // skips without Redis; bench makes its own prefix
			args := append([]string{"bench", "jobs", "--json", "--timeout", "2m", "--redis-url", b.redisURL}, tt.args...)
			r := runCLI(t.Context(), t, nil, args...)
			require.Equal(t, exitOK, r.code, r.stderr)

			var res bench.JobsResult
			require.NoError(t, json.Unmarshal([]byte(r.lastLine()), &res), "last line: %s", r.lastLine())
			require.Equal(t, "quire-redis", res.Engine)
			require.Positive(t, res.EnqueuePerS)
			require.Positive(t, res.ProcessPerS)
			require.Positive(t, res.P99MS)
			require.GreaterOrEqual(t, res.P99MS, res.P50MS)
			require.Positive(t, res.RSSMiB)
			require.Positive(t, res.HeapMiB)

			m := regexp.MustCompile(`redis_prefix=(quirebench:[0-9a-f]+)`).FindStringSubmatch(r.stderr)
			require.NotNil(t, m, r.stderr)
			require.Contains(t, r.stderr, "bench: deleted its keys")
			require.Zero(t, keysLeft(t, b.rdb, m[1]))
		})
	}
}

// TestBenchJobsEmbedded: without --redis-url, bench runs on a fresh
// embedded database in a temporary directory and removes it: in $TMPDIR, or
// in --data-dir when given, beside any jobs.db there, which it leaves alone.
func TestBenchJobsEmbedded(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		args    []string
		dataDir bool
	}{
		{name: "Bulk", args: []string{"--jobs", "2000", "--concurrency", "20"}, dataDir: true},
		{name: "Paced", args: []string{"--jobs", "300", "--concurrency", "20", "--rate", "2000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"bench", "jobs", "--json", "--timeout", "2m"}, tt.args...)
			var dataDir string
			if tt.dataDir {
				b := setupEmbedded(t)
				dataDir = b.dataDir
				b.runOK(t, "jobs", "enqueue", "noop") // a jobs.db of its own
				args = append(args, "--data-dir", dataDir)
			}
			r := runCLI(t.Context(), t, nil, args...)
			require.Equal(t, exitOK, r.code, r.stderr)

			var res bench.JobsResult
			require.NoError(t, json.Unmarshal([]byte(r.lastLine()), &res), "last line: %s", r.lastLine())
			require.Equal(t, "quire-sqlite", res.Engine)
			require.Positive(t, res.EnqueuePerS)
			require.Positive(t, res.ProcessPerS)
			require.Positive(t, res.P99MS)
			require.GreaterOrEqual(t, res.P99MS, res.P50MS)

			m := regexp.MustCompile(`bench: removed its data.* dir=(\S+)`).FindStringSubmatch(r.stderr)
			require.NotNil(t, m, r.stderr)
			require.Contains(t, r.stderr, "jobs_db="+filepath.Join(m[1], app.JobsDBName))
			require.NoDirExists(t, m[1])
			if tt.dataDir {
				require.Equal(t, dataDir, filepath.Dir(m[1]))
				entries, err := os.ReadDir(dataDir)
				require.NoError(t, err)
				for _, e := range entries {
					require.NotContains(t, e.Name(), "quirebench")
				}
				st := runJSON[statsView](t, &testBundle{args: []string{"--data-dir", dataDir}}, "jobs", "stats")
				require.EqualValues(t, 1, st.Ready, "the jobs.db beside the bench's is untouched")
			}
		})
	}
}

func TestBenchTable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := runCLI(t.Context(), t, nil, "bench", "jobs", "--jobs", "100", "--concurrency", "5", "--redis-url", b.redisURL)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "quire bench (quire-redis): 100 no-op jobs")
	require.Contains(t, r.stdout, "latency p99")
}

func TestBenchFlags(t *testing.T) {
	t.Parallel()
	r := runCLI(t.Context(), t, nil, "bench", "jobs", "--jobs", "0", "--batch", "5000")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "invalid --jobs 0")
	require.Contains(t, r.stderr, "invalid --batch 5000")
}

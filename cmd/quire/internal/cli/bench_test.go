package cli

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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

			var res benchResult
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

func TestPercentile(t *testing.T) {
	t.Parallel()
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	require.Equal(t, time.Duration(50), percentile(d, 0.50))
	require.Equal(t, time.Duration(99), percentile(d, 0.99))
	require.Equal(t, time.Duration(100), percentile(d, 1))
	require.Equal(t, time.Duration(1), percentile(d[:1], 0.99))
	require.Zero(t, percentile(nil, 0.5))
}

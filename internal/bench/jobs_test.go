package bench_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/bench"
	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/redisdriver"
	"github.com/quirehq/quire/jobs/sqlitedriver"
)

// newSQLiteDriver returns the embedded driver on a fresh database in a
// temporary directory, as `quire bench jobs` runs by default.
// serverOn returns the NewServerFunc of a bench on d: the engine's server,
// logging nowhere.
func serverOn(d jobs.Driver) func(jobs.Config) (*jobs.Server, error) {
	return func(c jobs.Config) (*jobs.Server, error) {
		c.Logger = slog.New(slog.DiscardHandler)
		return jobs.NewServer(d, &c)
	}
}

func newSQLiteDriver(t testing.TB) jobs.Driver {
	t.Helper()
	d, err := sqlitedriver.Open(filepath.Join(t.TempDir(), "jobs.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

// newRedisDriver returns a driver on QUIRE_TEST_REDIS_URL under a key
// prefix of its own, whose keys are deleted at cleanup.
func newRedisDriver(t testing.TB) jobs.Driver {
	t.Helper()
	url := cmp.Or(os.Getenv("QUIRE_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0")
	rdb, err := redisdriver.OpenURL(url)
	require.NoError(t, err)
	t.Cleanup(func() { rdb.Close() })
	testenv.RequireService(t, "Redis at "+url, rdb.Ping(t.Context()).Err())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "quiretest:" + hex.EncodeToString(b)
	d, err := redisdriver.New(rdb, &redisdriver.Config{Prefix: prefix})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Unlink(ctx, iter.Val())
		}
		d.Close()
	})
	return d
}

func TestJobs(t *testing.T) {
	t.Parallel()

	drivers := []struct {
		name      string
		newDriver func(testing.TB) jobs.Driver
	}{
		{name: "SQLite", newDriver: newSQLiteDriver},
		{name: "Redis", newDriver: newRedisDriver},
	}
	modes := []struct {
		name string
		jobs int
		rate int
	}{
		{name: "Bulk", jobs: 12_000}, // more than two EnqueueMany chunks
		{name: "Paced", jobs: 300, rate: 2000},
	}
	for _, dt := range drivers {
		for _, mt := range modes {
			t.Run(dt.name+"/"+mt.name, func(t *testing.T) {
				t.Parallel()
				d := dt.newDriver(t)
				var servers atomic.Int32
				res, err := bench.Jobs(t.Context(), &bench.JobsConfig{
					Driver: d,
					Engine: "engine-" + dt.name,
					NewServerFunc: func(c jobs.Config) (*jobs.Server, error) {
						servers.Add(1)
						require.Equal(t, 20, c.Concurrency)
						require.Equal(t, 50, c.FetchBatchSize)
						c.Labels = map[string]string{"role": "bench"}
						return jobs.NewServer(d, &c)
					},
					Logger:      slog.New(slog.DiscardHandler),
					Jobs:        mt.jobs,
					Concurrency: 20,
					Rate:        mt.rate,
					Batch:       50,
					Timeout:     2 * time.Minute,
				})
				require.NoError(t, err)
				require.EqualValues(t, 1, servers.Load())
				require.Equal(t, &bench.JobsResult{
					Engine: "engine-" + dt.name, Jobs: mt.jobs, Concurrency: 20, Rate: mt.rate, Batch: 50,
					EnqueuePerS: res.EnqueuePerS, ProcessPerS: res.ProcessPerS, P50MS: res.P50MS, P99MS: res.P99MS,
					RSSMiB: res.RSSMiB, HeapMiB: res.HeapMiB, EnqueueS: res.EnqueueS, ProcessS: res.ProcessS,
				}, res)
				require.Positive(t, res.EnqueuePerS)
				require.Positive(t, res.ProcessPerS)
				require.Positive(t, res.P99MS)
				require.GreaterOrEqual(t, res.P99MS, res.P50MS)
				require.Positive(t, res.RSSMiB)
				require.Positive(t, res.HeapMiB)
				require.InDelta(t, float64(mt.jobs)/res.ProcessS, res.ProcessPerS, 1e-6*res.ProcessPerS)
				if mt.rate > 0 {
					// Paced: the enqueueing takes jobs/rate seconds.
					require.GreaterOrEqual(t, res.EnqueueS, float64(mt.jobs)/float64(mt.rate)*0.9)
					require.GreaterOrEqual(t, res.ProcessS, res.EnqueueS)
				}

				q, err := jobs.NewInspector(d, nil).Queue(t.Context(), jobs.QueueDefault)
				require.NoError(t, err)
				require.EqualValues(t, mt.jobs, q.Processed, "every job ran and was acknowledged")
				require.Zero(t, q.Ready)
			})
		}
	}
}

// TestJobsDefaults: a config with only a driver runs on the defaults, the
// server built by jobs.NewServer.
func TestJobsDefaults(t *testing.T) {
	t.Parallel()

	cfg := bench.JobsConfig{}.WithDefaults()
	require.Equal(t, bench.JobsDefault, cfg.Jobs)
	require.Equal(t, bench.JobsConcurrencyDefault, cfg.Concurrency)
	require.Zero(t, cfg.Rate)
	require.Equal(t, jobs.FetchBatchSizeDefault, cfg.Batch)
	require.Equal(t, bench.JobsTimeoutDefault, cfg.Timeout)
	require.NotNil(t, cfg.Logger)

	d := newSQLiteDriver(t)
	res, err := bench.Jobs(t.Context(), &bench.JobsConfig{Driver: d, NewServerFunc: serverOn(d), Jobs: 100,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.Equal(t, 100, res.Jobs)
	require.Equal(t, bench.JobsConcurrencyDefault, res.Concurrency)
	require.Equal(t, jobs.FetchBatchSizeDefault, res.Batch)
}

func TestJobsConfigInvalid(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		cfg      bench.JobsConfig
		noDriver bool
		want     []string
	}{
		{name: "NoDriver", noDriver: true, want: []string{"Driver is required", "NewServerFunc is required"}},
		{
			name: "Negative",
			cfg:  bench.JobsConfig{Jobs: -1, Concurrency: -2, Rate: -3, Batch: -4, Timeout: -time.Second},
			want: []string{"Jobs -1 must be at least 1", "Concurrency -2 must be at least 1",
				"Rate -3 must not be negative", "Batch -4 must be between 1 and 1000", "Timeout -1s must be positive"},
		},
		{name: "BatchTooLarge", cfg: bench.JobsConfig{Batch: jobs.FetchBatchSizeMax + 1}, want: []string{"Batch 1001 must be between 1 and 1000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			if !tt.noDriver {
				cfg.Driver = newSQLiteDriver(t)
				cfg.NewServerFunc = serverOn(cfg.Driver)
			}
			_, err := bench.Jobs(t.Context(), &cfg)
			require.ErrorContains(t, err, "bench: invalid jobs config")
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

// TestJobsTimeout: a bench that cannot finish in time says so, and how far
// it got.
func TestJobsTimeout(t *testing.T) {
	t.Parallel()

	start := time.Now()
	d := newSQLiteDriver(t)
	_, err := bench.Jobs(t.Context(), &bench.JobsConfig{Driver: d, NewServerFunc: serverOn(d), Jobs: 10, Rate: 1,
		Timeout: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	require.EqualError(t, err, "bench: timed out after 200ms: 0 of 10 jobs finished")
	require.Less(t, time.Since(start), 30*time.Second)
}

// TestJobsResultJSON: scripts and docs read these names in this order.
func TestJobsResultJSON(t *testing.T) {
	t.Parallel()

	b, err := json.Marshal(&bench.JobsResult{Engine: "quire-sqlite", Jobs: 2000, Concurrency: 100, Rate: 5000, Batch: 200,
		EnqueuePerS: 2938.5, ProcessPerS: 2934.25, P50MS: 3.5, P99MS: 11.25, RSSMiB: 50.75, HeapMiB: 7.5,
		EnqueueS: 0.68, ProcessS: 0.69})
	require.NoError(t, err)
	require.Equal(t, `{"engine":"quire-sqlite","jobs":2000,"concurrency":100,"rate":5000,"batch":200,`+
		`"enqueue_per_s":2938.5,"process_per_s":2934.25,"p50_ms":3.5,"p99_ms":11.25,"rss_mib":50.75,`+
		`"heap_inuse_mib":7.5,"enqueue_s":0.68,"process_s":0.69}`, string(b))
}

func TestJobsResultWriteTable(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		rate int
		mode string
	}{
		{name: "Bulk", mode: "bulk enqueue, then run"},
		{name: "Paced", rate: 1000, mode: "paced enqueue at 1000 jobs/s while running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			require.NoError(t, (&bench.JobsResult{Engine: "quire-redis", Jobs: 2000, Concurrency: 100, Rate: tt.rate,
				Batch: 200, EnqueuePerS: 21706.4, ProcessPerS: 20089.2, P50MS: 137.5, P99MS: 186.25,
				RSSMiB: 53.2, HeapMiB: 9, EnqueueS: 0.092, ProcessS: 0.0996}).WriteTable(&buf))
			require.Equal(t, "quire bench (quire-redis): 2000 no-op jobs, concurrency 100, fetch batch 200, "+tt.mode+"\n"+
				"  enqueue                   21706 jobs/s (0.09 s)\n"+
				"  process                   20089 jobs/s (0.10 s)\n"+
				"  latency p50              137.50 ms     enqueue to start\n"+
				"  latency p99              186.25 ms     enqueue to start\n"+
				"  peak RSS                   53.2 MiB\n"+
				"  peak Go heap in use         9.0 MiB\n", buf.String())
		})
	}
}

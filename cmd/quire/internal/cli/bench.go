package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/jobs"
)

// Defaults and constants of the bench command.
const (
	BenchJobsDefault    = 100_000
	BenchConcurrency    = 100
	BenchTimeoutDefault = 10 * time.Minute
	benchJobType        = "bench.noop"
	benchEnqueueChunk   = 5000 // jobs per EnqueueMany call
	benchEnqueueWorkers = 4    // goroutines of the bulk enqueue
	benchPacedWorkers   = 8    // goroutines of the paced enqueue
	benchStopTimeout    = 30 * time.Second
	benchCleanupTimeout = time.Minute
)

// benchConfig holds the settings of `bench jobs`.
type benchConfig struct {
	// Jobs is how many jobs to enqueue and run. Defaults to 100,000.
	Jobs int
	// Concurrency is the server's Concurrency. Defaults to 100.
	Concurrency int
	// Rate, when positive, enqueues one job per call at this many jobs a
	// second with the server running; zero enqueues all jobs in bulk first.
	Rate int
	// Batch is the server's FetchBatchSize. Defaults to 200.
	Batch int
	// JSON prints one JSON object as the last line.
	JSON bool
	// Timeout stops the benchmark. Defaults to 10 minutes.
	Timeout time.Duration
}

// benchResult is what `bench jobs --json` prints.
type benchResult struct {
	Engine      string  `json:"engine"`
	Jobs        int     `json:"jobs"`
	Concurrency int     `json:"concurrency"`
	Rate        int     `json:"rate"`
	Batch       int     `json:"batch"`
	EnqueuePerS float64 `json:"enqueue_per_s"`
	ProcessPerS float64 `json:"process_per_s"`
	P50MS       float64 `json:"p50_ms"`
	P99MS       float64 `json:"p99_ms"`
	RSSMiB      float64 `json:"rss_mib"`
	HeapMiB     float64 `json:"heap_inuse_mib"`
	EnqueueS    float64 `json:"enqueue_s"`
	ProcessS    float64 `json:"process_s"`
}

func (a *app) newBenchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the engine",
	}
	cfg := &benchConfig{}
	jobsCmd := &cobra.Command{
		Use:   "jobs",
		Short: "Measure enqueue and processing throughput and latency of no-op jobs",
		Long: `Measure the engine on no-op jobs, in this one process.

Without --rate, it enqueues --jobs jobs in bulk (EnqueueMany, 5,000 per call,
from a few goroutines), then starts a server and measures how fast it runs
them. With --rate, it starts the server first and enqueues one job per call at
that steady rate: the enqueue-to-start latency is the figure to watch there.

Without --redis-url it runs on the embedded SQLite driver, on a fresh
database in a new temporary directory that it removes at the end, so every run
starts from the same empty file and leaves nothing behind. The directory is
made in $TMPDIR, or in --data-dir when that is given, to measure the disk a
deployment uses (a tmpfs flatters the figures); an existing jobs.db there is
never touched.

With --redis-url it works under its own random key prefix (quirebench:…) and
deletes those keys at the end, with SCAN and UNLINK, never FLUSHDB: others may
share the Redis. --redis-prefix is ignored.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			dataDirGiven := cmd.Flags().Changed("data-dir")
			if v, ok := a.lookupEnv(envName("data-dir")); ok && v != "" {
				dataDirGiven = true
			}
			res, err := a.runBench(cmd.Context(), cfg, dataDirGiven)
			if err != nil {
				return err
			}
			if cfg.JSON {
				b, err := json.Marshal(res)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(a.stdout, "%s\n", b)
				return err
			}
			return writeBenchTable(a.stdout, res)
		},
	}
	fs := jobsCmd.Flags()
	fs.IntVar(&cfg.Jobs, "jobs", BenchJobsDefault, "jobs to enqueue and run")
	fs.IntVar(&cfg.Concurrency, "concurrency", BenchConcurrency, "jobs the server runs at once")
	fs.IntVar(&cfg.Rate, "rate", 0, "enqueue one job per call at this many jobs/s with the server running; 0 enqueues in bulk first")
	fs.IntVar(&cfg.Batch, "batch", jobs.FetchBatchSizeDefault, "the server's fetch batch size")
	fs.BoolVar(&cfg.JSON, "json", false, "print one JSON object as the last line")
	fs.DurationVar(&cfg.Timeout, "timeout", BenchTimeoutDefault, "give up after this long")
	cmd.AddCommand(jobsCmd)
	cmd.AddCommand(a.newBenchPipelineCommand())
	return cmd
}

func (cfg *benchConfig) validate() error {
	var errs []error
	if cfg.Jobs < 1 {
		errs = append(errs, fmt.Errorf("invalid --jobs %d: it must be at least 1", cfg.Jobs))
	}
	if cfg.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("invalid --concurrency %d: it must be at least 1", cfg.Concurrency))
	}
	if cfg.Rate < 0 {
		errs = append(errs, fmt.Errorf("invalid --rate %d: it must not be negative", cfg.Rate))
	}
	if cfg.Batch < 1 || cfg.Batch > jobs.FetchBatchSizeMax {
		errs = append(errs, fmt.Errorf("invalid --batch %d: it must be 1 to %d", cfg.Batch, jobs.FetchBatchSizeMax))
	}
	if cfg.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("invalid --timeout %s: it must be positive", cfg.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return &usageError{err}
	}
	return nil
}

// runBench measures the engine on a broker of its own: a fresh database in
// a temporary directory (in --data-dir when dataDirGiven), or a random key
// prefix on the given Redis. Either is removed at the end.
func (a *app) runBench(ctx context.Context, cfg *benchConfig, dataDirGiven bool) (res *benchResult, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g := a.global
	if g.RedisURL != "" {
		g.RedisPrefix = "quirebench:" + randomHex(6)
	} else {
		dir, derr := benchTempDir(g.DataDir, dataDirGiven)
		if derr != nil {
			return nil, derr
		}
		// Deferred before the broker's Close, so it runs after it.
		defer func() {
			if rerr := os.RemoveAll(dir); rerr != nil {
				err = errors.Join(err, fmt.Errorf("bench: remove %s: %w", dir, rerr))
				return
			}
			a.log.Info("bench: removed its database", "dir", dir)
		}()
		g.DataDir = dir
	}
	b, err := openBroker(&g)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	drv := b.driver
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, fmt.Errorf("bench: timed out after %s", cfg.Timeout))
	defer cancel()
	cleanup, err := a.benchRedis(ctx, b, &g)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, cleanup()) }()

	heap := startHeapSampler(100 * time.Millisecond)
	defer heap.stop()
	rec := newLatencyRecorder(cfg.Jobs)
	handlers := jobs.NewHandlers()
	handlers.Handle(benchJobType, rec.handle, nil)
	srv, err := a.newJobServer(drv, "bench", jobs.Config{
		Handlers:       handlers,
		Concurrency:    cfg.Concurrency,
		FetchBatchSize: cfg.Batch,
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), benchStopTimeout)
		defer scancel()
		if serr := srv.Stop(sctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("bench: stop server: %w", serr))
		}
	}()
	client, err := jobs.NewClient(drv, nil)
	if err != nil {
		return nil, err
	}

	a.log.Info("bench: starting", append([]any{"jobs", cfg.Jobs, "concurrency", cfg.Concurrency, "rate", cfg.Rate,
		"batch", cfg.Batch}, b.attrs...)...)
	var enqueueDur, processDur time.Duration
	if cfg.Rate > 0 {
		enqueueDur, processDur, err = benchPaced(ctx, client, jobs.NewInspector(drv, nil), srv, rec, cfg.Jobs, cfg.Rate)
	} else {
		enqueueDur, processDur, err = benchBulk(ctx, a, client, jobs.NewInspector(drv, nil), srv, rec, cfg.Jobs)
	}
	if err != nil {
		return nil, err
	}
	lat := rec.sorted()
	rss, _ := peakRSS()
	return &benchResult{
		Engine:      b.engine,
		Jobs:        cfg.Jobs,
		Concurrency: cfg.Concurrency,
		Rate:        cfg.Rate,
		Batch:       cfg.Batch,
		EnqueuePerS: perSecond(cfg.Jobs, enqueueDur),
		ProcessPerS: perSecond(cfg.Jobs, processDur),
		P50MS:       millis(percentile(lat, 0.50)),
		P99MS:       millis(percentile(lat, 0.99)),
		RSSMiB:      mib(rss),
		HeapMiB:     mib(heap.peak()),
		EnqueueS:    enqueueDur.Seconds(),
		ProcessS:    processDur.Seconds(),
	}, nil
}

// benchTempDir makes the bench's database directory: in dataDir when it was
// given, else in $TMPDIR.
func benchTempDir(dataDir string, given bool) (string, error) {
	parent := ""
	if given {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return "", fmt.Errorf("bench: use %s %q: %w", setting("data-dir"), dataDir, err)
		}
		parent = dataDir
	}
	dir, err := os.MkdirTemp(parent, "quirebench-")
	if err != nil {
		if given {
			return "", fmt.Errorf("bench: make a temporary directory in %s %q: %w", setting("data-dir"), dataDir, err)
		}
		return "", fmt.Errorf("bench: make a temporary directory: %w", err)
	}
	return dir, nil
}

// benchBulk enqueues n jobs in bulk, then starts the server and returns how
// long enqueueing took and how long the server took, from its start until
// the outcome of the n-th job was recorded.
func benchBulk(ctx context.Context, a *app, client *jobs.Client, insp *jobs.Inspector, srv *jobs.Server, rec *latencyRecorder, n int) (enqueueDur, processDur time.Duration, err error) {
	start := time.Now()
	if err := enqueueBulk(ctx, client, n); err != nil {
		return 0, 0, err
	}
	enqueueDur = time.Since(start)
	a.log.Info("bench: enqueued", "jobs", n, "elapsed", enqueueDur.Round(time.Millisecond))
	start = time.Now()
	if err := srv.Start(ctx); err != nil {
		return 0, 0, err
	}
	if err := rec.wait(ctx); err != nil {
		return 0, 0, err
	}
	// Count a job as processed once its outcome is recorded in the broker,
	// not when its handler returns.
	if err := waitAcknowledged(ctx, insp, n); err != nil {
		return 0, 0, err
	}
	return enqueueDur, time.Since(start), nil
}

// waitAcknowledged waits until the default queue's processed counter reaches
// n.
func waitAcknowledged(ctx context.Context, insp *jobs.Inspector, n int) error {
	for {
		q, err := insp.Queue(ctx, jobs.QueueDefault)
		if err != nil {
			return fmt.Errorf("bench: read processed counter: %w", err)
		}
		if q.Processed >= int64(n) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// enqueueBulk enqueues n no-op jobs with EnqueueMany, benchEnqueueChunk at a
// time, from benchEnqueueWorkers goroutines.
func enqueueBulk(ctx context.Context, client *jobs.Client, n int) error {
	chunks := (n + benchEnqueueChunk - 1) / benchEnqueueChunk
	var next atomic.Int64
	errs := make(chan error, benchEnqueueWorkers)
	var wg sync.WaitGroup
	for range min(benchEnqueueWorkers, chunks) {
		wg.Go(func() {
			params := make([]jobs.EnqueueParams, 0, benchEnqueueChunk)
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				params = params[:0]
				for range min(benchEnqueueChunk, n-c*benchEnqueueChunk) {
					params = append(params, jobs.EnqueueParams{Type: benchJobType})
				}
				if _, err := client.EnqueueMany(ctx, params); err != nil {
					errs <- fmt.Errorf("bench: enqueue: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// benchPaced starts the server, then enqueues n jobs one per Enqueue call at
// rate jobs a second: a ticker every millisecond releases the jobs due by
// then to benchPacedWorkers goroutines. It returns how long enqueueing took
// and how long from the first enqueue until the n-th job finished.
func benchPaced(ctx context.Context, client *jobs.Client, insp *jobs.Inspector, srv *jobs.Server, rec *latencyRecorder, n, rate int) (enqueueDur, processDur time.Duration, err error) {
	if err := srv.Start(ctx); err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	due := make(chan struct{}, n)
	var wg sync.WaitGroup
	for range benchPacedWorkers {
		wg.Go(func() {
			for range due {
				if ctx.Err() != nil {
					continue // drain
				}
				if _, err := client.Enqueue(ctx, benchJobType, nil, nil); err != nil {
					cancel(fmt.Errorf("bench: enqueue: %w", err))
				}
			}
		})
	}
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	sent := 0
pace:
	for sent < n {
		select {
		case <-ctx.Done():
			break pace
		case <-tick.C:
		}
		for until := min(n, int(time.Since(start).Seconds()*float64(rate))); sent < until; sent++ {
			due <- struct{}{}
		}
	}
	tick.Stop()
	close(due)
	wg.Wait()
	enqueueDur = time.Since(start)
	if err := rec.wait(ctx); err != nil {
		return 0, 0, err
	}
	// Count a job as processed once its outcome is recorded in the broker,
	// not when its handler returns.
	if err := waitAcknowledged(ctx, insp, n); err != nil {
		return 0, 0, err
	}
	return enqueueDur, time.Since(start), nil
}

// latencyRecorder is the bench's handler: it records each job's
// enqueue-to-start latency in a slice allocated up front, so recording costs
// no allocation and no lock, and signals when the last job finished.
type latencyRecorder struct {
	lat      []time.Duration
	claimed  atomic.Int64 // slots handed out
	finished atomic.Int64 // slots written
	doneAt   atomic.Int64 // unix nanos of the last job's finish
	done     chan struct{}
}

func newLatencyRecorder(n int) *latencyRecorder {
	return &latencyRecorder{lat: make([]time.Duration, n), done: make(chan struct{})}
}

func (r *latencyRecorder) handle(_ context.Context, j *jobs.Job) error {
	d := time.Since(j.ReadyAt())
	i := r.claimed.Add(1) - 1
	if i >= int64(len(r.lat)) {
		return nil // a job run twice after a lost lease
	}
	r.lat[i] = d
	if r.finished.Add(1) == int64(len(r.lat)) {
		r.doneAt.Store(time.Now().UnixNano())
		close(r.done)
	}
	return nil
}

func (r *latencyRecorder) wait(ctx context.Context) error {
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %d of %d jobs finished", context.Cause(ctx), r.finished.Load(), len(r.lat))
	}
}

func (r *latencyRecorder) finishedAt() time.Time { return time.Unix(0, r.doneAt.Load()) }

// sorted returns the latencies in ascending order. Call it after wait.
func (r *latencyRecorder) sorted() []time.Duration {
	slices.Sort(r.lat)
	return r.lat
}

// percentile returns the nearest-rank p-quantile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func writeBenchTable(w io.Writer, r *benchResult) error {
	mode := "bulk enqueue, then run"
	if r.Rate > 0 {
		mode = fmt.Sprintf("paced enqueue at %d jobs/s while running", r.Rate)
	}
	fmt.Fprintf(w, "quire bench (%s): %d no-op jobs, concurrency %d, fetch batch %d, %s\n",
		r.Engine, r.Jobs, r.Concurrency, r.Batch, mode)
	rows := []struct {
		name, value, unit, note string
	}{
		{"enqueue", fmt.Sprintf("%.0f", r.EnqueuePerS), "jobs/s", fmt.Sprintf("(%.2f s)", r.EnqueueS)},
		{"process", fmt.Sprintf("%.0f", r.ProcessPerS), "jobs/s", fmt.Sprintf("(%.2f s)", r.ProcessS)},
		{"latency p50", fmt.Sprintf("%.2f", r.P50MS), "ms", "enqueue to start"},
		{"latency p99", fmt.Sprintf("%.2f", r.P99MS), "ms", "enqueue to start"},
		{"peak RSS", fmt.Sprintf("%.1f", r.RSSMiB), "MiB", ""},
		{"peak Go heap in use", fmt.Sprintf("%.1f", r.HeapMiB), "MiB", ""},
	}
	for _, row := range rows {
		line := fmt.Sprintf("  %-20s %10s %-6s %s", row.name, row.value, row.unit, row.note)
		if _, err := fmt.Fprintln(w, strings.TrimRight(line, " ")); err != nil {
			return err
		}
	}
	return nil
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// benchRedis checks that a bench's Redis answers and returns the function
// that deletes the keys the bench wrote under its own prefix; on the
// embedded broker there is nothing to check or delete.
func (a *app) benchRedis(ctx context.Context, b *broker, g *globalConfig) (func() error, error) {
	if b.rdb == nil {
		return func() error { return nil }, nil
	}
	pingCtx, pingCancel := context.WithTimeout(ctx, 5*time.Second)
	err := b.rdb.Ping(pingCtx).Err()
	pingCancel()
	if err != nil {
		return nil, fmt.Errorf("bench: reach Redis at %s: %w", redactURL(g.RedisURL), err)
	}
	return func() error {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), benchCleanupTimeout)
		defer ccancel()
		n, err := deleteKeys(cctx, b.rdb, g.RedisPrefix+":*")
		if err != nil {
			return fmt.Errorf("bench: clean up keys %s:*: %w", g.RedisPrefix, err)
		}
		a.log.Info("bench: deleted its keys", "redis_prefix", g.RedisPrefix, "num_keys", n)
		return nil
	}, nil
}

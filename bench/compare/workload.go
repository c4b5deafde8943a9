package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
)

// bulkEnqueuers is the number of goroutines that enqueue in parallel for
// engines without a bulk API (asynq, gocraft/work).
const bulkEnqueuers = 50

// rateSenders is the number of goroutines that make the paced single-job
// enqueue calls in --rate mode, so one slow call does not stall the pace.
const rateSenders = 4

// config is the workload shared by every engine.
type config struct {
	Jobs        int
	Concurrency int
	Rate        float64 // jobs/s in steady-load mode; 0 = bulk mode
	RedisURL    string
	PostgresURL string
	Timeout     time.Duration

	AsynqCheckInterval time.Duration // asynq TaskCheckInterval; 0 = asynq's default (1s)
}

// engine is one peer job engine under test.
type engine interface {
	// setup connects and registers a no-op handler that calls rec.record.
	setup(ctx context.Context, cfg config, rec *recorder) error
	// method describes the enqueue path used in bulk mode.
	method() string
	// singleCall names the single-job enqueue call used in --rate mode.
	singleCall() string
	// enqueueBulk enqueues n jobs as fast as the engine allows.
	enqueueBulk(ctx context.Context, n int) error
	// enqueueOne enqueues a single job carrying the current wall-clock time.
	enqueueOne(ctx context.Context) error
	// start starts the workers with the configured concurrency.
	start(ctx context.Context) error
	// stop stops the workers and waits for them.
	stop(ctx context.Context) error
	// cleanup removes every key, row or schema the run created.
	cleanup(ctx context.Context) error
}

type engineInfo struct {
	name   string
	module string // module path, for the version from build info
	make   func() engine
	// notInAll leaves the engine out of --engine all.
	notInAll bool
}

var engines = []engineInfo{
	{"asynq", "github.com/hibiken/asynq", func() engine { return &asynqEngine{} }, false},
	{"river", "github.com/riverqueue/river", func() engine { return &riverEngine{} }, false},
	{"gocraft", "github.com/gocraft/work", func() engine { return &gocraftEngine{} }, false},
	// River on SQLite is the peer of Quire's embedded driver, not of the
	// server-backed engines above: it runs only when named.
	{"river-sqlite", "github.com/riverqueue/river/riverdriver/riversqlite", func() engine { return &riverSQLiteEngine{} }, true},
}

// result is one engine's figures; it is printed as one JSON line with --json.
type result struct {
	Engine        string  `json:"engine"`
	Version       string  `json:"version"`
	EnqueueMethod string  `json:"enqueue_method"`
	EnqueuePerS   float64 `json:"enqueue_per_s"`
	ProcessPerS   float64 `json:"process_per_s"`
	P50Ms         float64 `json:"p50_ms"`
	P99Ms         float64 `json:"p99_ms"`
	RSSMiB        float64 `json:"rss_mib"`
	Jobs          int     `json:"jobs"`
	Concurrency   int     `json:"concurrency"`
	Rate          float64 `json:"rate"`
}

// recorder collects enqueue-to-start latencies into a pre-allocated slice.
type recorder struct {
	lat    []int64
	n      atomic.Int64
	doneAt atomic.Int64 // unix nanos when the N-th job ran
	done   chan struct{}
}

func newRecorder(n int) *recorder {
	return &recorder{lat: make([]int64, n), done: make(chan struct{})}
}

// record is called by every handler with the enqueue time carried in the args.
func (r *recorder) record(enqueuedAtNanos int64) {
	now := time.Now().UnixNano()
	i := r.n.Add(1) - 1
	total := int64(len(r.lat))
	if i < total {
		r.lat[i] = now - enqueuedAtNanos
	}
	if i == total-1 {
		r.doneAt.Store(time.Now().UnixNano())
		close(r.done)
	}
}

// percentilesMs returns p50 and p99 of the recorded latencies in ms.
func (r *recorder) percentilesMs() (p50, p99 float64) {
	n := min(int(r.n.Load()), len(r.lat))
	if n == 0 {
		return 0, 0
	}
	s := slices.Clone(r.lat[:n])
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q*float64(n)+0.5) - 1
		i = max(0, min(i, n-1))
		return float64(s[i]) / 1e6
	}
	return at(0.50), at(0.99)
}

// runEngine runs the workload on one engine in this process.
func runEngine(info engineInfo, cfg config) (res result, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()

	eng := info.make()
	rec := newRecorder(cfg.Jobs)
	defer func() {
		// Always clean up, with a context of its own so a timeout still cleans.
		cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
		defer ccancel()
		if cerr := eng.cleanup(cctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("cleanup: %w", cerr))
		}
	}()
	if err := eng.setup(ctx, cfg, rec); err != nil {
		return res, fmt.Errorf("setup: %w", err)
	}

	res = result{
		Engine:      info.name,
		Version:     moduleVersion(info.module),
		Jobs:        cfg.Jobs,
		Concurrency: cfg.Concurrency,
		Rate:        cfg.Rate,
	}

	var procStart time.Time
	if cfg.Rate <= 0 {
		res.EnqueueMethod = eng.method()
		slog.Info("enqueueing", "engine", info.name, "jobs", cfg.Jobs, "method", res.EnqueueMethod)
		t0 := time.Now()
		if err := eng.enqueueBulk(ctx, cfg.Jobs); err != nil {
			return res, fmt.Errorf("enqueue: %w", err)
		}
		res.EnqueuePerS = float64(cfg.Jobs) / time.Since(t0).Seconds()

		slog.Info("processing", "engine", info.name, "concurrency", cfg.Concurrency)
		procStart = time.Now()
		if err := eng.start(ctx); err != nil {
			return res, fmt.Errorf("start: %w", err)
		}
	} else {
		res.EnqueueMethod = fmt.Sprintf("%s, one job per call, paced at %g/s (1 ms ticker, %d sender goroutines)", eng.singleCall(), cfg.Rate, rateSenders)
		slog.Info("steady load", "engine", info.name, "jobs", cfg.Jobs, "rate", cfg.Rate, "concurrency", cfg.Concurrency)
		procStart = time.Now()
		if err := eng.start(ctx); err != nil {
			return res, fmt.Errorf("start: %w", err)
		}
		t0 := time.Now()
		if err := pacedEnqueue(ctx, cfg.Jobs, cfg.Rate, eng.enqueueOne); err != nil {
			stopQuietly(eng)
			return res, fmt.Errorf("enqueue: %w", err)
		}
		res.EnqueuePerS = float64(cfg.Jobs) / time.Since(t0).Seconds()
	}

	select {
	case <-rec.done:
	case <-ctx.Done():
		stopQuietly(eng)
		return res, fmt.Errorf("timed out after %s: %d of %d jobs processed", cfg.Timeout, rec.n.Load(), cfg.Jobs)
	}
	res.ProcessPerS = float64(cfg.Jobs) / time.Unix(0, rec.doneAt.Load()).Sub(procStart).Seconds()
	res.P50Ms, res.P99Ms = rec.percentilesMs()

	sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
	defer scancel()
	if err := eng.stop(sctx); err != nil {
		return res, fmt.Errorf("stop: %w", err)
	}
	res.RSSMiB = peakRSSMiB()
	return res, nil
}

// stopQuietly stops an engine after a failure, bounded in time.
func stopQuietly(eng engine) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = eng.stop(ctx)
}

// concurrentEnqueue calls enqueue n times from workers goroutines.
func concurrentEnqueue(ctx context.Context, n, workers int, enqueue func(context.Context) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := enqueue(ctx); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// pacedEnqueue enqueues n jobs one per call at rate jobs/s: every millisecond
// it releases the jobs due by then, and rateSenders goroutines enqueue them.
func pacedEnqueue(ctx context.Context, n int, rate float64, enqueue func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tokens := make(chan struct{}, n)
	go func() {
		defer close(tokens)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		start := time.Now()
		for sent := 0; sent < n; {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			due := min(n, int(rate*time.Since(start).Seconds()))
			for ; sent < due; sent++ {
				tokens <- struct{}{}
			}
		}
	}()
	var wg sync.WaitGroup
	errc := make(chan error, rateSenders)
	for range rateSenders {
		wg.Go(func() {
			for range tokens {
				if err := enqueue(ctx); err != nil {
					errc <- err
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	return ctx.Err()
}

// peakRSSMiB reads VmHWM (peak resident set size) from /proc/self/status.
func peakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// moduleVersion returns the version of a dependency from the build info.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return "unknown"
}

// runID returns a short random hex string to namespace one run's keys.
func runID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// deleteRedisPrefix deletes every key that starts with prefix (SCAN + DEL),
// never touching other keys in the shared Redis database.
func deleteRedisPrefix(ctx context.Context, redisURL, prefix string) (int, error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return 0, err
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	deleted := 0
	iter := rdb.Scan(ctx, 0, globEscape(prefix)+"*", 1000).Iterator()
	batch := make([]string, 0, 1000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := rdb.Del(ctx, batch...).Result()
		deleted += int(n)
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return deleted, err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return deleted, err
	}
	return deleted, flush()
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}

// printJSON writes one result as a single JSON line.
func printJSON(w io.Writer, r result) {
	b, _ := json.Marshal(r)
	fmt.Fprintf(w, "%s\n", b)
}

// printHuman writes one result as a short readable block.
func printHuman(w io.Writer, r result) {
	mode := "bulk"
	if r.Rate > 0 {
		mode = fmt.Sprintf("steady %g jobs/s", r.Rate)
	}
	fmt.Fprintf(w, "%s %s (%s, jobs=%d, concurrency=%d)\n", r.Engine, r.Version, mode, r.Jobs, r.Concurrency)
	fmt.Fprintf(w, "  enqueue method: %s\n", r.EnqueueMethod)
	fmt.Fprintf(w, "  enqueue:   %10.0f jobs/s\n", r.EnqueuePerS)
	fmt.Fprintf(w, "  processed: %10.0f jobs/s\n", r.ProcessPerS)
	fmt.Fprintf(w, "  latency:   p50 %.2f ms, p99 %.2f ms (enqueue to handler start)\n", r.P50Ms, r.P99Ms)
	fmt.Fprintf(w, "  peak RSS:  %.1f MiB (VmHWM)\n", r.RSSMiB)
}

// printTable writes a summary table of several results.
func printTable(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\tversion\tenqueue/s\tprocessed/s\tp50 ms\tp99 ms\tRSS MiB\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.2f\t%.2f\t%.1f\t\n",
			r.Engine, r.Version, r.EnqueuePerS, r.ProcessPerS, r.P50Ms, r.P99Ms, r.RSSMiB)
	}
	_ = tw.Flush()
}

package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/jobs"
)

// Defaults of JobsConfig.
const (
	JobsDefault            = 100_000
	JobsConcurrencyDefault = 100
	JobsTimeoutDefault     = 10 * time.Minute
)

const (
	jobsJobType        = "bench.noop"
	jobsCallbackType   = "bench.batch_done"
	jobsEnqueueChunk   = 5000 // jobs per EnqueueMany call
	jobsEnqueueWorkers = 4    // goroutines of the bulk enqueue
	jobsPacedWorkers   = 8    // goroutines of the paced enqueue
	heapSampleInterval = 100 * time.Millisecond
	serverStopTimeout  = 30 * time.Second
)

// JobsConfig configures Jobs.
type JobsConfig struct {
	// Driver is the broker the jobs go through. Required. Give the bench a
	// broker of its own, a fresh database or a key prefix nobody else uses:
	// it counts the jobs processed on the default queue.
	Driver jobs.Driver
	// Engine names the broker in the result, as quire-redis or quire-sqlite.
	Engine string
	// NewServerFunc builds the server that runs the jobs, from the bench's
	// handlers and settings, on Driver; a caller sets the logger, version
	// and labels its servers have (Quire's own: app.NewJobServer).
	// Required.
	NewServerFunc func(jobs.Config) (*jobs.Server, error)
	// Logger receives the bench's logs. Defaults to slog.Default().
	Logger *slog.Logger

	// Jobs is how many jobs to enqueue and run. Defaults to 100,000.
	Jobs int
	// Concurrency is the server's Concurrency. Defaults to 100.
	Concurrency int
	// Rate, when positive, enqueues one job per call at this many jobs a
	// second with the server running; zero enqueues all jobs in bulk first.
	Rate int
	// Batch is the server's FetchBatchSize. Defaults to
	// jobs.FetchBatchSizeDefault (200).
	Batch int
	// Timeout stops the benchmark. Defaults to 10 minutes.
	Timeout time.Duration

	// InBatch enqueues every job (in bulk) into one jobs batch with a
	// success callback; processing ends once the callback fired. It
	// measures what batches cost against the plain rate (issue #21).
	InBatch bool
	// Limiter, when positive, runs every job through a concurrency
	// limiter of this many slots (HandlerOpts.Limiters): an acquisition
	// and a release in the broker a job. At Concurrency or more nothing is
	// refused, so the figure is the limiter's cost; below, refused jobs
	// are snoozed for a second or two (issue #21).
	Limiter int
}

// WithDefaults returns a copy of c with unset fields filled in.
func (c JobsConfig) WithDefaults() JobsConfig {
	c.Logger = cmp.Or(c.Logger, slog.Default())
	c.Jobs = cmp.Or(c.Jobs, JobsDefault)
	c.Concurrency = cmp.Or(c.Concurrency, JobsConcurrencyDefault)
	c.Batch = cmp.Or(c.Batch, jobs.FetchBatchSizeDefault)
	c.Timeout = cmp.Or(c.Timeout, JobsTimeoutDefault)
	return c
}

func (c *JobsConfig) validate() error {
	var errs []error
	if c.Driver == nil {
		errs = append(errs, errors.New("Driver is required"))
	}
	if c.NewServerFunc == nil {
		errs = append(errs, errors.New("NewServerFunc is required"))
	}
	if c.Jobs < 1 {
		errs = append(errs, fmt.Errorf("Jobs %d must be at least 1", c.Jobs))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("Concurrency %d must be at least 1", c.Concurrency))
	}
	if c.InBatch && c.Rate > 0 {
		errs = append(errs, errors.New("InBatch enqueues in bulk: it takes no Rate"))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("Rate %d must not be negative", c.Rate))
	}
	if c.Limiter < 0 {
		errs = append(errs, fmt.Errorf("Limiter %d must not be negative", c.Limiter))
	}
	if c.Batch < 1 || c.Batch > jobs.FetchBatchSizeMax {
		errs = append(errs, fmt.Errorf("Batch %d must be between 1 and %d", c.Batch, jobs.FetchBatchSizeMax))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("Timeout %s must be positive", c.Timeout))
	}
	return errors.Join(errs...)
}

// JobsResult is what Jobs measured; its JSON is what `quire bench jobs
// --json` prints.
type JobsResult struct {
	Engine      string  `json:"engine"`
	Jobs        int     `json:"jobs"`
	Concurrency int     `json:"concurrency"`
	Rate        int     `json:"rate"`
	Batch       int     `json:"batch"`
	InBatch     bool    `json:"in_batch,omitempty"`
	Limiter     int     `json:"limiter,omitempty"`
	EnqueuePerS float64 `json:"enqueue_per_s"`
	ProcessPerS float64 `json:"process_per_s"`
	// P50MS and P99MS are enqueue to start per job.
	P50MS    float64 `json:"p50_ms"`
	P99MS    float64 `json:"p99_ms"`
	RSSMiB   float64 `json:"rss_mib"`
	HeapMiB  float64 `json:"heap_inuse_mib"`
	EnqueueS float64 `json:"enqueue_s"`
	ProcessS float64 `json:"process_s"`
}

// Jobs measures the engine on no-op jobs, in this process. Without a Rate
// it enqueues every job in bulk (EnqueueMany, 5,000 per call, from a few
// goroutines), then starts a server and measures how fast it runs them.
// With a Rate it starts the server first and enqueues one job per call at
// that steady rate. A job counts as processed once its outcome is recorded
// in the broker.
func Jobs(ctx context.Context, cfg *JobsConfig) (res *JobsResult, err error) {
	c := cfg.WithDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("bench: invalid jobs config: %w", err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout, fmt.Errorf("bench: timed out after %s", c.Timeout))
	defer cancel()

	heap := startHeapSampler(heapSampleInterval)
	defer heap.stop()
	rec := newLatencyRecorder(c.Jobs)
	handlers := jobs.NewHandlers()
	var opts *jobs.HandlerOpts
	if c.Limiter > 0 {
		l, err := jobs.NewConcurrencyLimiter(c.Driver, "bench", c.Limiter, nil)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		opts = &jobs.HandlerOpts{Limiters: []*jobs.Limiter{l}}
	}
	handlers.Handle(jobsJobType, rec.handle, opts)
	callback := make(chan struct{}, 1)
	handlers.Handle(jobsCallbackType, func(context.Context, *jobs.Job) error {
		select {
		case callback <- struct{}{}:
		default:
		}
		return nil
	}, nil)
	srv, err := c.NewServerFunc(jobs.Config{
		Handlers:       handlers,
		Concurrency:    c.Concurrency,
		FetchBatchSize: c.Batch,
	})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, stopServer(ctx, srv)) }()
	client, err := jobs.NewClient(c.Driver, nil)
	if err != nil {
		return nil, err
	}
	insp := jobs.NewInspector(c.Driver, nil)

	c.Logger.Info("bench: starting", "jobs", c.Jobs, "concurrency", c.Concurrency, "rate", c.Rate, "batch", c.Batch)
	var enqueueDur, processDur time.Duration
	if c.Rate > 0 {
		enqueueDur, processDur, err = jobsPaced(ctx, client, insp, srv, rec, c.Jobs, c.Rate)
	} else {
		enqueueDur, processDur, err = jobsBulk(ctx, c.Logger, client, insp, srv, rec, c.Jobs, c.InBatch, callback)
	}
	if err != nil {
		return nil, err
	}
	lat := rec.sorted()
	rss, _ := peakRSS()
	return &JobsResult{
		Engine:      c.Engine,
		Jobs:        c.Jobs,
		Concurrency: c.Concurrency,
		Rate:        c.Rate,
		Batch:       c.Batch,
		InBatch:     c.InBatch,
		Limiter:     c.Limiter,
		EnqueuePerS: perSecond(c.Jobs, enqueueDur),
		ProcessPerS: perSecond(c.Jobs, processDur),
		P50MS:       millis(percentile(lat, 0.50)),
		P99MS:       millis(percentile(lat, 0.99)),
		RSSMiB:      mib(rss),
		HeapMiB:     mib(heap.peak()),
		EnqueueS:    enqueueDur.Seconds(),
		ProcessS:    processDur.Seconds(),
	}, nil
}

// stopServer stops a bench's server, within serverStopTimeout even when ctx
// is done.
func stopServer(ctx context.Context, srv *jobs.Server) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serverStopTimeout)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		return fmt.Errorf("bench: stop server: %w", err)
	}
	return nil
}

// jobsBulk enqueues n jobs in bulk, then starts the server and returns how
// long enqueueing took and how long the server took, from its start until
// the outcome of the n-th job was recorded.
func jobsBulk(ctx context.Context, log *slog.Logger, client *jobs.Client, insp *jobs.Inspector, srv *jobs.Server, rec *latencyRecorder, n int,
	inBatch bool, callback <-chan struct{}) (enqueueDur, processDur time.Duration, err error) {
	start := time.Now()
	enqueueMany := client.EnqueueMany
	var batch *jobs.Batch
	if inBatch {
		batch, err = client.NewBatch(ctx, &jobs.BatchOpts{Description: "bench", OnSuccess: &jobs.BatchCallback{Type: jobsCallbackType}})
		if err != nil {
			return 0, 0, fmt.Errorf("bench: %w", err)
		}
		enqueueMany = batch.EnqueueMany
	}
	if err := enqueueBulk(ctx, enqueueMany, n); err != nil {
		return 0, 0, err
	}
	if batch != nil {
		if err := batch.Commit(ctx); err != nil {
			return 0, 0, fmt.Errorf("bench: %w", err)
		}
	}
	enqueueDur = time.Since(start)
	log.Info("bench: enqueued", "jobs", n, "elapsed", enqueueDur.Round(time.Millisecond))
	start = time.Now()
	if err := srv.Start(ctx); err != nil {
		return 0, 0, err
	}
	if err := rec.wait(ctx); err != nil {
		return 0, 0, err
	}
	// Count a job as processed once its outcome is recorded in the broker,
	// not when its handler returns.
	acked := n
	if inBatch {
		acked++ // the callback runs on the same queue
	}
	if err := waitAcknowledged(ctx, insp, acked); err != nil {
		return 0, 0, err
	}
	if inBatch {
		select {
		case <-callback:
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("bench: waiting for the batch callback: %w", context.Cause(ctx))
		}
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

// enqueueBulk enqueues n no-op jobs with EnqueueMany, jobsEnqueueChunk at a
// time, from jobsEnqueueWorkers goroutines.
func enqueueBulk(ctx context.Context, enqueueMany func(context.Context, []jobs.EnqueueParams) ([]*jobs.Job, error), n int) error {
	chunks := (n + jobsEnqueueChunk - 1) / jobsEnqueueChunk
	var next atomic.Int64
	errs := make(chan error, jobsEnqueueWorkers)
	var wg sync.WaitGroup
	for range min(jobsEnqueueWorkers, chunks) {
		wg.Go(func() {
			params := make([]jobs.EnqueueParams, 0, jobsEnqueueChunk)
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				params = params[:0]
				for range min(jobsEnqueueChunk, n-c*jobsEnqueueChunk) {
					params = append(params, jobs.EnqueueParams{Type: jobsJobType})
				}
				if _, err := enqueueMany(ctx, params); err != nil {
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

// jobsPaced starts the server, then enqueues n jobs one per Enqueue call at
// rate jobs a second: a ticker every millisecond releases the jobs due by
// then to jobsPacedWorkers goroutines. It returns how long enqueueing took
// and how long from the first enqueue until the n-th job finished.
func jobsPaced(ctx context.Context, client *jobs.Client, insp *jobs.Inspector, srv *jobs.Server, rec *latencyRecorder, n, rate int) (enqueueDur, processDur time.Duration, err error) {
	if err := srv.Start(ctx); err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	due := make(chan struct{}, n)
	var wg sync.WaitGroup
	for range jobsPacedWorkers {
		wg.Go(func() {
			for range due {
				if ctx.Err() != nil {
					continue // drain
				}
				if _, err := client.Enqueue(ctx, jobsJobType, nil, nil); err != nil {
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

// WriteTable writes the result as the table `quire bench jobs` prints.
func (r *JobsResult) WriteTable(w io.Writer) error {
	mode := "bulk enqueue, then run"
	if r.Rate > 0 {
		mode = fmt.Sprintf("paced enqueue at %d jobs/s while running", r.Rate)
	}
	if r.InBatch {
		mode += ", in one batch"
	}
	if r.Limiter > 0 {
		mode += fmt.Sprintf(", each through a concurrency limiter of %d", r.Limiter)
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

// Package fetcher takes jobs from their queues under a lease and hands them
// to the workers.
package fetcher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/jobs/internal/lease"
	"github.com/quirehq/quire/jobs/internal/service"
	"github.com/quirehq/quire/jobs/internal/testsignal"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Defaults of Config, and the fetcher's fixed timings.
const (
	PollIntervalDefault = time.Second
	// FetchTimeout bounds one fetch, so that a broker that hangs delays the
	// loop's beat by no more than this.
	FetchTimeout = 5 * time.Second
	// WaitTimeout bounds one QueueWait of a waiter.
	WaitTimeout = 2 * time.Second
	// CapRetry is how long a queue found at its MaxRunning cap is left
	// alone, unless a job of it completes here first: jobs completing in
	// other processes are noticed within it.
	CapRetry = 100 * time.Millisecond
)

// Driver is what the fetcher needs of a driver.
type Driver interface {
	JobFetch(ctx context.Context, params *jobdriver.JobFetchParams) (*jobdriver.JobFetchResult, error)
	QueueWait(ctx context.Context, params *jobdriver.QueueWaitParams) (bool, error)
}

// Config configures a Fetcher.
type Config struct {
	// BatchSize is the most jobs one fetch takes. Required.
	BatchSize int
	// Clock tells the time of fetches and leases. Defaults to the system
	// clock.
	Clock jobtype.Clock
	// HandBackFunc receives each job that was fetched but that no worker
	// took when the fetcher stopped; the server returns it to its queue.
	// Required.
	HandBackFunc func(*lease.Held)
	// LeaseDuration is how long a fetched job is held. Required.
	LeaseDuration time.Duration
	// LeaseOwner names the process in leases. Required.
	LeaseOwner string
	// Leases receives every fetched job. Required.
	Leases *lease.Set
	// Logger receives the logs. Defaults to slog.Default().
	Logger *slog.Logger
	// MaxHeld is the most jobs held at once, running or waiting for a
	// worker. Required.
	MaxHeld int
	// MaxRunning caps, per queue, the jobs held at once by every process
	// on the broker (JobFetchParams.MaxRunning). Queues not in it have no
	// cap.
	MaxRunning map[string]int
	// PollInterval is the longest an idle fetcher waits before it fetches
	// again, whatever the waiters say. Defaults to 1 second.
	PollInterval time.Duration
	// Queues are the queues to fetch from, by descending weight. Required.
	Queues []string
	// StrictPriority tries Queues in their order rather than in a weighted
	// random one.
	StrictPriority bool
	// Weights maps every queue to its weight, at least 1.
	Weights map[string]int
}

// WithDefaults returns a copy of c with unset fields filled in.
func (c Config) WithDefaults() Config {
	c.Clock = cmp.Or[jobtype.Clock](c.Clock, jobtype.SystemClock{})
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.PollInterval = cmp.Or(c.PollInterval, PollIntervalDefault)
	return c
}

func (c Config) mustValidate() {
	var errs []error
	if c.BatchSize < 1 || c.MaxHeld < 1 {
		errs = append(errs, fmt.Errorf("BatchSize %d and MaxHeld %d must be at least 1", c.BatchSize, c.MaxHeld))
	}
	if c.HandBackFunc == nil || c.Leases == nil || c.LeaseOwner == "" {
		errs = append(errs, errors.New("HandBackFunc, Leases and LeaseOwner are required"))
	}
	if c.LeaseDuration <= 0 || c.PollInterval <= 0 {
		errs = append(errs, errors.New("LeaseDuration and PollInterval must be positive"))
	}
	if len(c.Queues) == 0 {
		errs = append(errs, errors.New("Queues is required"))
	}
	for q, n := range c.MaxRunning {
		if n < 1 {
			errs = append(errs, fmt.Errorf("MaxRunning: queue %q has cap %d; it must be at least 1", q, n))
		}
	}
	for _, q := range c.Queues {
		if !c.StrictPriority && c.Weights[q] < 1 {
			errs = append(errs, fmt.Errorf("Weights: queue %q needs a weight of at least 1", q))
		}
	}
	if err := errors.Join(errs...); err != nil {
		panic("fetcher: invalid config: " + err.Error())
	}
}

// TestSignals are the fetcher's signals to tests.
type TestSignals struct {
	// Fetched carries the number of jobs each round of fetches took.
	Fetched testsignal.TestSignal[int]
}

// Fetcher takes batches of jobs while there is room and hands them to the
// workers through Work. When every queue is empty it idles until a waiter
// or Wake wakes it, or PollInterval passes.
//
// Its goroutines: the loop, which owns the queue order and the failure
// count; one waiter per queue, which blocks on the broker while the loop is
// idle, so that a new job is picked up within a round trip and nothing
// polls. The idle state and the pause flags are shared, under mu.
type Fetcher struct {
	service.Base

	cfg    Config
	driver Driver
	log    *slog.Logger

	// TestSignals are armed by tests only.
	TestSignals TestSignals

	work  chan *lease.Held // loop -> workers; closed when the loop exits
	freed chan struct{}    // a worker released a job (capacity); cap 1
	wake  chan struct{}    // a queue has jobs; cap 1

	order []string // the queues in this round's order; owned by the loop

	held     atomic.Int64 // jobs fetched and not yet released
	beat     atomic.Int64 // unix nanos of the loop's last turn
	fetching atomic.Bool

	mu     sync.Mutex      // guards the fields below
	paused map[string]bool // queues the broker reported paused
	// capped holds the queues found at their MaxRunning cap, each until
	// it is tried again; Uncap clears one early.
	capped      map[string]time.Time
	idlePeriod  uint64        // number of the current idle period; 0 while fetching
	idleCount   uint64        // idle periods so far
	idleStarted chan struct{} // closed when the next idle period begins
}

// New returns a fetcher from d. It panics on an invalid config.
func New(d Driver, cfg *Config) *Fetcher {
	c := cfg.WithDefaults()
	c.mustValidate()
	return &Fetcher{
		cfg: c, driver: d, log: c.Logger,
		work:        make(chan *lease.Held, c.MaxHeld),
		freed:       make(chan struct{}, 1),
		wake:        make(chan struct{}, 1),
		paused:      make(map[string]bool),
		capped:      make(map[string]time.Time),
		idleStarted: make(chan struct{}),
	}
}

// Beat returns when the loop last turned. It reads the wall clock, not
// Config.Clock: a liveness probe compares it with the real time.
func (f *Fetcher) Beat() time.Time { return time.Unix(0, f.beat.Load()) }

// Ready reports whether the loop runs.
func (f *Fetcher) Ready() bool { return f.fetching.Load() }

// Release frees the slot of a job that a worker finished or handed back.
func (f *Fetcher) Release() {
	f.held.Add(-1)
	select {
	case f.freed <- struct{}{}:
	default:
	}
}

// Uncap tells the fetcher that jobs of these queues completed, so a queue
// left alone at its MaxRunning cap may have room again. The server calls it
// once the outcomes are recorded, when the broker counts the jobs gone.
func (f *Fetcher) Uncap(queues ...string) {
	f.mu.Lock()
	n := 0
	for _, q := range queues {
		if _, ok := f.capped[q]; ok {
			delete(f.capped, q)
			n++
		}
	}
	f.mu.Unlock()
	if n > 0 {
		f.Wake()
	}
}

// Wake tells an idle fetcher that a queue may have jobs.
func (f *Fetcher) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Work returns the channel of fetched jobs, closed when the fetcher stops.
func (f *Fetcher) Work() <-chan *lease.Held { return f.work }

// Start starts fetching until ctx is done or Stop. The fetcher cannot be
// restarted: its work channel is closed when it stops.
func (f *Fetcher) Start(ctx context.Context) error {
	f.StartFunc(ctx, func(ctx context.Context) {
		for _, q := range f.cfg.Queues {
			f.Go(func() { f.waiter(ctx, q) })
		}
		f.fetching.Store(true)
		f.beat.Store(time.Now().UnixNano())
		f.Go(func() { f.loop(ctx) })
	})
	return nil
}

func (f *Fetcher) loop(ctx context.Context) {
	defer f.handBackWaiting()
	defer f.fetching.Store(false)
	var fl service.FailureLog
	threshold := max(1, min(f.cfg.BatchSize, f.cfg.MaxHeld)/2)
	failures := 0
	for ctx.Err() == nil {
		f.beat.Store(time.Now().UnixNano())
		free := f.cfg.MaxHeld - int(f.held.Load())
		if free < threshold && (free <= 0 || len(f.work) > 0) {
			select {
			case <-f.freed:
			case <-ctx.Done():
			case <-time.After(f.cfg.PollInterval):
			}
			continue
		}
		got, err := f.runOnce(ctx, free)
		if err != nil {
			failures++
			fl.Failed(f.log, "jobs: fetching failed; backing off", err)
			f.sleepBeating(ctx, service.Backoff(failures))
			continue
		}
		if failures > 0 {
			failures = 0
			fl.Recovered(f.log, "jobs: fetching works again")
		}
		if got == 0 {
			f.idle(ctx)
		}
	}
}

// runOnce takes up to free jobs, queue after queue, and hands them to the
// workers. It stays on a queue while it fills whole batches: a later queue
// is tried only once this one has run dry.
func (f *Fetcher) runOnce(ctx context.Context, free int) (int, error) {
	got := 0
	var err error
	now := time.Now()
queues:
	for _, q := range f.queueOrder() {
		if f.isCapped(q, now) {
			continue
		}
		for got < free {
			want := min(free-got, f.cfg.BatchSize)
			var n int
			if n, err = f.fetch(ctx, q, want); err != nil {
				break queues
			}
			got += n
			if n < want {
				break
			}
		}
	}
	f.TestSignals.Fetched.Signal(got)
	return got, err
}

// fetch takes up to want jobs from one queue and hands them to the workers.
func (f *Fetcher) fetch(ctx context.Context, queue string, want int) (int, error) {
	now := f.cfg.Clock.Now()
	fctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	res, err := f.driver.JobFetch(fctx, &jobdriver.JobFetchParams{
		Queue: queue, Max: want, Now: now, LeaseOwner: f.cfg.LeaseOwner,
		LeaseUntil: now.Add(f.cfg.LeaseDuration), MaxRunning: f.cfg.MaxRunning[queue],
	})
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil
		}
		return 0, err
	}
	if res.Undecodable > 0 {
		f.log.Error("jobs: entries that are not jobs were moved to the dead set", "queue", queue, "num_entries", res.Undecodable)
	}
	for _, j := range res.Jobs {
		j.Attempt++
	}
	f.mu.Lock()
	f.paused[queue] = res.Paused
	if res.Capped {
		// The wall clock, as for the idle timer that waits for it.
		f.capped[queue] = time.Now().Add(CapRetry)
	}
	f.mu.Unlock()
	hs := f.cfg.Leases.Add(res.Jobs)
	f.held.Add(int64(len(hs)))
	for _, h := range hs {
		f.work <- h
	}
	return len(hs), nil
}

// handBackWaiting closes the work channel and hands back the jobs still in
// it, which no worker has started: a busy worker would otherwise only see
// them when its current job ends.
func (f *Fetcher) handBackWaiting() {
	close(f.work)
	for h := range f.work {
		f.cfg.HandBackFunc(h)
	}
}

// sleepBeating sleeps for d while keeping the loop's beat fresh, so a
// broker outage never looks like a stuck process to a liveness probe.
func (f *Fetcher) sleepBeating(ctx context.Context, d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		if !service.Sleep(ctx, min(time.Until(end), f.cfg.PollInterval)) {
			return
		}
		f.beat.Store(time.Now().UnixNano())
	}
}

// isCapped reports whether queue was found at its cap less than CapRetry
// ago and no job of it completed here since.
func (f *Fetcher) isCapped(queue string, now time.Time) bool {
	if len(f.cfg.MaxRunning) == 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	until, ok := f.capped[queue]
	if ok && !now.Before(until) {
		delete(f.capped, queue)
		return false
	}
	return ok
}

// idleFor is how long the loop idles: PollInterval, or less when a capped
// queue is due to be tried again sooner.
func (f *Fetcher) idleFor() time.Duration {
	d := f.cfg.PollInterval
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, until := range f.capped {
		d = min(d, max(time.Until(until), time.Millisecond))
	}
	return d
}

func (f *Fetcher) idle(ctx context.Context) {
	wait := f.idleFor()
	f.mu.Lock()
	f.idleCount++
	f.idlePeriod = f.idleCount
	close(f.idleStarted)
	f.idleStarted = make(chan struct{})
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.idlePeriod = 0
		f.mu.Unlock()
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-f.wake:
	case <-ctx.Done():
	case <-t.C:
	}
}

// waiter blocks on one queue while the loop is idle and wakes it when the
// queue has a job. It waits at most once per idle period, so it does not
// spin while the loop drains the queue, and not at all on a paused or
// capped queue, whose ready jobs the loop could not take.
func (f *Fetcher) waiter(ctx context.Context, queue string) {
	var last uint64
	failures := 0
	for ctx.Err() == nil {
		f.mu.Lock()
		period, next, paused := f.idlePeriod, f.idleStarted, f.paused[queue]
		_, capped := f.capped[queue]
		paused = paused || capped
		f.mu.Unlock()
		if period == 0 || period == last || paused {
			select {
			case <-next:
			case <-ctx.Done():
			}
			continue
		}
		ok, err := f.driver.QueueWait(ctx, &jobdriver.QueueWaitParams{Queue: queue, Timeout: WaitTimeout})
		if err != nil {
			// The loop reports broker failures; back off quietly here.
			failures++
			service.Sleep(ctx, service.Backoff(failures))
			continue
		}
		failures = 0
		if ok {
			last = period
			f.Wake()
		}
	}
}

// queueOrder returns the queues in the order to try them this round.
func (f *Fetcher) queueOrder() []string {
	buf := append(f.order[:0], f.cfg.Queues...)
	f.order = buf
	if f.cfg.StrictPriority || len(buf) < 2 {
		return buf
	}
	// Weighted sampling without replacement: the same distribution as
	// Sidekiq's shuffle of a list holding each queue weight times.
	total := 0
	for _, q := range buf {
		total += f.cfg.Weights[q]
	}
	for i := range buf {
		r := rand.IntN(total)
		for k := i; k < len(buf); k++ {
			w := f.cfg.Weights[buf[k]]
			if r < w {
				buf[i], buf[k] = buf[k], buf[i]
				total -= w
				break
			}
			r -= w
		}
	}
	return buf
}

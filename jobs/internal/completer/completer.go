// Package completer records the outcomes of executed jobs in batches.
package completer

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/quirehq/quire/jobs/internal/lease"
	"github.com/quirehq/quire/jobs/internal/service"
	"github.com/quirehq/quire/jobs/internal/testsignal"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Defaults of Config.
const (
	BatchMaxDefault = 1000
	// CallTimeout bounds one JobCompleteMany.
	CallTimeout = 10 * time.Second
	// StopTries is how many times outcomes are tried once the completer is
	// stopping, and at a hand-back.
	StopTries = 3
)

// Driver is what the completer needs of a driver.
type Driver interface {
	JobCompleteMany(ctx context.Context, params *jobdriver.JobCompleteManyParams) (*jobdriver.JobCompleteManyResult, error)
}

// Config configures a Completer.
type Config struct {
	// BatchMax is the most outcomes recorded in one call. Defaults to 1000.
	BatchMax int
	// Capacity is how many outcomes may wait without blocking Complete: the
	// most jobs the process holds. Required.
	Capacity int
	// Clock tells the time. Defaults to the system clock.
	Clock jobtype.Clock
	// Leases are the held jobs; recorded ones are removed. Required.
	Leases *lease.Set
	// Logger receives the logs. Defaults to slog.Default().
	Logger *slog.Logger

	// Batches (issue #21).

	// BeforeFunc, when set, runs before each JobCompleteMany call with the
	// same completions; its error fails the attempt, which is retried. The
	// engine records batch members' outcomes in it, which must happen
	// before the jobs leave their queues.
	BeforeFunc func(ctx context.Context, cs []jobdriver.Completion) error
	// AfterFunc, when set, receives the completions of each successful
	// JobCompleteMany call: the jobs the broker no longer counts as held.
	// The fetcher learns from it that a queue at its cap has room.
	AfterFunc func(cs []jobdriver.Completion)
}

// WithDefaults returns a copy of c with unset fields filled in.
func (c Config) WithDefaults() Config {
	c.BatchMax = cmp.Or(c.BatchMax, BatchMaxDefault)
	c.Clock = cmp.Or[jobtype.Clock](c.Clock, jobtype.SystemClock{})
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) mustValidate() {
	if c.BatchMax < 1 || c.Capacity < 1 || c.Leases == nil {
		panic(fmt.Sprintf("completer: invalid config: BatchMax %d and Capacity %d must be at least 1, Leases is required",
			c.BatchMax, c.Capacity))
	}
}

// TestSignals are the completer's signals to tests.
type TestSignals struct {
	// Flushed carries the size of each batch once it was recorded (or given
	// up on).
	Flushed testsignal.TestSignal[int]
}

// Completer records outcomes in batches: it takes what accumulated while the
// previous batch was in flight, so batches grow with load and no timer is
// needed. Its loop owns the batch; the channels are shared.
type Completer struct {
	service.Base

	cfg    Config
	driver Driver
	log    *slog.Logger

	// TestSignals are armed by tests only.
	TestSignals TestSignals

	in       chan completion // Complete -> loop
	stop     chan struct{}   // tells the loop to flush everything and exit
	stopOnce sync.Once
}

type completion struct {
	h *lease.Held
	c jobdriver.Completion
}

// New returns a completer of outcomes to d. It panics on an invalid config.
func New(d Driver, cfg *Config) *Completer {
	c := cfg.WithDefaults()
	c.mustValidate()
	return &Completer{cfg: c, driver: d, log: c.Logger,
		in: make(chan completion, c.Capacity), stop: make(chan struct{})}
}

// Complete queues h's outcome for recording. It blocks only when Capacity
// outcomes are waiting.
func (c *Completer) Complete(h *lease.Held, comp jobdriver.Completion) {
	c.in <- completion{h: h, c: comp}
}

// Start starts recording. ctx bounds the calls to the driver: Stop cancels
// it only once every queued outcome was recorded.
func (c *Completer) Start(ctx context.Context) error {
	c.StartFunc(ctx, func(ctx context.Context) {
		c.Go(func() { c.loop(ctx) })
	})
	return nil
}

// Stop records every outcome queued so far, trying each batch StopTries
// times, and returns once done. Call it after the last Complete.
func (c *Completer) Stop() {
	c.stopOnce.Do(func() { close(c.stop) })
	select {
	case <-c.Started():
	default:
		return // never started
	}
	c.WG.Wait()
	c.Base.Stop()
}

func (c *Completer) loop(ctx context.Context) {
	batch := make([]completion, 0, c.cfg.BatchMax)
	for {
		stopping := false
		select {
		case comp := <-c.in:
			batch = append(batch, comp)
		case <-c.stop:
			stopping = true
		}
		batch = c.drain(batch)
		if len(batch) > 0 {
			c.runOnce(ctx, batch, stopping)
			clear(batch)
			batch = batch[:0]
			if stopping {
				continue // drain everything before exiting
			}
		}
		if stopping {
			return
		}
	}
}

// drain adds to batch what is queued, up to BatchMax.
func (c *Completer) drain(batch []completion) []completion {
	for len(batch) < c.cfg.BatchMax {
		select {
		case comp := <-c.in:
			batch = append(batch, comp)
		default:
			return batch
		}
	}
	return batch
}

// runOnce records one batch, retrying until it works while running and
// StopTries times when stopping, then forgets the jobs' leases.
func (c *Completer) runOnce(ctx context.Context, batch []completion, stopping bool) {
	cs := make([]jobdriver.Completion, len(batch))
	hs := make([]*lease.Held, len(batch))
	for i, comp := range batch {
		cs[i], hs[i] = comp.c, comp.h
	}
	tries := 0
	if stopping {
		tries = StopTries
	}
	if err := c.CompleteWithRetry(ctx, cs, tries); err != nil {
		c.log.Error("jobs: could not record outcomes; the jobs run again when their lease expires",
			"num_jobs", len(cs), "error", err)
	}
	c.cfg.Leases.Remove(hs...)
	c.TestSignals.Flushed.Signal(len(batch))
}

// CompleteWithRetry records outcomes at once, retrying with backoff while
// the broker is unreachable; tries 0 retries until ctx is done.
func (c *Completer) CompleteWithRetry(ctx context.Context, cs []jobdriver.Completion, tries int) error {
	var fl service.FailureLog
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, CallTimeout)
		var res *jobdriver.JobCompleteManyResult
		var err error
		if c.cfg.BeforeFunc != nil {
			err = c.cfg.BeforeFunc(cctx, cs)
		}
		if err == nil {
			res, err = c.driver.JobCompleteMany(cctx, &jobdriver.JobCompleteManyParams{Completions: cs, Now: c.cfg.Clock.Now()})
		}
		cancel()
		if err == nil {
			fl.Recovered(c.log, "jobs: recording outcomes works again")
			if c.cfg.AfterFunc != nil {
				c.cfg.AfterFunc(cs)
			}
			if res.Stale > 0 {
				c.log.Warn("jobs: outcomes ignored: the jobs' leases had expired and they were rescued",
					"num_jobs", res.Stale)
			}
			return nil
		}
		if tries > 0 && attempt >= tries {
			return err
		}
		fl.Failed(c.log, "jobs: recording outcomes failed; retrying", err)
		if !service.Sleep(ctx, service.Backoff(attempt)) {
			return err
		}
	}
}

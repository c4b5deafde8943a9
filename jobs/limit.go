package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// ErrLimited is the error of an acquisition its limiter refused. The error
// Limiter.Do returns for it also wraps a *SnoozeError, so a handler that
// returns it puts its job back for a short, jittered delay without using an
// attempt or holding a worker while it waits.
var ErrLimited = errors.New("jobs: limiter full")

// LimiterOpts are optional settings of a Limiter.
type LimiterOpts struct {
	// Lease is how long a concurrency slot outlives its holder's last
	// extension: a holder extends it every third of Lease while it runs,
	// so a process killed while holding one frees it within Lease.
	// Defaults to 30s.
	Lease time.Duration
	// Snooze is the shortest delay before a refused job runs again; the
	// delay is jittered up to twice this so that refused jobs do not come
	// back together. Defaults to 1s.
	Snooze time.Duration
	// Clock tells the time. Defaults to the system clock.
	Clock jobtype.Clock
	// Logger reports failed lease extensions and releases. Defaults to
	// slog.Default().
	Logger *slog.Logger
}

// Limiter bounds work shared by every process on one broker: a concurrency
// limiter admits at most Limit holders at once (calls to a remote model, OCR
// on a shared box), a rate limiter at most Limit per sliding interval
// (deliveries to one webhook receiver).
//
// Use it on a job type (HandlerOpts.Limiters), on every job (Middleware),
// or around a sub-step of a handler (Do, or Acquire and Slot.Release). All
// state lives in the broker under Name; limiters built with the same name,
// kind and limit in several processes are one limiter.
type Limiter struct {
	driver jobdriver.Driver
	name   string
	limit  int
	// per is the sliding window of a rate limiter; zero for a concurrency
	// limiter.
	per    time.Duration
	lease  time.Duration
	snooze time.Duration
	clock  jobtype.Clock
	log    *slog.Logger
}

// NewConcurrencyLimiter returns a limiter that admits at most limit holders
// of name at once across every process. A holder keeps its slot until it
// releases it or, when its process dies, until its lease expires.
func NewConcurrencyLimiter(d Driver, name string, limit int, opts *LimiterOpts) (*Limiter, error) {
	return newLimiter(d, name, limit, 0, opts)
}

// NewRateLimiter returns a limiter that admits at most limit acquisitions of
// name in any window of length per (a sliding window, not fixed buckets):
// an acquisition counts from when it is admitted until per later, whether
// or not it is released.
func NewRateLimiter(d Driver, name string, limit int, per time.Duration, opts *LimiterOpts) (*Limiter, error) {
	if per <= 0 {
		return nil, fmt.Errorf("rate limiter %q: interval %s must be positive", name, per)
	}
	return newLimiter(d, name, limit, per, opts)
}

func newLimiter(d Driver, name string, limit int, per time.Duration, opts *LimiterOpts) (*Limiter, error) {
	if !validName(name, 200, "_.:/-") {
		return nil, fmt.Errorf("limiter %q: name must be 1 to 200 letters, digits or _.:/-", name)
	}
	if limit < 1 {
		return nil, fmt.Errorf("limiter %q: limit %d must be at least 1", name, limit)
	}
	l := &Limiter{driver: d, name: name, limit: limit, per: per, lease: 30 * time.Second,
		snooze: time.Second, clock: jobtype.SystemClock{}, log: slog.Default()}
	if opts != nil {
		if opts.Lease > 0 {
			l.lease = opts.Lease
		}
		if opts.Snooze > 0 {
			l.snooze = opts.Snooze
		}
		if opts.Clock != nil {
			l.clock = opts.Clock
		}
		if opts.Logger != nil {
			l.log = opts.Logger
		}
	}
	return l, nil
}

// Name is the limiter's name in the broker.
func (l *Limiter) Name() string { return l.name }

// Limit is the most holders the limiter admits at once (or per interval).
func (l *Limiter) Limit() int { return l.limit }

// Slot is one admission by a limiter. Release it when the work is done; a
// concurrency slot is extended in the background until then.
type Slot struct {
	l     *Limiter
	token string
	stop  chan struct{} // closed by Release; nil for a rate limiter
	done  chan struct{} // closed when the extender has stopped
	once  sync.Once
}

// Acquire takes a slot, or returns an error wrapping ErrLimited at once
// when the limiter is full: it never waits, so a caller that cannot proceed
// can snooze its job rather than hold a worker.
func (l *Limiter) Acquire(ctx context.Context) (*Slot, error) {
	return l.acquire(ctx, "")
}

// holderProcess names this process to listings of a limiter's holders.
var holderProcess = sync.OnceValue(func() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
})

// acquire takes a slot for the job jobID (empty outside a job).
func (l *Limiter) acquire(ctx context.Context, jobID string) (*Slot, error) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	s := &Slot{l: l, token: hex.EncodeToString(b[:])}
	now := l.clock.Now()
	until := now.Add(l.per)
	if l.per == 0 {
		until = now.Add(l.lease)
	}
	ok, err := l.driver.LimitAcquire(ctx, &jobdriver.LimitAcquireParams{
		Name: l.name, Token: s.token, Limit: l.limit, Per: l.per, LeaseUntil: until, Now: now,
		JobID: jobID, Process: holderProcess()})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("limiter %s (%d): %w", l.name, l.limit, ErrLimited)
	}
	if l.per == 0 {
		s.stop, s.done = make(chan struct{}), make(chan struct{})
		go s.extend()
	}
	return s, nil
}

// extend renews the slot's lease every third of it until Release, so that
// only a holder that stopped running loses its slot.
func (s *Slot) extend() {
	defer close(s.done)
	t := time.NewTicker(s.l.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.l.lease/3)
			err := s.l.driver.LimitExtend(ctx, &jobdriver.LimitExtendParams{
				Name: s.l.name, Tokens: []string{s.token}, LeaseUntil: s.l.clock.Now().Add(s.l.lease)})
			cancel()
			if err != nil {
				s.l.log.Warn("jobs: extend limiter slot", "limiter", s.l.name, "error", err)
			}
		}
	}
}

// Release gives a concurrency slot back. It does nothing for a rate
// limiter's slot, which counts until its interval passes. Calling it again
// does nothing.
func (s *Slot) Release(ctx context.Context) error {
	if s.stop == nil {
		return nil
	}
	var err error
	s.once.Do(func() {
		close(s.stop)
		<-s.done
		err = s.l.driver.LimitRelease(ctx, &jobdriver.LimitReleaseParams{Name: s.l.name, Token: s.token})
	})
	return err
}

// Do runs fn holding a slot. When the limiter is full it does not run fn
// and returns an error that wraps ErrLimited and a *SnoozeError with a
// jittered delay, so a handler returning it snoozes its job.
func (l *Limiter) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	return l.do(ctx, "", fn)
}

func (l *Limiter) do(ctx context.Context, jobID string, fn func(ctx context.Context) error) error {
	s, err := l.acquire(ctx, jobID)
	if errors.Is(err, ErrLimited) {
		return fmt.Errorf("%w: %w", err, Snooze(l.snooze+mrand.N(l.snooze+1)))
	}
	if err != nil {
		return err
	}
	defer func() {
		// The job's context may be done; the release must still reach the
		// broker, or the slot waits out its lease.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.lease)
		defer cancel()
		if err := s.Release(rctx); err != nil {
			l.log.Warn("jobs: release limiter slot", "limiter", l.name, "error", err)
		}
	}()
	return fn(ctx)
}

// Middleware runs every job through Do: a job that finds the limiter full
// is snoozed without using an attempt.
func (l *Limiter) Middleware() Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, j *Job) error {
			return l.do(ctx, j.ID, func(ctx context.Context) error { return next(ctx, j) })
		}
	}
}

// limited wraps fn in the limiters of its type, the first outermost. A type
// without limiters gets fn itself, so it pays nothing.
func limited(fn HandlerFunc, ls []*Limiter) HandlerFunc {
	for i := len(ls) - 1; i >= 0; i-- {
		fn = ls[i].Middleware()(fn)
	}
	return fn
}

// LimiterStatus is what a limiter holds now, for the UI and metrics.
type LimiterStatus struct {
	Name string
	// Limit is the limit of the last acquisition, as the broker stored it
	// (Limiter.Status reports its own); zero for a limiter never used.
	Limit int
	// Holders counts the slots held (or, for a rate limiter, the
	// admissions in the current window).
	Holders int
	// Admitted and Rejected count acquisitions since the limiter was
	// first used (or last idle for a week).
	Admitted, Rejected int64
}

// Status reports the limiter's holders, limit and counts.
func (l *Limiter) Status(ctx context.Context) (*LimiterStatus, error) {
	st, err := limiterStatus(ctx, l.driver, l.name, l.clock.Now())
	if err != nil {
		return nil, err
	}
	st.Limit = l.limit
	return st, nil
}

// Limiter reports the state of the limiter called name.
func (in *Inspector) Limiter(ctx context.Context, name string) (*LimiterStatus, error) {
	return limiterStatus(ctx, in.driver, name, in.clock.Now())
}

func limiterStatus(ctx context.Context, d jobdriver.Driver, name string, now time.Time) (*LimiterStatus, error) {
	st, err := d.LimitStatus(ctx, &jobdriver.LimitStatusParams{Name: name, Now: now})
	if err != nil {
		return nil, err
	}
	return &LimiterStatus{Name: name, Limit: st.Limit, Holders: st.Holders, Admitted: st.Admitted, Rejected: st.Rejected}, nil
}

// LimiterKind tells a concurrency limiter from a rate limiter.
type LimiterKind string

// The kinds of limiter.
const (
	LimiterConcurrency LimiterKind = "concurrency"
	LimiterRate        LimiterKind = "rate"
)

// LimiterInfo is one limiter as the broker knows it, for a listing.
type LimiterInfo struct {
	Name string      `json:"name"`
	Kind LimiterKind `json:"kind"`
	// Limit and Per (a rate limiter's window) are those of the last
	// acquisition: processes that disagree show the last one's.
	Limit int           `json:"limit"`
	Per   time.Duration `json:"per,omitempty"`
	// Holders are the slots held now, soonest to expire first. A rate
	// limiter's admissions in the window are listed without job or
	// process.
	Holders []LimiterHolder `json:"holders"`
	// Admitted and Rejected count acquisitions since the limiter was
	// first used (or last idle for a week).
	Admitted int64     `json:"admitted"`
	Rejected int64     `json:"rejected"`
	UsedAt   time.Time `json:"used_at"`
}

// LimiterHolder is one slot held.
type LimiterHolder struct {
	// JobID is the job that holds the slot, when it was taken by the
	// job's limiters (HandlerOpts.Limiters, Middleware); empty for Do and
	// Acquire.
	JobID string `json:"job_id,omitempty"`
	// Process is the holder's host:pid.
	Process string `json:"process,omitempty"`
	// ExpiresAt is when the slot frees itself unless its holder extends it.
	ExpiresAt time.Time `json:"expires_at"`
}

// Limiters lists every limiter used in the last week, by name, with its
// holders and counts. The Sidekiq format has none: ErrNotImplemented.
func (in *Inspector) Limiters(ctx context.Context) ([]*LimiterInfo, error) {
	ls, err := in.driver.LimitList(ctx, &jobdriver.LimitListParams{Now: in.clock.Now()})
	if err != nil {
		return nil, err
	}
	out := make([]*LimiterInfo, len(ls))
	for i, l := range ls {
		li := &LimiterInfo{Name: l.Name, Kind: LimiterConcurrency, Limit: l.Limit, Per: l.Per,
			Admitted: l.Admitted, Rejected: l.Rejected, UsedAt: l.UsedAt, Holders: make([]LimiterHolder, len(l.Holders))}
		if l.Per > 0 {
			li.Kind = LimiterRate
		}
		for k, h := range l.Holders {
			li.Holders[k] = LimiterHolder{JobID: h.JobID, Process: h.Process, ExpiresAt: h.ExpiresAt}
		}
		out[i] = li
	}
	return out, nil
}

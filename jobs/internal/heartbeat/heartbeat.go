// Package heartbeat extends the leases of the jobs a process holds and
// records the process as alive.
package heartbeat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/quirehq/quire/jobs/internal/lease"
	"github.com/quirehq/quire/jobs/internal/service"
	"github.com/quirehq/quire/jobs/internal/testsignal"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// CallTimeout bounds one call to the driver.
const CallTimeout = 10 * time.Second

// Driver is what the heartbeat needs of a driver.
type Driver interface {
	JobLeaseExtendMany(ctx context.Context, params *jobdriver.JobLeaseExtendManyParams) error
	ProcessHeartbeat(ctx context.Context, params *jobdriver.ProcessHeartbeatParams) error
}

// Config configures a Heartbeat.
type Config struct {
	// Clock tells the time of leases and beats. Defaults to the system
	// clock.
	Clock jobtype.Clock
	// Info is the process's identity; each beat fills in the rest. Its ID is
	// required.
	Info jobdriver.ProcessInfo
	// LeaseDuration is how long a lease lasts; leases are extended every
	// third of it. Required.
	LeaseDuration time.Duration
	// Leases are the held jobs. Required.
	Leases *lease.Set
	// Logger receives the logs. Defaults to slog.Default().
	Logger *slog.Logger
	// ProcessHeartbeat is how often the process is recorded. Required.
	ProcessHeartbeat time.Duration
	// ProcessTTL is how long a process record lives without a beat.
	// Required.
	ProcessTTL time.Duration
	// QuietFunc reports whether the process stopped fetching. Defaults to
	// never.
	QuietFunc func() bool
}

// WithDefaults returns a copy of c with unset fields filled in.
func (c Config) WithDefaults() Config {
	c.Clock = cmp.Or[jobtype.Clock](c.Clock, jobtype.SystemClock{})
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.QuietFunc == nil {
		c.QuietFunc = func() bool { return false }
	}
	return c
}

func (c Config) mustValidate() {
	var errs []error
	if c.Info.ID == "" || c.Leases == nil {
		errs = append(errs, errors.New("Info.ID and Leases are required"))
	}
	if c.LeaseDuration < 3 || c.ProcessHeartbeat <= 0 || c.ProcessTTL <= 0 {
		errs = append(errs, fmt.Errorf("LeaseDuration %s, ProcessHeartbeat %s and ProcessTTL %s must be positive",
			c.LeaseDuration, c.ProcessHeartbeat, c.ProcessTTL))
	}
	if err := errors.Join(errs...); err != nil {
		panic("heartbeat: invalid config: " + err.Error())
	}
}

// TestSignals are the heartbeat's signals to tests.
type TestSignals struct {
	// Beat is signalled after each process record.
	Beat testsignal.TestSignal[struct{}]
	// Extended carries the number of leases of each extension.
	Extended testsignal.TestSignal[int]
}

// Heartbeat extends the leases of every held job each third of the lease
// duration, so that a long job is never handed to a second worker while
// this process lives, and records the process every ProcessHeartbeat. Its
// loop owns the failure logs.
type Heartbeat struct {
	service.Base

	cfg    Config
	driver Driver
	log    *slog.Logger

	// TestSignals are armed by tests only.
	TestSignals TestSignals

	extendLog, beatLog service.FailureLog
}

// New returns a heartbeat on d. It panics on an invalid config.
func New(d Driver, cfg *Config) *Heartbeat {
	c := cfg.WithDefaults()
	c.mustValidate()
	return &Heartbeat{cfg: c, driver: d, log: c.Logger}
}

// Start records the process at once, then keeps beating until Stop.
func (h *Heartbeat) Start(ctx context.Context) error {
	h.StartFunc(ctx, func(ctx context.Context) {
		h.Go(func() { h.loop(ctx) })
	})
	return nil
}

// loop times the extensions and beats on the monotonic clock: they are
// intervals, not stored times.
func (h *Heartbeat) loop(ctx context.Context) {
	extendEvery := h.cfg.LeaseDuration / 3
	tick := min(extendEvery, h.cfg.ProcessHeartbeat)
	t := time.NewTicker(tick)
	defer t.Stop()
	lastExtend := time.Now()
	h.beat(ctx)
	lastBeat := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		extend := time.Since(lastExtend) >= extendEvery-tick/2
		if extend {
			lastExtend = time.Now()
		}
		beat := time.Since(lastBeat) >= h.cfg.ProcessHeartbeat-tick/2
		if beat {
			lastBeat = time.Now()
		}
		h.runOnce(ctx, extend, beat)
	}
}

// runOnce extends the leases and records the process, as asked.
func (h *Heartbeat) runOnce(ctx context.Context, extend, beat bool) {
	if extend {
		if err := h.extendLeases(ctx); err != nil {
			h.extendLog.Failed(h.log, "jobs: extending leases failed", err)
		} else {
			h.extendLog.Recovered(h.log, "jobs: extending leases works again")
		}
	}
	if beat {
		h.beat(ctx)
	}
}

func (h *Heartbeat) extendLeases(ctx context.Context) error {
	held := h.cfg.Leases.Extendable()
	defer h.TestSignals.Extended.Signal(len(held))
	if len(held) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	return h.driver.JobLeaseExtendMany(ctx, &jobdriver.JobLeaseExtendManyParams{
		Jobs: held, LeaseUntil: h.cfg.Clock.Now().Add(h.cfg.LeaseDuration),
	})
}

// beat records the process with what it is running.
func (h *Heartbeat) beat(ctx context.Context) {
	defer h.TestSignals.Beat.Signal(struct{}{})
	info := h.cfg.Info
	info.BeatAt = h.cfg.Clock.Now().UTC()
	info.Quiet = h.cfg.QuietFunc()
	info.Busy, info.Jobs = h.cfg.Leases.Busy(jobdriver.ProcessJobsMax)
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	err := h.driver.ProcessHeartbeat(ctx, &jobdriver.ProcessHeartbeatParams{Info: &info, TTL: h.cfg.ProcessTTL})
	if err != nil {
		h.beatLog.Failed(h.log, "jobs: process heartbeat failed", err)
	} else {
		h.beatLog.Recovered(h.log, "jobs: process heartbeat works again")
	}
}

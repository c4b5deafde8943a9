// Package maintenance holds the services that keep a broker's jobs moving
// without a worker asking: the Promoter moves due scheduled jobs and
// retries to their queues, and the Rescuer returns jobs whose lease expired
// (their worker died) to their queues.
//
// Every server runs both on its own queues. Their driver calls are atomic
// and idempotent, so servers sharing a queue need no leader: each pass
// moves what is due, and a pass that finds nothing costs one round trip.
//
// There is no dead-set trimmer here: every driver caps its dead set itself
// (DeadMaxJobs, DeadMaxAge) as jobs die, in the same round trip, and
// jobdriver.Driver has no method to trim it apart. A Trimmer would need a
// JobDeadTrim(ctx, *JobDeadTrimParams) in the seam, implemented by every
// driver and checked by jobstest; until then, a queue whose jobs stop dying
// keeps dead jobs past DeadMaxAge.
package maintenance

import (
	"cmp"
	"errors"
	"log/slog"
	"time"

	"github.com/quirehq/quire/jobs/jobtype"
)

// BatchMax is the most jobs one driver call moves.
const BatchMax = 1000

// Config configures a Promoter or a Rescuer: both make a pass over their
// queues, sleep, and make another.
type Config struct {
	// Clock tells which jobs are due and which leases expired. Defaults to
	// the system clock.
	Clock jobtype.Clock
	// Interval is the time between two passes, jittered. A Promoter
	// sleeps less when the broker says the next job is due sooner.
	// Defaults to PromoteIntervalDefault for a Promoter and
	// RescueIntervalDefault for a Rescuer.
	Interval time.Duration
	// Logger receives the logs. Defaults to slog.Default().
	Logger *slog.Logger
	// Queues are the queues to make passes over. Required.
	Queues []string
	// WakeFunc is called when jobs became ready, to wake an idle fetcher.
	// Defaults to nothing.
	WakeFunc func()
}

// withDefaults returns a copy of c with unset fields filled in, interval
// the service's own default.
func (c Config) withDefaults(interval time.Duration) Config {
	c.Clock = cmp.Or[jobtype.Clock](c.Clock, jobtype.SystemClock{})
	c.Interval = cmp.Or(c.Interval, interval)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.WakeFunc == nil {
		c.WakeFunc = func() {}
	}
	return c
}

func (c Config) mustValidate(service string) {
	var errs []error
	if c.Interval <= 0 {
		errs = append(errs, errors.New("Interval must be positive"))
	}
	if len(c.Queues) == 0 {
		errs = append(errs, errors.New("Queues is required"))
	}
	if err := errors.Join(errs...); err != nil {
		panic("maintenance: invalid " + service + " config: " + err.Error())
	}
}

package jobs

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// PeriodicJob is a job enqueued on a schedule by a Scheduler, or by every
// server that has it in its Config (each runs one). However many run the
// same schedule, each tick enqueues the job once: the schedulers elect a
// leader, which alone enqueues, and the enqueue is unique on the job's name
// and the tick's time. Ticks that pass while no scheduler runs are skipped,
// not made up.
type PeriodicJob struct {
	// Name identifies the schedule; servers that share a name share its
	// ticks. Required.
	Name string
	// Schedule is a five-field cron expression ("*/5 * * * *", in UTC unless
	// it starts with CRON_TZ=Area/City), a descriptor (@hourly, @daily, …)
	// or "@every <duration>". @every ticks at whole multiples of the
	// duration since the Unix epoch, so every server agrees on the ticks.
	Schedule string
	// Type, Args and Opts are the job to enqueue, as for Client.Enqueue.
	// Opts.Unique is set by the scheduler.
	Type string
	Args any
	Opts *EnqueueOpts
}

// schedule returns the first tick strictly after t.
type schedule interface {
	Next(t time.Time) time.Time
}

// everySchedule ticks at multiples of d since the epoch; cron's own @every
// counts from when each scheduler started, so schedulers would disagree.
type everySchedule time.Duration

func (e everySchedule) Next(t time.Time) time.Time {
	d := time.Duration(e)
	return t.Truncate(d).Add(d)
}

type periodicEntry struct {
	job    PeriodicJob
	sched  schedule
	period time.Duration // about the time between ticks
	next   time.Time
}

// parsePeriodic checks the periodic jobs of a config.
func parsePeriodic(pjs []PeriodicJob) ([]*periodicEntry, error) {
	var errs []error
	seen := map[string]bool{}
	var out []*periodicEntry
	for i, pj := range pjs {
		where := fmt.Sprintf("PeriodicJobs[%d] (%s)", i, pj.Name)
		if pj.Name == "" {
			errs = append(errs, fmt.Errorf("PeriodicJobs[%d]: Name is required", i))
			continue
		}
		if seen[pj.Name] {
			errs = append(errs, fmt.Errorf("%s: the name is used twice", where))
			continue
		}
		seen[pj.Name] = true
		if !validJobType(pj.Type) {
			errs = append(errs, fmt.Errorf("%s: job type %q must be 1 to 200 letters, digits or _.:/-", where, pj.Type))
			continue
		}
		var sched schedule
		if rest, ok := strings.CutPrefix(strings.TrimSpace(pj.Schedule), "@every "); ok {
			d, err := time.ParseDuration(strings.TrimSpace(rest))
			if err != nil || d < 10*time.Millisecond {
				errs = append(errs, fmt.Errorf("%s: schedule %q: @every needs a duration of at least 10ms", where, pj.Schedule))
				continue
			}
			sched = everySchedule(d)
		} else {
			cs, err := cron.ParseStandard(pj.Schedule)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: schedule %q: %w", where, pj.Schedule, err))
				continue
			}
			sched = utcSchedule{cs}
		}
		t0 := sched.Next(time.Unix(0, 0).UTC().AddDate(56, 0, 0))
		out = append(out, &periodicEntry{job: pj, sched: sched, period: sched.Next(t0).Sub(t0)})
	}
	return out, errors.Join(errs...)
}

// utcSchedule evaluates a cron schedule in UTC unless it names its zone.
type utcSchedule struct{ cron.Schedule }

func (u utcSchedule) Next(t time.Time) time.Time { return u.Schedule.Next(t.UTC()) }

// catchUp is how far back a late scheduler still enqueues missed ticks:
// half the time a tick's unique key is held, so a tick caught up on can never
// be enqueued twice.
func (e *periodicEntry) catchUp() time.Duration {
	return e.uniqueTTL() / 2
}

// uniqueTTL is how long a tick's unique key is held.
func (e *periodicEntry) uniqueTTL() time.Duration {
	return max(2*e.period, periodicUniqueTTLMin)
}

// periodicUniqueTTLMin is the shortest time a tick's unique key is held: a
// scheduler that stalls (a long GC pause, a suspended VM) longer than this
// could enqueue a tick twice.
const periodicUniqueTTLMin = 10 * time.Minute

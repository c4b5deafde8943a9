package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quirehq/quire/jobs"
)

// BuiltinHandlers returns the handlers every worker runs:
//
//   - noop does nothing, for smoke tests and benchmarks;
//   - sleep waits for {"duration":"150ms"} or {"ms":150} and stops early,
//     returning the context's error, when the job is cancelled.
func BuiltinHandlers() *jobs.Handlers {
	h := jobs.NewHandlers()
	h.Handle("noop", func(context.Context, *jobs.Job) error { return nil }, nil)
	jobs.HandleArgs(h, "sleep", runSleep, nil)
	return h
}

// sleepArgs are the arguments of a sleep job.
type sleepArgs struct {
	Duration string `json:"duration"`
	MS       *int64 `json:"ms"`
}

func (a sleepArgs) delay() (time.Duration, error) {
	switch {
	case a.Duration != "" && a.MS != nil:
		return 0, errors.New(`give either "duration" or "ms", not both`)
	case a.Duration != "":
		d, err := time.ParseDuration(a.Duration)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("duration %q must be a duration that is not negative, such as \"150ms\"", a.Duration)
		}
		return d, nil
	case a.MS != nil:
		if *a.MS < 0 {
			return 0, fmt.Errorf("ms %d must not be negative", *a.MS)
		}
		return time.Duration(*a.MS) * time.Millisecond, nil
	}
	return 0, errors.New(`arguments need "duration" (such as "150ms") or "ms"`)
}

func runSleep(ctx context.Context, j *jobs.Job, args sleepArgs) error {
	d, err := args.delay()
	if err != nil {
		// No retry can mend the arguments.
		return jobs.Discard(fmt.Errorf("sleep job %s: %w", j.ID, err))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

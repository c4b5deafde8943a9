package jobs

import (
	"errors"
	"fmt"
	"time"
)

// ErrExpired is the reason of a job that was fetched after its deadline
// (EnqueueOpts.ExpiresAt): it goes to the dead set without running, and its
// error there reads "expired before it started".
var ErrExpired = errors.New("expired before it started")

// setExpiry sets j's deadline from o and checks it against now and the
// job's scheduled time: a deadline that has passed, or one that comes before
// the job may start, is a caller's mistake that would only fill the dead set.
func setExpiry(j *Job, now time.Time, o EnqueueOpts) error {
	switch {
	case !o.ExpiresAt.IsZero() && o.ExpiresIn != 0:
		return errors.New("set ExpiresAt or ExpiresIn, not both")
	case o.ExpiresIn < 0:
		return fmt.Errorf("ExpiresIn %s must not be negative", o.ExpiresIn)
	case o.ExpiresIn > 0:
		j.ExpiresAt = now.Add(o.ExpiresIn)
	case !o.ExpiresAt.IsZero():
		j.ExpiresAt = o.ExpiresAt
	default:
		return nil
	}
	if !j.ExpiresAt.After(now) {
		return fmt.Errorf("ExpiresAt %s has passed", j.ExpiresAt.Format(time.RFC3339Nano))
	}
	if !j.ScheduledAt.IsZero() && !j.ExpiresAt.After(j.ScheduledAt) {
		return fmt.Errorf("ExpiresAt %s is not after the job's scheduled time %s",
			j.ExpiresAt.Format(time.RFC3339Nano), j.ScheduledAt.Format(time.RFC3339Nano))
	}
	return nil
}

// expired reports whether j, about to start at now, missed its deadline.
// Only a first attempt expires: a job that started once and is being retried
// has begun its work, and dropping it half done would be worse than
// finishing late. The stored attempt count grows only when an attempt
// fails, so a job rescued from a crashed worker before it finished counts as
// not started.
func expired(j *Job, now time.Time) bool {
	return !j.ExpiresAt.IsZero() && j.Attempt <= 1 && now.After(j.ExpiresAt)
}

// expiredError is the dead set reason of j, naming its deadline.
func expiredError(j *Job) error {
	return fmt.Errorf("%w: deadline %s", ErrExpired, j.ExpiresAt.UTC().Format(time.RFC3339Nano))
}

package jobs

import (
	"math/rand/v2"
	"time"
)

// RetryDelayFunc returns how long to wait before retrying a job that failed
// on the given attempt (1 for the first run).
type RetryDelayFunc func(attempt int, err error) time.Duration

// MaxRetriesDefault is how many times a failed job is retried unless its
// enqueue options say otherwise. With the default delay, 25 retries span
// about three weeks: time to notice a bug, ship a fix and still run the job.
const MaxRetriesDefault = 25

// DefaultRetryDelay is attempt⁴ + 15 seconds plus up to 10·(attempt+1)
// seconds of jitter, as Sidekiq does: quick first retries for passing faults,
// long gaps later, and jitter so that jobs failing together do not retry
// together.
func DefaultRetryDelay(attempt int, _ error) time.Duration {
	a := int64(max(attempt, 1))
	base := a*a*a*a + 15
	jitter := rand.Int64N(10 * (a + 1))
	return time.Duration(base+jitter) * time.Second
}

// backoffDelay applies a job's own Backoff with up to 10% jitter.
func backoffDelay(b *Backoff, attempt int) time.Duration {
	d := b.Delay(attempt)
	if d <= 0 {
		return 0
	}
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

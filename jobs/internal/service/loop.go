package service

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// FailureLog keeps a failing loop from flooding the log: it logs the first
// failure, then at most one a minute with the count, then the recovery.
// Each loop owns its own. Its times are durations on the monotonic clock,
// not stored values, so it reads time.Now rather than an injected clock.
type FailureLog struct {
	count    int
	lastLog  time.Time
	firstErr time.Time
}

// FailureLogEvery is the least time between two logs of the same failing
// loop.
const FailureLogEvery = time.Minute

// Failed records a failure and logs it unless one was logged within
// FailureLogEvery.
func (f *FailureLog) Failed(log *slog.Logger, msg string, err error) {
	f.count++
	if f.count == 1 {
		f.firstErr = time.Now()
	}
	if f.count == 1 || time.Since(f.lastLog) >= FailureLogEvery {
		f.lastLog = time.Now()
		log.Warn(msg, "error", err, "num_failures", f.count)
	}
}

// Recovered logs the end of an outage, if there was one, and resets f.
func (f *FailureLog) Recovered(log *slog.Logger, msg string) {
	if f.count == 0 {
		return
	}
	log.Info(msg, "num_failures", f.count, "outage", time.Since(f.firstErr).Round(time.Millisecond))
	*f = FailureLog{}
}

// Backoff returns the wait after the n-th consecutive failure: 50 ms
// doubling to 5 s, with jitter.
func Backoff(n int) time.Duration {
	d := 50 * time.Millisecond
	for i := 1; i < n && d < 5*time.Second; i++ {
		d *= 2
	}
	return Jitter(min(d, 5*time.Second))
}

// Jitter returns d scaled by a random factor in [0.5, 1.5), so that
// processes do not poll in step.
func Jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d)+1))
}

// Sleep sleeps for d and reports whether ctx is still live.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

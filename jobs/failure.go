package jobs

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"
)

// failureLog keeps a failing loop from flooding the log: it logs the first
// failure, then at most one a minute with the count, then the recovery.
// Each loop owns its own.
type failureLog struct {
	count    int
	lastLog  time.Time
	firstErr time.Time
}

const failureLogEvery = time.Minute

func (f *failureLog) failed(log *slog.Logger, msg string, err error) {
	f.count++
	if f.count == 1 {
		f.firstErr = time.Now()
	}
	if f.count == 1 || time.Since(f.lastLog) >= failureLogEvery {
		f.lastLog = time.Now()
		log.Warn(msg, "error", err, "num_failures", f.count)
	}
}

func (f *failureLog) recovered(log *slog.Logger, msg string) {
	if f.count == 0 {
		return
	}
	log.Info(msg, "num_failures", f.count, "outage", time.Since(f.firstErr).Round(time.Millisecond))
	*f = failureLog{}
}

// backoff returns the wait after the n-th consecutive failure: 50 ms
// doubling to 5 s, with jitter.
func backoff(n int) time.Duration {
	d := 50 * time.Millisecond
	for i := 1; i < n && d < 5*time.Second; i++ {
		d *= 2
	}
	return jitter(min(d, 5*time.Second))
}

// sleepCtx sleeps for d and reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func stack() string { return string(debug.Stack()) }

package bench

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/jobs"
)

// latencyRecorder is the jobs bench's handler: it records each job's
// enqueue-to-start latency in a slice allocated up front, so recording costs
// no allocation and no lock, and signals when the last job finished.
type latencyRecorder struct {
	lat      []time.Duration
	claimed  atomic.Int64 // slots handed out
	finished atomic.Int64 // slots written
	done     chan struct{}
}

func newLatencyRecorder(n int) *latencyRecorder {
	return &latencyRecorder{lat: make([]time.Duration, n), done: make(chan struct{})}
}

func (r *latencyRecorder) handle(_ context.Context, j *jobs.Job) error {
	d := time.Since(j.ReadyAt())
	i := r.claimed.Add(1) - 1
	if i >= int64(len(r.lat)) {
		return nil // a job run twice after a lost lease
	}
	r.lat[i] = d
	if r.finished.Add(1) == int64(len(r.lat)) {
		close(r.done)
	}
	return nil
}

func (r *latencyRecorder) wait(ctx context.Context) error {
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %d of %d jobs finished", context.Cause(ctx), r.finished.Load(), len(r.lat))
	}
}

// sorted returns the latencies in ascending order. Call it after wait.
func (r *latencyRecorder) sorted() []time.Duration {
	slices.Sort(r.lat)
	return r.lat
}

// percentile returns the nearest-rank p-quantile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

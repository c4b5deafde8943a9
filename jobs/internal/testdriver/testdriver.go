// Package testdriver gives the tests of the engine's services a real
// driver, jobs in it, and a driver that fails on demand where a real one
// cannot be made to. Only tests import it.
package testdriver

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
	"github.com/quirehq/quire/jobs/sqlitedriver"
)

// T0 is the time stubbed clocks start at in the services' tests.
var T0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// ErrInjected is the error a Faulty driver returns.
var ErrInjected = errors.New("testdriver: injected fault")

// SQLite opens the embedded driver on a fresh file, closed at cleanup.
func SQLite(tb testing.TB) *sqlitedriver.Driver {
	tb.Helper()
	d, err := sqlitedriver.Open(filepath.Join(tb.TempDir(), "jobs.db"), nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, d.Close()) })
	return d
}

var nextID atomic.Int64

// InsertOpts are the optional settings of Insert.
type InsertOpts struct {
	// ScheduledAt schedules the jobs; zero makes them ready.
	ScheduledAt time.Time
	// Type is the jobs' type. Defaults to "noop".
	Type string
}

// Insert stores n jobs on queue as enqueued at now and returns them.
func Insert(tb testing.TB, d jobdriver.Driver, now time.Time, queue string, n int, opts *InsertOpts) []*jobtype.Job {
	tb.Helper()
	var o InsertOpts
	if opts != nil {
		o = *opts
	}
	if o.Type == "" {
		o.Type = "noop"
	}
	jobs := make([]*jobtype.Job, n)
	for i := range jobs {
		jobs[i] = &jobtype.Job{
			ID: fmt.Sprintf("job-%06d", nextID.Add(1)), Type: o.Type, Queue: queue, Args: []byte("{}"),
			MaxRetries: 3, CreatedAt: now, EnqueuedAt: now, ScheduledAt: o.ScheduledAt, State: jobtype.StateReady,
		}
	}
	res, err := d.JobInsertMany(context.Background(), &jobdriver.JobInsertManyParams{Jobs: jobs, Now: now})
	require.NoError(tb, err)
	require.Empty(tb, res.Duplicates)
	return jobs
}

// Fetch takes up to n jobs of queue at now, under a lease until now plus
// lease, and returns them.
func Fetch(tb testing.TB, d jobdriver.Driver, now time.Time, queue string, n int, lease time.Duration) []*jobtype.Job {
	tb.Helper()
	res, err := d.JobFetch(context.Background(), &jobdriver.JobFetchParams{
		Queue: queue, Max: n, Now: now, LeaseOwner: "test", LeaseUntil: now.Add(lease),
	})
	require.NoError(tb, err)
	for _, j := range res.Jobs {
		j.Attempt++
	}
	return res.Jobs
}

// Faulty is a driver whose JobCompleteMany fails the next CompleteFailures
// times, and that counts the calls it passes on. Every other method is the
// wrapped driver's.
type Faulty struct {
	jobdriver.Driver

	// CompleteFailures is how many calls of JobCompleteMany fail from now.
	CompleteFailures atomic.Int64
	// CompleteCalls counts the calls of JobCompleteMany, failed or not.
	CompleteCalls atomic.Int64
	// CancelRequestedCalls counts the calls of JobCancelRequested.
	CancelRequestedCalls atomic.Int64
}

// JobCompleteMany fails while CompleteFailures is positive.
func (f *Faulty) JobCompleteMany(ctx context.Context, p *jobdriver.JobCompleteManyParams) (*jobdriver.JobCompleteManyResult, error) {
	f.CompleteCalls.Add(1)
	if f.CompleteFailures.Add(-1) >= 0 {
		return nil, ErrInjected
	}
	return f.Driver.JobCompleteMany(ctx, p)
}

// JobCancelRequested counts the call.
func (f *Faulty) JobCancelRequested(ctx context.Context, p *jobdriver.JobCancelRequestedParams) ([]string, error) {
	f.CancelRequestedCalls.Add(1)
	return f.Driver.JobCancelRequested(ctx, p)
}

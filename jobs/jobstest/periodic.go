package jobstest

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
)

func exercisePeriodic(t *testing.T, h Harness) {
	t.Run("OneEnqueuePerTickAcrossSchedulers", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityUnique)
		b := setup(t, h)
		const every = 200 * time.Millisecond
		hs := jobs.NewHandlers()
		hs.Handle("tick", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add(j.UniqueKey)
			return nil
		}, nil)
		periodic := []jobs.PeriodicJob{{Name: "heartbeat", Schedule: "@every 200ms", Type: "tick"}}
		var servers []*jobs.Server
		for range 3 {
			servers = append(servers, startServer(t, b.driver, jobs.Config{Handlers: hs, PeriodicJobs: periodic}))
		}
		// At least 20 ticks run while all three schedulers are up.
		seen := b.handled.wait(t, 25, 25*every+10*time.Second)
		for _, s := range servers {
			s.Quiet()
		}
		time.Sleep(2 * every) // ticks already enqueued run
		seen = append(seen, drain(b.handled)...)

		count := map[string]int{}
		var ticks []time.Time
		for _, key := range seen {
			count[key]++
			if count[key] == 1 {
				tick, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(key, "periodic:heartbeat:"))
				require.NoError(t, err, key)
				ticks = append(ticks, tick)
			}
		}
		for key, n := range count {
			require.Equal(t, 1, n, "tick %s was enqueued %d times", key, n)
		}
		require.GreaterOrEqual(t, len(ticks), 25)
		// Every tick between the first and the last ran: none was lost
		// between schedulers.
		first, last := ticks[0], ticks[0]
		for _, tk := range ticks {
			require.Zero(t, tk.UnixNano()%int64(every), "ticks fall on multiples of the period")
			first, last = minTime(first, tk), maxTime(last, tk)
		}
		require.Equal(t, int(last.Sub(first)/every)+1, len(ticks), "ticks from %s to %s", first, last)
	})

	t.Run("StopResignsTheLeadership", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		hs := jobs.NewHandlers()
		hs.Handle("tick", func(context.Context, *jobs.Job) error { return nil }, nil)
		periodic := []jobs.PeriodicJob{{Name: "hourly", Schedule: "@every 1h", Type: "tick"}}
		// A server stopped right after it started to lead hands the
		// leadership back, every time: the next scheduler need not wait
		// for its term to end.
		for i := range 3 {
			log := &testenv.LogRecorder{}
			srv := startServer(t, b.driver, jobs.Config{Handlers: hs, PeriodicJobs: periodic,
				Logger: slog.New(log)})
			require.Eventually(t, func() bool { return logged(log, "jobs: scheduler: leading") },
				10*time.Second, 5*time.Millisecond, "round %d", i)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			require.NoError(t, srv.Stop(ctx))
			cancel()
			require.False(t, logged(log, "jobs: scheduler: resigning the leadership failed"), "round %d: %v", i, messages(log))
			require.True(t, logged(log, "jobs: scheduler: resigned the leadership"), "round %d: %v", i, messages(log))
		}
	})

	t.Run("InvalidSchedules", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		_, err := jobs.NewServer(b.driver, &jobs.Config{Handlers: jobs.NewHandlers(), PeriodicJobs: []jobs.PeriodicJob{
			{Name: "a", Schedule: "61 * * * *", Type: "x"},
			{Name: "b", Schedule: "@every 1ms", Type: "x"},
			{Name: "c", Schedule: "@daily", Type: ""},
			{Name: "d", Schedule: "*/5 * * * *", Type: "x"},
			{Name: "d", Schedule: "@hourly", Type: "x"},
		}})
		require.Error(t, err)
		for _, want := range []string{
			`PeriodicJobs[0] (a): schedule "61 * * * *"`,
			`PeriodicJobs[1] (b): schedule "@every 1ms": @every needs a duration of at least 10ms`,
			`PeriodicJobs[2] (c): job type ""`,
			`PeriodicJobs[4] (d): the name is used twice`,
		} {
			require.ErrorContains(t, err, want)
		}
		require.NotContains(t, err.Error(), "PeriodicJobs[3]")
	})
}

// drain returns the notes recorded so far and not yet waited for.
// logged reports whether a message logged begins with prefix.
func logged(logs *testenv.LogRecorder, prefix string) bool {
	return slices.ContainsFunc(logs.Records(), func(r slog.Record) bool { return strings.HasPrefix(r.Message, prefix) })
}

// messages returns the messages logged, for a failure to show.
func messages(logs *testenv.LogRecorder) []string {
	var out []string
	for _, r := range logs.Records() {
		out = append(out, r.Message)
	}
	return out
}

func drain(r *recorder) []string {
	var out []string
	for {
		select {
		case s := <-r.ch:
			out = append(out, s)
		default:
			return out
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

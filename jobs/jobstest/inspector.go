package jobstest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobtype"
)

func exerciseInspector(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("QueuesAndPaging", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		clock := jobtype.NewStubClock(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
		c, err := jobs.NewClient(b.driver, &jobs.ClientConfig{Clock: clock})
		require.NoError(t, err)
		var ids []string
		for i := range 30 {
			q := "pages"
			if i >= 20 {
				q = "more"
			}
			j, err := c.Enqueue(ctx, "noop", []int{i}, &jobs.EnqueueOpts{Queue: q})
			require.NoError(t, err)
			ids = append(ids, j.ID)
			clock.Advance(time.Second)
		}
		insp := jobs.NewInspector(b.driver, &jobs.InspectorConfig{Clock: clock})
		qs, err := insp.Queues(ctx)
		require.NoError(t, err)
		require.Len(t, qs, 2)
		require.Equal(t, "more", qs[0].Queue)
		require.Equal(t, "pages", qs[1].Queue)
		require.EqualValues(t, 20, qs[1].Ready)
		require.Equal(t, 30*time.Second, qs[1].Latency, "latency is the age of the oldest ready job")

		page, err := insp.Jobs(ctx, &jobs.ListParams{Queue: "pages", State: jobs.StateReady, Offset: 5, Limit: 10})
		require.NoError(t, err)
		require.Len(t, page, 10)
		for i, j := range page {
			require.Equal(t, ids[5+i], j.ID, "ready jobs are listed in the order they will run")
		}
		// Across queues: "more" (10 jobs) then "pages".
		all, err := insp.Jobs(ctx, &jobs.ListParams{State: jobs.StateReady, Offset: 8, Limit: 5})
		require.NoError(t, err)
		require.Equal(t, []string{ids[28], ids[29], ids[0], ids[1], ids[2]}, []string{all[0].ID, all[1].ID, all[2].ID, all[3].ID, all[4].ID})

		_, err = insp.Jobs(ctx, &jobs.ListParams{State: "finished"})
		require.ErrorContains(t, err, `unknown state "finished"`)
		_, err = insp.Job(ctx, "01NOPE")
		require.ErrorIs(t, err, jobs.ErrNotFound)
		require.NoError(t, insp.Delete(ctx, jobs.StateReady, ids[3]))
		q, err := insp.Queue(ctx, "pages")
		require.NoError(t, err)
		require.EqualValues(t, 19, q.Ready)
	})
}

func exerciseProcesses(t *testing.T, h Harness) {
	ctx := context.Background()
	b := setup(t, h)
	release := make(chan struct{})
	hs := jobs.NewHandlers()
	hs.Handle("block", func(ctx context.Context, j *jobs.Job) error {
		b.handled.add(j.ID)
		<-release
		return nil
	}, nil)
	srv, err := jobs.NewServer(b.driver, &jobs.Config{Handlers: hs, Concurrency: 3, ProcessHeartbeat: 50 * time.Millisecond,
		Queues: map[string]int{"proc": 1}, Version: "test", Labels: map[string]string{"role": "worker"}})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	j, err := b.client.Enqueue(ctx, "block", nil, &jobs.EnqueueOpts{Queue: "proc"})
	require.NoError(t, err)
	b.handled.wait(t, 1, 10*time.Second)
	eventually(t, 5*time.Second, "process with its busy job", func() bool {
		ps, err := b.insp.Processes(ctx)
		for _, p := range ps {
			if err == nil && p.ID == srv.ID() && p.Busy == 1 {
				require.Equal(t, j.ID, p.Jobs[0].ID)
				require.Equal(t, []string{"proc"}, p.Queues)
				require.Equal(t, 3, p.Concurrency)
				require.Equal(t, "test", p.Version)
				require.Equal(t, "worker", p.Labels["role"])
				require.NotZero(t, p.PID)
				return true
			}
		}
		return false
	})
	close(release)
	require.NoError(t, srv.Stop(ctx))
	ps, err := b.insp.Processes(ctx)
	require.NoError(t, err)
	for _, p := range ps {
		require.NotEqual(t, srv.ID(), p.ID, "a stopped process is removed")
	}
}

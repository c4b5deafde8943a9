package jobstest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// exerciseDeadCap checks that the dead set keeps at most its cap of jobs,
// the newest, and drops those older than its maximum age, whether they died
// failing or were cancelled.
func exerciseDeadCap(t *testing.T, h Harness) {
	ctx := context.Background()
	d := h.NewCapped(t, 3, time.Hour)
	client, err := jobs.NewClient(d, nil)
	require.NoError(t, err)
	insp := jobs.NewInspector(d, nil)

	// bury makes every ready job dead at the given time.
	bury := func(now time.Time) {
		res, err := d.JobFetch(ctx, &jobdriver.JobFetchParams{Queue: jobs.QueueDefault, Max: 100, Now: now,
			LeaseOwner: "t", LeaseUntil: now.Add(time.Minute)})
		require.NoError(t, err)
		var cs []jobdriver.Completion
		for _, j := range res.Jobs {
			u := *j
			u.Error, u.FailedAt = "gone", now
			cs = append(cs, jobdriver.Completion{Job: j, Outcome: jobdriver.OutcomeDead, Updated: &u})
		}
		_, err = d.JobCompleteMany(ctx, &jobdriver.JobCompleteManyParams{Completions: cs, Now: now})
		require.NoError(t, err)
	}
	deadIDs := func() []string {
		dead, err := insp.Jobs(ctx, &jobs.ListParams{State: jobs.StateDead})
		require.NoError(t, err)
		var ids []string
		for _, j := range dead {
			ids = append(ids, j.ID)
		}
		return ids
	}
	var ids []string
	now := time.Now()
	for i := range 5 {
		j, err := client.Enqueue(ctx, "noop", []int{i}, nil)
		require.NoError(t, err)
		ids = append(ids, j.ID)
		bury(now.Add(time.Duration(i) * time.Second))
	}
	require.Equal(t, []string{ids[4], ids[3], ids[2]}, deadIDs(), "newest first, capped at 3")

	t.Run("CancelledCountsToo", func(t *testing.T) {
		h.require(t, CapabilityCancel)
		// A cancellation is a death too.
		j, err := client.Enqueue(ctx, "noop", nil, nil)
		require.NoError(t, err)
		_, err = d.JobCancel(ctx, &jobdriver.JobCancelParams{ID: j.ID, Reason: "no", Now: now.Add(10 * time.Second)})
		require.NoError(t, err)
		require.Equal(t, []string{j.ID, ids[4], ids[3]}, deadIDs())
	})

	// Two hours on, one more death drops everything older than an hour.
	_, err = client.Enqueue(ctx, "noop", nil, nil)
	require.NoError(t, err)
	bury(now.Add(2 * time.Hour))
	require.Len(t, deadIDs(), 1)
	st, err := insp.Stats(ctx, 1)
	require.NoError(t, err)
	require.EqualValues(t, 6, st.Processed, "cancellations are not executions")
	require.EqualValues(t, 6, st.Failed)
}

package redisdriver_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/redisdriver"
)

// TestDeadSetIsCapped checks that the dead set keeps at most DeadMaxJobs
// jobs, the newest, and drops those older than DeadMaxAge.
func TestDeadSetIsCapped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := newDriver(t)
	d, err := redisdriver.New(base.Client(), &redisdriver.Config{Prefix: base.Prefix(), DeadMaxJobs: 3, DeadMaxAge: time.Hour})
	require.NoError(t, err)
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
			u.Error, u.FailedAt = errors.New("gone").Error(), now
			cs = append(cs, jobdriver.Completion{Job: j, Outcome: jobdriver.OutcomeDead, Updated: &u})
		}
		_, err = d.JobCompleteMany(ctx, &jobdriver.JobCompleteManyParams{Completions: cs, Now: now})
		require.NoError(t, err)
	}
	var ids []string
	now := time.Now()
	for i := range 5 {
		j, err := client.Enqueue(ctx, "noop", i, nil)
		require.NoError(t, err)
		ids = append(ids, j.ID)
		bury(now.Add(time.Duration(i) * time.Second))
	}
	dead, err := insp.Jobs(ctx, &jobs.ListParams{State: jobs.StateDead})
	require.NoError(t, err)
	require.Equal(t, []string{ids[4], ids[3], ids[2]}, []string{dead[0].ID, dead[1].ID, dead[2].ID}, "newest first, capped at 3")

	// Two hours on, one more death drops everything older than an hour.
	_, err = client.Enqueue(ctx, "noop", nil, nil)
	require.NoError(t, err)
	bury(now.Add(2 * time.Hour))
	dead, err = insp.Jobs(ctx, &jobs.ListParams{State: jobs.StateDead})
	require.NoError(t, err)
	require.Len(t, dead, 1)
}

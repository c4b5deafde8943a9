package jobstest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
)

func exerciseUnique(t *testing.T, h Harness) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	byArgs := &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{}}

	t.Run("DuplicateReturnsHolder", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityUnique)
		b := setup(t, h)
		first, err := b.client.Enqueue(ctx, "index", map[string]int{"doc": 1}, byArgs)
		require.NoError(t, err)
		require.False(t, first.Duplicate)
		again, err := b.client.Enqueue(ctx, "index", map[string]int{"doc": 1}, byArgs)
		require.NoError(t, err)
		require.True(t, again.Duplicate)
		require.Equal(t, first.ID, again.ID)
		other, err := b.client.Enqueue(ctx, "index", map[string]int{"doc": 2}, byArgs)
		require.NoError(t, err)
		require.False(t, other.Duplicate)
		// Without Unique, the same work may be enqueued twice.
		plain, err := b.client.Enqueue(ctx, "index", map[string]int{"doc": 1}, nil)
		require.NoError(t, err)
		require.False(t, plain.Duplicate)
		q, err := b.insp.Queue(ctx, jobs.QueueDefault)
		require.NoError(t, err)
		require.EqualValues(t, 3, q.Ready)
		// Uniqueness is per queue.
		elsewhere, err := b.client.Enqueue(ctx, "index", map[string]int{"doc": 1}, &jobs.EnqueueOpts{Queue: "other", Unique: &jobs.UniqueOpts{}})
		require.NoError(t, err)
		require.False(t, elsewhere.Duplicate)
	})

	t.Run("ManyAtOnceStoreOne", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityUnique)
		b := setup(t, h)
		// Within one batch, the second job is a duplicate of the first.
		got, err := b.client.EnqueueMany(ctx, []jobs.EnqueueParams{
			{Type: "sync", Opts: &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{Key: "account-7"}}},
			{Type: "sync", Opts: &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{Key: "account-8"}}},
			{Type: "sync", Opts: &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{Key: "account-7"}}},
			{Type: "sync"},
		})
		require.NoError(t, err)
		require.Equal(t, []bool{false, false, true, false}, []bool{got[0].Duplicate, got[1].Duplicate, got[2].Duplicate, got[3].Duplicate})
		require.Equal(t, got[0].ID, got[2].ID)
		// Racing producers: exactly one of them stores the job.
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored := map[string]int{}
		for range 20 {
			wg.Go(func() {
				j, err := b.client.Enqueue(ctx, "sync", nil, &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{Key: "account-9"}})
				if !assertNoError(t, err) {
					return
				}
				mu.Lock()
				stored[j.ID]++
				mu.Unlock()
			})
		}
		wg.Wait()
		require.Len(t, stored, 1, "every racing producer got the same job")
		q, err := b.insp.Queue(ctx, jobs.QueueDefault)
		require.NoError(t, err)
		require.EqualValues(t, 4, q.Ready)
	})

	t.Run("UntilFinished", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityUnique)
		b, clock := setupStubbed(t, h, t0)
		fail := true
		var mu sync.Mutex
		hs := jobs.NewHandlers()
		hs.Handle("report", func(ctx context.Context, j *jobs.Job) error {
			mu.Lock()
			defer mu.Unlock()
			b.handled.add(j.ID)
			if fail {
				fail = false
				return errors.New("not yet")
			}
			return nil
		}, nil)
		startServer(t, b.driver, jobs.Config{Handlers: hs, Clock: clock,
			RetryDelayFunc: func(int, error) time.Duration { return time.Minute }})
		j, err := b.client.Enqueue(ctx, "report", nil, byArgs)
		require.NoError(t, err)
		b.handled.wait(t, 1, 10*time.Second)
		findState(t, b, j.ID, jobs.StateRetry)
		// A retry keeps the key.
		again, err := b.client.Enqueue(ctx, "report", nil, byArgs)
		require.NoError(t, err)
		require.True(t, again.Duplicate)
		clock.Advance(time.Minute)
		b.handled.wait(t, 1, 10*time.Second)
		eventually(t, 10*time.Second, "job done", func() bool {
			_, err := b.insp.Job(ctx, j.ID)
			return errors.Is(err, jobs.ErrNotFound)
		})
		// Done: the key is free.
		next, err := b.client.Enqueue(ctx, "report", nil, byArgs)
		require.NoError(t, err)
		require.False(t, next.Duplicate)
		require.NotEqual(t, j.ID, next.ID)
	})

	t.Run("ForATime", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityUnique)
		b, clock := setupStubbed(t, h, t0)
		opts := &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{Key: "digest", TTL: time.Hour}}
		first, err := b.client.Enqueue(ctx, "mail", nil, opts)
		require.NoError(t, err)
		require.NoError(t, b.insp.Delete(ctx, "", first.ID))
		// A key held for a time outlives its job.
		again, err := b.client.Enqueue(ctx, "mail", nil, opts)
		require.NoError(t, err)
		require.True(t, again.Duplicate)
		require.Equal(t, first.ID, again.ID)
		clock.Advance(time.Hour)
		later, err := b.client.Enqueue(ctx, "mail", nil, opts)
		require.NoError(t, err)
		require.False(t, later.Duplicate)
	})

	t.Run("DeleteAndCancelRelease", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityUnique)
		b := setup(t, h)
		opts := &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{Key: "k"}, RunIn: time.Hour}
		first, err := b.client.Enqueue(ctx, "x", nil, opts)
		require.NoError(t, err)
		require.NoError(t, b.insp.Delete(ctx, jobs.StateScheduled, first.ID))
		second, err := b.client.Enqueue(ctx, "x", nil, opts)
		require.NoError(t, err)
		require.False(t, second.Duplicate)
		h.require(t, CapabilityCancel)
		was, err := b.insp.Cancel(ctx, second.ID, "")
		require.NoError(t, err)
		require.Equal(t, jobs.StateScheduled, was)
		third, err := b.client.Enqueue(ctx, "x", nil, opts)
		require.NoError(t, err)
		require.False(t, third.Duplicate)
	})

	t.Run("InvalidOptions", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		_, err := b.client.Enqueue(ctx, "x", nil, &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{TTL: -time.Second}})
		require.ErrorContains(t, err, "Unique.TTL -1s must not be negative")
		_, err = b.client.Enqueue(ctx, "x", nil, &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{Key: string(make([]byte, 1001))}})
		require.ErrorContains(t, err, "Unique.Key is 1001 bytes")
	})
}

// assertNoError reports err from a goroutine other than the test's.
func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}

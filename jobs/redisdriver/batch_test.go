package redisdriver_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// TestBatchScriptsTouchOneSlot drives every batch script (create, add,
// record, fire, cancel) and checks that the keys of each call share one
// slot, the batch's, so batches work on Redis Cluster.
func TestBatchScriptsTouchOneSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hd, hook, _ := hookedDriver(t)
	client, err := jobs.NewClient(hd, nil)
	require.NoError(t, err)
	done := make(chan string, 10)
	hs := jobs.NewHandlers()
	hs.Handle("ok", func(ctx context.Context, j *jobs.Job) error { return nil }, nil)
	hs.Handle("cb", func(ctx context.Context, j *jobs.Job) error { done <- j.Type; return nil }, nil)
	srv, err := jobs.NewServer(hd, &jobs.Config{Handlers: hs, PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))

	b, err := client.NewBatch(ctx, &jobs.BatchOpts{OnSuccess: &jobs.BatchCallback{Type: "cb"}})
	require.NoError(t, err)
	_, err = b.Enqueue(ctx, "ok", nil, nil)
	require.NoError(t, err)
	require.NoError(t, b.Commit(ctx))
	<-done
	require.NoError(t, srv.Stop(ctx))
	c, err := client.NewBatch(ctx, nil)
	require.NoError(t, err)
	_, err = c.Enqueue(ctx, "ok", nil, nil)
	require.NoError(t, err)
	require.NoError(t, client.CancelBatch(ctx, c.ID()))

	hook.mu.Lock()
	defer hook.mu.Unlock()
	require.Empty(t, hook.crossSlot, "script calls whose keys span slots")
	for _, f := range []string{"batchadd", "batchcancel", "batchfired", "batchrecord"} {
		src, err := os.ReadFile("scripts/" + f + ".lua")
		require.NoError(t, err)
		sum := sha1.Sum(src)
		require.NotZero(t, hook.scripts[hex.EncodeToString(sum[:])], "%s.lua was exercised", f)
	}
}

// TestBatchFiringIndex checks that the sweep reads the firing index, finds
// there a callback left firing, and drops from it the batches not firing
// once their mark is old enough.
func TestBatchFiringIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hd, _, rdb := hookedDriver(t)
	index := hd.Prefix() + ":batches:firing"
	old := time.Now().Add(-time.Hour)
	create := func() string {
		b := &jobs.BatchStatus{ID: ulid.Make().String(), CreatedAt: old}
		require.NoError(t, hd.BatchCreate(ctx, &jobdriver.BatchCreateParams{Batch: b}))
		return b.ID
	}
	idle, left := create(), create()
	require.NoError(t, hd.BatchMemberAdd(ctx, &jobdriver.BatchMemberAddParams{ID: idle, Members: map[string]string{"j1": "default"}}))
	// Recorded in an hour ago: idle has a pending member, left claims its
	// callbacks and is left firing.
	fires, err := hd.BatchRecord(ctx, &jobdriver.BatchRecordParams{ID: idle, Commit: true, Now: old})
	require.NoError(t, err)
	require.Empty(t, fires)
	fires, err = hd.BatchRecord(ctx, &jobdriver.BatchRecordParams{ID: left, Commit: true, Now: old})
	require.NoError(t, err)
	require.Len(t, fires, 2)
	require.EqualValues(t, 2, rdb.ZCard(ctx, index).Val())

	got, err := hd.BatchFiringList(ctx, &jobdriver.BatchFiringListParams{Before: time.Now()})
	require.NoError(t, err)
	require.ElementsMatch(t, []jobtype.BatchFire{{BatchID: left, Event: jobtype.BatchEventComplete},
		{BatchID: left, Event: jobtype.BatchEventSuccess}}, got)
	require.Equal(t, []string{left}, rdb.ZRange(ctx, index, 0, -1).Val(), "the idle batch left the index")
}

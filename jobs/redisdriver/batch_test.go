package redisdriver_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/redisdriver"
)

// TestBatchScriptsTouchOneSlot drives every batch script (create, add,
// record, fire, cancel) and checks that the keys of each call share one
// slot, the batch's, so batches work on Redis Cluster.
func TestBatchScriptsTouchOneSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDriver(t)
	hook := &slotHook{scripts: map[string]int{}}
	opts, err := redis.ParseURL(redisURL())
	require.NoError(t, err)
	rdb := redis.NewClient(opts)
	rdb.AddHook(hook)
	t.Cleanup(func() { rdb.Close() })
	hd, err := redisdriver.New(rdb, &redisdriver.Config{Prefix: d.Prefix()})
	require.NoError(t, err)
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

package rediswait

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// randomHex names a test's keys and user apart from other runs'.
func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// testClient connects to the test Redis, as user when user is not empty.
func testClient(t *testing.T, user string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(cmp.Or(os.Getenv("QUIRE_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0"))
	require.NoError(t, err)
	if user != "" {
		opt.Username, opt.Password = user, "pw-"+user
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		testenv.RequireService(t, "Redis", err)
	}
	return rdb
}

func TestWait(t *testing.T) {
	rdb := testClient(t, "")
	ctx := t.Context()
	key := "quiretest:" + randomHex(t) + ":ready"
	t.Cleanup(func() { rdb.Del(context.Background(), key) })
	var w Waiter

	ok, err := w.Wait(ctx, rdb, key, time.Second)
	require.NoError(t, err)
	require.False(t, ok, "an empty list waits out the timeout")

	require.NoError(t, rdb.LPush(ctx, key, "a", "b").Err())
	ok, err = w.Wait(ctx, rdb, key, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	got, err := rdb.LRange(ctx, key, 0, -1).Result()
	require.NoError(t, err)
	require.Equal(t, []string{"b", "a"}, got, "the wait takes nothing and keeps the order")

	require.NoError(t, rdb.Del(ctx, key).Err())
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	ok, err = w.Wait(cctx, rdb, key, time.Minute)
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, ok)
	require.False(t, w.noClientID.Load())
}

// TestWaitWithoutClientCommands waits as a user that may not run CLIENT
// (an ACL, or a managed Redis): the waits still answer, and a cancelled one
// ends at its timeout.
func TestWaitWithoutClientCommands(t *testing.T) {
	admin := testClient(t, "")
	ctx := t.Context()
	user := "quiretest-" + randomHex(t)
	require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", user, "on", ">pw-"+user, "~*", "&*", "+@all", "-client").Err())
	t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", user) })
	rdb := testClient(t, user)
	key := "quiretest:" + randomHex(t) + ":ready"
	t.Cleanup(func() { admin.Del(context.Background(), key) })
	var w Waiter

	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	ok, err := w.Wait(cctx, rdb, key, time.Second)
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, ok)
	require.True(t, w.noClientID.Load(), "CLIENT ID refused: no more tries")

	require.NoError(t, admin.LPush(ctx, key, "a").Err())
	ok, err = w.Wait(ctx, rdb, key, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
}

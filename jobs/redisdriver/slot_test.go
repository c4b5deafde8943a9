package redisdriver_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/redisdriver"
)

// slotHook checks every script call the driver makes: all the keys of one
// call must hash to one Redis Cluster slot, or a cluster would refuse it
// with CROSSSLOT.
type slotHook struct {
	mu        sync.Mutex
	scripts   map[string]int // sha -> calls
	crossSlot []string
}

func (h *slotHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *slotHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.check(cmd)
		return next(ctx, cmd)
	}
}

func (h *slotHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			h.check(c)
		}
		return next(ctx, cmds)
	}
}

func (h *slotHook) check(cmd redis.Cmder) {
	args := cmd.Args()
	name := strings.ToLower(cmd.Name())
	if name != "evalsha" && name != "eval" {
		return
	}
	n, _ := strconv.Atoi(fmt.Sprint(args[2]))
	slots := map[uint16]bool{}
	var keys []string
	for _, k := range args[3 : 3+n] {
		key := fmt.Sprint(k)
		keys = append(keys, key)
		slots[slot(key)] = true
	}
	sha := fmt.Sprint(args[1])
	if name == "eval" {
		// go-redis falls back to EVAL when the server lacks a script (a
		// fresh Redis): count it as the same script.
		sum := sha1.Sum([]byte(sha))
		sha = hex.EncodeToString(sum[:])
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.scripts[sha]++
	if len(slots) > 1 {
		h.crossSlot = append(h.crossSlot, strings.Join(keys, " "))
	}
}

// hookedDriver returns a driver, under a fresh prefix, whose client's
// script calls go through a slotHook, and that client.
func hookedDriver(t *testing.T) (*redisdriver.Driver, *slotHook, *redis.Client) {
	t.Helper()
	d := newDriver(t)
	hook := &slotHook{scripts: map[string]int{}}
	opts, err := redis.ParseURL(redisURL())
	require.NoError(t, err)
	rdb := redis.NewClient(opts)
	rdb.AddHook(hook)
	t.Cleanup(func() { rdb.Close() })
	hd, err := redisdriver.New(rdb, &redisdriver.Config{Prefix: d.Prefix()})
	require.NoError(t, err)
	return hd, hook, rdb
}

// slot is Redis Cluster's key slot: CRC16 (XMODEM) of the hash tag, mod 16384.
func slot(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
}

func TestSlotIsCRC16(t *testing.T) {
	t.Parallel()
	// Values from the Redis Cluster specification and redis-cli CLUSTER KEYSLOT.
	require.Equal(t, uint16(12739), slot("123456789"))
	require.Equal(t, slot("{user1000}.following"), slot("{user1000}.followers"))
}

// TestEveryScriptTouchesOneSlot drives every script the driver has and
// checks the keys of each call.
func TestEveryScriptTouchesOneSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hd, hook, rdb := hookedDriver(t)

	client, err := jobs.NewClient(hd, nil)
	require.NoError(t, err)
	insp := jobs.NewInspector(hd, nil)
	done := make(chan string, 100)
	hs := jobs.NewHandlers()
	hs.Handle("ok", func(ctx context.Context, j *jobs.Job) error { done <- j.Type; return nil }, nil)
	hs.Handle("fail", func(ctx context.Context, j *jobs.Job) error { done <- j.Type; return errors.New("x") }, nil)
	hs.Handle("discard", func(ctx context.Context, j *jobs.Job) error { done <- j.Type; return jobs.Discard(errors.New("x")) }, nil)
	hs.Handle("snooze", func(ctx context.Context, j *jobs.Job) error { done <- j.Type; return jobs.Snooze(time.Hour) }, nil)
	srv, err := jobs.NewServer(hd, &jobs.Config{Handlers: hs, PollInterval: 10 * time.Millisecond, LeaseDuration: 3 * time.Second,
		Queues: map[string]int{"a": 1, "b": 2}})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))

	for _, typ := range []string{"ok", "fail", "discard", "snooze"} {
		_, err := client.Enqueue(ctx, typ, nil, &jobs.EnqueueOpts{Queue: "a"})
		require.NoError(t, err)
		_, err = client.Enqueue(ctx, typ, nil, &jobs.EnqueueOpts{Queue: "b", RunIn: 50 * time.Millisecond})
		require.NoError(t, err)
	}
	require.NoError(t, rdb.LPush(ctx, hd.Prefix()+":{a}:ready", "not json").Err())
	for range 8 {
		<-done
	}
	require.Eventually(t, func() bool {
		dead, err := insp.Jobs(ctx, &jobs.ListParams{Queue: "a", State: jobs.StateDead})
		return err == nil && len(dead) == 2
	}, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, srv.Stop(ctx))

	// Retry and delete by hand, rescue an abandoned lease.
	retries, err := insp.Jobs(ctx, &jobs.ListParams{Queue: "b", State: jobs.StateRetry})
	require.NoError(t, err)
	require.Len(t, retries, 1)
	require.NoError(t, insp.Retry(ctx, jobs.StateRetry, retries[0].ID))
	dead, err := insp.Jobs(ctx, &jobs.ListParams{Queue: "a", State: jobs.StateDead})
	require.NoError(t, err)
	require.NoError(t, insp.Delete(ctx, jobs.StateDead, dead[0].ID))
	now := time.Now()
	held, err := hd.JobFetch(ctx, &jobdriver.JobFetchParams{Queue: "b", Max: 10, Now: now, LeaseOwner: "t", LeaseUntil: now})
	require.NoError(t, err)
	require.Len(t, held.Jobs, 1)
	require.NoError(t, hd.JobLeaseExtendMany(ctx, &jobdriver.JobLeaseExtendManyParams{Jobs: held.Jobs, LeaseUntil: now}))
	n, err := hd.JobRescueExpired(ctx, &jobdriver.JobRescueExpiredParams{Queue: "b", Now: now.Add(time.Second)})
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// Unique enqueue; cancel a waiting job and a running one.
	u, err := client.Enqueue(ctx, "ok", nil, &jobs.EnqueueOpts{Queue: "c", RunIn: time.Hour, Unique: &jobs.UniqueOpts{}})
	require.NoError(t, err)
	_, err = insp.Cancel(ctx, u.ID, "")
	require.NoError(t, err)
	r, err := client.Enqueue(ctx, "ok", nil, &jobs.EnqueueOpts{Queue: "c"})
	require.NoError(t, err)
	_, err = hd.JobFetch(ctx, &jobdriver.JobFetchParams{Queue: "c", Max: 10, Now: now, LeaseOwner: "t", LeaseUntil: now.Add(time.Hour)})
	require.NoError(t, err)
	was, err := insp.Cancel(ctx, r.ID, "")
	require.NoError(t, err)
	require.Equal(t, jobs.StateRunning, was)

	// Limiters (limit.go): acquire, extend, release.
	l, err := jobs.NewConcurrencyLimiter(hd, "ocr", 1, nil)
	require.NoError(t, err)
	require.NoError(t, l.Do(ctx, func(context.Context) error {
		return hd.LimitExtend(ctx, &jobdriver.LimitExtendParams{Name: "ocr", Tokens: []string{"gone"}, LeaseUntil: now.Add(time.Minute)})
	}))

	hook.mu.Lock()
	defer hook.mu.Unlock()
	require.Empty(t, hook.crossSlot, "script calls whose keys span slots")
	calls, _ := json.Marshal(hook.scripts)
	require.Len(t, hook.scripts, 11, "every script was exercised: %s", calls)
}

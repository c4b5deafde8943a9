package sidekiq_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/sidekiq"
)

// TestTimesOfEveryVersion: Quire reads created_at and enqueued_at written by
// Sidekiq 6.x (float seconds) and 8.x (integer milliseconds), and keeps
// fields it does not know, and large integers, when it writes a job back.
func TestTimesOfEveryVersion(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	created := time.UnixMilli(1_795_000_000_123).UTC()
	enq := created.Add(1500 * time.Millisecond)
	raw6 := fmt.Sprintf(`{"class":"Probe","args":[9007199254740993],"jid":"v6","queue":"probe","retry":1,"created_at":%d.123,"enqueued_at":%d.623,"bid":"batch-1"}`,
		created.Unix(), created.Unix()+1)
	raw8 := fmt.Sprintf(`{"class":"Probe","args":[1],"jid":"v8","queue":"probe","retry":1,"created_at":%d,"enqueued_at":%d}`,
		created.UnixMilli(), enq.UnixMilli())
	require.NoError(t, b.rdb.LPush(ctx, b.key("queue:probe"), raw6, raw8).Err())

	type seen struct{ created, enqueued time.Time }
	got := make(chan map[string]seen, 2)
	hs := jobs.NewHandlers()
	hs.Handle("Probe", func(_ context.Context, j *jobs.Job) error {
		got <- map[string]seen{j.ID: {j.CreatedAt, j.EnqueuedAt}}
		return errors.New("keep it for a look")
	}, nil)
	startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{"probe": 1}})
	all := map[string]seen{}
	for range 2 {
		select {
		case m := <-got:
			for k, v := range m {
				all[k] = v
			}
		case <-time.After(20 * time.Second):
			t.Fatal("jobs did not run")
		}
	}
	require.Equal(t, seen{created, enq}, all["v6"])
	require.Equal(t, seen{created, enq}, all["v8"])

	var retries []string
	eventually(t, 10*time.Second, "both in the retry set", func() bool {
		retries = b.rdb.ZRange(ctx, b.key("retry"), 0, -1).Val()
		return len(retries) == 2
	})
	for _, r := range retries {
		if strings.Contains(r, `"jid":"v6"`) {
			require.Contains(t, r, `"args":[9007199254740993]`)
			require.Contains(t, r, `"bid":"batch-1"`)
			require.Contains(t, r, fmt.Sprintf(`"created_at":%d.123`, created.Unix()))
		}
	}
}

// TestVersion8Writes: with Version8, jobs are written with integer
// millisecond times, failures too, and busy jobs go to IDENTITY:work.
func TestVersion8Writes(t *testing.T) {
	t.Parallel()
	b := setup(t, &sidekiq.Config{Version: sidekiq.Version8})
	ctx := context.Background()
	before := time.Now().UnixMilli()
	j, err := b.client.Enqueue(ctx, "Fails", []string{"a"}, &jobs.EnqueueOpts{Queue: "v8", Tags: []string{"t1"}})
	require.NoError(t, err)
	raw := b.rdb.LIndex(ctx, b.key("queue:v8"), 0).Val()
	var f map[string]any
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&f))
	require.Equal(t, j.ID, f["jid"])
	require.Equal(t, "Fails", f["class"])
	require.Equal(t, true, f["retry"])
	require.Equal(t, []any{"t1"}, f["tags"])
	for _, k := range []string{"created_at", "enqueued_at"} {
		ms, err := f[k].(json.Number).Int64()
		require.NoError(t, err, "%s is an integer: %s", k, f[k])
		require.GreaterOrEqual(t, ms, before)
	}
	require.True(t, b.rdb.SIsMember(ctx, b.key("queues"), "v8").Val())

	started := make(chan struct{})
	release := make(chan struct{})
	hs := jobs.NewHandlers()
	hs.Handle("Fails", func(context.Context, *jobs.Job) error {
		close(started)
		<-release
		return errors.New("boom")
	}, nil)
	srv := startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{"v8": 1}})
	<-started
	eventually(t, 10*time.Second, "the busy job in IDENTITY:work", func() bool {
		return b.rdb.HExists(ctx, b.key(srv.ID()+":work"), j.ID).Val()
	})
	close(release)
	var retry []string
	eventually(t, 10*time.Second, "the failure in the retry set", func() bool {
		retry = b.rdb.ZRange(ctx, b.key("retry"), 0, -1).Val()
		return len(retry) == 1
	})
	dec = json.NewDecoder(strings.NewReader(retry[0]))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&f))
	ms, err := f["failed_at"].(json.Number).Int64()
	require.NoError(t, err, "failed_at is an integer: %s", f["failed_at"])
	require.GreaterOrEqual(t, ms, before)
}

// TestOddEntries: an entry that is not a job goes to the dead set as it is;
// a class no handler is registered for is retried, as Sidekiq retries a
// NameError, so a deployment that adds the handler runs it; a panic is a
// failure like any other, retried on the job's retry_queue.
func TestOddEntries(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	require.NoError(t, b.rdb.LPush(ctx, b.key("queue:odd"), "not json",
		`{"class":"Unknown","args":[],"jid":"u1","queue":"odd","retry":true}`,
		`{"class":"Panics","args":[],"jid":"p1","queue":"odd","retry":true,"retry_queue":"odd_retries","backtrace":5}`).Err())
	hs := jobs.NewHandlers()
	hs.Handle("Panics", func(context.Context, *jobs.Job) error { panic("index out of range") }, nil)
	startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{"odd": 1}})
	eventually(t, 10*time.Second, "every entry to be handled", func() bool {
		return b.rdb.ZCard(ctx, b.key("dead")).Val() == 1 && b.rdb.ZCard(ctx, b.key("retry")).Val() == 2
	})
	require.Equal(t, []string{"not json"}, b.rdb.ZRange(ctx, b.key("dead"), 0, -1).Val())
	byJID := map[string]map[string]any{}
	for _, raw := range b.rdb.ZRange(ctx, b.key("retry"), 0, -1).Val() {
		var f map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw), &f))
		byJID[f["jid"].(string)] = f
	}
	require.Equal(t, "jobs.NoHandlerError", byJID["u1"]["error_class"])
	require.Equal(t, `no handler registered for job type "Unknown"`, byJID["u1"]["error_message"])
	require.Equal(t, "odd", byJID["u1"]["queue"])
	require.Equal(t, "jobs.PanicError", byJID["p1"]["error_class"])
	require.Equal(t, "panic: index out of range", byJID["p1"]["error_message"])
	bt, err := base64.StdEncoding.DecodeString(byJID["p1"]["error_backtrace"].(string))
	require.NoError(t, err)
	zr, err := zlib.NewReader(bytes.NewReader(bt))
	require.NoError(t, err)
	var lines []string
	require.NoError(t, json.NewDecoder(zr).Decode(&lines))
	require.Len(t, lines, 5, "backtrace: 5 keeps five lines")
	require.Contains(t, strings.Join(lines, "\n"), "goroutine")
	require.Equal(t, "odd_retries", byJID["p1"]["queue"], "retry_queue")
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	for attempt, bounds := range map[int][2]int{1: {15, 24}, 2: {16, 34}, 3: {31, 58}, 26: {390640, 390874}} {
		for range 50 {
			d := sidekiq.RetryDelay(attempt, nil)
			require.GreaterOrEqual(t, d, time.Duration(bounds[0])*time.Second, "attempt %d", attempt)
			require.LessOrEqual(t, d, time.Duration(bounds[1])*time.Second, "attempt %d", attempt)
		}
	}
}

func TestNewDriverRejectsBadConfig(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	_, err := sidekiq.NewDriver(rdb, &sidekiq.Config{Version: 5, MaxRetries: -1, Namespace: "my app"})
	require.ErrorContains(t, err, "Version 5")
	require.ErrorContains(t, err, "MaxRetries -1")
	require.ErrorContains(t, err, `Namespace "my app"`)
	_, err = sidekiq.NewDriver(nil, nil)
	require.Error(t, err)
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()
	_, err = sidekiq.NewDriver(cluster, nil)
	require.ErrorContains(t, err, "Redis Cluster is not supported")
}

// TestActiveJobRunsUnderWrappedClass: an Active Job enqueued through
// Sidekiq's adapter runs the handler of its own class, not the wrapper's.
func TestActiveJobRunsUnderWrappedClass(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	raw := `{"class":"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper","wrapped":"ResizeImageJob","queue":"aj",` +
		`"args":[{"job_class":"ResizeImageJob","job_id":"b1","arguments":[7,640],"queue_name":"aj"}],"retry":true,"jid":"aj1"}`
	require.NoError(t, b.rdb.LPush(ctx, b.key("queue:aj"), raw).Err())
	got := make(chan json.RawMessage, 1)
	hs := jobs.NewHandlers()
	hs.Handle("ResizeImageJob", func(_ context.Context, j *jobs.Job) error {
		got <- j.Args
		return nil
	}, nil)
	startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{"aj": 1}})
	select {
	case args := <-got:
		var aj []struct {
			Arguments []int `json:"arguments"`
		}
		require.NoError(t, json.Unmarshal(args, &aj))
		require.Equal(t, []int{7, 640}, aj[0].Arguments)
	case <-time.After(20 * time.Second):
		t.Fatal("the Active Job did not run")
	}
}

// TestNamespaceHoldsEveryKey: in a namespace, every key the driver writes,
// Sidekiq's and Quire's, starts with it, as the redis-namespace gem does;
// a Ruby process in that namespace would not see a key outside it.
func TestNamespaceHoldsEveryKey(t *testing.T) {
	b := setupRubyDB(t, &sidekiq.Config{Namespace: "billing"}) // alone in its database
	ctx := context.Background()
	release := make(chan struct{})
	defer close(release) // before the server stops
	hs := jobs.NewHandlers()
	hs.Handle("Fails", func(context.Context, *jobs.Job) error { return errors.New("no") }, nil)
	hs.Handle("Snoozes", func(context.Context, *jobs.Job) error { return jobs.Snooze(time.Hour) }, nil)
	hs.Handle("Blocks", func(context.Context, *jobs.Job) error { <-release; return nil }, nil)
	hs.Handle("Done", func(context.Context, *jobs.Job) error { return nil }, nil)
	srv := startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{"ns": 1}, Concurrency: 8})
	_, err := b.client.EnqueueMany(ctx, []jobs.EnqueueParams{
		{Type: "Fails", Opts: &jobs.EnqueueOpts{Queue: "ns"}},
		{Type: "Fails", Opts: &jobs.EnqueueOpts{Queue: "ns", MaxRetries: jobs.NoRetries}},
		{Type: "Snoozes", Opts: &jobs.EnqueueOpts{Queue: "ns"}},
		{Type: "Blocks", Opts: &jobs.EnqueueOpts{Queue: "ns"}},
		{Type: "Done", Opts: &jobs.EnqueueOpts{Queue: "ns"}},
		{Type: "Done", Opts: &jobs.EnqueueOpts{Queue: "ns", RunIn: time.Hour}},
		{Type: "Done", Opts: &jobs.EnqueueOpts{Queue: "idle"}},
	})
	require.NoError(t, err)
	eventually(t, 10*time.Second, "a job in every set and a busy one", func() bool {
		return b.rdb.ZCard(ctx, b.key("retry")).Val() == 1 && b.rdb.ZCard(ctx, b.key("dead")).Val() == 1 &&
			b.rdb.ZCard(ctx, b.key("schedule")).Val() == 2 && b.rdb.HLen(ctx, b.key(srv.ID()+":workers")).Val() == 1
	})
	ok, err := b.driver.LeaderElect(ctx, &jobdriver.LeaderElectParams{Name: "scheduler", Token: "t", TTL: time.Minute})
	require.NoError(t, err)
	require.True(t, ok)

	keys, err := b.rdb.Keys(ctx, "*").Result()
	require.NoError(t, err)
	require.Greater(t, len(keys), 10)
	for _, k := range keys {
		require.True(t, strings.HasPrefix(k, "billing:"), "key %q is outside the namespace", k)
	}
	for _, k := range []string{"queue:idle", "queues", "processes", "stat:processed", "stat:failed", srv.ID(),
		sidekiq.KeyPrefixDefault + ":leases", sidekiq.KeyPrefixDefault + ":leader:scheduler"} {
		require.Contains(t, keys, b.key(k))
	}
	// The Web UI's Quiet button, pressed in the namespace.
	require.NoError(t, b.rdb.LPush(ctx, b.key(srv.ID()+"-signals"), "TSTP").Err())
	eventually(t, 10*time.Second, "the server to go quiet", srv.IsQuiet)
}

package sidekiq_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/sidekiq"
)

const crashQueue = "crash"

// TestHelperProcess is not a test: TestSIGKILLLosesNothing runs the test
// binary again with it as a worker process that it then kills. Each run of
// a job appends the job's jid to the file named by QUIRE_SIDEKIQ_TALLY.
func TestHelperProcess(t *testing.T) {
	tally := os.Getenv("QUIRE_SIDEKIQ_TALLY")
	if tally == "" {
		t.Skip("helper process for TestSIGKILLLosesNothing")
	}
	opts, err := redis.ParseURL(os.Getenv("QUIRE_SIDEKIQ_REDIS_URL"))
	require.NoError(t, err)
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	d, err := sidekiq.NewDriver(rdb, &sidekiq.Config{Namespace: os.Getenv("QUIRE_SIDEKIQ_NAMESPACE")})
	require.NoError(t, err)
	f, err := os.OpenFile(tally, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer f.Close()
	hs := jobs.NewHandlers()
	hs.Handle("Tally", func(_ context.Context, j *jobs.Job) error {
		time.Sleep(2 * time.Millisecond)
		// One write per run: O_APPEND keeps lines whole across goroutines.
		_, err := f.WriteString(j.ID + "\n")
		return err
	}, nil)
	srv, err := sidekiq.NewServer(d, &jobs.Config{
		Handlers: hs, Queues: map[string]int{crashQueue: 1}, Concurrency: 8, FetchBatchSize: 100,
		LeaseDuration: time.Second, PollInterval: 100 * time.Millisecond,
	})
	require.NoError(t, err)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	require.NoError(t, srv.Run(ctx))
}

func readTally(t testing.TB, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]int{}
	}
	require.NoError(t, err)
	defer f.Close()
	runs := make(map[string]int)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		runs[sc.Text()]++
	}
	return runs
}

// heldJobs counts the jobs in every in-progress list of the crash queue.
func heldJobs(t testing.TB, b *bundle) int64 {
	t.Helper()
	ctx := context.Background()
	keys, err := b.rdb.Keys(ctx, b.key(sidekiq.KeyPrefixDefault+":inprogress:"+crashQueue+":*")).Result()
	require.NoError(t, err)
	var n int64
	for _, k := range keys {
		n += b.rdb.LLen(ctx, k).Val()
	}
	return n
}

// TestSIGKILLLosesNothing: a worker process killed with SIGKILL while it
// holds a fetched batch loses no job, unlike Sidekiq OSS. Its jobs sit in its
// in-progress list until its lease passes; then another server returns them
// to the queue and runs them.
func TestSIGKILLLosesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	const total = 3000
	params := make([]jobs.EnqueueParams, total)
	for i := range params {
		params[i] = jobs.EnqueueParams{Type: "Tally", Args: []int{i}, Opts: &jobs.EnqueueOpts{Queue: crashQueue}}
	}
	enqueued, err := b.client.EnqueueMany(ctx, params)
	require.NoError(t, err)

	tally := filepath.Join(t.TempDir(), "tally")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "QUIRE_SIDEKIQ_TALLY="+tally, "QUIRE_SIDEKIQ_REDIS_URL="+suiteRedisURL(),
		"QUIRE_SIDEKIQ_NAMESPACE="+b.driver.Namespace())
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	var once sync.Once
	kill := func() { once.Do(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) }
	t.Cleanup(kill)
	eventually(t, time.Minute, "the worker process to run 500 jobs", func() bool {
		return len(readTally(t, tally)) >= 500
	})
	kill()
	held := heldJobs(t, b)
	ranBefore := len(readTally(t, tally))
	t.Logf("killed the worker after %d jobs, holding %d fetched jobs", ranBefore, held)
	require.Positive(t, held, "the worker held fetched jobs when it was killed\n%s", out.String())
	require.Less(t, ranBefore, total)

	// A new server finds the dead process's list once its lease passes.
	var mu sync.Mutex
	runs := readTally(t, tally)
	hs := jobs.NewHandlers()
	hs.Handle("Tally", func(_ context.Context, j *jobs.Job) error {
		mu.Lock()
		runs[j.ID]++
		mu.Unlock()
		return nil
	}, nil)
	srv := startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{crashQueue: 1}, LeaseDuration: time.Second})
	eventually(t, time.Minute, "every job to run", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(runs) == total
	})
	stopCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, srv.Stop(stopCtx))

	dups := 0
	for _, j := range enqueued {
		require.Positive(t, runs[j.ID], "job %s ran", j.ID)
		dups += runs[j.ID] - 1
	}
	t.Logf("%d duplicate runs: jobs that ran before the kill but whose outcome was not yet recorded", dups)
	require.LessOrEqual(t, int64(dups), held, fmt.Sprintf("only held jobs can run twice (%d held)", held))
	require.Zero(t, heldJobs(t, b))
	require.Zero(t, b.rdb.LLen(ctx, b.key("queue:"+crashQueue)).Val())
}

// TestLostFetchReplyIsRescued: jobs that a fetch moved into a live process's
// in-progress list but never handed to the process (the reply was lost to a
// timeout) return to the queue and run, though the process keeps its lease.
func TestLostFetchReplyIsRescued(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	ran := make(chan string, 10)
	hs := jobs.NewHandlers()
	hs.Handle("Lost", func(_ context.Context, j *jobs.Job) error {
		ran <- j.ID
		return nil
	}, nil)
	srv := startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{"lost": 1}, LeaseDuration: time.Second})
	first, err := b.client.Enqueue(ctx, "Lost", nil, &jobs.EnqueueOpts{Queue: "lost"})
	require.NoError(t, err)
	require.Equal(t, first.ID, <-ran) // the server has fetched from the queue
	// What a fetch whose reply was lost leaves behind.
	orphan := `{"class":"Lost","args":[],"jid":"orphan-1","queue":"lost","retry":true}`
	inProgress := b.key(sidekiq.KeyPrefixDefault + ":inprogress:lost:" + srv.ID())
	require.NoError(t, b.rdb.LPush(ctx, inProgress, orphan).Err())
	select {
	case id := <-ran:
		require.Equal(t, "orphan-1", id)
	case <-time.After(30 * time.Second):
		t.Fatal("the orphaned job did not run")
	}
	eventually(t, 10*time.Second, "the in-progress list to empty", func() bool {
		return b.rdb.LLen(ctx, inProgress).Val() == 0
	})
}

package jobstest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
)

// exerciseCrash proves at-least-once delivery with real processes: worker
// processes are killed with SIGKILL again and again while 20,000 jobs run,
// and every job must still run. Duplicates are counted and reported: they
// are the price of at-least-once, and a job runs twice only when its worker
// died between running it and recording it.
func exerciseCrash(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("SIGKILLLosesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		dir := t.TempDir()
		const total = 20_000
		params := make([]jobs.EnqueueParams, total)
		for i := range params {
			params[i] = jobs.EnqueueParams{Type: "work", Args: []int{rand.IntN(4)}}
		}
		enqueued, err := b.client.EnqueueMany(ctx, params)
		require.NoError(t, err)

		kills := crashLoop(t, h, b, dir, func() (bool, string) {
			q, err := b.insp.Queue(ctx, jobs.QueueDefault)
			require.NoError(t, err)
			return q.Ready+q.Running+q.Retry+q.Scheduled == 0, fmt.Sprintf("jobs left: %+v", q)
		}, func(kills int) bool {
			q, err := b.insp.Queue(ctx, jobs.QueueDefault)
			require.NoError(t, err)
			return q.Ready >= 2000 || kills < 10 // then enough kills: let the tail drain
		})
		runs := readTallies(t, dir, "done")
		missing, dups := 0, 0
		for _, j := range enqueued {
			switch c := runs[j.ID]; {
			case c == 0:
				missing++
			case c > 1:
				dups += c - 1
			}
		}
		t.Logf("%d jobs, %d worker processes SIGKILLed, %d duplicate runs (%.3f%%)",
			total, kills, dups, 100*float64(dups)/total)
		require.GreaterOrEqual(t, kills, 10)
		require.Zero(t, missing, "jobs that never ran")
		st, err := b.insp.Stats(ctx, 1)
		require.NoError(t, err)
		require.Zero(t, st.Dead+st.Retry+st.Running+st.Ready)
	})

	t.Run("SIGTERMFinishesOrHandsBack", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		dir := t.TempDir()
		w := startWorkerProcess(t, h, b.driver, dir, 0, workerOpts{lease: time.Hour, shutdown: time.Second, concurrency: 4})
		short, err := b.client.Enqueue(ctx, "sleep", []int{300}, nil)
		require.NoError(t, err)
		long, err := b.client.Enqueue(ctx, "sleep", []int{60_000}, nil)
		require.NoError(t, err)
		eventually(t, 20*time.Second, "both jobs started", func() bool {
			return len(readTallies(t, dir, "start")) == 2
		})
		require.NoError(t, w.cmd.Process.Signal(syscall.SIGTERM))
		select {
		case <-w.done:
			require.NoError(t, w.waitErr)
		case <-time.After(20 * time.Second):
			t.Fatal("worker did not exit after SIGTERM")
		}
		require.Equal(t, map[string]int{short.ID: 1}, readTallies(t, dir, "done"))
		require.Equal(t, map[string]int{long.ID: 1}, readTallies(t, dir, "cancelled"))
		// Back in its queue at once, though its lease had an hour to run.
		got, err := b.insp.Job(ctx, long.ID)
		require.NoError(t, err)
		require.Equal(t, jobs.StateReady, got.State)
		_, err = b.insp.Job(ctx, short.ID)
		require.ErrorIs(t, err, jobs.ErrNotFound)
	})
}

// crashLoop runs three worker processes (lease 2 s, concurrency 8) and,
// until finished reports true, SIGKILLs a random one every 150 to 400 ms
// and starts another in its place, as long as kill (given the kills so far)
// says so. It fails the test when finished is still false after 3 minutes,
// with finished's description of what is left. It stops the workers and
// returns how many it killed.
func crashLoop(t *testing.T, h Harness, b *bundle, dir string, finished func() (bool, string), kill func(kills int) bool) int {
	t.Helper()
	opts := workerOpts{lease: 2 * time.Second, shutdown: 5 * time.Second, concurrency: 8}
	const live = 3
	var workers []*workerProcess
	n := 0
	for ; n < live; n++ {
		workers = append(workers, startWorkerProcess(t, h, b.driver, dir, n, opts))
	}
	kills := 0
	deadline := time.Now().Add(3 * time.Minute)
	for {
		done, left := finished()
		if done {
			break
		}
		require.True(t, time.Now().Before(deadline), "not finished after 3 minutes: %s", left)
		time.Sleep(time.Duration(150+rand.IntN(250)) * time.Millisecond)
		if !kill(kills) {
			continue
		}
		i := rand.IntN(len(workers))
		require.NoError(t, workers[i].cmd.Process.Signal(syscall.SIGKILL))
		_ = workers[i].wait()
		kills++
		workers[i] = startWorkerProcess(t, h, b.driver, dir, n, opts)
		n++
	}
	for _, w := range workers {
		w.stop(t)
	}
	return kills
}

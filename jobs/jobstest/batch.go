package jobstest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// exerciseBatch holds batches (issue #21) to Sidekiq Pro's semantics: the
// callbacks fire once each, when every member finished (complete) or
// succeeded (success); jobs may join a running batch; a child batch counts
// as one member of its parent; a cancelled batch runs nothing more and fires
// nothing.
func exerciseBatch(t *testing.T, h Harness) {
	ctx := context.Background()

	// batchHandlers run "ok", "fail" (dead at once) and the callback, which
	// records "<event> <batch id>".
	batchHandlers := func(b *bundle) *jobs.Handlers {
		hs := jobs.NewHandlers()
		hs.Handle("ok", func(context.Context, *jobs.Job) error { return nil }, nil)
		hs.Handle("fail", func(context.Context, *jobs.Job) error { return errors.New("bad input") }, nil)
		jobs.HandleArgs(hs, "callback", func(_ context.Context, _ *jobs.Job, a jobs.BatchCallbackArgs) error {
			b.handled.add(string(a.Event) + " " + a.BatchID)
			return nil
		}, nil)
		return hs
	}
	callbacks := &jobs.BatchOpts{OnComplete: &jobs.BatchCallback{Type: "callback"}, OnSuccess: &jobs.BatchCallback{Type: "callback"}}
	okJobs := func(n int) []jobs.EnqueueParams {
		ps := make([]jobs.EnqueueParams, n)
		for i := range ps {
			ps[i] = jobs.EnqueueParams{Type: "ok", Args: []int{i}}
		}
		return ps
	}
	// waitFired waits until the batch's callbacks are marked fired, then
	// stops the server so that no late duplicate can still run, and returns
	// what the callbacks recorded.
	waitFired := func(t *testing.T, b *bundle, srv *jobs.Server, id string, events int) []string {
		t.Helper()
		got := b.handled.wait(t, events, 30*time.Second)
		eventually(t, 10*time.Second, "callbacks marked fired", func() bool {
			st, err := b.insp.Batch(ctx, id)
			require.NoError(t, err)
			return st.Complete != "firing" && st.Success != "firing"
		})
		require.NoError(t, srv.Stop(ctx))
		return append(got, b.handled.all()[len(got):]...)
	}

	t.Run("BatchSuccessFiresCallbacksOnce", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		b := setup(t, h)
		batch, err := b.client.NewBatch(ctx, &jobs.BatchOpts{Description: "import", OnComplete: callbacks.OnComplete, OnSuccess: callbacks.OnSuccess})
		require.NoError(t, err)
		js, err := batch.EnqueueMany(ctx, okJobs(200))
		require.NoError(t, err)
		require.Equal(t, batch.ID(), js[0].BatchID)
		got, err := b.insp.Job(ctx, js[0].ID)
		require.NoError(t, err)
		require.Equal(t, batch.ID(), got.BatchID, "a stored job carries its batch")
		st, err := b.insp.Batch(ctx, batch.ID())
		require.NoError(t, err)
		require.Equal(t, int64(200), st.Total)
		require.Equal(t, int64(200), st.Pending)
		require.False(t, st.Committed)
		require.Equal(t, "import", st.Description)
		require.NoError(t, batch.Commit(ctx))

		srv := startServer(t, b.driver, jobs.Config{Handlers: batchHandlers(b), Concurrency: 8})
		events := waitFired(t, b, srv, batch.ID(), 2)
		require.ElementsMatch(t, []string{"complete " + batch.ID(), "success " + batch.ID()}, events)
		st, err = b.insp.Batch(ctx, batch.ID())
		require.NoError(t, err)
		require.Equal(t, int64(200), st.Succeeded)
		require.Zero(t, st.Pending+st.Dead)
		require.Equal(t, "fired", string(st.Complete))
		require.Equal(t, "fired", string(st.Success))
		list, err := b.insp.Batches(ctx, 0, 10)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, batch.ID(), list[0].ID)
		_, err = batch.Enqueue(ctx, "ok", nil, nil)
		require.ErrorIs(t, err, jobs.ErrBatchFinished, "a finished batch takes no more jobs")
	})

	t.Run("BatchCompleteWithDeadJobNoSuccess", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		b := setup(t, h)
		batch, err := b.client.NewBatch(ctx, callbacks)
		require.NoError(t, err)
		_, err = batch.EnqueueMany(ctx, okJobs(5))
		require.NoError(t, err)
		_, err = batch.Enqueue(ctx, "fail", nil, &jobs.EnqueueOpts{MaxRetries: jobs.NoRetries})
		require.NoError(t, err)
		// A waiting job cancelled by hand is dead in its batch too.
		waiting, err := batch.Enqueue(ctx, "ok", nil, &jobs.EnqueueOpts{RunIn: time.Hour})
		require.NoError(t, err)
		require.NoError(t, batch.Commit(ctx))
		_, err = b.insp.Cancel(ctx, waiting.ID, "")
		require.NoError(t, err)
		require.Equal(t, int64(1), mustBatch(t, b, batch.ID()).Dead)
		srv := startServer(t, b.driver, jobs.Config{Handlers: batchHandlers(b)})
		events := waitFired(t, b, srv, batch.ID(), 1)
		require.Equal(t, []string{"complete " + batch.ID()}, events)
		st, err := b.insp.Batch(ctx, batch.ID())
		require.NoError(t, err)
		require.Equal(t, int64(5), st.Succeeded)
		require.Equal(t, int64(2), st.Dead)
		require.Equal(t, "", string(st.Success), "success never fired")
	})

	t.Run("BatchDeadJobRetriedThenSucceeds", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		b := setup(t, h)
		hs := batchHandlers(b)
		var runs atomic.Int32
		hs.Handle("flaky", func(context.Context, *jobs.Job) error {
			if runs.Add(1) == 1 {
				return errors.New("first run fails")
			}
			return nil
		}, nil)
		batch, err := b.client.NewBatch(ctx, callbacks)
		require.NoError(t, err)
		_, err = batch.EnqueueMany(ctx, okJobs(3))
		require.NoError(t, err)
		flaky, err := batch.Enqueue(ctx, "flaky", nil, &jobs.EnqueueOpts{MaxRetries: jobs.NoRetries})
		require.NoError(t, err)
		require.NoError(t, batch.Commit(ctx))
		srv := startServer(t, b.driver, jobs.Config{Handlers: hs})
		require.Equal(t, []string{"complete " + batch.ID()}, b.handled.wait(t, 1, 30*time.Second))
		st := mustBatch(t, b, batch.ID())
		require.Equal(t, [3]int64{3, 1, 0}, [3]int64{st.Succeeded, st.Dead, st.Pending})
		// Retried from the dead set, it succeeds: it moves from dead to
		// succeeded, and the success callback fires. The batch may learn
		// of the death before the dead set holds the job (the completer
		// writes outcomes in groups): the retry waits for it there.
		findState(t, b, flaky.ID, jobs.StateDead)
		require.NoError(t, b.driver.JobRetry(ctx, &jobdriver.JobRetryParams{Queue: flaky.Queue, State: jobs.StateDead, ID: flaky.ID, Now: time.Now()}))
		require.Equal(t, []string{"success " + batch.ID()}, b.handled.wait(t, 1, 30*time.Second))
		eventually(t, 10*time.Second, "success marked fired", func() bool {
			return mustBatch(t, b, batch.ID()).Success == "fired"
		})
		require.NoError(t, srv.Stop(ctx))
		require.Equal(t, []string{"complete " + batch.ID(), "success " + batch.ID()}, b.handled.all(), "each once")
		st = mustBatch(t, b, batch.ID())
		require.Equal(t, [3]int64{4, 0, 0}, [3]int64{st.Succeeded, st.Dead, st.Pending})
		require.EqualValues(t, 2, runs.Load())
	})

	t.Run("BatchNoCallbackBeforeCommitAndJobsAddedWhileRunning", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		b := setup(t, h)
		batch, err := b.client.NewBatch(ctx, callbacks)
		require.NoError(t, err)
		first, err := batch.Enqueue(ctx, "ok", nil, nil)
		require.NoError(t, err)
		srv := startServer(t, b.driver, jobs.Config{Handlers: batchHandlers(b)})
		eventually(t, 10*time.Second, "first job recorded", func() bool {
			st, err := b.insp.Batch(ctx, batch.ID())
			require.NoError(t, err)
			return st.Succeeded == 1
		})
		// Recorded in its batch before it leaves its queue.
		eventually(t, 10*time.Second, "first job gone", func() bool {
			_, err := b.insp.Job(ctx, first.ID)
			return errors.Is(err, jobs.ErrNotFound)
		})
		st, err := b.insp.Batch(ctx, batch.ID())
		require.NoError(t, err)
		require.Equal(t, "", string(st.Complete), "no callback before Commit")
		// Added through another handle, as another process would.
		_, err = b.client.OpenBatch(batch.ID()).EnqueueMany(ctx, okJobs(3))
		require.NoError(t, err)
		require.NoError(t, batch.Commit(ctx))
		events := waitFired(t, b, srv, batch.ID(), 2)
		require.ElementsMatch(t, []string{"complete " + batch.ID(), "success " + batch.ID()}, events)
		st, err = b.insp.Batch(ctx, batch.ID())
		require.NoError(t, err)
		require.Equal(t, int64(4), st.Total)
		require.Equal(t, int64(4), st.Succeeded)
	})

	t.Run("BatchEmptyCommitFiresAtOnce", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		b := setup(t, h)
		batch, err := b.client.NewBatch(ctx, callbacks)
		require.NoError(t, err)
		require.NoError(t, batch.Commit(ctx))
		st, err := b.insp.Batch(ctx, batch.ID())
		require.NoError(t, err)
		require.Equal(t, "fired", string(st.Complete))
		require.Equal(t, "fired", string(st.Success))
		srv := startServer(t, b.driver, jobs.Config{Handlers: batchHandlers(b)})
		events := waitFired(t, b, srv, batch.ID(), 2)
		require.ElementsMatch(t, []string{"complete " + batch.ID(), "success " + batch.ID()}, events)
	})

	t.Run("BatchNestedChildCountsInParent", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		b := setup(t, h)
		parent, err := b.client.NewBatch(ctx, &jobs.BatchOpts{OnSuccess: callbacks.OnSuccess})
		require.NoError(t, err)
		_, err = parent.Enqueue(ctx, "ok", nil, nil)
		require.NoError(t, err)
		child, err := b.client.NewBatch(ctx, &jobs.BatchOpts{ParentID: parent.ID(), OnSuccess: callbacks.OnSuccess})
		require.NoError(t, err)
		_, err = child.EnqueueMany(ctx, okJobs(3))
		require.NoError(t, err)
		require.NoError(t, parent.Commit(ctx))
		st, err := b.insp.Batch(ctx, parent.ID())
		require.NoError(t, err)
		require.Equal(t, int64(2), st.Total, "one job and one child batch")
		// One worker: the callbacks run in the order they were enqueued,
		// which is what "child first" is about; more would race.
		srv := startServer(t, b.driver, jobs.Config{Handlers: batchHandlers(b), Concurrency: 1})
		eventually(t, 10*time.Second, "the child's jobs ran", func() bool {
			st, err := b.insp.Batch(ctx, child.ID())
			require.NoError(t, err)
			return st.Succeeded == 3
		})
		st, err = b.insp.Batch(ctx, parent.ID())
		require.NoError(t, err)
		require.Equal(t, "", string(st.Success), "the parent waits for its uncommitted child")
		require.NoError(t, child.Commit(ctx))
		events := waitFired(t, b, srv, parent.ID(), 2)
		require.Equal(t, []string{"success " + child.ID(), "success " + parent.ID()}, events, "child first")
		st, err = b.insp.Batch(ctx, parent.ID())
		require.NoError(t, err)
		require.Equal(t, int64(2), st.Succeeded)
		require.Equal(t, parent.ID(), mustBatch(t, b, child.ID()).ParentID)
	})

	t.Run("BatchCancelDiscardsRemainingJobs", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		b := setup(t, h)
		batch, err := b.client.NewBatch(ctx, callbacks)
		require.NoError(t, err)
		js, err := batch.EnqueueMany(ctx, okJobs(4))
		require.NoError(t, err)
		require.NoError(t, batch.Commit(ctx))
		require.NoError(t, b.client.CancelBatch(ctx, batch.ID()))
		for _, j := range js {
			got, err := b.insp.Job(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, jobs.StateDead, got.State)
		}
		st, err := b.insp.Batch(ctx, batch.ID())
		require.NoError(t, err)
		require.True(t, st.Cancelled)
		_, err = batch.Enqueue(ctx, "ok", nil, nil)
		require.ErrorIs(t, err, jobs.ErrBatchFinished)
		require.ErrorIs(t, b.client.CancelBatch(ctx, "no-such-batch"), jobs.ErrNotFound)
		// Retried from the dead set, the jobs run, but the batch fires nothing.
		for _, j := range js {
			require.NoError(t, b.driver.JobRetry(ctx, &jobdriver.JobRetryParams{Queue: j.Queue, State: jobs.StateDead, ID: j.ID, Now: time.Now()}))
		}
		srv := startServer(t, b.driver, jobs.Config{Handlers: batchHandlers(b)})
		for _, j := range js {
			eventually(t, 10*time.Second, "retried job ran", func() bool {
				_, err := b.insp.Job(ctx, j.ID)
				return errors.Is(err, jobs.ErrNotFound)
			})
		}
		require.NoError(t, srv.Stop(ctx))
		require.Empty(t, b.handled.all(), "a cancelled batch fires no callback")
	})

	t.Run("BatchSweepFiresCallbackLeftFiring", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		b := setup(t, h)
		batch, err := b.client.NewBatch(ctx, &jobs.BatchOpts{OnComplete: callbacks.OnComplete})
		require.NoError(t, err)
		// A process claims the callback and dies before enqueueing it.
		fires, err := b.driver.BatchRecord(ctx, &jobdriver.BatchRecordParams{ID: batch.ID(), Commit: true, Now: time.Now()})
		require.NoError(t, err)
		require.Len(t, fires, 2)
		fires, err = b.driver.BatchRecord(ctx, &jobdriver.BatchRecordParams{ID: batch.ID(), Commit: true, Now: time.Now()})
		require.NoError(t, err)
		require.Empty(t, fires, "a callback is claimed once")
		srv := startServer(t, b.driver, jobs.Config{Handlers: batchHandlers(b), BatchSweepInterval: 20 * time.Millisecond,
			BatchFiringGrace: time.Nanosecond})
		events := waitFired(t, b, srv, batch.ID(), 1)
		require.Equal(t, []string{"complete " + batch.ID()}, events)
		// The sweep ran as the leader of "batch_sweep", and the stopped
		// server resigned, so another process may lead at once. free
		// reports whether no one leads, without keeping the leadership.
		free := func() bool {
			ok, err := b.driver.LeaderElect(ctx, &jobdriver.LeaderElectParams{Name: "batch_sweep", Token: "probe", TTL: time.Minute, Now: time.Now()})
			require.NoError(t, err)
			require.NoError(t, b.driver.LeaderResign(ctx, &jobdriver.LeaderResignParams{Name: "batch_sweep", Token: "probe"}))
			return ok
		}
		require.True(t, free(), "the stopped server resigned the sweep's leadership")
		srv = startServer(t, b.driver, jobs.Config{Handlers: batchHandlers(b), BatchSweepInterval: 20 * time.Millisecond})
		eventually(t, 10*time.Second, "a server leads the sweep", func() bool { return !free() })
		require.NoError(t, srv.Stop(ctx))
		require.True(t, free(), "the stopped server resigned again")
	})

	t.Run("BatchSweepRunsOnOneServer", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		b := setup(t, h)
		// Held by another process: no server of this test sweeps, so a
		// callback left firing stays firing.
		ok, err := b.driver.LeaderElect(ctx, &jobdriver.LeaderElectParams{Name: "batch_sweep", Token: "other", TTL: time.Hour, Now: time.Now()})
		require.NoError(t, err)
		require.True(t, ok)
		batch, err := b.client.NewBatch(ctx, &jobs.BatchOpts{OnComplete: callbacks.OnComplete})
		require.NoError(t, err)
		fires, err := b.driver.BatchRecord(ctx, &jobdriver.BatchRecordParams{ID: batch.ID(), Commit: true, Now: time.Now()})
		require.NoError(t, err)
		require.Len(t, fires, 2)
		cfg := jobs.Config{Handlers: batchHandlers(b), BatchSweepInterval: 20 * time.Millisecond, BatchFiringGrace: time.Nanosecond}
		srv1, srv2 := startServer(t, b.driver, cfg), startServer(t, b.driver, cfg)
		// Long enough for many sweep ticks of both servers; the callback
		// must still be firing. (A sweep that ran would fire it.)
		time.Sleep(300 * time.Millisecond)
		require.Equal(t, "firing", string(mustBatch(t, b, batch.ID()).Complete), "a server that does not lead does not sweep")
		require.NoError(t, srv2.Stop(ctx))
		// The other process resigns: one of the servers takes over and sweeps.
		require.NoError(t, b.driver.LeaderResign(ctx, &jobdriver.LeaderResignParams{Name: "batch_sweep", Token: "other"}))
		events := waitFired(t, b, srv1, batch.ID(), 1)
		require.Equal(t, []string{"complete " + batch.ID()}, events)
	})

	t.Run("BatchJobsEnqueuedByMembersJoin", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		b := setup(t, h)
		hs := batchHandlers(b)
		// "fanout" enqueues three "leaf" jobs with its context, which join
		// its batch, and one detached "ok", which does not; "leaf" records
		// itself, so the callback can be seen to come after every leaf.
		hs.Handle("fanout", func(ctx context.Context, j *jobs.Job) error {
			if _, err := b.client.EnqueueMany(ctx, []jobs.EnqueueParams{{Type: "leaf"}, {Type: "leaf"}, {Type: "leaf"}}); err != nil {
				return err
			}
			_, err := b.client.Enqueue(jobs.WithBatch(ctx, ""), "ok", nil, &jobs.EnqueueOpts{RunIn: time.Hour})
			return err
		}, nil)
		hs.Handle("leaf", func(ctx context.Context, j *jobs.Job) error {
			if got := jobs.BatchFromContext(ctx); got != j.BatchID {
				return fmt.Errorf("leaf's context carries batch %q, its job %q", got, j.BatchID)
			}
			b.handled.add("leaf")
			return nil
		}, nil)
		batch, err := b.client.NewBatch(ctx, &jobs.BatchOpts{OnComplete: callbacks.OnComplete})
		require.NoError(t, err)
		// Enqueued with a context that carries the batch, as a command that
		// ingests through other code does.
		_, err = b.client.Enqueue(jobs.WithBatch(ctx, batch.ID()), "fanout", nil, nil)
		require.NoError(t, err)
		require.NoError(t, batch.Commit(ctx))
		srv := startServer(t, b.driver, jobs.Config{Handlers: hs, Concurrency: 4})
		events := waitFired(t, b, srv, batch.ID(), 4)
		require.Equal(t, []string{"leaf", "leaf", "leaf", "complete " + batch.ID()}, events, "the callback waits for the jobs members enqueued")
		st := mustBatch(t, b, batch.ID())
		require.Equal(t, int64(4), st.Total, "fanout and its three leaves; the detached job is not a member")
		require.Equal(t, int64(4), st.Succeeded)
		later, err := b.insp.Jobs(ctx, &jobs.ListParams{State: jobs.StateScheduled})
		require.NoError(t, err)
		require.Len(t, later, 1)
		require.Empty(t, later[0].BatchID, "a job enqueued with WithBatch(ctx, \"\") joins no batch")
	})

	t.Run("BatchUniqueDuplicateCountsSucceeded", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		h.require(t, CapabilityUnique)
		b := setup(t, h)
		unique := &jobs.EnqueueOpts{RunIn: time.Hour, Unique: &jobs.UniqueOpts{Key: "report:7"}}
		holder, err := b.client.Enqueue(ctx, "ok", nil, unique)
		require.NoError(t, err)
		batch, err := b.client.NewBatch(ctx, callbacks)
		require.NoError(t, err)
		js, err := batch.EnqueueMany(ctx, []jobs.EnqueueParams{
			{Type: "ok", Opts: unique},
			{Type: "ok", Opts: &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{Key: "report:8"}}},
		})
		require.NoError(t, err)
		require.True(t, js[0].Duplicate)
		require.Equal(t, holder.ID, js[0].ID, "a duplicate returns its holder")
		require.False(t, js[1].Duplicate)
		st := mustBatch(t, b, batch.ID())
		require.Equal(t, int64(2), st.Total)
		require.Equal(t, int64(1), st.Succeeded, "the duplicate counts as done: its holder does the work")
		require.Equal(t, int64(1), st.Pending)
		require.NoError(t, batch.Commit(ctx))
		srv := startServer(t, b.driver, jobs.Config{Handlers: batchHandlers(b)})
		events := waitFired(t, b, srv, batch.ID(), 2)
		require.ElementsMatch(t, []string{"complete " + batch.ID(), "success " + batch.ID()}, events)
		got, err := b.insp.Job(ctx, holder.ID)
		require.NoError(t, err)
		require.Equal(t, jobs.StateScheduled, got.State, "the holder is not a member and still waits")
	})

	t.Run("BatchDeletedMemberCountsDead", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityBatch)
		b := setup(t, h)
		batch, err := b.client.NewBatch(ctx, callbacks)
		require.NoError(t, err)
		waiting, err := batch.Enqueue(ctx, "ok", nil, &jobs.EnqueueOpts{RunIn: time.Hour})
		require.NoError(t, err)
		_, err = batch.Enqueue(ctx, "ok", nil, nil)
		require.NoError(t, err)
		require.NoError(t, batch.Commit(ctx))
		require.NoError(t, b.insp.Delete(ctx, "", waiting.ID))
		require.Equal(t, int64(1), mustBatch(t, b, batch.ID()).Dead, "a deleted member never runs: dead in its batch")
		srv := startServer(t, b.driver, jobs.Config{Handlers: batchHandlers(b)})
		events := waitFired(t, b, srv, batch.ID(), 1)
		require.Equal(t, []string{"complete " + batch.ID()}, events)
	})

	if h.ProcessEnv != nil {
		t.Run("BatchSIGKILLCallbacksRunOnce", func(t *testing.T) {
			t.Parallel()
			h.require(t, CapabilityBatch)
			exerciseBatchCrash(t, h)
		})
	}
}

func mustBatch(t *testing.T, b *bundle, id string) *jobs.BatchStatus {
	t.Helper()
	st, err := b.insp.Batch(context.Background(), id)
	require.NoError(t, err)
	return st
}

// exerciseBatchCrash kills worker processes with SIGKILL while several
// batches run: every batch's callbacks must be enqueued exactly once, and
// run. A callback job runs again, as any job, when its worker is killed
// after it ran and before its outcome was recorded: its runs are counted
// by job, and one job for each callback is the guarantee.
func exerciseBatchCrash(t *testing.T, h Harness) {
	ctx := context.Background()
	b := setup(t, h)
	dir := t.TempDir()
	const nBatches, perBatch = 10, 1000
	var ids []string
	for range nBatches {
		cb := &jobs.BatchCallback{Type: "batch_callback"}
		batch, err := b.client.NewBatch(ctx, &jobs.BatchOpts{OnComplete: cb, OnSuccess: cb})
		require.NoError(t, err)
		ps := make([]jobs.EnqueueParams, perBatch)
		for i := range ps {
			ps[i] = jobs.EnqueueParams{Type: "work", Args: []int{rand.IntN(3)}}
		}
		_, err = batch.EnqueueMany(ctx, ps)
		require.NoError(t, err)
		require.NoError(t, batch.Commit(ctx))
		ids = append(ids, batch.ID())
	}
	kills := crashLoop(t, h, b, dir, func() (bool, string) {
		done := 0
		for _, id := range ids {
			st := mustBatch(t, b, id)
			if st.Complete == "fired" && st.Success == "fired" {
				done++
			}
		}
		q, err := b.insp.Queue(ctx, jobs.QueueDefault)
		require.NoError(t, err)
		return done == nBatches && q.Ready+q.Running == 0, fmt.Sprintf("%d of %d batches finished", done, nBatches)
	}, func(kills int) bool { return kills < 10 }) // then enough kills: let the tail and the callbacks drain
	runs := map[string]int{} // callback: how many jobs ran it
	for key := range readTallies(t, dir, "callback") {
		callback, _, _ := strings.Cut(key, "/")
		runs[callback]++
	}
	want := map[string]int{}
	for _, id := range ids {
		want[fmt.Sprintf("complete:%s", id)] = 1
		want[fmt.Sprintf("success:%s", id)] = 1
		st := mustBatch(t, b, id)
		require.Equal(t, int64(perBatch), st.Succeeded)
	}
	t.Logf("%d batches of %d jobs, %d worker processes SIGKILLed", nBatches, perBatch, kills)
	// Up to ten kills, one every 150 to 400 ms, while the batches run; a
	// fast run finishes its 10,000 jobs before the tenth (9 in one CI run).
	// Five crashes still cut through every batch's members and callbacks.
	require.GreaterOrEqual(t, kills, 5, "the batches finished before the workers were killed enough to test them")
	require.Equal(t, want, runs, "each callback enqueued exactly once: one job ran it")
}

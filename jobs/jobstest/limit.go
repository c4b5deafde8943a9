package jobstest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// envLimit asks a worker process for the "limited" job type: "name limit
// lease", a concurrency limiter every execution of the type holds.
const envLimit = "QUIRE_JOBSTEST_LIMIT"

// envQueueLimit asks a worker process to work on a capped queue as well as
// the default one: "queue limit", its QueueGlobalLimits entry.
const envQueueLimit = "QUIRE_JOBSTEST_QUEUE_LIMIT"

// queueLimitFromEnv returns a worker process's Queues and
// QueueGlobalLimits: nil (the defaults) unless the suite asked for a cap.
func queueLimitFromEnv() (queues, limits map[string]int, err error) {
	spec := os.Getenv(envQueueLimit)
	if spec == "" {
		return nil, nil, nil
	}
	var q string
	var n int
	if _, err := fmt.Sscan(spec, &q, &n); err != nil {
		return nil, nil, fmt.Errorf("%s=%q: %w", envQueueLimit, spec, err)
	}
	return map[string]int{jobs.QueueDefault: 1, q: 1}, map[string]int{q: n}, nil
}

// registerLimitHandlers adds the "spanned" job type to a worker process,
// and the "limited" one when the suite asked for it. Its arguments are [milliseconds]; each
// execution notes "lstart id unixnano" once it holds its slot and "lend id
// unixnano" before it gives it back, so the parent can compute how many
// held slots at once from the record alone.
func registerLimitHandlers(hs *jobs.Handlers, d jobs.Driver, mark func(event, id string)) error {
	stamp := func() string { return strconv.FormatInt(time.Now().UnixNano(), 10) }
	// span records a job's start and finish around a wait of ms[0].
	span := func(ctx context.Context, j *jobs.Job, ms []int) error {
		mark("lstart", j.ID+" "+stamp())
		select {
		case <-time.After(time.Duration(ms[0]) * time.Millisecond):
		case <-ctx.Done():
		}
		mark("lend", j.ID+" "+stamp())
		return ctx.Err()
	}
	// "spanned" notes the same span as "limited" with no limiter of its
	// own: the queue's global cap is what bounds it.
	jobs.HandleArgs(hs, "spanned", span, nil)
	spec := os.Getenv(envLimit)
	if spec == "" {
		return nil
	}
	var name, lease string
	var limit int
	if _, err := fmt.Sscan(spec, &name, &limit, &lease); err != nil {
		return fmt.Errorf("%s=%q: %w", envLimit, spec, err)
	}
	leaseD, err := time.ParseDuration(lease)
	if err != nil {
		return fmt.Errorf("%s=%q: %w", envLimit, spec, err)
	}
	l, err := jobs.NewConcurrencyLimiter(d, name, limit, &jobs.LimiterOpts{Lease: leaseD, Snooze: 20 * time.Millisecond})
	if err != nil {
		return err
	}
	jobs.HandleArgs(hs, "limited", span, &jobs.HandlerOpts{Limiters: []*jobs.Limiter{l}})
	return nil
}

// limitSpan is one execution's time holding a slot, from the tally files.
type limitSpan struct{ start, end int64 }

// readLimitSpans pairs the lstart and lend notes of every tally file in dir
// by job id; a job that ran more than once keeps its last pair.
func readLimitSpans(t testing.TB, dir string) (spans []limitSpan, started int) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "tally-*"))
	starts := map[string]int64{}
	for _, f := range files {
		fh, err := os.Open(f)
		require.NoError(t, err)
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) != 3 {
				continue
			}
			ns, err := strconv.ParseInt(fields[2], 10, 64)
			require.NoError(t, err)
			switch fields[0] {
			case "lstart":
				starts[fields[1]] = ns
				started++
			case "lend":
				spans = append(spans, limitSpan{starts[fields[1]], ns})
			}
		}
		fh.Close()
	}
	return spans, started
}

// maxOverlap is the most spans open at one instant. An end and a start at
// the same nanosecond count as not overlapping: the end was noted before
// the slot was released, and the start after the next was admitted.
func maxOverlap(spans []limitSpan) int {
	type ev struct {
		at    int64
		delta int
	}
	evs := make([]ev, 0, 2*len(spans))
	for _, s := range spans {
		evs = append(evs, ev{s.start, 1}, ev{s.end, -1})
	}
	slices.SortFunc(evs, func(a, b ev) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		return a.delta - b.delta // ends first
	})
	open, most := 0, 0
	for _, e := range evs {
		open += e.delta
		most = max(most, open)
	}
	return most
}

// exerciseLimit checks limiters: admission, expiry, the sliding window,
// snoozing refused jobs, and a limit that holds across processes and
// survives a SIGKILL of a holder.
func exerciseLimit(t *testing.T, h Harness) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("LimitConcurrencyAdmitsN", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityLimit)
		b, clock := setupStubbed(t, h, t0)
		l, err := jobs.NewConcurrencyLimiter(b.driver, "ocr", 2, &jobs.LimiterOpts{Lease: time.Minute, Clock: clock})
		require.NoError(t, err)
		s1, err := l.Acquire(ctx)
		require.NoError(t, err)
		s2, err := l.Acquire(ctx)
		require.NoError(t, err)
		_, err = l.Acquire(ctx)
		require.ErrorIs(t, err, jobs.ErrLimited)
		st, err := l.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, &jobs.LimiterStatus{Name: "ocr", Limit: 2, Holders: 2, Admitted: 2, Rejected: 1}, st)

		require.NoError(t, s1.Release(ctx))
		require.NoError(t, s1.Release(ctx), "a second release does nothing")
		s3, err := l.Acquire(ctx)
		require.NoError(t, err, "a released slot is free")
		_, err = l.Acquire(ctx)
		require.ErrorIs(t, err, jobs.ErrLimited)

		// Holders that stop extending (as a killed process does) expire
		// with their lease; the stub clock does not move, so nothing here
		// extends them.
		clock.Advance(61 * time.Second)
		st, err = b.insp.Limiter(ctx, "ocr")
		require.NoError(t, err)
		require.Equal(t, &jobs.LimiterStatus{Name: "ocr", Limit: 2, Holders: 0, Admitted: 3, Rejected: 2}, st,
			"the broker keeps the limit and counts")
		s4, err := l.Acquire(ctx)
		require.NoError(t, err)
		s5, err := l.Acquire(ctx)
		require.NoError(t, err)
		_, err = l.Acquire(ctx)
		require.ErrorIs(t, err, jobs.ErrLimited)
		for _, s := range []*jobs.Slot{s2, s3, s4, s5} {
			require.NoError(t, s.Release(ctx))
		}
		st, err = l.Status(ctx)
		require.NoError(t, err)
		require.Zero(t, st.Holders)
	})

	t.Run("LimitConcurrencyExtendsLease", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityLimit)
		b := setup(t, h)
		// A holder that keeps running keeps its slot past its lease.
		l, err := jobs.NewConcurrencyLimiter(b.driver, "remote-model", 1, &jobs.LimiterOpts{Lease: 300 * time.Millisecond})
		require.NoError(t, err)
		s, err := l.Acquire(ctx)
		require.NoError(t, err)
		for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			_, err = l.Acquire(ctx)
			require.ErrorIs(t, err, jobs.ErrLimited, "the holder's lease is extended while it holds")
		}
		require.NoError(t, s.Release(ctx))
		s, err = l.Acquire(ctx)
		require.NoError(t, err)
		require.NoError(t, s.Release(ctx))
	})

	t.Run("LimitRateSlidingWindow", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityLimit)
		b, clock := setupStubbed(t, h, t0)
		l, err := jobs.NewRateLimiter(b.driver, "webhook:example.com", 3, time.Minute, &jobs.LimiterOpts{Clock: clock})
		require.NoError(t, err)
		acquire := func() error {
			s, err := l.Acquire(ctx)
			if err == nil {
				require.NoError(t, s.Release(ctx), "releasing a rate slot does nothing")
			}
			return err
		}
		require.NoError(t, acquire())
		clock.Advance(20 * time.Second)
		require.NoError(t, acquire())
		require.NoError(t, acquire())
		require.ErrorIs(t, acquire(), jobs.ErrLimited, "released or not, three in the window")
		clock.Advance(39 * time.Second) // 59s after the first
		require.ErrorIs(t, acquire(), jobs.ErrLimited)
		clock.Advance(2 * time.Second) // the first left the window; the others not
		require.NoError(t, acquire())
		require.ErrorIs(t, acquire(), jobs.ErrLimited)
		st, err := l.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, &jobs.LimiterStatus{Name: "webhook:example.com", Limit: 3, Holders: 3, Admitted: 4, Rejected: 3}, st)
	})

	t.Run("LimitList", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityLimit)
		b, clock := setupStubbed(t, h, t0)
		none, err := b.insp.Limiters(ctx)
		require.NoError(t, err)
		require.Empty(t, none)
		conc, err := jobs.NewConcurrencyLimiter(b.driver, "ocr-box", 2, &jobs.LimiterOpts{Lease: time.Minute, Clock: clock})
		require.NoError(t, err)
		rate, err := jobs.NewRateLimiter(b.driver, "webhook:a.example", 5, time.Hour, &jobs.LimiterOpts{Clock: clock})
		require.NoError(t, err)
		_, err = rate.Acquire(ctx)
		require.NoError(t, err)
		clock.Advance(time.Second)
		other, err := conc.Acquire(ctx)
		require.NoError(t, err)
		clock.Advance(time.Second)
		var listed []*jobs.LimiterInfo
		run := conc.Middleware()(func(ctx context.Context, j *jobs.Job) error {
			_, err := conc.Acquire(ctx)
			require.ErrorIs(t, err, jobs.ErrLimited)
			listed, err = b.insp.Limiters(ctx)
			return err
		})
		require.NoError(t, run(ctx, &jobs.Job{ID: "job-1"}))
		require.Len(t, listed, 2, "sorted by name")
		c, r := listed[0], listed[1]
		require.Equal(t, "ocr-box", c.Name)
		require.Equal(t, jobs.LimiterConcurrency, c.Kind)
		require.Equal(t, 2, c.Limit)
		require.Zero(t, c.Per)
		require.Equal(t, int64(2), c.Admitted)
		require.Equal(t, int64(1), c.Rejected)
		// A driver may count a lease from its write rather than its call
		// (sqlitedriver, whose writes wait for one another): the stubbed
		// clock's times then move on by that wait, well under the clock's
		// steps of a second.
		const wait = 250 * time.Millisecond
		require.WithinRange(t, c.UsedAt, t0.Add(2*time.Second), t0.Add(2*time.Second+wait))
		require.Len(t, c.Holders, 2)
		require.Empty(t, c.Holders[0].JobID, "Acquire outside a job")
		require.WithinRange(t, c.Holders[0].ExpiresAt, t0.Add(time.Second+time.Minute),
			t0.Add(time.Second+time.Minute+wait), "soonest first")
		require.Equal(t, "job-1", c.Holders[1].JobID, "a job's limiter names the job")
		require.NotEmpty(t, c.Holders[1].Process)
		require.WithinRange(t, c.Holders[1].ExpiresAt, t0.Add(2*time.Second+time.Minute), t0.Add(2*time.Second+time.Minute+wait))

		require.Equal(t, "webhook:a.example", r.Name)
		require.Equal(t, jobs.LimiterRate, r.Kind)
		require.Equal(t, 5, r.Limit)
		require.Equal(t, time.Hour, r.Per)
		require.Len(t, r.Holders, 1, "an admission in the window")
		require.Equal(t, int64(1), r.Admitted)

		require.NoError(t, other.Release(ctx))
		listed, err = b.insp.Limiters(ctx)
		require.NoError(t, err)
		require.Empty(t, listed[0].Holders, "released slots are not listed")
		clock.Advance(time.Hour)
		listed, err = b.insp.Limiters(ctx)
		require.NoError(t, err)
		require.Empty(t, listed[1].Holders, "expired admissions are not listed")
		require.Equal(t, int64(1), listed[1].Admitted, "the counts stay")
	})

	t.Run("LimitRefusedJobSnoozes", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityLimit)
		b := setup(t, h)
		l, err := jobs.NewConcurrencyLimiter(b.driver, "ocr-box", 1, &jobs.LimiterOpts{Snooze: 50 * time.Millisecond})
		require.NoError(t, err)
		hs := jobs.NewHandlers()
		hs.Handle("ocr", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add(fmt.Sprintf("ocr attempt %d", j.Attempt))
			return nil
		}, &jobs.HandlerOpts{Limiters: []*jobs.Limiter{l}})
		held, err := l.Acquire(ctx) // the slot is busy elsewhere
		require.NoError(t, err)
		startServer(t, b.driver, jobs.Config{Handlers: hs, Concurrency: 4})
		j, err := b.client.Enqueue(ctx, "ocr", nil, &jobs.EnqueueOpts{MaxRetries: jobs.NoRetries})
		require.NoError(t, err)
		eventually(t, 20*time.Second, "the job was refused a few times", func() bool {
			st, err := l.Status(ctx)
			require.NoError(t, err)
			return st.Rejected >= 3
		})
		got, err := b.insp.Job(ctx, j.ID)
		require.NoError(t, err)
		require.Contains(t, []jobs.State{jobs.StateScheduled, jobs.StateReady, jobs.StateRunning}, got.State)
		require.Empty(t, got.Error, "a refusal is not a failure")
		require.NoError(t, held.Release(ctx))
		// With no retries allowed, a refusal that used an attempt would have
		// killed the job; it runs as its first attempt.
		require.Equal(t, []string{"ocr attempt 1"}, b.handled.wait(t, 1, 20*time.Second))
		st, err := b.insp.Stats(ctx, 1)
		require.NoError(t, err)
		require.Zero(t, st.Dead+st.Retry)
	})

	t.Run("LimitQueueGlobalFetch", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityLimit)
		b := setup(t, h)
		for range 5 {
			_, err := b.client.Enqueue(ctx, "capped", nil, &jobs.EnqueueOpts{Queue: "capped"})
			require.NoError(t, err)
		}
		now := time.Now()
		fetch := func(owner string, maxRunning int) *jobdriver.JobFetchResult {
			t.Helper()
			res, err := b.driver.JobFetch(ctx, &jobdriver.JobFetchParams{Queue: "capped", Max: 10, Now: now,
				LeaseOwner: owner, LeaseUntil: now.Add(time.Minute), MaxRunning: maxRunning})
			require.NoError(t, err)
			return res
		}
		first := fetch("p1", 2)
		require.Len(t, first.Jobs, 2, "a fetch takes only the room under the cap")
		require.False(t, first.Capped)
		again := fetch("p2", 2)
		require.Empty(t, again.Jobs, "another process finds the queue full")
		require.True(t, again.Capped)
		_, err := b.driver.JobCompleteMany(ctx, &jobdriver.JobCompleteManyParams{Now: now,
			Completions: []jobdriver.Completion{{Job: first.Jobs[0], Outcome: jobdriver.OutcomeDone}}})
		require.NoError(t, err)
		third := fetch("p2", 2)
		require.Len(t, third.Jobs, 1, "a completed job frees its room")
		require.True(t, fetch("p3", 2).Capped)
		require.Len(t, fetch("p3", 0).Jobs, 2, "a fetch without a cap takes the rest")
	})

	if h.ProcessEnv == nil {
		return
	}

	t.Run("LimitNeverExceededAcrossProcesses", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityLimit)
		b := setup(t, h)
		const total, limit = 150, 3
		params := make([]jobs.EnqueueParams, total)
		for i := range params {
			params[i] = jobs.EnqueueParams{Type: "limited", Args: []int{5 + i%20}}
		}
		most := runAcrossProcesses(t, h, b, params, envLimit+"=shared-box "+strconv.Itoa(limit)+" 5s")
		l, err := jobs.NewConcurrencyLimiter(b.driver, "shared-box", limit, nil)
		require.NoError(t, err)
		st, err := l.Status(ctx)
		require.NoError(t, err)
		t.Logf("at most %d at once, %d refusals", most, st.Rejected)
		require.LessOrEqual(t, most, limit)
		require.GreaterOrEqual(t, most, 1)
		require.Zero(t, st.Holders, "every slot given back")
	})

	t.Run("LimitQueueGlobal", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityLimit)
		b := setup(t, h)
		const total, limit = 150, 3
		params := make([]jobs.EnqueueParams, total)
		for i := range params {
			params[i] = jobs.EnqueueParams{Type: "spanned", Args: []int{5 + i%20},
				Opts: &jobs.EnqueueOpts{Queue: "capped"}}
		}
		// 24 workers and batches of up to 200 jobs: only the cap keeps the
		// queue to three at once.
		most := runAcrossProcesses(t, h, b, params, envQueueLimit+"=capped "+strconv.Itoa(limit))
		require.LessOrEqual(t, most, limit)
		require.GreaterOrEqual(t, most, 1)
	})

	t.Run("LimitSIGKILLFreesSlot", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityLimit)
		b := setup(t, h)
		dir := t.TempDir()
		opts := workerOpts{lease: time.Minute, shutdown: 5 * time.Second, concurrency: 2,
			env: []string{envLimit + "=killed-holder 1 1s"}}
		w := startWorkerProcess(t, h, b.driver, dir, 0, opts)
		_, err := b.client.Enqueue(ctx, "limited", []int{600_000}, nil)
		require.NoError(t, err)
		eventually(t, 20*time.Second, "the job holds the slot", func() bool {
			_, started := readLimitSpans(t, dir)
			return started == 1
		})
		l, err := jobs.NewConcurrencyLimiter(b.driver, "killed-holder", 1, nil)
		require.NoError(t, err)
		_, err = l.Acquire(ctx)
		require.ErrorIs(t, err, jobs.ErrLimited, "the running job holds the only slot")
		require.NoError(t, w.cmd.Process.Signal(syscall.SIGKILL))
		_ = w.wait()
		// The job's own lease is a minute, so the job is not rescued (and
		// does not take the slot again) before the slot's 1s lease lapses.
		var s *jobs.Slot
		eventually(t, 20*time.Second, "the dead holder's slot came back", func() bool {
			s, err = l.Acquire(ctx)
			if err != nil {
				require.ErrorIs(t, err, jobs.ErrLimited)
				return false
			}
			return true
		})
		require.NoError(t, s.Release(ctx))
	})
}

// runAcrossProcesses enqueues params, runs them in three worker processes
// of eight workers each with env set, stops the workers once every job ran,
// checks that each ran exactly once, and returns how many ran at once at
// most, from the start/finish record the workers wrote.
func runAcrossProcesses(t *testing.T, h Harness, b *bundle, params []jobs.EnqueueParams, env string) int {
	t.Helper()
	dir := t.TempDir()
	_, err := b.client.EnqueueMany(context.Background(), params)
	require.NoError(t, err)
	// No worker is killed here: a long lease keeps a loaded machine's late
	// heartbeat from handing a running job to another worker, which would
	// count as a second execution.
	opts := workerOpts{lease: 30 * time.Second, shutdown: 5 * time.Second, concurrency: 8, env: []string{env}}
	var workers []*workerProcess
	for n := range 3 {
		workers = append(workers, startWorkerProcess(t, h, b.driver, dir, n, opts))
	}
	eventually(t, 2*time.Minute, "every job ran", func() bool {
		spans, _ := readLimitSpans(t, dir)
		return len(spans) >= len(params)
	})
	for _, w := range workers {
		w.stop(t)
	}
	spans, started := readLimitSpans(t, dir)
	require.Equal(t, len(params), started, "no execution ran twice or is left running")
	most := maxOverlap(spans)
	t.Logf("%d executions in 3 processes x 8 workers, at most %d at once", len(spans), most)
	return most
}

// exerciseLimitRefused checks that a driver without limiters refuses them,
// and per-queue global limits with them.
func exerciseLimitRefused(t *testing.T, h Harness) {
	b := setup(t, h)
	_, err := b.driver.JobFetch(context.Background(), &jobdriver.JobFetchParams{Queue: "capped", Max: 1,
		LeaseOwner: "refusal", LeaseUntil: time.Now().Add(time.Minute), Now: time.Now(), MaxRunning: 1})
	require.ErrorIs(t, err, jobdriver.ErrNotImplemented)
	l, err := jobs.NewConcurrencyLimiter(b.driver, "refused", 1, nil)
	require.NoError(t, err)
	_, err = l.Acquire(context.Background())
	require.ErrorIs(t, err, jobdriver.ErrNotImplemented)
	_, err = b.insp.Limiter(context.Background(), "refused")
	require.ErrorIs(t, err, jobdriver.ErrNotImplemented)
	_, err = b.insp.Limiters(context.Background())
	require.ErrorIs(t, err, jobdriver.ErrNotImplemented)
}

// BenchmarkLimitDo measures what a concurrency limiter adds to one job on
// d: an acquisition and a release. A driver's benchmark calls it with a
// driver of its own.
func BenchmarkLimitDo(b *testing.B, d jobs.Driver) {
	l, err := jobs.NewConcurrencyLimiter(d, "bench", 1_000_000, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Do(ctx, func(context.Context) error { return nil }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

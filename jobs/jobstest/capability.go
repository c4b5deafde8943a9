package jobstest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// Capability names a behaviour of the suite that a broker's format may be
// unable to hold. Quire's own drivers have every one; a driver that speaks
// another system's format (jobs/sidekiq speaks Sidekiq's) lists those it
// lacks in Harness.Lacks, and the suite skips the cases that need them,
// naming the capability, and checks that the driver refuses them instead.
//
// Only what the format cannot represent is a capability. A case that fails
// for any other reason is a bug in the driver.
type Capability string

// The capabilities a driver may lack.
const (
	// CapabilityArgsAnyJSON: a job's arguments may be any JSON value, such
	// as an object, a number or a string. A format whose arguments are a
	// list of positional arguments (Sidekiq's "args" array, which Ruby
	// splats into perform) holds only a JSON array, and must refuse the
	// rest rather than wrap them in one, which a reader could not tell from
	// a job enqueued with an array.
	CapabilityArgsAnyJSON Capability = "ArgsAnyJSON"
	// CapabilityCancel: Inspector.Cancel sends a waiting job to the dead set
	// and stops a running one in whichever process runs it. A format whose
	// workers never look for a cancellation mark (a Ruby Sidekiq process
	// does not) cannot stop a job they run.
	CapabilityCancel Capability = "Cancel"
	// CapabilityBatch: batches of jobs with callbacks (Client.NewBatch). A
	// worker that records nothing in a batch (a Ruby Sidekiq OSS process)
	// would never let one finish, and Sidekiq Pro's layout is not public.
	CapabilityBatch Capability = "Batch"
	// CapabilityExpiresAt: a job's deadline to start (EnqueueOpts.ExpiresAt)
	// travels with it, and a job fetched after it goes dead unrun. A format
	// whose other workers would run the job however late (a Ruby Sidekiq
	// OSS process) cannot carry it.
	CapabilityExpiresAt Capability = "ExpiresAt"
	// CapabilityJobBackoff: a retry delay chosen at enqueue travels with the
	// job (EnqueueOpts.Backoff). A format with no field for it, or whose
	// other workers would ignore one, cannot carry it.
	CapabilityJobBackoff Capability = "JobBackoff"
	// CapabilityJobTimeout: a per-job timeout travels with the job
	// (EnqueueOpts.Timeout), for the same reason as CapabilityJobBackoff.
	CapabilityJobTimeout Capability = "JobTimeout"
	// CapabilityLimit: limiters (jobs.Limiter, HandlerOpts.Limiters) hold
	// across every process of the broker. A format whose other workers (a
	// Ruby Sidekiq process) run jobs without asking the limiter cannot
	// keep a limit.
	CapabilityLimit Capability = "Limit"
	// CapabilityMinuteCounters: the driver counts executions per minute
	// (QueueStats.Minutely), for a chart of the last hours. Sidekiq keeps
	// daily counters only.
	CapabilityMinuteCounters Capability = "MinuteCounters"
	// CapabilityQueuePause: Inspector.PauseQueue stops every worker of the
	// queue. A format without paused queues (Sidekiq OSS has none) has
	// workers that would keep fetching.
	CapabilityQueuePause Capability = "QueuePause"
	// CapabilityRescueCount: a job's rescues (its lease ran out while it
	// ran) are counted with it (Job.Rescues), so that the server sends one
	// rescued more than Config.MaxRescues times to the dead set. A format
	// whose rescue returns the job as it was (Sidekiq's orphaned in-progress
	// lists) cannot count them.
	CapabilityRescueCount Capability = "RescueCount"
	// CapabilityUnique: unique jobs (EnqueueOpts.Unique), and with them the
	// scheduler's periodic jobs, whose ticks are unique. The key must be
	// released when its job finishes, however it finishes, and a worker that
	// knows nothing of the key (a Ruby Sidekiq process) would never release
	// it.
	CapabilityUnique Capability = "Unique"
	// CapabilityWrapUndecodable: an entry of a queue that is not a job goes
	// to the dead set of its queue wrapped as a job (an id, the reason, the
	// raw bytes as its arguments), so the Inspector lists and deletes it. A
	// format that keeps such an entry in its dead set as it is (Sidekiq
	// does, and its Web UI shows it so) leaves it without id or queue.
	CapabilityWrapUndecodable Capability = "WrapUndecodable"
)

// capabilities are the known capabilities, in the order of their names.
var capabilities = []Capability{
	CapabilityArgsAnyJSON, CapabilityBatch, CapabilityCancel, CapabilityExpiresAt, CapabilityJobBackoff,
	CapabilityJobTimeout, CapabilityLimit, CapabilityMinuteCounters, CapabilityQueuePause, CapabilityRescueCount,
	CapabilityUnique,
	CapabilityWrapUndecodable,
}

// lacks reports whether the driver lacks c.
func (h Harness) lacks(c Capability) bool {
	_, ok := h.Lacks[c]
	return ok
}

// require skips the test, naming the capability and why the driver lacks
// it, unless the driver has c.
func (h Harness) require(t testing.TB, c Capability) {
	t.Helper()
	if why, ok := h.Lacks[c]; ok {
		t.Skipf("driver lacks capability %s: %s", c, why)
	}
}

// checkLacks fails the suite on a Lacks entry it does not know or that
// gives no reason.
func checkLacks(t *testing.T, h Harness) {
	t.Helper()
	for c, why := range h.Lacks {
		if !slices.Contains(capabilities, c) {
			t.Fatalf("Harness.Lacks names %q, which is not a capability: use one of %v", c, capabilities)
		}
		if why == "" {
			t.Fatalf("Harness.Lacks[%s] must say why the driver lacks it", c)
		}
	}
}

// exerciseLacks checks that a driver refuses what it lacks, with an error,
// rather than drop it quietly: a job enqueued with a unique key it ignored
// would run twice.
func exerciseLacks(t *testing.T, h Harness) {
	ctx := context.Background()
	enqueueFails := func(t *testing.T, args any, opts *jobs.EnqueueOpts) {
		t.Helper()
		b := setup(t, h)
		_, err := b.client.Enqueue(ctx, "refused", args, opts)
		require.Error(t, err)
		st, err := b.insp.Stats(ctx, 1)
		require.NoError(t, err)
		require.Zero(t, st.Ready+st.Scheduled, "a refused job is not stored")
	}
	refusals := map[Capability]func(t *testing.T){
		CapabilityArgsAnyJSON: func(t *testing.T) {
			enqueueFails(t, greetArgs{Name: "ada"}, nil)
			enqueueFails(t, 42, nil)
		},
		CapabilityBatch: func(t *testing.T) {
			b := setup(t, h)
			_, err := b.client.NewBatch(ctx, nil)
			require.ErrorIs(t, err, jobdriver.ErrNotImplemented)
			_, err = b.client.OpenBatch("b1").Enqueue(ctx, "report", []int{1}, nil)
			require.ErrorIs(t, err, jobdriver.ErrNotImplemented)
			st, err := b.insp.Stats(ctx, 1)
			require.NoError(t, err)
			require.Zero(t, st.Ready, "a refused batch job is not stored")
		},
		CapabilityCancel: func(t *testing.T) {
			b := setup(t, h)
			j, err := b.client.Enqueue(ctx, "report", nil, nil)
			require.NoError(t, err)
			_, err = b.insp.Cancel(ctx, j.ID, "")
			require.ErrorIs(t, err, jobdriver.ErrNotImplemented)
			got, err := b.insp.Job(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, jobs.StateReady, got.State)
		},
		CapabilityExpiresAt: func(t *testing.T) {
			enqueueFails(t, nil, &jobs.EnqueueOpts{ExpiresIn: time.Hour})
			enqueueFails(t, nil, &jobs.EnqueueOpts{ExpiresIn: time.Hour, RunIn: time.Minute})
		},
		CapabilityJobBackoff: func(t *testing.T) {
			enqueueFails(t, nil, &jobs.EnqueueOpts{Backoff: &jobs.Backoff{Base: time.Second}})
		},
		CapabilityJobTimeout: func(t *testing.T) {
			enqueueFails(t, nil, &jobs.EnqueueOpts{Timeout: time.Second})
		},
		CapabilityLimit: func(t *testing.T) { exerciseLimitRefused(t, h) },
		CapabilityQueuePause: func(t *testing.T) {
			b := setup(t, h)
			require.ErrorIs(t, b.insp.PauseQueue(ctx, "paused"), jobdriver.ErrNotImplemented)
		},
		CapabilityUnique: func(t *testing.T) {
			enqueueFails(t, nil, &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{}})
			enqueueFails(t, nil, &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{Key: "k", TTL: time.Hour}, RunIn: time.Hour})
		},
	}
	for _, c := range capabilities {
		refused, ok := refusals[c]
		if !h.lacks(c) || !ok {
			continue
		}
		t.Run(string(c), func(t *testing.T) {
			t.Parallel()
			refused(t)
		})
	}
}

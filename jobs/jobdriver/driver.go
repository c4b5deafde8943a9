// Package jobdriver is the seam between the job engine and its brokers.
//
// The engine (package jobs) speaks only to the Driver interface; each broker
// (Redis, SQLite) implements it in its own package. Every method reads
// NounVerb(ctx, *NounVerbParams) so that parameters can grow without changing
// signatures. One behaviour suite, jobs/jobstest, holds every driver to the
// same contract.
//
// API is not stable. DO NOT IMPLEMENT outside this module.
package jobdriver

import (
	"context"
	"errors"
	"time"

	"github.com/quirehq/quire/jobs/jobtype"
)

// ErrNotImplemented is returned by a driver for an operation its broker
// cannot perform.
var ErrNotImplemented = errors.New("driver: not implemented")

// Driver stores jobs and hands them out under leases.
//
// A fetched job stays in the broker, held under a lease that expires at
// LeaseUntil unless extended. It leaves the broker only through
// JobCompleteMany; a job whose lease expired is returned to its queue by
// JobRescueExpired. Operations that move a held job are fenced by its lease:
// after a job was rescued, a late completion from the worker that lost it
// changes nothing.
type Driver interface {
	// Close releases the driver's resources. It does not close a client the
	// caller passed in.
	Close() error

	// Batches (issue #21). A driver that cannot hold batches returns
	// ErrNotImplemented from each.

	// BatchCancel marks a batch cancelled, so that its callbacks never fire
	// and no member is added, and returns its members that have not
	// finished (job id to queue; child batches under BatchMemberPrefix with
	// an empty queue), for the engine to cancel.
	BatchCancel(ctx context.Context, params *BatchCancelParams) (map[string]string, error)
	// BatchCreate stores a new, uncommitted batch.
	BatchCreate(ctx context.Context, params *BatchCreateParams) error
	// BatchFiredMark moves a callback from firing to fired. Once the
	// completion callback fired, the batch expires after Retention.
	BatchFiredMark(ctx context.Context, params *BatchFiredMarkParams) error
	// BatchFiringList returns the callbacks left firing since before
	// Before: claimed by a process that died before it marked them fired.
	BatchFiringList(ctx context.Context, params *BatchFiringListParams) ([]jobtype.BatchFire, error)
	// BatchGet returns a batch and its progress.
	BatchGet(ctx context.Context, params *BatchGetParams) (*jobtype.Batch, error)
	// BatchList lists batches, newest first, a page at a time.
	BatchList(ctx context.Context, params *BatchListParams) ([]*jobtype.Batch, error)
	// BatchMemberAdd adds members to a batch before they are stored, so the
	// batch cannot finish without them. It fails with ErrBatchFinished once
	// the completion callback was claimed or the batch was cancelled.
	BatchMemberAdd(ctx context.Context, params *BatchMemberAddParams) error
	// BatchRecord records final outcomes of members of one batch, and
	// Commit, and claims the callbacks that became due: each is returned
	// once, to one caller. Recording an outcome twice changes nothing, so
	// it runs before the job completes in its queue and a crash in between
	// only runs the job again.
	BatchRecord(ctx context.Context, params *BatchRecordParams) ([]jobtype.BatchFire, error)

	// JobCancel cancels a job. One that is not running goes to the dead set
	// at once with Reason as its error and releases its unique key; a
	// running one is marked, JobCancelRequested reports it to the process
	// that holds it, and that process ends it. Returns ErrNotFound when the
	// job does not exist (it may have finished).
	JobCancel(ctx context.Context, params *JobCancelParams) (*JobCancelResult, error)
	// JobCancelRequested returns the ids of those held jobs whose
	// cancellation was requested. Completing a job clears its mark.
	JobCancelRequested(ctx context.Context, params *JobCancelRequestedParams) ([]string, error)
	// JobCompleteMany records the outcomes of held jobs, in one round trip
	// where the broker allows it. A job that leaves (done) or goes dead
	// releases the unique key it holds until it finishes, and its
	// cancellation mark.
	JobCompleteMany(ctx context.Context, params *JobCompleteManyParams) (*JobCompleteManyResult, error)
	// JobDelete removes a job that is not running, and releases the unique
	// key it holds until it finishes.
	JobDelete(ctx context.Context, params *JobDeleteParams) error
	// JobFetch takes up to Max ready jobs from one queue and holds them under
	// a lease.
	JobFetch(ctx context.Context, params *JobFetchParams) (*JobFetchResult, error)
	// JobGet finds a job by id.
	JobGet(ctx context.Context, params *JobGetParams) (*jobtype.Job, error)
	// JobInsertMany makes jobs durable in the broker: ready at once, or
	// scheduled when ScheduledAt is in the future. A job with a UniqueKey is
	// stored only if no job of its queue holds that key (atomically with
	// taking the key); otherwise it is reported in Duplicates.
	JobInsertMany(ctx context.Context, params *JobInsertManyParams) (*JobInsertManyResult, error)
	// JobLeaseExtendMany extends the leases of held jobs.
	JobLeaseExtendMany(ctx context.Context, params *JobLeaseExtendManyParams) error
	// JobList lists the jobs of one queue in one state, a page at a time.
	JobList(ctx context.Context, params *JobListParams) ([]*jobtype.Job, error)
	// JobPromoteDue moves scheduled jobs and retries whose time has come to
	// their ready queue.
	JobPromoteDue(ctx context.Context, params *JobPromoteDueParams) (*JobPromoteDueResult, error)
	// JobRescueExpired returns jobs whose lease expired to their ready queue.
	JobRescueExpired(ctx context.Context, params *JobRescueExpiredParams) (int, error)
	// JobRetry makes a scheduled, retry or dead job ready now. It is a
	// person's retry: the job's rescue count (Job.Rescues) starts again.
	JobRetry(ctx context.Context, params *JobRetryParams) error

	// LeaderElect makes Token the leader of Name until TTL from now, if no
	// other token leads it or the leader's term expired, or extends the term
	// when Token leads already. It reports whether Token leads. A leader
	// that cannot renew within its TTL loses the leadership to the next
	// token that asks, so at most one leads at a time as long as clocks
	// agree within a fraction of the TTL.
	LeaderElect(ctx context.Context, params *LeaderElectParams) (bool, error)
	// LeaderResign ends Token's term as leader of Name at once, so that
	// another may take over without waiting for the TTL. It does nothing
	// when Token does not lead.
	LeaderResign(ctx context.Context, params *LeaderResignParams) error

	// Limiters (issue #21). A limiter is a named set of holders, each held
	// until an expiry; at most Limit unexpired holders at once. A
	// concurrency limiter's holders are running executions, released when
	// they finish and extended while they run, so a killed process frees
	// its slot when its lease expires; a rate limiter's holders are never
	// released and expire one interval after they were admitted, which
	// makes it a sliding window.

	// LimitAcquire admits Token as a holder of Name until LeaseUntil if
	// fewer than Limit unexpired holders hold it, dropping expired ones
	// first, all in one atomic step; otherwise it counts a rejection. It
	// reports whether Token was admitted.
	LimitAcquire(ctx context.Context, params *LimitAcquireParams) (bool, error)
	// LimitList lists every limiter used since it was last idle for
	// LimitRetention, by name: its limit and kind as last used, its
	// unexpired holders and its counts.
	LimitList(ctx context.Context, params *LimitListParams) ([]*LimitInfo, error)
	// LimitExtend moves the expiry of holders still holding Name to
	// LeaseUntil. A holder that expired and was dropped is not brought back.
	LimitExtend(ctx context.Context, params *LimitExtendParams) error
	// LimitRelease removes Token from the holders of Name.
	LimitRelease(ctx context.Context, params *LimitReleaseParams) error
	// LimitStatus reports the unexpired holders of Name, its limit as last
	// used, and its counts.
	LimitStatus(ctx context.Context, params *LimitStatusParams) (*LimitStatus, error)

	// ProcessHeartbeat records that a worker process is alive, with its
	// identity and what it is running.
	ProcessHeartbeat(ctx context.Context, params *ProcessHeartbeatParams) error
	// ProcessList lists the processes whose heartbeat is fresh.
	ProcessList(ctx context.Context, params *ProcessListParams) ([]*ProcessInfo, error)
	// ProcessRemove forgets a process that stopped.
	ProcessRemove(ctx context.Context, params *ProcessRemoveParams) error

	// QueueList lists the queues the broker knows.
	QueueList(ctx context.Context, params *QueueListParams) ([]string, error)
	// QueuePause stops workers from fetching from a queue; QueueResume undoes
	// it. Enqueueing to a paused queue still works.
	QueuePause(ctx context.Context, params *QueuePauseParams) error
	// QueueResume lets workers fetch from a paused queue again.
	QueueResume(ctx context.Context, params *QueueResumeParams) error
	// QueueStats counts a queue's jobs by state and its processed and failed
	// executions.
	QueueStats(ctx context.Context, params *QueueStatsParams) (*QueueStats, error)
	// QueueWait blocks until the queue has a ready job or the timeout passes,
	// without taking the job. It reports whether a job is ready. It returns
	// ctx's error as soon as ctx ends: a stopping server does not wait out
	// the timeout.
	QueueWait(ctx context.Context, params *QueueWaitParams) (bool, error)
}

// BatchCompleter is a Driver that can record batch jobs' final outcomes in
// their batches in the same atomic step as their completions (the embedded
// driver: one write transaction). The engine's completer then uses
// JobCompleteManyBatched instead of a BatchRecord per batch before
// JobCompleteMany. A broker whose batches and queues cannot share an atomic
// step (Redis Cluster: a batch's keys and a queue's keys live in different
// slots) does not implement it.
type BatchCompleter interface {
	Driver
	// JobCompleteManyBatched is JobCompleteMany that also records, as
	// BatchRecord does and atomically with the completions, the outcome of
	// every applied completion of a batch job that finished (done:
	// succeeded, dead: dead), and claims the callbacks that became due, in
	// the result's BatchFires. A stale completion records nothing: the job
	// runs again and is recorded then.
	JobCompleteManyBatched(ctx context.Context, params *JobCompleteManyParams) (*JobCompleteManyResult, error)
}

// Batch parameters (issue #21).

// BatchCancelParams select a batch to cancel.
type BatchCancelParams struct {
	ID        string
	Retention time.Duration
	Now       time.Time
}

// BatchCreateParams hold a new batch (ID, Description, ParentID, Callbacks,
// CreatedAt).
type BatchCreateParams struct {
	Batch *jobtype.Batch
}

// BatchFiredMarkParams name a fired callback.
type BatchFiredMarkParams struct {
	ID    string
	Event jobtype.BatchEvent
	// Retention is how long the batch stays after its completion callback
	// fired.
	Retention time.Duration
	Now       time.Time
}

// BatchFiringListParams select callbacks left firing.
type BatchFiringListParams struct {
	Before time.Time
	Max    int
}

// BatchGetParams select a batch.
type BatchGetParams struct {
	ID string
}

// BatchListParams select a page of batches.
type BatchListParams struct {
	Offset, Limit int
}

// BatchMemberAddParams add members to a batch: job id to queue, or a child
// batch under BatchMemberPrefix with an empty queue.
type BatchMemberAddParams struct {
	ID      string
	Members map[string]string
}

// BatchOutcome is the final outcome of one member.
type BatchOutcome struct {
	Member string
	// Succeeded is true for done, false for dead.
	Succeeded bool
}

// BatchRecordParams are the parameters of BatchRecord.
type BatchRecordParams struct {
	ID       string
	Outcomes []BatchOutcome
	// Commit lets the callbacks fire from now on.
	Commit bool
	Now    time.Time
}

// Outcome is what became of one execution of a held job.
type Outcome uint8

// The outcomes of an execution.
const (
	// OutcomeDone: the handler succeeded; the job leaves the broker.
	OutcomeDone Outcome = iota + 1
	// OutcomeRetry: the handler failed; the job waits in the retry set.
	OutcomeRetry
	// OutcomeDead: the job failed for the last time or was discarded.
	OutcomeDead
	// OutcomeSnooze: the job runs again at a later time without using an
	// attempt.
	OutcomeSnooze
	// OutcomeRequeue: the job is handed back to the front of its queue
	// unchanged, as at shutdown.
	OutcomeRequeue
)

// Completion is the outcome of one held job.
type Completion struct {
	// Job is the held job as fetched; its Lease fences the completion.
	Job *jobtype.Job
	// Outcome says where the job goes.
	Outcome Outcome
	// Updated is the job as it is to be stored for retry, dead and snooze
	// (attempt, error, scheduled time); nil for done and requeue.
	Updated *jobtype.Job
}

// JobCompleteManyParams are the parameters of JobCompleteMany.
type JobCompleteManyParams struct {
	Completions []Completion
	// Now dates the counters and the dead set.
	Now time.Time
}

// JobCompleteManyResult says how many completions took effect. A completion
// whose lease was lost (the job was rescued and may be running elsewhere)
// changes nothing and is counted as Stale.
type JobCompleteManyResult struct {
	Applied int
	Stale   int
	// BatchFires are the batch callbacks claimed by
	// BatchCompleter.JobCompleteManyBatched, for the engine to fire.
	BatchFires []jobtype.BatchFire
}

// JobCancelParams select a job to cancel.
type JobCancelParams struct {
	// Queue narrows the search; empty searches every queue.
	Queue string
	ID    string
	// Reason becomes the error of a job that goes to the dead set.
	Reason string
	// Now dates the cancellation (FailedAt of a job sent to the dead set).
	Now time.Time
}

// JobCancelResult says what the cancellation did.
type JobCancelResult struct {
	// Was is the job's state when it was cancelled. A job that was running
	// is only marked; every other one is now dead.
	Was jobtype.State
}

// JobCancelRequestedParams are the parameters of JobCancelRequested.
type JobCancelRequestedParams struct {
	// Jobs are held jobs (ID and Queue set).
	Jobs []*jobtype.Job
}

// JobDeleteParams select a job to delete.
type JobDeleteParams struct {
	Queue string
	State jobtype.State
	ID    string
}

// JobFetchParams are the parameters of JobFetch.
type JobFetchParams struct {
	Queue string
	// Max is the most jobs to take.
	Max int
	// LeaseUntil is when the lease on the fetched jobs expires.
	LeaseUntil time.Time
	// LeaseOwner names the fetching process, for fencing and display.
	LeaseOwner string
	// Now is the time of the fetch.
	Now time.Time
	// MaxRunning, when positive, caps the jobs of Queue held at once by
	// every process on the broker (issue #21, per-queue global
	// concurrency): the fetch takes at most MaxRunning minus the jobs held
	// now, counted in the same atomic step. A held job counts until its
	// outcome is recorded or it is rescued. A driver that cannot count them
	// returns ErrNotImplemented.
	MaxRunning int
}

// JobFetchResult holds the fetched jobs.
type JobFetchResult struct {
	Jobs []*jobtype.Job
	// Paused reports that the queue is paused; no jobs were taken.
	Paused bool
	// Capped reports that the queue held MaxRunning jobs already; no jobs
	// were taken.
	Capped bool
	// Undecodable counts entries that could not be read as jobs. The driver
	// has moved them to the dead set, wrapped with the reason.
	Undecodable int
}

// JobGetParams select a job by id. Queue narrows the search; empty searches
// every queue.
type JobGetParams struct {
	Queue string
	ID    string
}

// JobInsertManyParams are the parameters of JobInsertMany.
type JobInsertManyParams struct {
	// Jobs are complete jobs: id, type, queue, times and options set.
	Jobs []*jobtype.Job
	// Now decides which jobs are scheduled rather than ready.
	Now time.Time
	// NoSync: the insert may return before the jobs reach the disk (or
	// the replicas), as jobs.EnqueueOpts.NoSync says. A driver without
	// such a choice ignores it.
	NoSync bool
}

// JobInsertManyResult reports the jobs that were not stored.
type JobInsertManyResult struct {
	// Duplicates maps the index in Jobs of each job that was not stored,
	// because a job of its queue held its UniqueKey, to that job's id.
	Duplicates map[int]string
}

// JobLeaseExtendManyParams are the parameters of JobLeaseExtendMany.
type JobLeaseExtendManyParams struct {
	Jobs       []*jobtype.Job
	LeaseUntil time.Time
}

// JobListParams select a page of jobs.
type JobListParams struct {
	Queue  string
	State  jobtype.State
	Offset int
	Limit  int
}

// JobPromoteDueParams are the parameters of JobPromoteDue.
type JobPromoteDueParams struct {
	Queue string
	Now   time.Time
	Max   int
}

// JobPromoteDueResult says how many jobs became ready and when the next one
// is due.
type JobPromoteDueResult struct {
	Promoted int
	// NextAt is when the earliest remaining scheduled job or retry is due;
	// zero when there is none.
	NextAt time.Time
}

// JobRescueExpiredParams are the parameters of JobRescueExpired.
type JobRescueExpiredParams struct {
	Queue string
	Now   time.Time
	Max   int
}

// JobRetryParams select a job to make ready now.
type JobRetryParams struct {
	Queue string
	State jobtype.State
	ID    string
	// Now becomes the job's enqueue time.
	Now time.Time
}

// ProcessInfo describes a running worker process.
type ProcessInfo struct {
	ID          string            `json:"id"`
	Host        string            `json:"host"`
	PID         int               `json:"pid"`
	StartedAt   time.Time         `json:"started_at"`
	Queues      []string          `json:"queues"`
	Concurrency int               `json:"concurrency"`
	Busy        int               `json:"busy"`
	Quiet       bool              `json:"quiet"`
	BeatAt      time.Time         `json:"beat_at"`
	Version     string            `json:"version,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Jobs are the jobs running at the last heartbeat, at most
	// ProcessJobsMax of them.
	Jobs []BusyJob `json:"jobs,omitempty"`
}

// BusyJob is a job running in a process.
type BusyJob struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Queue     string    `json:"queue"`
	Attempt   int       `json:"attempt"`
	StartedAt time.Time `json:"started_at"`
}

// ProcessJobsMax caps the running jobs a heartbeat records.
const ProcessJobsMax = 1000

// LeaderElectParams are the parameters of LeaderElect.
type LeaderElectParams struct {
	// Name is what is led: "scheduler".
	Name string
	// Token identifies the candidate; unique per process and run.
	Token string
	// TTL is how long the term lasts without a renewal.
	TTL time.Duration
	// Now is the candidate's time, for brokers that keep no clock.
	Now time.Time
}

// LeaderResignParams are the parameters of LeaderResign.
type LeaderResignParams struct {
	Name  string
	Token string
}

// ProcessHeartbeatParams are the parameters of ProcessHeartbeat.
type ProcessHeartbeatParams struct {
	Info *ProcessInfo
	// TTL is how long the record lives without a further heartbeat.
	TTL time.Duration
}

// ProcessListParams are the inputs of ProcessList: none yet, a place for
// filters without changing every driver's signature.
type ProcessListParams struct{}

// ProcessRemoveParams name the process to forget.
type ProcessRemoveParams struct {
	ID string
}

// QueueListParams are the inputs of QueueList: none yet.
type QueueListParams struct{}

// QueuePauseParams name the queue to pause.
type QueuePauseParams struct {
	Queue string
}

// QueueResumeParams name the queue to resume.
type QueueResumeParams struct {
	Queue string
}

// QueueStatsParams select a queue and the days of counters to return.
type QueueStatsParams struct {
	Queue string
	Now   time.Time
	// Days is how many days of daily counters to return, today first.
	Days int
	// Minutes is how many minutes of per-minute counters to return, the
	// current one first: at most MinutesMax, the two days every driver
	// that keeps them keeps.
	Minutes int
}

// MinutesMax bounds QueueStatsParams.Minutes: drivers keep per-minute
// counters for two days (at most three, as they drop old ones daily).
const MinutesMax = 2 * 24 * 60

// QueueStats counts a queue's jobs by state and its executions.
type QueueStats struct {
	Queue     string
	Paused    bool
	Ready     int64
	Running   int64
	Scheduled int64
	Retry     int64
	Dead      int64
	// OldestReadyAt is when the oldest ready job became ready; zero when
	// the queue is empty. Latency is now minus this.
	OldestReadyAt time.Time
	// Processed and Failed count executions since the queue was created;
	// failed executions are counted in both, as Sidekiq does.
	Processed int64
	Failed    int64
	// Daily holds the counters of the last Days days, today first.
	Daily []DayStats
	// Minutely holds the counters of the last Minutes minutes, the current
	// one first; nil from a driver that keeps none (the Sidekiq format).
	Minutely []MinuteStats
}

// DayStats are one day's counters (UTC).
type DayStats struct {
	Date      string
	Processed int64
	Failed    int64
}

// MinuteStats are one minute's counters.
type MinuteStats struct {
	// Minute is the minute's start, in UTC.
	Minute    time.Time
	Processed int64
	Failed    int64
}

// MinuteKey is how drivers name a minute in their keys: UTC,
// 2006-01-02T15:04.
func MinuteKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04") }

// Minutes returns the last n minutes' starts at now, the current one first.
func Minutes(now time.Time, n int) []MinuteStats {
	m := now.UTC().Truncate(time.Minute)
	out := make([]MinuteStats, n)
	for i := range out {
		out[i].Minute = m.Add(-time.Duration(i) * time.Minute)
	}
	return out
}

// QueueWaitParams are the parameters of QueueWait.
type QueueWaitParams struct {
	Queue   string
	Timeout time.Duration
}

// LimitAcquireParams are the parameters of LimitAcquire.
type LimitAcquireParams struct {
	// Name names the limiter: 1 to 200 letters, digits or _.:/-.
	Name string
	// Token identifies this holder; unique per acquisition.
	Token string
	// Limit is the most unexpired holders at once.
	Limit int
	// Per is a rate limiter's window, zero for a concurrency limiter. The
	// driver stores it with Limit for listings.
	Per time.Duration
	// LeaseUntil is when the holder expires unless extended.
	LeaseUntil time.Time
	// Now decides which holders expired.
	Now time.Time
	// JobID and Process describe the holder for listings; both may be
	// empty. A driver may keep them only for concurrency limiters, whose
	// holders are few.
	JobID, Process string
}

// LimitRetention is how long a limiter's limit and counts stay in the
// broker after it was last used.
const LimitRetention = 7 * 24 * time.Hour

// LimitListParams are the parameters of LimitList.
type LimitListParams struct {
	// Now decides which holders expired; they are not listed.
	Now time.Time
}

// LimitInfo is one limiter as the broker knows it.
type LimitInfo struct {
	Name string
	// Limit and Per are those of the last acquisition.
	Limit int
	Per   time.Duration
	// Holders are the unexpired holders, soonest to expire first.
	Holders []LimitHolder
	// Admitted and Rejected count acquisitions since the limiter was first
	// used (or last idle for LimitRetention).
	Admitted, Rejected int64
	// UsedAt is the time of the last acquisition.
	UsedAt time.Time
}

// LimitHolder is one holder of a limiter.
type LimitHolder struct {
	Token     string
	JobID     string
	Process   string
	ExpiresAt time.Time
}

// LimitExtendParams are the parameters of LimitExtend.
type LimitExtendParams struct {
	Name       string
	Tokens     []string
	LeaseUntil time.Time
}

// LimitReleaseParams are the parameters of LimitRelease.
type LimitReleaseParams struct {
	Name  string
	Token string
}

// LimitStatusParams are the parameters of LimitStatus.
type LimitStatusParams struct {
	Name string
	// Now decides which holders expired; they are not counted.
	Now time.Time
}

// LimitStatus is what a limiter holds now.
type LimitStatus struct {
	// Holders counts the unexpired holders.
	Holders int
	// Limit is the limit of the last acquisition; zero if none is stored.
	Limit int
	// Admitted and Rejected count the acquisitions admitted and refused
	// since the limiter was first used.
	Admitted, Rejected int64
}

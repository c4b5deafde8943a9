// Package jobtype holds the types shared by the job engine, its drivers and
// its users: the job record, its states, the clock and sentinel errors.
//
// It imports only the standard library so that the public jobs package, the
// driver interface and every driver can share these types without cycles.
package jobtype

import (
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned when a job, queue or process does not exist.
var ErrNotFound = errors.New("not found")

// State is where a job is in its life.
type State string

// The states a job can be in. A job is ready, scheduled, running (held by a
// worker under a lease), waiting to be retried, or dead. Completed jobs leave
// the broker and are only counted.
const (
	StateReady     State = "ready"
	StateScheduled State = "scheduled"
	StateRunning   State = "running"
	StateRetry     State = "retry"
	StateDead      State = "dead"
)

// Valid reports whether s is one of the known states.
func (s State) Valid() bool {
	switch s {
	case StateReady, StateScheduled, StateRunning, StateRetry, StateDead:
		return true
	}
	return false
}

// Job is one unit of work: a type that selects its handler, JSON arguments and
// the bookkeeping the engine needs to run it at least once.
type Job struct {
	// ID identifies the job for its whole life, across retries.
	ID string
	// Type selects the handler that runs the job.
	Type string
	// Queue is the queue the job is enqueued on.
	Queue string
	// Args are the job's arguments as JSON.
	Args json.RawMessage
	// Attempt counts the executions started so far. It is 1 during the first
	// run of a job.
	Attempt int
	// Rescues counts the times the job's lease ran out while it ran: its
	// worker died, was killed or froze, and the job went back to its queue
	// without an outcome (and without using an attempt). Kept across retries.
	Rescues int
	// MaxRetries is how many times a failed job is retried before it is dead.
	MaxRetries int
	// CreatedAt is when the job was first enqueued.
	CreatedAt time.Time
	// EnqueuedAt is when the job was last put on its queue.
	EnqueuedAt time.Time
	// ScheduledAt is when a scheduled job or a retry is due; zero for a job
	// that was ready at once.
	ScheduledAt time.Time
	// Error is the error of the last failed attempt.
	Error string
	// FailedAt is when the last attempt failed.
	FailedAt time.Time
	// Tags are free-form labels, for filtering and display.
	Tags []string
	// Timeout bounds one execution; zero uses the worker's default.
	Timeout time.Duration
	// Backoff, when set, overrides the worker's retry delay for this job.
	Backoff *Backoff
	// UniqueKey, when set, makes the job unique in its queue: while a job
	// holds the key, enqueueing another job with it stores nothing and
	// returns the holder (see Duplicate).
	UniqueKey string
	// UniqueUntil is when the unique key is released. Zero holds it until
	// the job finishes: it succeeds, goes dead or is deleted.
	UniqueUntil time.Time
	// State is set by listings and lookups; handlers see StateRunning.
	State State
	// Duplicate is set on a job returned by an enqueue that stored nothing
	// because another job held its UniqueKey; ID is then that job's.
	// It is never stored.
	Duplicate bool

	// Batches (issue #21).

	// BatchID is the batch the job is a member of; empty for none. A job
	// without a batch costs the engine nothing extra.
	BatchID string

	// Expiry and job metadata (issue #21: expiring jobs, tracing).

	// ExpiresAt, when set, is the deadline for the job to start: a job
	// fetched after it goes to the dead set without running, so that work
	// nobody waits for any more (a stale notification, a cache refresh) does
	// not run late.
	ExpiresAt time.Time
	// Headers are small string metadata that travel with the job from its
	// enqueuer to its handler, such as the W3C trace context (traceparent,
	// tracestate), so that a handler continues the enqueuer's trace. Drivers
	// store them with the job; nil when there are none.
	Headers map[string]string

	// Lease is the driver's handle on a fetched job. It is opaque to
	// everything but the driver that set it.
	Lease string
}

// ReadyAt is when the job became ready to run: the later of its enqueue time
// and its scheduled time. Enqueue-to-start latency is measured from it.
func (j *Job) ReadyAt() time.Time {
	if j.ScheduledAt.After(j.EnqueuedAt) {
		return j.ScheduledAt
	}
	return j.EnqueuedAt
}

// Backoff is a retry delay chosen when the job is enqueued. It travels with
// the job, so any worker applies it: the n-th retry waits Base·2^(n-1),
// at most Max, plus up to a tenth of that as jitter.
type Backoff struct {
	Base time.Duration `json:"base"`
	Max  time.Duration `json:"max"`
}

// Delay returns the delay before the retry that follows the given attempt,
// without jitter.
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Base
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	if b.Max > 0 && d > b.Max {
		d = b.Max
	}
	return d
}

package jobtype

import (
	"encoding/json"
	"errors"
	"time"
)

// ErrBatchFinished is returned when jobs are added to a batch whose
// completion callback fired already or that was cancelled: its members are
// counted, and a late one would never be.
var ErrBatchFinished = errors.New("batch finished")

// BatchEvent names a batch callback.
type BatchEvent string

// The batch callbacks, as Sidekiq Pro names them.
const (
	// BatchEventComplete fires once every member reached a final state:
	// done or dead.
	BatchEventComplete BatchEvent = "complete"
	// BatchEventSuccess fires once every member succeeded. A member that
	// failed, was retried and then succeeded counts as a success; a dead
	// member that is retried from the dead set and succeeds lets it fire
	// later.
	BatchEventSuccess BatchEvent = "success"
)

// CallbackState is where a batch callback is: pending, firing (claimed by
// one process, which is enqueueing it) or fired.
type CallbackState string

// The states of a batch callback.
const (
	CallbackPending CallbackState = ""
	CallbackFiring  CallbackState = "firing"
	CallbackFired   CallbackState = "fired"
)

// BatchMemberPrefix starts the member id under which a child batch is
// counted in its parent.
const BatchMemberPrefix = "batch:"

// Batch is a group of jobs tracked as one: its progress and the state of
// its callbacks. Members are jobs and child batches; each counts once.
type Batch struct {
	ID          string
	Description string
	// ParentID is the batch this one is a member of; empty for none.
	ParentID string
	// Callbacks are the engine's encoded callback jobs; drivers store them
	// as they are.
	Callbacks json.RawMessage
	CreatedAt time.Time
	// Committed is set by Commit: callbacks never fire before it, so that a
	// batch whose first jobs finish while more are added does not finish
	// early.
	Committed bool
	Cancelled bool
	// Total counts the members; Succeeded and Dead those that reached a
	// final state. Pending is the rest.
	Total, Succeeded, Dead, Pending int64
	Complete, Success               CallbackState
	// FiringAt is when a callback was last claimed; a batch left firing
	// longer than a grace period is finished by the sweep.
	FiringAt time.Time
}

// BatchFire is a callback claimed for firing: the one process that claimed
// it enqueues it and then marks it fired.
type BatchFire struct {
	BatchID string
	Event   BatchEvent
}

package jobs

import (
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Job is one unit of work as a handler sees it. See jobtype.Job.
type Job = jobtype.Job

// State is where a job is in its life. See jobtype.State.
type State = jobtype.State

// Backoff is a retry delay chosen at enqueue time. See jobtype.Backoff.
type Backoff = jobtype.Backoff

// Driver is a broker the engine runs on: redisdriver.Driver, or the embedded
// one. See jobdriver.Driver.
type Driver = jobdriver.Driver

// The states a job can be in.
const (
	StateReady     = jobtype.StateReady
	StateScheduled = jobtype.StateScheduled
	StateRunning   = jobtype.StateRunning
	StateRetry     = jobtype.StateRetry
	StateDead      = jobtype.StateDead
)

// ErrNotFound is returned when a job, queue or process does not exist.
var ErrNotFound = jobtype.ErrNotFound

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

// ErrNotImplemented is returned for what the driver's broker cannot hold:
// batches and limiters on the Sidekiq format, for one.
var ErrNotImplemented = jobdriver.ErrNotImplemented

// Driver is a broker the engine runs on: redisdriver.Driver, or the embedded
// one. See jobdriver.Driver.
type Driver = jobdriver.Driver

// ProcessInfo describes a running worker process. See jobdriver.ProcessInfo.
type ProcessInfo = jobdriver.ProcessInfo

// BusyJob is a job running in a process.
type BusyJob = jobdriver.BusyJob

// QueueStats counts a queue's jobs by state and its executions.
type QueueStats = jobdriver.QueueStats

// DayStats are one day's counters.
type DayStats = jobdriver.DayStats

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

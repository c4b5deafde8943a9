package jobs

import (
	"errors"
	"fmt"
	"time"
)

// ErrJobCancelled is the cause of a running job's context when the job was
// cancelled (Inspector.Cancel). A handler that returns an error after it sees
// it sends the job to the dead set; one that returns nil completes it.
var ErrJobCancelled = errors.New("job cancelled")

// DiscardError makes a job dead at once, without retries. Return it with
// Discard.
type DiscardError struct {
	Err error
}

func (e *DiscardError) Error() string { return "discarded: " + e.Err.Error() }
func (e *DiscardError) Unwrap() error { return e.Err }

// Discard returns an error that sends the job to the dead set at once: for
// failures a retry cannot mend, such as arguments that will never be valid.
func Discard(err error) error {
	if err == nil {
		err = errors.New("discarded by handler")
	}
	return &DiscardError{Err: err}
}

// SnoozeError asks for the job to run again after Delay without using an
// attempt. Return it with Snooze.
type SnoozeError struct {
	Delay time.Duration
}

func (e *SnoozeError) Error() string { return fmt.Sprintf("snoozed for %s", e.Delay) }

// Snooze returns an error that runs the job again after d, without counting
// an attempt: for work that is waiting on something else, not failing.
func Snooze(d time.Duration) error { return &SnoozeError{Delay: max(d, 0)} }

// PanicError is the error of a handler that panicked. The job is retried like
// any failed job; Stack shows where the panic happened.
type PanicError struct {
	Value any
	Stack string
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("panic: %v\n%s", e.Value, e.Stack)
}

// NoHandlerError is the error of a job whose type has no handler in this
// process. The job is retried, so a rolling update that adds the handler runs
// it.
type NoHandlerError struct {
	Type string
}

func (e *NoHandlerError) Error() string {
	return fmt.Sprintf("no handler registered for job type %q", e.Type)
}

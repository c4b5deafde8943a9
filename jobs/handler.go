package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// HandlerFunc runs a job. Returning nil completes it; an error retries it with
// backoff until MaxRetries, then it is dead. Discard and Snooze return errors
// with other outcomes. The context is cancelled when the job's timeout passes,
// when the job is cancelled (its cause is then ErrJobCancelled), or when the
// server's shutdown timeout runs out.
type HandlerFunc func(ctx context.Context, j *Job) error

// Middleware wraps the execution of every job a server runs. The first
// middleware in Config.Middleware is the outermost.
type Middleware func(next HandlerFunc) HandlerFunc

// HandlerOpts are optional settings for one job type.
type HandlerOpts struct {
	// Timeout bounds one execution of jobs of this type unless the job has
	// its own. Defaults to the server's JobTimeout.
	Timeout time.Duration
	// RetryDelayFunc picks the delay before a retry of this type. Defaults to
	// the server's RetryDelayFunc.
	RetryDelayFunc RetryDelayFunc

	// Limiters (issue #21): each execution of this type holds a slot of
	// every one, the first taken first; a job that finds one full is
	// snoozed without using an attempt (see Limiter.Do).
	Limiters []*Limiter
}

type handler struct {
	fn   HandlerFunc
	opts HandlerOpts
}

// Handlers maps job types to the functions that run them. Register every
// handler before the server starts.
type Handlers struct {
	m map[string]*handler
}

// NewHandlers returns an empty registry.
func NewHandlers() *Handlers { return &Handlers{m: make(map[string]*handler)} }

// validJobType reports whether jobType is 1 to 200 letters, digits or
// _.:/-.
func validJobType(jobType string) bool { return validName(jobType, 200, "_.:/-") }

// validName reports whether name is 1 to max ASCII letters, digits or bytes
// of punct. A loop rather than a regular expression: a bounded repetition
// such as {1,200} compiles to hundreds of instructions, every process paid
// for both at start, and every enqueue ran one.
func validName(name string, max int, punct string) bool {
	if len(name) == 0 || len(name) > max {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(punct, c) >= 0) {
			return false
		}
	}
	return true
}

// Handle registers fn for jobType. It panics if jobType is invalid or already
// registered: both are programming mistakes. HandleSafely returns the error
// instead.
func (h *Handlers) Handle(jobType string, fn HandlerFunc, opts *HandlerOpts) {
	if err := h.HandleSafely(jobType, fn, opts); err != nil {
		panic(err)
	}
}

// HandleSafely is Handle returning an error instead of panicking.
func (h *Handlers) HandleSafely(jobType string, fn HandlerFunc, opts *HandlerOpts) error {
	if !validJobType(jobType) {
		return fmt.Errorf("register handler: job type %q must be 1 to 200 letters, digits or _.:/-", jobType)
	}
	if fn == nil {
		return fmt.Errorf("register handler for %q: nil function", jobType)
	}
	if _, dup := h.m[jobType]; dup {
		return fmt.Errorf("register handler: job type %q is already registered", jobType)
	}
	hd := &handler{fn: fn}
	if opts != nil {
		hd.opts = *opts
	}
	h.m[jobType] = hd
	return nil
}

// Types lists the registered job types.
func (h *Handlers) Types() []string {
	out := make([]string, 0, len(h.m))
	for t := range h.m {
		out = append(out, t)
	}
	return out
}

// HandleArgs registers a handler that receives the job's arguments decoded
// into T, so handlers never decode JSON by hand. Arguments that do not decode
// into T send the job to the dead set with the decoding error: no retry can
// mend them, and a person can retry the job once the code is fixed.
func HandleArgs[T any](h *Handlers, jobType string, fn func(ctx context.Context, j *Job, args T) error, opts *HandlerOpts) {
	h.Handle(jobType, func(ctx context.Context, j *Job) error {
		var args T
		if err := json.Unmarshal(j.Args, &args); err != nil {
			return Discard(fmt.Errorf("decode arguments of job %s (%s) into %T: %w", j.ID, j.Type, args, err))
		}
		return fn(ctx, j, args)
	}, opts)
}

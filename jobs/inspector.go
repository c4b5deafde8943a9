package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Inspector reads and manages the engine's state: queues, processes, busy
// jobs, and the scheduled, retry and dead sets. The CLI, the web UI and the
// metrics are built on it.
type Inspector struct {
	driver jobdriver.Driver
	clock  jobtype.Clock
}

// InspectorConfig configures an Inspector.
type InspectorConfig struct {
	// Clock tells the time. Defaults to the system clock.
	Clock jobtype.Clock
}

// NewInspector returns an inspector of d.
func NewInspector(d Driver, cfg *InspectorConfig) *Inspector {
	in := &Inspector{driver: d, clock: jobtype.SystemClock{}}
	if cfg != nil && cfg.Clock != nil {
		in.clock = cfg.Clock
	}
	return in
}

// QueueInfo describes one queue.
type QueueInfo struct {
	jobdriver.QueueStats
	// Latency is the age of the oldest ready job: how long work waits.
	Latency time.Duration
}

// Queues describes every known queue.
func (in *Inspector) Queues(ctx context.Context) ([]*QueueInfo, error) {
	names, err := in.driver.QueueList(ctx, &jobdriver.QueueListParams{})
	if err != nil {
		return nil, err
	}
	out := make([]*QueueInfo, 0, len(names))
	for _, q := range names {
		qi, err := in.Queue(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, qi)
	}
	return out, nil
}

// Queue describes one queue, with today's counters.
func (in *Inspector) Queue(ctx context.Context, name string) (*QueueInfo, error) {
	if err := ValidateQueueName(name); err != nil {
		return nil, err
	}
	now := in.clock.Now()
	st, err := in.driver.QueueStats(ctx, &jobdriver.QueueStatsParams{Queue: name, Now: now, Days: 1})
	if err != nil {
		return nil, err
	}
	qi := &QueueInfo{QueueStats: *st}
	if !st.OldestReadyAt.IsZero() {
		qi.Latency = max(now.Sub(st.OldestReadyAt), 0)
	}
	return qi, nil
}

// PauseQueue stops every server from fetching from the queue.
func (in *Inspector) PauseQueue(ctx context.Context, name string) error {
	if err := ValidateQueueName(name); err != nil {
		return err
	}
	return in.driver.QueuePause(ctx, &jobdriver.QueuePauseParams{Queue: name})
}

// ResumeQueue lets servers fetch from a paused queue again.
func (in *Inspector) ResumeQueue(ctx context.Context, name string) error {
	if err := ValidateQueueName(name); err != nil {
		return err
	}
	return in.driver.QueueResume(ctx, &jobdriver.QueueResumeParams{Queue: name})
}

// Processes lists the live worker processes with their running jobs.
func (in *Inspector) Processes(ctx context.Context) ([]*jobdriver.ProcessInfo, error) {
	return in.driver.ProcessList(ctx, &jobdriver.ProcessListParams{})
}

// Stats are the engine's counters.
type Stats struct {
	Processed int64
	Failed    int64
	Ready     int64
	Running   int64
	Scheduled int64
	Retry     int64
	Dead      int64
	// Daily holds the last Days days, today first, summed over queues.
	Daily []jobdriver.DayStats
	// Queues holds each queue's counters.
	Queues []*jobdriver.QueueStats
}

// Stats sums the counters of every queue, with days of daily history.
func (in *Inspector) Stats(ctx context.Context, days int) (*Stats, error) {
	names, err := in.driver.QueueList(ctx, &jobdriver.QueueListParams{})
	if err != nil {
		return nil, err
	}
	days = cmp.Or(max(days, 0), 1)
	now := in.clock.Now()
	st := &Stats{}
	for _, q := range names {
		qs, err := in.driver.QueueStats(ctx, &jobdriver.QueueStatsParams{Queue: q, Now: now, Days: days})
		if err != nil {
			return nil, err
		}
		st.Queues = append(st.Queues, qs)
		st.Processed += qs.Processed
		st.Failed += qs.Failed
		st.Ready += qs.Ready
		st.Running += qs.Running
		st.Scheduled += qs.Scheduled
		st.Retry += qs.Retry
		st.Dead += qs.Dead
		for i, d := range qs.Daily {
			if i >= len(st.Daily) {
				st.Daily = append(st.Daily, jobdriver.DayStats{Date: d.Date})
			}
			st.Daily[i].Processed += d.Processed
			st.Daily[i].Failed += d.Failed
		}
	}
	return st, nil
}

// Throughput sums the executions of every queue per minute over the last
// minutes minutes (at most jobdriver.MinutesMax), the current minute
// first, from the counters the driver keeps: a chart has them from before
// it was opened. A driver that keeps none (the Sidekiq format) gives
// zeros.
func (in *Inspector) Throughput(ctx context.Context, minutes int) ([]jobdriver.MinuteStats, error) {
	if minutes < 1 || minutes > jobdriver.MinutesMax {
		return nil, fmt.Errorf("throughput: minutes %d is not in 1..%d", minutes, jobdriver.MinutesMax)
	}
	names, err := in.driver.QueueList(ctx, &jobdriver.QueueListParams{})
	if err != nil {
		return nil, err
	}
	now := in.clock.Now()
	out := jobdriver.Minutes(now, minutes)
	for _, q := range names {
		qs, err := in.driver.QueueStats(ctx, &jobdriver.QueueStatsParams{Queue: q, Now: now, Minutes: minutes})
		if err != nil {
			return nil, err
		}
		for i, m := range qs.Minutely {
			if i < len(out) {
				out[i].Processed += m.Processed
				out[i].Failed += m.Failed
			}
		}
	}
	return out, nil
}

// ListParams select a page of jobs.
type ListParams struct {
	// Queue narrows the listing to one queue; empty lists every queue, one
	// after the other.
	Queue string
	// State is ready, running, scheduled, retry or dead.
	State State
	// Offset skips that many jobs.
	Offset int
	// Limit caps the page. Defaults to 25; at most 1,000.
	Limit int
}

// Jobs lists a page of jobs in one state. Encrypted arguments read as
// ArgsEncryptedPlaceholder.
func (in *Inspector) Jobs(ctx context.Context, p *ListParams) ([]*Job, error) {
	if !p.State.Valid() {
		return nil, fmt.Errorf("list jobs: unknown state %q: use ready, running, scheduled, retry or dead", p.State)
	}
	limit := min(cmp.Or(p.Limit, 25), 1000)
	offset := max(p.Offset, 0)
	queues := []string{p.Queue}
	if p.Queue == "" {
		var err error
		if queues, err = in.driver.QueueList(ctx, &jobdriver.QueueListParams{}); err != nil {
			return nil, err
		}
	} else if err := ValidateQueueName(p.Queue); err != nil {
		return nil, err
	}
	var out []*Job
	for _, q := range queues {
		if len(queues) > 1 && offset > 0 {
			// Skip whole queues that lie before the page.
			st, err := in.driver.QueueStats(ctx, &jobdriver.QueueStatsParams{Queue: q, Now: in.clock.Now()})
			if err != nil {
				return nil, err
			}
			if n := countIn(st, p.State); n <= int64(offset) {
				offset -= int(n)
				continue
			}
		}
		page, err := in.driver.JobList(ctx, &jobdriver.JobListParams{Queue: q, State: p.State, Offset: offset, Limit: limit - len(out)})
		if err != nil {
			return nil, err
		}
		offset = 0
		for _, j := range page {
			maskEncrypted(j)
		}
		out = append(out, page...)
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}

func countIn(st *jobdriver.QueueStats, s State) int64 {
	switch s {
	case StateReady:
		return st.Ready
	case StateRunning:
		return st.Running
	case StateScheduled:
		return st.Scheduled
	case StateRetry:
		return st.Retry
	case StateDead:
		return st.Dead
	}
	return 0
}

// Job finds a job by id in any queue and state.
// Encrypted arguments read as ArgsEncryptedPlaceholder.
func (in *Inspector) Job(ctx context.Context, id string) (*Job, error) {
	j, err := in.driver.JobGet(ctx, &jobdriver.JobGetParams{ID: id})
	if err != nil {
		return nil, err
	}
	maskEncrypted(j)
	return j, nil
}

// maskEncrypted replaces encrypted arguments with a placeholder: the
// Inspector feeds a UI, where ciphertext would read as garbage, and it holds
// no keys, so that the UI never shows what was encrypted at rest.
func maskEncrypted(j *Job) {
	if ArgsEncrypted(j.Args) {
		j.Args = ArgsEncryptedPlaceholder
	}
}

// Retry makes a scheduled, retry or dead job ready now. With an empty state
// it looks in the retry, dead and scheduled sets.
func (in *Inspector) Retry(ctx context.Context, state State, id string) error {
	return in.each(state, []State{StateRetry, StateDead, StateScheduled}, func(s State) error {
		return in.driver.JobRetry(ctx, &jobdriver.JobRetryParams{State: s, ID: id, Now: in.clock.Now()})
	})
}

// Delete removes a ready, scheduled, retry or dead job. With an empty state
// it looks in the retry, dead, scheduled and ready sets. A batch member that
// had not finished counts as dead in its batch: the batch does not wait for
// a job that will never run.
func (in *Inspector) Delete(ctx context.Context, state State, id string) error {
	j, _ := in.driver.JobGet(ctx, &jobdriver.JobGetParams{ID: id}) // nil when gone: Delete reports it
	err := in.each(state, []State{StateRetry, StateDead, StateScheduled, StateReady}, func(s State) error {
		return in.driver.JobDelete(ctx, &jobdriver.JobDeleteParams{State: s, ID: id})
	})
	if err != nil || j == nil || j.BatchID == "" {
		return err
	}
	return in.recordInBatch(ctx, j.BatchID, id)
}

// CancelReasonDefault is the error a job cancelled without a reason is
// stored with.
const CancelReasonDefault = "cancelled"

// Cancel cancels a job and returns the state it was in. A job that is not
// running goes to the dead set at once, with reason as its error; a running
// job's context is cancelled within about a second, in whichever process
// runs it, with ErrJobCancelled as its cause, and it goes to the dead set
// when its handler returns an error (or leaves, done, if the handler
// finished anyway). A cancelled job releases its unique key, and can be
// retried from the dead set like any dead job.
func (in *Inspector) Cancel(ctx context.Context, id, reason string) (State, error) {
	if reason == "" {
		reason = CancelReasonDefault
	}
	res, err := in.driver.JobCancel(ctx, &jobdriver.JobCancelParams{ID: id, Reason: reason, Now: in.clock.Now()})
	if err != nil {
		return "", fmt.Errorf("cancel job %s: %w", id, err)
	}
	if res.Was != StateRunning { // a running one is recorded by the completer of its process
		if err := in.recordCancelledInBatch(ctx, id); err != nil {
			return res.Was, err
		}
	}
	return res.Was, nil
}

// each tries fn on the given state, or on each of states until one finds the
// job.
func (in *Inspector) each(state State, states []State, fn func(State) error) error {
	if state != "" {
		if !state.Valid() {
			return fmt.Errorf("unknown state %q: use ready, scheduled, retry or dead", state)
		}
		states = []State{state}
	}
	var err error
	for _, s := range states {
		if err = fn(s); err == nil || !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return err
}

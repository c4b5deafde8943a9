package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
	"github.com/quirehq/quire/web/auth"
)

// errNoJobs answers the jobs routes of an API given no job driver.
var errNoJobs = errors.New("the job engine is not configured on this server")

// JobList is a page of jobs.
type JobList struct {
	Jobs []Job `json:"jobs"`
}

// Job is a job as the API shows it: the engine's bookkeeping (its lease)
// stays inside.
type Job struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Queue      string          `json:"queue"`
	State      string          `json:"state"`
	Args       json.RawMessage `json:"args,omitempty"`
	Attempt    int             `json:"attempt"`
	MaxRetries int             `json:"max_retries"`
	// Rescues counts the times the job's worker stopped while it ran.
	Rescues     int       `json:"rescues,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	EnqueuedAt  time.Time `json:"enqueued_at"`
	ScheduledAt time.Time `json:"scheduled_at,omitzero"`
	Error       string    `json:"error,omitempty"`
	FailedAt    time.Time `json:"failed_at,omitzero"`
	Tags        []string  `json:"tags,omitempty"`
	UniqueKey   string    `json:"unique_key,omitempty"`
}

func viewJob(j *jobs.Job) Job {
	return Job{ID: j.ID, Type: j.Type, Queue: j.Queue, State: string(j.State), Args: j.Args, Attempt: j.Attempt,
		MaxRetries: j.MaxRetries, Rescues: j.Rescues, CreatedAt: j.CreatedAt, EnqueuedAt: j.EnqueuedAt,
		ScheduledAt: j.ScheduledAt, Error: j.Error, FailedAt: j.FailedAt, Tags: j.Tags, UniqueKey: j.UniqueKey}
}

// JobCounts count a queue's jobs, or every queue's.
type JobCounts struct {
	Processed int64 `json:"processed"`
	Failed    int64 `json:"failed"`
	Ready     int64 `json:"ready"`
	Running   int64 `json:"running"`
	Scheduled int64 `json:"scheduled"`
	Retry     int64 `json:"retry"`
	Dead      int64 `json:"dead"`
}

// Day is one day's counters (UTC).
type Day struct {
	Date      string `json:"date"`
	Processed int64  `json:"processed"`
	Failed    int64  `json:"failed"`
}

// JobStats are the job engine's counters.
type JobStats struct {
	JobCounts
	// Daily holds the days asked for, today first, summed over queues.
	Daily []Day `json:"daily"`
	// Minutely holds the minutes asked for (minutes), the current one
	// first, summed over queues; absent when none were asked for.
	Minutely []Minute `json:"minutely,omitempty"`
	// Queues holds each queue's counters.
	Queues []Queue `json:"queues"`
}

// Minute counts the executions of one minute.
type Minute struct {
	// Minute is the minute's start.
	Minute    time.Time `json:"minute"`
	Processed int64     `json:"processed"`
	Failed    int64     `json:"failed"`
}

// QueueList lists the queues.
type QueueList struct {
	Queues []Queue `json:"queues"`
}

// Queue is a queue with its counters.
type Queue struct {
	Name   string `json:"name"`
	Paused bool   `json:"paused"`
	JobCounts
	// LatencySeconds is the age of the oldest ready job: how long work
	// waits.
	LatencySeconds float64 `json:"latency_seconds"`
	Daily          []Day   `json:"daily,omitempty"`
}

func viewDays(ds []jobs.DayStats) []Day {
	out := make([]Day, len(ds))
	for i, d := range ds {
		out[i] = Day{Date: d.Date, Processed: d.Processed, Failed: d.Failed}
	}
	return out
}

func viewQueue(q *jobs.QueueStats, latency time.Duration) Queue {
	return Queue{Name: q.Queue, Paused: q.Paused, LatencySeconds: latency.Seconds(), Daily: viewDays(q.Daily),
		JobCounts: JobCounts{Processed: q.Processed, Failed: q.Failed, Ready: q.Ready, Running: q.Running,
			Scheduled: q.Scheduled, Retry: q.Retry, Dead: q.Dead}}
}

// ProcessList lists the live worker processes.
type ProcessList struct {
	Processes []*jobs.ProcessInfo `json:"processes"`
}

// jobsError answers for an Inspector error and reports whether there was one.
func (a *api) jobsError(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, jobtype.ErrNotFound):
		a.problem(w, r, http.StatusNotFound, err)
	default:
		a.problem(w, r, http.StatusServiceUnavailable, err)
	}
	return true
}

// needJobs answers 503 when the jobs routes have no engine.
func (a *api) needJobs(w http.ResponseWriter, r *http.Request) bool {
	if a.inspector == nil {
		a.problem(w, r, http.StatusServiceUnavailable, errNoJobs)
		return false
	}
	return true
}

// jobState reads an optional job state from the query.
func jobState(r *http.Request) (jobs.State, error) {
	s := jobs.State(r.URL.Query().Get("state"))
	if s != "" && !s.Valid() {
		return "", fmt.Errorf("state %q is not ready, running, scheduled, retry or dead", s)
	}
	return s, nil
}

func (a *api) listJobs(w http.ResponseWriter, r *http.Request) {
	if !a.needJobs(w, r) {
		return
	}
	q := r.URL.Query()
	state, err := jobState(r)
	if err == nil && state == "" {
		err = errors.New("state is required: ready, running, scheduled, retry or dead")
	}
	limit, lerr := limitParam(q, 25, 1000)
	offset := 0
	var oerr error // its own: a valid offset must not clear an invalid state
	if o := q.Get("offset"); o != "" {
		if offset, oerr = strconv.Atoi(o); oerr != nil || offset < 0 {
			oerr = fmt.Errorf("offset %q is not a number from 0", o)
		}
	}
	if err = errors.Join(err, lerr, oerr); err != nil {
		a.problem(w, r, http.StatusBadRequest, err)
		return
	}
	if queue := q.Get("queue"); queue != "" {
		if err := jobs.ValidateQueueName(queue); err != nil {
			a.problem(w, r, http.StatusBadRequest, err)
			return
		}
	}
	js, err := a.inspector.Jobs(r.Context(), &jobs.ListParams{Queue: q.Get("queue"), State: state, Offset: offset, Limit: limit})
	if a.jobsError(w, r, err) {
		return
	}
	out := JobList{Jobs: make([]Job, len(js))}
	redact := false
	if t := auth.FromContext(r.Context()); t != nil && !auth.SeesAddresses(t.Scope) {
		redact = true // a webhook's failure names its receiver: admins only
	}
	for i, j := range js {
		out.Jobs[i] = viewJob(j)
		if redact {
			out.Jobs[i].Error = auth.RedactJobError(j.Type, j.Error)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) jobStats(w http.ResponseWriter, r *http.Request) {
	if !a.needJobs(w, r) {
		return
	}
	days := 1
	if d := r.URL.Query().Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 90 {
			a.problem(w, r, http.StatusBadRequest, fmt.Errorf("days %q is not a number from 1 to 90", d))
			return
		}
		days = n
	}
	minutes := 0
	if m := r.URL.Query().Get("minutes"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > jobdriver.MinutesMax {
			a.problem(w, r, http.StatusBadRequest, fmt.Errorf("minutes %q is not a number from 1 to %d", m, jobdriver.MinutesMax))
			return
		}
		minutes = n
	}
	st, err := a.inspector.Stats(r.Context(), days)
	if a.jobsError(w, r, err) {
		return
	}
	var minutely []Minute
	if minutes > 0 {
		ms, err := a.inspector.Throughput(r.Context(), minutes)
		if a.jobsError(w, r, err) {
			return
		}
		minutely = make([]Minute, len(ms))
		for i, m := range ms {
			minutely[i] = Minute{Minute: m.Minute, Processed: m.Processed, Failed: m.Failed}
		}
	}
	out := JobStats{Daily: viewDays(st.Daily), Minutely: minutely, Queues: make([]Queue, len(st.Queues)),
		JobCounts: JobCounts{Processed: st.Processed, Failed: st.Failed, Ready: st.Ready, Running: st.Running,
			Scheduled: st.Scheduled, Retry: st.Retry, Dead: st.Dead}}
	for i, q := range st.Queues {
		latency := time.Duration(0)
		if !q.OldestReadyAt.IsZero() {
			latency = max(time.Since(q.OldestReadyAt), 0)
		}
		out.Queues[i] = viewQueue(q, latency)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) queues(w http.ResponseWriter, r *http.Request) {
	if !a.needJobs(w, r) {
		return
	}
	qs, err := a.inspector.Queues(r.Context())
	if a.jobsError(w, r, err) {
		return
	}
	out := QueueList{Queues: make([]Queue, len(qs))}
	for i, q := range qs {
		out.Queues[i] = viewQueue(&q.QueueStats, q.Latency)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) processes(w http.ResponseWriter, r *http.Request) {
	if !a.needJobs(w, r) {
		return
	}
	ps, err := a.inspector.Processes(r.Context())
	if a.jobsError(w, r, err) {
		return
	}
	if ps == nil {
		ps = []*jobs.ProcessInfo{}
	}
	writeJSON(w, http.StatusOK, ProcessList{Processes: ps})
}

// queueAction pauses or resumes a queue.
func (a *api) queueAction(w http.ResponseWriter, r *http.Request, act func(*jobs.Inspector) func(ctx context.Context, name string) error) {
	if !a.needJobs(w, r) {
		return
	}
	name := r.PathValue("name")
	if err := jobs.ValidateQueueName(name); err != nil {
		a.problem(w, r, http.StatusBadRequest, err)
		return
	}
	if a.jobsError(w, r, act(a.inspector)(r.Context(), name)) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) pauseQueue(w http.ResponseWriter, r *http.Request) {
	a.queueAction(w, r, func(in *jobs.Inspector) func(context.Context, string) error { return in.PauseQueue })
}

func (a *api) resumeQueue(w http.ResponseWriter, r *http.Request) {
	a.queueAction(w, r, func(in *jobs.Inspector) func(context.Context, string) error { return in.ResumeQueue })
}

func (a *api) retryJob(w http.ResponseWriter, r *http.Request) {
	a.jobAction(w, r, (*jobs.Inspector).Retry)
}

func (a *api) deleteJob(w http.ResponseWriter, r *http.Request) {
	a.jobAction(w, r, (*jobs.Inspector).Delete)
}

// jobAction retries or deletes a job.
func (a *api) jobAction(w http.ResponseWriter, r *http.Request, act func(*jobs.Inspector, context.Context, jobs.State, string) error) {
	if !a.needJobs(w, r) {
		return
	}
	state, err := jobState(r)
	if err != nil {
		a.problem(w, r, http.StatusBadRequest, err)
		return
	}
	if a.jobsError(w, r, act(a.inspector, r.Context(), state, r.PathValue("id"))) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

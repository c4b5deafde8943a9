package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobtype"
)

// errNoJobs answers the jobs routes of an API given no job driver.
var errNoJobs = errors.New("the job engine is not configured on this server")

// JobList is a page of jobs.
type JobList struct {
	Jobs []*jobs.Job `json:"jobs"`
}

// JobStats are the job engine's counters.
type JobStats = jobs.Stats

// QueueList lists the queues.
type QueueList struct {
	Queues []Queue `json:"queues"`
}

// Queue is a queue with its counters.
type Queue struct {
	jobs.QueueStats
	// LatencySeconds is the age of the oldest ready job.
	LatencySeconds float64
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
	if o := q.Get("offset"); o != "" {
		if offset, err = strconv.Atoi(o); err != nil || offset < 0 {
			err = fmt.Errorf("offset %q is not a number from 0", o)
		}
	}
	if err = errors.Join(err, lerr); err != nil {
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
	if js == nil {
		js = []*jobs.Job{}
	}
	writeJSON(w, http.StatusOK, JobList{Jobs: js})
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
	st, err := a.inspector.Stats(r.Context(), days)
	if a.jobsError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, st)
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
		out.Queues[i] = Queue{QueueStats: q.QueueStats, LatencySeconds: q.Latency.Seconds()}
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

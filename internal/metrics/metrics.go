// Package metrics holds a Quire process's own Prometheus series: the Go
// runtime's and the process's, the executions of the jobs it runs (a
// jobs.Middleware), the runs of the pipeline's stages, and the HTTP
// requests it serves. Every role registers the same series, so a dashboard
// reads them whatever the process does; the queues' figures, shared by all
// processes, are added by the roles that see the broker.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
)

// pipelineJobPrefix starts the job types of the pipeline's stages
// (pipeline.extract, pipeline.analyze, pipeline.notify, …): their executions
// are the stages' runs, so the stage metrics are read off them here rather
// than kept by the pipeline too.
const pipelineJobPrefix = "pipeline."

// Outcomes of one execution, as the metrics label them.
const (
	outcomeOK        = "ok"        // the handler succeeded
	outcomeError     = "error"     // it failed and will be retried, or is dead after its last attempt
	outcomeDiscarded = "discarded" // it failed for good at once (jobs.Discard)
	outcomeSnoozed   = "snoozed"   // it asked to run again later (jobs.Snooze)
	outcomePanic     = "panic"     // it panicked
)

// Metrics are one process's own Prometheus series: the Go runtime's and the
// process's, the executions of the jobs it ran, and the HTTP requests it
// served. The queues' figures, shared by every process, come from the broker
// and are registered with Registry by the roles that fetch jobs.
type Metrics struct {
	// Registry holds the series; a role adds its own to it.
	Registry *prometheus.Registry

	jobsProcessed *prometheus.CounterVec   // queue, type
	jobsFailed    *prometheus.CounterVec   // queue, type
	jobDuration   *prometheus.HistogramVec // queue, type
	stageDuration *prometheus.HistogramVec // stage
	stageOutcomes *prometheus.CounterVec   // stage, outcome
	httpRequests  *prometheus.CounterVec   // route, code
	httpDuration  *prometheus.HistogramVec // route
	httpInFlight  prometheus.Gauge
}

// New returns the metrics of a process, registered with the Go and process
// collectors.
func New() *Metrics {
	// Jobs range from no-ops (microseconds) to OCR of a long document
	// (minutes): exponential buckets from 1 ms to about 9 minutes.
	jobBuckets := prometheus.ExponentialBuckets(0.001, 4, 11)
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		jobsProcessed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quire_jobs_processed_total",
			Help: "Executions of jobs this process finished, failed ones included, by queue and job type.",
		}, []string{"queue", "type"}),
		jobsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quire_jobs_failed_total",
			Help: "Executions of jobs this process ran that failed, by queue and job type.",
		}, []string{"queue", "type"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "quire_job_duration_seconds",
			Help:    "How long the executions of jobs took, by queue and job type.",
			Buckets: jobBuckets,
		}, []string{"queue", "type"}),
		stageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "quire_pipeline_stage_duration_seconds",
			Help:    "How long runs of the document pipeline's stages took, by stage.",
			Buckets: jobBuckets,
		}, []string{"stage"}),
		stageOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quire_pipeline_stage_runs_total",
			Help: "Runs of the document pipeline's stages by stage and outcome: ok, error (retried, or dead after the last attempt), discarded, snoozed or panic.",
		}, []string{"stage", "outcome"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quire_http_requests_total",
			Help: "HTTP requests served by the API, by route pattern and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "quire_http_request_duration_seconds",
			Help:    "How long the API took to answer, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "quire_http_requests_in_flight",
			Help: "HTTP requests the API is answering: what a stopping web process still drains.",
		}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.jobsProcessed, m.jobsFailed, m.jobDuration,
		m.stageDuration, m.stageOutcomes,
		m.httpRequests, m.httpDuration, m.httpInFlight,
	)
	return m
}

// Handler serves the registry's metrics.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		// A broker outage drops the queue metrics from the scrape, not the
		// process's own.
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	})
}

// Middleware records every execution of a job. It wraps the handler, so it
// sees the time the handler took and its error, not the broker's
// acknowledgement.
func (m *Metrics) Middleware() jobs.Middleware {
	return func(next jobs.HandlerFunc) jobs.HandlerFunc {
		return func(ctx context.Context, j *jobs.Job) (err error) {
			start := time.Now()
			returned := false
			// A panic passes through untouched (the server turns it into a
			// PanicError with the handler's stack); it is counted on the way.
			defer func() {
				outcome := outcomeOf(err)
				if !returned {
					outcome = outcomePanic
				}
				m.observeJob(j.Queue, j.Type, outcome, time.Since(start))
			}()
			err = next(ctx, j)
			returned = true
			return err
		}
	}
}

// observeJob records one execution.
func (m *Metrics) observeJob(queue, typ, outcome string, d time.Duration) {
	m.jobsProcessed.WithLabelValues(queue, typ).Inc()
	if outcome != outcomeOK && outcome != outcomeSnoozed {
		m.jobsFailed.WithLabelValues(queue, typ).Inc()
	}
	m.jobDuration.WithLabelValues(queue, typ).Observe(d.Seconds())
	if stage, ok := strings.CutPrefix(typ, pipelineJobPrefix); ok {
		m.stageDuration.WithLabelValues(stage).Observe(d.Seconds())
		m.stageOutcomes.WithLabelValues(stage, outcome).Inc()
	}
}

// ObserveStages has the pipeline report the stage runs no job of their own
// shows (a small document's analysis, done by its extract job), so that the
// stage series count every run.
func (m *Metrics) ObserveStages(c *pipeline.Config) {
	c.ObserveStage = func(stage string, d time.Duration, err error) {
		m.stageDuration.WithLabelValues(stage).Observe(d.Seconds())
		m.stageOutcomes.WithLabelValues(stage, outcomeOf(err)).Inc()
	}
}

func outcomeOf(err error) string {
	var discard *jobs.DiscardError
	var snooze *jobs.SnoozeError
	switch {
	case err == nil:
		return outcomeOK
	case errors.As(err, &snooze):
		return outcomeSnoozed
	case errors.As(err, &discard):
		return outcomeDiscarded
	}
	return outcomeError
}

// routeUnmatched labels requests that matched no route, so that probing
// random paths cannot grow the series without bound.
const routeUnmatched = "unmatched"

// Instrument counts and times the requests h serves by the pattern of the
// route that served them ("POST /api/v1/documents", never the path with its
// ids) and the status code. h must be, or end in, an http.ServeMux: the mux
// records the pattern in the request.
func (m *Metrics) Instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.httpInFlight.Inc()
		defer m.httpInFlight.Dec()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = routeUnmatched
		}
		m.httpRequests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
		m.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.code, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the writer's own methods
// (Flush, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

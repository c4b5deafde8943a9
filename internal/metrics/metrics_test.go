package metrics_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/metrics"
	"github.com/quirehq/quire/jobs"
)

// scrape returns the metrics m serves, as Prometheus reads them.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(slog.Default()).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}

// TestMiddleware runs a pipeline stage's job to each outcome: every run
// is counted by queue and type and by stage and outcome, failures apart,
// and a panic passes through, counted.
func TestMiddleware(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	mw := m.Middleware()
	job := &jobs.Job{Queue: "extract", Type: "pipeline.extract"}
	for _, err := range []error{nil, nil, errors.New("retry"), jobs.Discard(errors.New("bad")), jobs.Snooze(time.Second)} {
		got := mw(func(context.Context, *jobs.Job) error { return err })(context.Background(), job)
		require.Equal(t, err, got)
	}
	require.Panics(t, func() {
		_ = mw(func(context.Context, *jobs.Job) error { panic("boom") })(context.Background(), job)
	})
	out := scrape(t, m)
	for _, want := range []string{
		`quire_jobs_processed_total{queue="extract",type="pipeline.extract"} 6`,
		`quire_jobs_failed_total{queue="extract",type="pipeline.extract"} 3`,
		`quire_pipeline_stage_runs_total{outcome="ok",stage="extract"} 2`,
		`quire_pipeline_stage_runs_total{outcome="error",stage="extract"} 1`,
		`quire_pipeline_stage_runs_total{outcome="discarded",stage="extract"} 1`,
		`quire_pipeline_stage_runs_total{outcome="snoozed",stage="extract"} 1`,
		`quire_pipeline_stage_runs_total{outcome="panic",stage="extract"} 1`,
		`quire_job_duration_seconds_count{queue="extract",type="pipeline.extract"} 6`,
		"go_goroutines", "process_resident_memory_bytes",
	} {
		require.Contains(t, out, want)
	}
}

// TestInstrument labels requests by their route's pattern, never the
// path, and those no route matched as unmatched.
func TestInstrument(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/documents/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := m.Instrument(mux)
	for _, path := range []string{"/api/v1/documents/01ABC", "/api/v1/documents/01DEF", "/wp-admin"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	out := scrape(t, m)
	require.Contains(t, out, `quire_http_requests_total{code="418",route="GET /api/v1/documents/{id}"} 2`)
	require.Contains(t, out, `quire_http_requests_total{code="404",route="unmatched"} 1`)
	require.Contains(t, out, "quire_http_requests_in_flight 0")
	require.False(t, strings.Contains(out, "01ABC"), "a path's ids in a label")
}

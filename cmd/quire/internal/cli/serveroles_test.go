package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quirehq/quire/internal/app"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
)

// setupServers gives a test Redis and a PostgreSQL database of its own, and
// a blob directory every process of the test shares, as a deployment's
// processes do.
func setupServers(t *testing.T) *testBundle {
	t.Helper()
	b := setup(t)
	pg := testenv.NewPostgresDatabase(t)
	blobs := (&url.URL{Scheme: "file", Path: t.TempDir()}).String()
	b.args = append(b.args, "--postgres-url", pg, "--blob-url", blobs, "--data-dir", t.TempDir())
	return b
}

// metricValue returns the value of the series of a /metrics page, or -1
// when the page lacks it.
func metricValue(t *testing.T, page, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(page)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// uploadDocument posts a document to an API and returns its id.
func uploadDocument(t *testing.T, apiAddr, token, name string, content []byte) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(t, err)
	_, err = fw.Write(content)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	resp, err := authPost(token, "http://"+apiAddr+"/api/v1/documents", mw.FormDataContentType(), &body)
	require.NoError(t, err)
	defer resp.Body.Close()
	var doc struct{ ID string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.NotEmpty(t, doc.ID)
	return doc.ID
}

// TestServeWebAndWorker runs a deployment's roles as separate processes on
// Redis and PostgreSQL: a document uploaded to the web role is taken to
// done by a worker of the pipeline's queues, and both processes' /metrics
// count what they did.
func TestServeWebAndWorker(t *testing.T) {
	t.Parallel()
	b := setupServers(t)
	token := apiToken(t, b)
	web := startProcess(t, b, "serve", "--role", "web", "--http-addr", "127.0.0.1:0")
	require.NotEmpty(t, web.httpAddr)
	worker := startServe(t, b, "--queues", "extract=3,ocr=1,analyze=4,notify=5,maintenance=1")

	code, body := web.get(t, "/healthz")
	require.Equal(t, http.StatusOK, code, body)
	code, body = web.get(t, "/readyz")
	require.Equal(t, http.StatusOK, code, body)
	// The API is on --http-addr only: the edge never reaches the probes, and
	// the probes' address serves no API.
	code, _ = web.get(t, "/api/v1/documents")
	require.Equal(t, http.StatusNotFound, code)
	apiGet := func(path string) (int, string) {
		return (&serveBundle{addr: web.httpAddr, token: token}).get(t, path)
	}
	code, _ = apiGet("/healthz")
	require.Equal(t, http.StatusNotFound, code)
	// The API wants a token, the UI a session.
	code, _ = (&serveBundle{addr: web.httpAddr}).get(t, "/api/v1/documents")
	require.Equal(t, http.StatusUnauthorized, code)
	resp, err := http.Get("http://" + web.httpAddr + "/jobs")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "/login", resp.Request.URL.Path, "a page redirects to the login")

	docx, err := os.ReadFile("../../../../testdata/office/udhr.docx")
	require.NoError(t, err)
	id := uploadDocument(t, web.httpAddr, token, "udhr.docx", docx)
	var doc struct{ State, FailureReason string }
	waitFor(t, "the worker to take the document to done", func() bool {
		code, got := apiGet("/api/v1/documents/" + id)
		require.Equal(t, http.StatusOK, code, got)
		require.NoError(t, json.Unmarshal([]byte(got), &doc))
		require.NotEqual(t, "failed", doc.State, doc.FailureReason)
		return doc.State == "done"
	})
	code, text := apiGet("/api/v1/documents/" + id + "/text")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, text, "Universal Declaration of Human Rights")

	// Only the worker fetches: the web role registers no process.
	procs := runJSON[[]struct {
		Labels map[string]string `json:"labels"`
	}](t, b, "jobs", "processes")
	require.Len(t, procs, 1)
	require.Equal(t, "worker", procs[0].Labels["role"])

	_, page := worker.get(t, "/metrics")
	for _, series := range []string{
		`quire_jobs_processed_total{queue="extract",type="pipeline.extract"}`,
		`quire_job_duration_seconds_count{queue="extract",type="pipeline.extract"}`,
		`quire_job_duration_seconds_sum{queue="extract",type="pipeline.extract"}`,
		`quire_pipeline_stage_duration_seconds_count{stage="extract"}`,
		`quire_pipeline_stage_duration_seconds_count{stage="analyze"}`,
		`quire_pipeline_stage_runs_total{outcome="ok",stage="extract"}`,
		`quire_pipeline_stage_runs_total{outcome="ok",stage="analyze"}`, // by the extract job: a small document
		`quire_queue_processed_total{queue="extract"}`,
	} {
		require.Greater(t, metricValue(t, page, series), 0.0, "%s in the worker's /metrics:\n%s", series, page)
	}
	// The document went through without a failed stage.
	require.Equal(t, -1.0, metricValue(t, page, `quire_jobs_failed_total{queue="extract",type="pipeline.extract"}`))

	_, page = web.get(t, "/metrics")
	for _, series := range []string{
		`quire_http_requests_total{code="201",route="POST /api/v1/documents"}`,
		`quire_http_requests_total{code="200",route="GET /api/v1/documents/{id}"}`,
		`quire_http_requests_total{code="404",route="unmatched"}`,
		`quire_http_request_duration_seconds_count{route="POST /api/v1/documents"}`,
	} {
		require.Greater(t, metricValue(t, page, series), 0.0, "%s in the web role's /metrics:\n%s", series, page)
	}
	require.Equal(t, 1.0, metricValue(t, page, `quire_http_requests_total{code="201",route="POST /api/v1/documents"}`))

	require.Equal(t, exitOK, worker.stop(t).code)
	require.Equal(t, exitOK, web.stop(t).code)
}

// TestServeWebDrainsAtSIGTERM: from SIGTERM on the web role's /readyz
// answers 503, the request in flight is answered, and the process exits.
func TestServeWebDrainsAtSIGTERM(t *testing.T) {
	t.Parallel()
	b := setupServers(t)
	token := apiToken(t, b)
	web := startProcess(t, b, "serve", "--role", "web", "--http-addr", "127.0.0.1:0", "--shutdown-timeout", "1m")
	// Ready a moment after it listens: once its API serves too.
	waitFor(t, "/readyz to answer 200", func() bool { code, _ := web.get(t, "/readyz"); return code == http.StatusOK })

	// An upload whose body arrives only when the test says so holds a
	// request in flight across the SIGTERM.
	pr, pw := io.Pipe()
	type answer struct {
		code int
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := authPost(token, "http://"+web.httpAddr+"/api/v1/documents?name=slow.txt", "text/plain", pr)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answered <- answer{code: resp.StatusCode}
	}()
	_, err := pw.Write([]byte("the first half of a document, "))
	require.NoError(t, err)
	waitFor(t, "the upload to reach its handler", func() bool {
		_, page := web.get(t, "/metrics")
		return metricValue(t, page, "quire_http_requests_in_flight") == 1
	})

	web.cancel() // SIGTERM
	waitFor(t, "/readyz to answer 503", func() bool { code, _ := web.get(t, "/readyz"); return code == http.StatusServiceUnavailable })
	code, body := web.get(t, "/healthz")
	require.Equal(t, http.StatusOK, code, body)
	select {
	case r := <-web.done:
		t.Fatalf("the web role exited with a request in flight: %d %s", r.code, r.stderr)
	default:
	}

	_, err = pw.Write([]byte("and the second."))
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	a := <-answered
	require.NoError(t, a.err)
	require.Equal(t, http.StatusCreated, a.code)
	r := web.stop(t)
	require.Equal(t, exitOK, r.code, r.stderr)
}

// TestServeWorkerNotReadyAtSIGTERM: a worker's /readyz answers 503 from
// SIGTERM on while its running job finishes, and the job is done, not
// handed back, when it finishes within the shutdown timeout.
func TestServeWorkerNotReadyAtSIGTERM(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := startServe(t, b, "--shutdown-timeout", "1m")
	b.runOK(t, "jobs", "enqueue", "sleep", `{"duration":"5s"}`)
	waitFor(t, "the job to run", func() bool { return runJSON[statsView](t, b, "jobs", "stats").Running == 1 })

	s.cancel() // SIGTERM
	waitFor(t, "/readyz to answer 503", func() bool { code, _ := s.get(t, "/readyz"); return code == http.StatusServiceUnavailable })
	code, body := s.get(t, "/healthz")
	require.Equal(t, http.StatusOK, code, body)
	r := s.stop(t)
	require.Equal(t, exitOK, r.code, r.stderr)
	st := runJSON[statsView](t, b, "jobs", "stats")
	require.EqualValues(t, 1, st.Processed)
	require.Zero(t, st.Ready+st.Running, "the job finished rather than being handed back")
}

// TestServeSchedulerSharesTicks runs two scheduler roles and a jobs.Server
// with the same periodic job on one Redis: one leads at a time, each tick is
// enqueued once, the schedulers fetch nothing, and SIGTSTP quiets them.
func TestServeSchedulerSharesTicks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const queue = "ticks"
	periodic := []jobs.PeriodicJob{{Name: "tick", Schedule: "@every 100ms", Type: "noop",
		Opts: &jobs.EnqueueOpts{Queue: queue}}}
	withTicks := func(d *deps) { d.periodicJobs = func() []jobs.PeriodicJob { return periodic } }
	s1 := startProcessWith(t, b, withTicks, "serve", "--role", "scheduler", "--shutdown-timeout", "5s")
	s2 := startProcessWith(t, b, withTicks, "serve", "--role=scheduler")

	// A server carrying the same schedule, as quire up does, on a queue of
	// its own so that it does not run the ticks.
	br, err := app.OpenBroker(&app.Config{RedisURL: b.redisURL, RedisPrefix: b.prefix})
	require.NoError(t, err)
	t.Cleanup(func() { _ = br.Close() })
	srv, err := jobs.NewServer(br.Driver, &jobs.Config{Handlers: app.BuiltinHandlers(), Queues: map[string]int{"other": 1},
		PeriodicJobs: periodic})
	require.NoError(t, err)
	require.NoError(t, srv.Start(t.Context()))
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })

	for _, s := range []*serveBundle{s1, s2} {
		code, body := s.get(t, "/readyz")
		require.Equal(t, http.StatusOK, code, body)
		code, body = s.get(t, "/healthz")
		require.Equal(t, http.StatusOK, code, body)
		code, body = s.get(t, "/metrics")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, "go_goroutines")
	}
	insp := jobs.NewInspector(br.Driver, nil)
	var ticks []*jobs.Job
	waitFor(t, "10 ticks", func() bool {
		ticks, err = insp.Jobs(t.Context(), &jobs.ListParams{Queue: queue, State: jobs.StateReady, Limit: 1000})
		require.NoError(t, err)
		return len(ticks) >= 10
	})
	leaders := func() float64 {
		var n float64
		for _, s := range []*serveBundle{s1, s2} {
			_, page := s.get(t, "/metrics")
			v := metricValue(t, page, "quire_scheduler_leader")
			require.GreaterOrEqual(t, v, 0.0, "quire_scheduler_leader is served")
			n += v
		}
		return n
	}
	require.LessOrEqual(t, leaders(), 1.0, "two scheduler roles lead at once")
	// The server resigns at stop, if it led: one of the roles leads then.
	require.NoError(t, srv.Stop(t.Context()))
	waitFor(t, "one scheduler role to lead", func() bool { return leaders() == 1 })
	s1.quiet <- syscall.SIGTSTP
	waitFor(t, "the quiet scheduler's /readyz to answer 503", func() bool {
		code, _ := s1.get(t, "/readyz")
		return code == http.StatusServiceUnavailable
	})
	require.Equal(t, exitOK, s1.stop(t).code)
	require.Equal(t, exitOK, s2.stop(t).code)

	ticks, err = insp.Jobs(t.Context(), &jobs.ListParams{Queue: queue, State: jobs.StateReady, Limit: 1000})
	require.NoError(t, err)
	// Every job, the server's and the schedulers', is keyed on its tick in
	// one format; were the formats to differ, a tick would be enqueued once
	// under each.
	seen := map[time.Time]bool{}
	for _, j := range ticks {
		at, ok := strings.CutPrefix(j.UniqueKey, "periodic:tick:")
		require.True(t, ok, j.UniqueKey)
		tick, err := time.Parse(time.RFC3339Nano, at)
		require.NoError(t, err, j.UniqueKey)
		require.Zero(t, tick.UnixNano()%int64(100*time.Millisecond), "tick %s is off the schedule", at)
		require.False(t, seen[tick], "tick %s was enqueued twice", at)
		seen[tick] = true
	}
	// The schedulers registered no process: they fetch nothing.
	require.JSONEq(t, `[]`, b.runOK(t, "jobs", "processes", "--json").stdout)
}

// TestServeRoles: the roles' settings are checked at start.
func TestServeRoles(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	r := b.run(t, "serve", "--role", "nope")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "valid roles are ml, scheduler, web, worker")
	r = b.run(t, "serve", "--role", "web", "--http-addr", "")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "--http-addr / QUIRE_HTTP_ADDR")
	r = runCLI(t.Context(), t, nil, "serve", "--help")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Regexp(t, `--http-addr string\s+.*\[\$QUIRE_HTTP_ADDR\] \(default ":8080"\)`, r.stdout)
}

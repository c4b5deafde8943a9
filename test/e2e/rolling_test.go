package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// stopTimeout bounds a graceful stop: the processes' --shutdown-timeout
// (20 s) and the time to hand back what is left.
const stopTimeout = time.Minute

// TestRollingUpdate replaces every process of a deployment one by one with
// SIGTERM while a load generator uploads documents through nginx and
// enqueues jobs: no request fails, every document reaches done, and every
// job runs. Web processes keep their address (nginx's upstreams), so the
// old one stops before the new one starts, and nginx sends the requests to
// the other meanwhile; a worker or the scheduler is replaced by starting
// the new one first.
func TestRollingUpdate(t *testing.T) {
	d := newDeployment(t)
	l := d.startLoad(loadOpts{uploaders: 3})
	defer l.stop()
	l.progress(t, 20)

	checkMetrics(t, d, l)

	for i := range d.web {
		d.web[i].Stop(t, stopTimeout)
		d.web[i] = d.startWeb(i)
		l.progress(t, 20)
	}
	for i := range d.workers {
		old := d.workers[i]
		d.workers[i] = d.startWorker()
		old.Stop(t, stopTimeout)
		l.progress(t, 20)
	}
	old := d.sched
	d.sched = d.startScheduler()
	require.Zero(t, scrape(t, d.sched)["quire_scheduler_leader"], "a second scheduler leads while the first does")
	old.Stop(t, stopTimeout)
	// The old scheduler resigned at SIGTERM: the new one takes over at its
	// next renewal.
	waitFor(t, "the new scheduler to lead", time.Minute, func() bool {
		return scrape(t, d.sched)["quire_scheduler_leader"] == 1
	})
	l.progress(t, 20)
	l.stop()

	l.mu.Lock()
	failures := l.failures
	l.mu.Unlock()
	require.Empty(t, failures, "failed requests during the rolling update\nnginx:\n%s", d.nginx.Log())
	// What nginx routed around: refused connections to a web process that
	// was gone, and connections a stopping one closed under a request.
	t.Logf("nginx passed to the other web process: %d refused connections, %d reset ones",
		strings.Count(d.nginx.Log(), "Connection refused"), strings.Count(d.nginx.Log(), "reset by peer"))
	d.settle(l)
}

// TestRollingKill kills workers with SIGKILL in the middle of their jobs,
// one after the other, and starts new ones, under the same load: the jobs
// the killed workers held come back when their leases expire, so none is
// lost and every document reaches done.
func TestRollingKill(t *testing.T) {
	d := newDeployment(t)
	// Jobs that work a while, so that a killed worker holds some.
	l := d.startLoad(loadOpts{uploaders: 3, jobMS: 200})
	defer l.stop()
	l.progress(t, 20)

	held := 0
	kill := func(i int) {
		var busy float64
		waitFor(t, d.workers[i].Name+" to be running jobs", time.Minute, func() bool {
			busy = scrape(t, d.workers[i])["quire_process_busy_jobs"]
			return busy > 0
		})
		held += int(busy)
		d.workers[i].Kill(t)
	}
	for i := range d.workers {
		kill(i)
		d.workers[i] = d.startWorker()
		l.progress(t, 20)
	}
	// Once more, with two workers gone at once.
	kill(0)
	kill(1)
	d.workers[0], d.workers[1] = d.startWorker(), d.startWorker()
	l.progress(t, 20)
	l.stop()
	t.Logf("the killed workers were running at least %d jobs", held)

	l.mu.Lock()
	failures := l.failures
	l.mu.Unlock()
	require.Empty(t, failures, "failed requests")
	d.settle(l)
}

// checkMetrics scrapes /metrics of a web process and a worker while the
// load runs, with Prometheus's own parser: the series docs/operations.md
// documents are there with sane values, and the counters grow.
func checkMetrics(t *testing.T, d *deployment, l *load) {
	t.Helper()
	web, worker := d.web[0], d.workers[0]
	uploads := `quire_http_requests_total{code="201",route="POST /api/v1/documents"}`
	records := `quire_jobs_processed_total{queue="default",type="test.record"}`
	extracts := `quire_pipeline_stage_duration_seconds_count{stage="extract"}`
	processed := `quire_queue_processed_total{queue="default"}`

	var web1, worker1 map[string]float64
	waitFor(t, "the web process to count uploads", time.Minute, func() bool {
		web1 = scrape(t, web)
		return web1[uploads] > 0
	})
	waitFor(t, "the worker to count test.record jobs and extract stages", time.Minute, func() bool {
		worker1 = scrape(t, worker)
		return worker1[records] > 0 && worker1[extracts] > 0
	})
	// Web: requests by route and code, their durations; it runs no jobs.
	require.Contains(t, web1, "quire_http_request_duration_seconds")
	require.Contains(t, web1, "quire_http_requests_in_flight")
	require.Contains(t, web1, "go_goroutines")
	require.NotContains(t, web1, "quire_jobs_processed_total")
	// Worker: executions by queue and type, stage durations and outcomes,
	// the queues' sizes read from Redis.
	for _, name := range []string{"quire_jobs_processed_total", "quire_job_duration_seconds",
		"quire_pipeline_stage_duration_seconds", "quire_pipeline_stage_runs_total",
		"quire_queue_ready_jobs", "quire_queue_running_jobs", "quire_queue_scheduled_jobs", "quire_queue_retry_jobs",
		"quire_queue_dead_jobs", "quire_queue_latency_seconds", "quire_queue_processed_total", "quire_process_busy_jobs"} {
		require.Contains(t, worker1, name, "the worker's /metrics")
	}
	require.Contains(t, worker1, `quire_queue_ready_jobs{queue="default"}`)
	require.GreaterOrEqual(t, worker1[`quire_queue_ready_jobs{queue="default"}`], 0.0)
	require.GreaterOrEqual(t, worker1[`quire_queue_latency_seconds{queue="default"}`], 0.0)
	require.Zero(t, worker1[`quire_queue_dead_jobs{queue="default"}`])
	require.GreaterOrEqual(t, worker1[processed], worker1[records], "the broker counts every worker's executions")
	require.Positive(t, worker1[`quire_pipeline_stage_runs_total{outcome="ok",stage="extract"}`])
	require.Positive(t, worker1[`quire_pipeline_stage_duration_seconds_sum{stage="extract"}`])

	l.progress(t, 40)
	waitFor(t, "the counters to grow", time.Minute, func() bool {
		worker2, web2 := scrape(t, worker), scrape(t, web)
		return worker2[records] > worker1[records] && worker2[processed] > worker1[processed] &&
			web2[uploads] > web1[uploads]
	})
}

// scrape reads a process's /metrics with Prometheus's own parser and
// returns every sample by its series, labels sorted by name:
// `name{a="1",b="2"}`; a histogram gives its _count and _sum. Every family's
// bare name is there too, so that a test can ask whether it is served.
func scrape(t *testing.T, p *testenv.Process) map[string]float64 {
	t.Helper()
	code, body, err := testenv.Get("http://" + p.Addr + "/metrics")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, "parse %s's /metrics", p.Name)
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			series := func(suffix string) string {
				var b strings.Builder
				b.WriteString(name + suffix)
				if len(m.GetLabel()) > 0 {
					b.WriteString("{")
					for i, lp := range m.GetLabel() {
						if i > 0 {
							b.WriteString(",")
						}
						b.WriteString(lp.GetName() + `="` + lp.GetValue() + `"`)
					}
					b.WriteString("}")
				}
				return b.String()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[series("")] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[series("")] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[series("_count")] = float64(m.GetHistogram().GetSampleCount())
				out[series("_sum")] = m.GetHistogram().GetSampleSum()
			case dto.MetricType_SUMMARY:
				out[series("_count")] = float64(m.GetSummary().GetSampleCount())
			default:
				out[series("")] = m.GetUntyped().GetValue()
			}
		}
		// The family is there; an unlabelled gauge or counter keeps its
		// value.
		if _, ok := out[name]; !ok {
			out[name] = 1
		}
	}
	return out
}

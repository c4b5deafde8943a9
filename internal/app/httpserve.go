package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quirehq/quire/internal/metrics"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/web/edge"
)

// scrapeTimeout bounds the broker reads of one /metrics scrape or status
// page.
const scrapeTimeout = 5 * time.Second

// newHTTPServer serves a worker's probes and metrics:
//
//   - /healthz is liveness: 200 while the fetch loop turns (its beat is
//     fresher than 3×pollInterval+5s) or the worker is quiet, else 503. It
//     never touches the broker: an outage must not restart every worker.
//   - /readyz is readiness: 200 while the server fetches, 503 before it
//     starts, once it is quiet and while it stops.
//   - /metrics is Prometheus: the queues' sizes, latency and counters, read
//     from the broker on each scrape, the process's busy jobs and m's
//     series (executions, pipeline stages, HTTP requests);
//   - every other path is the web UI and, under /api/, the REST API, when
//     web is not nil (quire up), their requests counted in m. web is
//     fronted by its edge (the Host check of --allowed-hosts); the probes
//     and metrics are not: the kubelet and Prometheus name the pod's
//     address, or whatever their configuration says, as the Host, and a
//     probe refused for its Host would restart a healthy process.
//
// The server has ec's timeouts.
func newHTTPServer(srv *jobs.Server, insp *jobs.Inspector, quiet *atomic.Bool, pollInterval time.Duration, m *metrics.Metrics, log *slog.Logger, web http.Handler, ec edge.Config) *http.Server {
	stale := 3*pollInterval + 5*time.Second
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		age := time.Since(srv.FetchLoopBeat())
		switch {
		case quiet.Load():
			writeProbe(w, http.StatusOK, "ok: quiet")
		case age > stale:
			writeProbe(w, http.StatusServiceUnavailable,
				fmt.Sprintf("stuck: the fetch loop last turned %s ago (limit %s)", age.Round(time.Millisecond), stale))
		default:
			writeProbe(w, http.StatusOK, "ok")
		}
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if srv.Ready() {
			writeProbe(w, http.StatusOK, "ready")
			return
		}
		writeProbe(w, http.StatusServiceUnavailable, "not ready: not fetching")
	})

	m.Registry.MustRegister(
		&queueCollector{insp: insp},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "quire_process_busy_jobs",
			Help: "Jobs this process is running.",
		}, func() float64 { return float64(srv.Busy()) }),
	)
	mux.Handle("GET /metrics", m.Handler(log))
	if web != nil {
		mux.Handle("/", m.Instrument(web))
	}
	return ec.Server(mux)
}

// newProbeServer serves the probes and metrics of a role that fetches no
// jobs (web, scheduler):
//
//   - /healthz is liveness: 200 while the process answers. It touches
//     neither the broker nor the store, so an outage of either never
//     restarts the pods;
//   - /readyz is readiness: 200 while ready is set, 503 otherwise (before
//     the start and from SIGTERM on, while the role drains);
//   - /metrics is Prometheus: m's series.
//
// The server has ec's timeouts.
func newProbeServer(ready *atomic.Bool, m *metrics.Metrics, log *slog.Logger, ec edge.Config) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeProbe(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ready.Load() {
			writeProbe(w, http.StatusOK, "ready")
			return
		}
		writeProbe(w, http.StatusServiceUnavailable, "not ready: starting or stopping")
	})
	mux.Handle("GET /metrics", m.Handler(log))
	return ec.Server(mux)
}

func writeProbe(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

var (
	queueLabels = []string{"queue"}

	queueReadyDesc     = prometheus.NewDesc("quire_queue_ready_jobs", "Jobs waiting in the queue to run.", queueLabels, nil)
	queueRunningDesc   = prometheus.NewDesc("quire_queue_running_jobs", "Jobs of the queue held by workers.", queueLabels, nil)
	queueScheduledDesc = prometheus.NewDesc("quire_queue_scheduled_jobs", "Jobs of the queue scheduled for later.", queueLabels, nil)
	queueRetryDesc     = prometheus.NewDesc("quire_queue_retry_jobs", "Failed jobs of the queue waiting to be retried.", queueLabels, nil)
	queueDeadDesc      = prometheus.NewDesc("quire_queue_dead_jobs", "Jobs of the queue that failed for good.", queueLabels, nil)
	queuePausedDesc    = prometheus.NewDesc("quire_queue_paused", "1 while the queue is paused.", queueLabels, nil)
	queueLatencyDesc   = prometheus.NewDesc("quire_queue_latency_seconds", "Age of the oldest ready job of the queue.", queueLabels, nil)
	queueProcessedDesc = prometheus.NewDesc("quire_queue_processed_total", "Executions of the queue's jobs that finished, failed ones included.", queueLabels, nil)
	queueFailedDesc    = prometheus.NewDesc("quire_queue_failed_total", "Executions of the queue's jobs that failed.", queueLabels, nil)
)

// queueCollector reads every queue with the Inspector on each scrape, so the
// figures are the broker's, shared by all processes: any one worker's
// /metrics shows them.
type queueCollector struct {
	insp *jobs.Inspector
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueReadyDesc, queueRunningDesc, queueScheduledDesc, queueRetryDesc,
		queueDeadDesc, queuePausedDesc, queueLatencyDesc, queueProcessedDesc, queueFailedDesc} {
		ch <- d
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	qs, err := c.insp.Queues(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueReadyDesc, fmt.Errorf("read queues: %w", err))
		return
	}
	for _, q := range qs {
		paused := 0.0
		if q.Paused {
			paused = 1
		}
		for _, m := range []struct {
			desc *prometheus.Desc
			typ  prometheus.ValueType
			v    float64
		}{
			{queueReadyDesc, prometheus.GaugeValue, float64(q.Ready)},
			{queueRunningDesc, prometheus.GaugeValue, float64(q.Running)},
			{queueScheduledDesc, prometheus.GaugeValue, float64(q.Scheduled)},
			{queueRetryDesc, prometheus.GaugeValue, float64(q.Retry)},
			{queueDeadDesc, prometheus.GaugeValue, float64(q.Dead)},
			{queuePausedDesc, prometheus.GaugeValue, paused},
			{queueLatencyDesc, prometheus.GaugeValue, q.Latency.Seconds()},
			{queueProcessedDesc, prometheus.CounterValue, float64(q.Processed)},
			{queueFailedDesc, prometheus.CounterValue, float64(q.Failed)},
		} {
			ch <- prometheus.MustNewConstMetric(m.desc, m.typ, m.v, q.Queue)
		}
	}
}

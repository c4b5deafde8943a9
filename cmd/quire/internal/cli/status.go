package cli

import (
	"bytes"
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/jobs"
)

// statusHandler serves quire up's status page: the queues, the live
// processes and today's counts, read through the Inspector on each request.
// It is a plain page until the web UI comes; it changes nothing.
type statusHandler struct {
	insp *jobs.Inspector
	log  *slog.Logger
}

// statusView is what the status page shows.
type statusView struct {
	Version   string
	Now       string
	Error     string
	Date      string
	Processed int64
	Failed    int64
	Queues    []statusQueue
	Processes []statusProcess
}

type statusQueue struct {
	Name                              string
	Paused                            bool
	Ready, Running, Scheduled, Retry  int64
	Dead, ProcessedToday, FailedToday int64
	Latency                           string
}

type statusProcess struct {
	ID, Host, Queues, Started, Beat, Version string
	PID, Busy, Concurrency                   int
	Quiet                                    bool
}

func (h *statusHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), scrapeTimeout)
	defer cancel()
	now := time.Now()
	v := statusView{Version: buildinfo.Version, Now: now.UTC().Format(time.DateTime + " MST"), Date: now.UTC().Format(time.DateOnly)}
	code := http.StatusOK
	if err := h.read(ctx, now, &v); err != nil {
		// The page still renders, so the operator sees why it is empty.
		h.log.Warn("status page: read the job engine", "error", err)
		v.Error = err.Error()
		code = http.StatusServiceUnavailable
	}
	var buf bytes.Buffer
	if err := statusTemplate.Execute(&buf, &v); err != nil {
		h.log.Error("status page: render", "error", err)
		http.Error(w, "render the status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func (h *statusHandler) read(ctx context.Context, now time.Time, v *statusView) error {
	qs, err := h.insp.Queues(ctx)
	if err != nil {
		return err
	}
	for _, q := range qs {
		sq := statusQueue{
			Name: q.Queue, Paused: q.Paused, Ready: q.Ready, Running: q.Running,
			Scheduled: q.Scheduled, Retry: q.Retry, Dead: q.Dead, Latency: roundDuration(q.Latency),
		}
		// Inspector.Queue asks for one day of history: today (UTC).
		if len(q.Daily) > 0 {
			sq.ProcessedToday, sq.FailedToday = q.Daily[0].Processed, q.Daily[0].Failed
			v.Date = q.Daily[0].Date
		}
		v.Processed += sq.ProcessedToday
		v.Failed += sq.FailedToday
		v.Queues = append(v.Queues, sq)
	}
	ps, err := h.insp.Processes(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		v.Processes = append(v.Processes, statusProcess{
			ID: p.ID, Host: p.Host, PID: p.PID, Queues: strings.Join(p.Queues, ", "), Busy: p.Busy,
			Concurrency: p.Concurrency, Quiet: p.Quiet, Started: relTime(now, p.StartedAt),
			Beat: relTime(now, p.BeatAt), Version: p.Version,
		})
	}
	return nil
}

// statusTemplate is html/template, so every name and message from the broker
// is escaped. It refreshes itself every five seconds and loads nothing else.
var statusTemplate = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Quire</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 2rem; }
th, td { padding: .3rem .8rem; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.error { color: #a00; }
.muted { color: #777; }
</style>
</head>
<body>
<h1>Quire</h1>
<p class="muted">version {{.Version}} · {{.Now}} · refreshes every 5 s</p>
{{if .Error}}<p class="error" id="error">Cannot read the job engine: {{.Error}}</p>{{end}}
<h2>Today ({{.Date}}, UTC)</h2>
<table id="today">
<tr><th>processed</th><th>failed</th></tr>
<tr><td>{{.Processed}}</td><td>{{.Failed}}</td></tr>
</table>
<h2>Queues</h2>
{{if .Queues}}<table id="queues">
<tr><th>queue</th><th>ready</th><th>latency</th><th>running</th><th>scheduled</th><th>retry</th><th>dead</th><th>paused</th><th>processed today</th><th>failed today</th></tr>
{{range .Queues}}<tr><td>{{.Name}}</td><td>{{.Ready}}</td><td>{{.Latency}}</td><td>{{.Running}}</td><td>{{.Scheduled}}</td><td>{{.Retry}}</td><td>{{.Dead}}</td><td>{{if .Paused}}paused{{else}}no{{end}}</td><td>{{.ProcessedToday}}</td><td>{{.FailedToday}}</td></tr>
{{end}}</table>
{{else}}<p>No queues yet: enqueue a job with <code>quire jobs enqueue noop</code>.</p>
{{end}}<h2>Processes</h2>
{{if .Processes}}<table id="processes">
<tr><th>process</th><th>host</th><th>pid</th><th>queues</th><th>busy</th><th>quiet</th><th>started</th><th>last beat</th><th>version</th></tr>
{{range .Processes}}<tr><td>{{.ID}}</td><td>{{.Host}}</td><td>{{.PID}}</td><td>{{.Queues}}</td><td>{{.Busy}}/{{.Concurrency}}</td><td>{{if .Quiet}}quiet{{else}}no{{end}}</td><td>{{.Started}}</td><td>{{.Beat}}</td><td>{{.Version}}</td></tr>
{{end}}</table>
{{else}}<p>No live processes.</p>
{{end}}</body>
</html>
`))

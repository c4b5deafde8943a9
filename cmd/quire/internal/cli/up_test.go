package cli

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quirehq/quire/internal/app"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUp runs quire up as a newcomer would, then feeds it from the jobs
// commands of another "terminal" sharing its broker, and stops it as SIGTERM
// does.
func TestUp(t *testing.T) {
	t.Parallel()
	forEachBroker(t, func(t *testing.T, b *testBundle) {
		r := b.runWith(t.Context(), t, &runOpts{stdin: "correct horse battery staple"}, "admin", "create", "--email", "ada@example.org", "--password-stdin")
		require.Equal(t, exitOK, r.code, r.stderr)
		s := startProcess(t, b, "up", "--concurrency", "4", "--shutdown-timeout", "300ms")

		waitFor(t, "/readyz once the worker fetches", func() bool { code, _ := s.get(t, "/readyz"); return code == http.StatusOK })
		code, body := s.get(t, "/healthz")
		require.Equal(t, http.StatusOK, code, body)
		code, body = s.get(t, "/metrics")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, "quire_process_busy_jobs 0")
		require.Contains(t, body, "go_goroutines")

		type process struct {
			ID     string            `json:"id"`
			Labels map[string]string `json:"labels"`
		}
		var procs []process
		waitFor(t, "the process record", func() bool {
			procs = runJSON[[]process](t, b, "jobs", "processes")
			return len(procs) == 1
		})
		require.Equal(t, "all", procs[0].Labels["role"])
		// The dashboard, signed in, shows the process and its queue.
		base := "http://" + s.addr
		c := uiLogin(t, base, "ada@example.org", "correct horse battery staple")
		code, page := getPage(t, c, base+"/")
		require.Equal(t, http.StatusOK, code, page)
		require.Contains(t, page, "<h1>Dashboard</h1>")
		require.Contains(t, page, `<td class="num">0 / 4</td>`, "the process, idle")
		require.Contains(t, page, `<tr><td>default</td><td class="num">0</td><td class="num">0</td><td class="num">0.0s</td></tr>`)
		code, _ = getPage(t, c, base+"/nope")
		require.Equal(t, http.StatusNotFound, code)

		b.runOK(t, "jobs", "enqueue", "noop")
		b.runOK(t, "jobs", "enqueue", "no.such.handler")
		// The default queue's counts: up runs jobs of its own (the
		// maintenance queue's sweeps) that count in the totals whenever they
		// come due. They hold from the second execution until the retry, 16 s
		// at the earliest; what was seen last says where a wait stuck.
		var last queueView
		if !assert.Eventually(t, func() bool {
			for _, q := range runJSON[statsView](t, b, "jobs", "stats").Queues {
				if q.Queue == "default" {
					last = q
				}
			}
			return last.Processed == 2 && last.Failed == 1 && last.Retry == 1
		}, 15*time.Second, 20*time.Millisecond) {
			t.Fatalf("waiting for 2 executions on the default queue, 1 of them failed: last seen %+v\nprocesses: %s\nretries: %s", last,
				b.runOK(t, "jobs", "processes", "--json").stdout, b.runOK(t, "jobs", "retries", "--json").stdout)
		}
		_, page = getPage(t, c, base+"/")
		processed := regexp.MustCompile(`<span class="n" data-stat="processed">(\d+)</span>`).FindStringSubmatch(page)
		require.NotNil(t, processed, page)
		n, err := strconv.Atoi(processed[1])
		require.NoError(t, err)
		require.GreaterOrEqual(t, n, 2, "the default queue's two and any maintenance job")
		require.Contains(t, page, `<span class="n" data-stat="retry">1</span>`)
		_, body = s.get(t, "/metrics")
		require.Contains(t, body, `quire_queue_processed_total{queue="default"} 2`)

		// Paused queues say so.
		b.runOK(t, "jobs", "pause", "default")
		_, page = getPage(t, c, base+"/")
		require.Contains(t, page, "<td>default <small>(paused)</small></td>")
		b.runOK(t, "jobs", "resume", "default")

		// Graceful stop: a job still running after --shutdown-timeout is
		// cancelled and handed back at once, and the HTTP server closes.
		b.runOK(t, "jobs", "enqueue", "sleep", `{"duration":"10m"}`)
		waitFor(t, "the sleep job to run", func() bool { return runJSON[statsView](t, b, "jobs", "stats").Running == 1 })
		start := time.Now()
		r = s.stop(t)
		require.Equal(t, exitOK, r.code, r.stderr)
		require.Less(t, time.Since(start), 10*time.Second)
		st := runJSON[statsView](t, b, "jobs", "stats")
		for _, q := range st.Queues {
			if q.Queue == "default" {
				require.EqualValues(t, 1, q.Ready, "the cancelled job is back on its queue")
			}
		}
		require.Zero(t, st.Running)
		require.JSONEq(t, `[]`, b.runOK(t, "jobs", "processes", "--json").stdout)
		_, err = net.DialTimeout("tcp", s.addr, time.Second)
		require.Error(t, err, "the HTTP server is closed")
	})
}

// TestUpAddrTaken: a port in use stops up at start, naming the setting.
func TestUpAddrTaken(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	r := b.run(t, "up", "--addr", ln.Addr().String())
	require.Equal(t, exitError, r.code, r.stderr)
	require.Regexp(t, `quire: listen on --addr / QUIRE_ADDR "`+regexp.QuoteMeta(ln.Addr().String())+`": .*address already in use`, r.stderr)
}

// TestUpDefaults: with no setting at all, up serves on the loopback
// interface and keeps its jobs under ./quire-data.
func TestUpDefaults(t *testing.T) {
	t.Parallel()
	r := runCLI(t.Context(), t, nil, "up", "--help")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Regexp(t, `--addr string\s+.*\(default "127\.0\.0\.1:8080"\)`, r.stdout)
	require.Regexp(t, `--data-dir string\s+.*\(default "\./quire-data"\)`, r.stdout)
	require.Equal(t, filepath.Join("quire-data", "jobs.db"), filepath.Join(app.DataDirDefault, app.JobsDBName))
}

// TestUpTakesDocuments uploads real documents to quire up's REST API, as a
// newcomer's first curl would, and reads the results back.
func TestUpTakesDocuments(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	token := apiToken(t, b)
	s := startProcess(t, b, "up", "--shutdown-timeout", "300ms")
	s.token = token
	waitFor(t, "/readyz once the worker fetches", func() bool { code, _ := s.get(t, "/readyz"); return code == http.StatusOK })

	docx, err := os.ReadFile("../../../../testdata/office/udhr.docx")
	require.NoError(t, err)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "udhr.docx")
	require.NoError(t, err)
	_, err = fw.Write(docx)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	resp, err := authPost(token, "http://"+s.addr+"/api/v1/documents", mw.FormDataContentType(), &body)
	require.NoError(t, err)
	var doc struct {
		ID, State, MIMEType string
		FailureReason       string `json:"failure_reason"`
		PageCount           int    `json:"page_count"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.NotEmpty(t, doc.ID)

	encrypted, err := os.ReadFile("../../../../testdata/office/encrypted.xlsx")
	require.NoError(t, err)
	resp, err = authPost(token, "http://"+s.addr+"/api/v1/documents?name=locked.xlsx", "application/octet-stream", bytes.NewReader(encrypted))
	require.NoError(t, err)
	var locked struct{ ID string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&locked))
	resp.Body.Close()

	waitFor(t, "the DOCX done", func() bool {
		_, got := s.get(t, "/api/v1/documents/"+doc.ID)
		require.NoError(t, json.Unmarshal([]byte(got), &doc))
		return doc.State == "done"
	})
	code, text := s.get(t, "/api/v1/documents/"+doc.ID+"/text")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, text, "Universal Declaration of Human Rights")
	requirePrivate(t, b.dataDir)
	waitFor(t, "the encrypted spreadsheet failed", func() bool {
		_, got := s.get(t, "/api/v1/documents/"+locked.ID)
		require.NoError(t, json.Unmarshal([]byte(got), &doc))
		return doc.State == "failed"
	})
	require.Contains(t, doc.FailureReason, "encrypted")

	// Bad input gets a clear answer, and the process stays up.
	resp, err = authPost(token, "http://"+s.addr+"/api/v1/documents", "text/plain", strings.NewReader(""))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	code, _ = s.get(t, "/api/v1/documents/01NOSUCHDOCUMENT")
	require.Equal(t, http.StatusNotFound, code)

	// migrate finds the store that up created up to date.
	require.Contains(t, b.runOK(t, "migrate").stdout, "sqlite store is up to date")
}

// requirePrivate checks that everything under dir, dir included, is its
// owner's alone: the databases (webhook secrets, password hashes) and the
// documents.
func requirePrivate(t *testing.T, dir string) {
	t.Helper()
	seen := map[string]bool{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		fi, err := d.Info()
		require.NoError(t, err)
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		require.Equal(t, want, fi.Mode().Perm(), "%s", path)
		switch {
		case d.Name() == "jobs.db", d.Name() == "quire.db":
			seen[d.Name()] = true
		case !d.IsDir() && strings.Contains(path, string(filepath.Separator)+"blobs"+string(filepath.Separator)):
			seen["a blob"] = true
		}
		return nil
	}))
	require.Equal(t, map[string]bool{"jobs.db": true, "quire.db": true, "a blob": true}, seen)
}

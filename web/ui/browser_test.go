package ui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// screenshotDir is where TestBrowser writes the README's screenshots when
// QUIRE_UPDATE_SCREENSHOTS=1.
const screenshotDir = "../../docs/screenshots"

// browser is one tab of a headless Chromium, with the console messages and
// exceptions of its pages.
type browser struct {
	ctx  context.Context
	base string
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

// newBrowser starts Chromium (Debian's chromium package) with a tab of the
// given size.
// forEachScreen runs test in a browser of its own at each screen size the
// pages are tested at, desktop and phone, in subtests named after them.
func forEachScreen(t *testing.T, base string, test func(t *testing.T, br *browser, screen string)) {
	t.Helper()
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		t.Run(size.name, func(t *testing.T) {
			test(t, newBrowser(t, base, size.width, size.height, size.mobile), size.name)
		})
	}
}

func newBrowser(t *testing.T, base string, width, height int64, mobile bool) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	testenv.RequireService(t, "chromium", err)
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-extensions", true), chromedp.WindowSize(int(width), int(height)))
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	br := &browser{ctx: ctx, base: base}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			br.mu.Lock()
			br.msgs = append(br.msgs, m)
			br.mu.Unlock()
		}
	}()
	opts := []chromedp.EmulateViewportOption{}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, height, opts...)))

	// The listener hears an error, or its silence later would prove
	// nothing.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`console.error("quire self-check")`))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(br.problems()) == 1 }, 10*time.Second, 10*time.Millisecond, "the console listener")
	br.mu.Lock()
	br.msgs = nil
	br.mu.Unlock()
	return br
}

// problems returns the console errors, warnings and exceptions so far.
func (br *browser) problems() []string {
	br.mu.Lock()
	defer br.mu.Unlock()
	var out []string
	for _, m := range br.msgs {
		switch m.Type {
		case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
			out = append(out, fmt.Sprintf("%s %s:%d: %s", m.Type, m.URL, m.Line+1, m.Text))
		}
	}
	return out
}

func (br *browser) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(br.ctx, actions...))
}

func (br *browser) open(t *testing.T, path string) {
	t.Helper()
	br.do(t, chromedp.Navigate(br.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

func eval[T any](t *testing.T, br *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(br.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	require.NoError(t, err, js)
	return v
}

// waitJS waits until a script is true. It evaluates it anew each time, so a
// page that reloads itself meanwhile is no error.
func (br *browser) waitJS(t *testing.T, what, js string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(br.ctx, chromedp.Evaluate[bool](`!!(`+js+`)`))
		if err == nil && ok {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: %s stayed false", what, js)
}

func (br *browser) location(t *testing.T) string {
	t.Helper()
	loc, err := chromedp.Run(br.ctx, chromedp.Location())
	require.NoError(t, err)
	return loc
}

// fitsWidth checks that the page needs no horizontal scrolling.
func (br *browser) fitsWidth(t *testing.T, page string) {
	t.Helper()
	require.True(t, eval[bool](t, br, `document.documentElement.scrollWidth <= window.innerWidth`),
		"%s is wider than the screen: %d > %d", page, eval[int](t, br, `document.documentElement.scrollWidth`), eval[int](t, br, `window.innerWidth`))
}

// TestBrowser drives a real headless Chromium through the UI at a desktop
// and a phone size: sign in by keyboard, upload a file, watch it reach
// done, read its page, relabel it, retry a dead job; then fail to act
// without the CSRF token and without a session. No page logs an error.
func TestBrowser(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	forEachScreen(t, b.srv.URL, func(t *testing.T, br *browser, screen string) {
		b.browse(t, br, screen, screen == "desktop" && os.Getenv("QUIRE_UPDATE_SCREENSHOTS") == "1")
		require.Empty(t, br.problems(), "console errors")
	})
}

// TestBrowserOnServers runs the desktop walk on PostgreSQL and Redis, as a
// deployment's web role would.
func TestBrowserOnServers(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{servers: true})
	br := newBrowser(t, b.srv.URL, 1280, 900, false)
	b.browse(t, br, "servers", false)
	require.Empty(t, br.problems(), "console errors")
}

func (b *testBundle) browse(t *testing.T, br *browser, name string, screenshots bool) {
	ctx := context.Background()
	admin := b.email[auth.ScopeAdmin]

	// A page without a session goes to the login; the login is done with
	// the keyboard alone, from the skip link on.
	br.open(t, "/documents")
	require.Equal(t, b.srv.URL+"/login?next=%2Fdocuments", br.location(t))
	require.Equal(t, "email", eval[string](t, br, `document.activeElement.id`), "the login form has the focus")
	br.do(t, chromedp.KeyEvent(admin+"\t"+password+"\r"))
	br.waitJS(t, "the documents page", `document.querySelector("h1") && document.querySelector("h1").textContent === "Documents"`)
	require.Equal(t, b.srv.URL+"/documents", br.location(t))
	br.fitsWidth(t, "the documents page")
	br.do(t, chromedp.KeyEvent("\t"))
	require.Equal(t, "skip", eval[string](t, br, `document.activeElement.className`), "the first Tab reaches the skip link")

	// Upload a file with the file picker: the script sends it to the API
	// with a progress bar and links to its page.
	content := "Report of " + name + " by Herbert Hoover, 6 December 1932.\n<script>window.pwned = 1</script>\nThe state of the Union.\n"
	file := filepath.Join(t.TempDir(), name+"-report.txt")
	require.NoError(t, os.WriteFile(file, []byte(content), 0o644))
	br.open(t, "/upload")
	br.fitsWidth(t, "the upload page")
	br.do(t, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}))
	br.waitJS(t, "the upload's link", `document.querySelector(".upload-link")`)
	require.Equal(t, 100, eval[int](t, br, `document.querySelector("#uploads progress").value`))

	// A file dropped on the drop zone goes the same way.
	_, err := chromedp.Run(br.ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(["Dropped by `+name+` on the drop zone."], "`+name+`-dropped.txt", {type: "text/plain"}));
		document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
	})()`))
	require.NoError(t, err)
	br.waitJS(t, "the dropped file's link", `document.querySelectorAll(".upload-link").length === 2`)
	require.Eventually(t, func() bool {
		dropped, err := b.st.ListDocuments(ctx, &store.ListDocumentsParams{Query: "dropped " + name})
		require.NoError(t, err)
		return len(dropped.Documents) == 1
	}, time.Minute, 50*time.Millisecond, "the dropped file stored and indexed")

	br.do(t, chromedp.Click(chromedp.CSS(".upload-link")))

	// The page follows the document until it is done.
	br.waitJS(t, "the document done", `document.querySelector('article.doc[data-state="done"]')`)
	id := eval[string](t, br, `document.querySelector("article.doc").dataset.docId`)
	require.Contains(t, eval[string](t, br, `document.querySelector("#doc-classes").textContent`), "kind:text")

	// What a model found is highlighted in the text, which is shown as
	// text: the script in it does not run.
	start := strings.Index(content, "Herbert Hoover")
	require.NoError(t, b.st.SaveAnalysis(ctx, &store.SaveAnalysisParams{DocumentID: id, ModelVersion: "test@1",
		Entities: []store.Entity{{Kind: "person", Value: "Herbert Hoover", Start: start, End: start + len("Herbert Hoover"), Confidence: 0.9},
			{Kind: store.EntityKindKeyword, Value: "union", Confidence: 0.5}},
		Summary: "A report on the state of the Union."}))
	br.open(t, "/documents/"+id)
	require.Equal(t, "Herbert Hoover", eval[string](t, br, `document.querySelector("#doc-text mark.ent-person").textContent`))
	require.Contains(t, eval[string](t, br, `document.querySelector("#doc-text").textContent`), "<script>window.pwned = 1</script>")
	require.True(t, eval[bool](t, br, `window.pwned === undefined`))
	require.Equal(t, "union", eval[string](t, br, `document.querySelector("#doc-keywords").textContent`))
	require.Equal(t, "A report on the state of the Union.", eval[string](t, br, `document.querySelector("#doc-summary").textContent`))
	require.GreaterOrEqual(t, eval[int](t, br, `document.querySelectorAll("#doc-timeline li").length`), 3, "the stages' timeline")
	br.fitsWidth(t, "the document page")

	// Relabel: the label is stored for training, set by the user.
	br.do(t, chromedp.SendKeys(chromedp.ID("label"), "invoice"), chromedp.Click(chromedp.ID("relabel-submit")))
	br.waitJS(t, "the label listed", `document.querySelector("#doc-labels") && document.querySelector("#doc-labels").textContent.includes("invoice")`)
	labels, err := b.st.ListLabels(ctx, &store.ListLabelsParams{DocumentID: id})
	require.NoError(t, err)
	require.Len(t, labels, 1)
	require.Equal(t, "invoice", labels[0].Label)
	require.Equal(t, "user:"+admin, labels[0].SetBy)
	if screenshots {
		b.screenshot(t, br, "document.png")
	}

	// The queues tab refreshes itself.
	br.open(t, "/jobs?tab=queues")
	br.fitsWidth(t, "the queues")
	_, err = chromedp.Run(br.ctx, chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	require.NoError(t, err)
	br.waitJS(t, "the queues tab reloaded", `window.notReloaded === undefined && document.querySelector("#queues")`)

	// A job that failed for good is retried from the dead set and runs.
	b.flakyOK.Store(false)
	job, err := b.jobs.Enqueue(ctx, "test.flaky", map[string]string{"run": name}, &jobs.EnqueueOpts{MaxRetries: jobs.NoRetries})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := b.insp.Job(ctx, job.ID)
		dead, lerr := b.insp.Jobs(ctx, &jobs.ListParams{State: jobs.StateDead})
		require.NoError(t, lerr)
		return err == nil && len(dead) == 1 && dead[0].ID == job.ID
	}, time.Minute, 50*time.Millisecond, "the job dead")
	br.open(t, "/jobs?tab=dead")
	br.fitsWidth(t, "the dead jobs")
	require.Contains(t, eval[string](t, br, `document.querySelector('tr[data-job-id="`+job.ID+`"]').textContent`), "the flaky service is down")
	b.flakyOK.Store(true)
	br.do(t, chromedp.Click(chromedp.CSS(`tr[data-job-id="`+job.ID+`"] button[formaction="/jobs/retry"]`)))
	br.waitJS(t, "the retry's message", `document.querySelector(".flash") && document.querySelector(".flash").textContent.includes("Retried 1 job")`)
	require.Eventually(t, func() bool {
		st, err := b.insp.Stats(ctx, 1)
		require.NoError(t, err)
		return st.Dead == 0 && st.Ready == 0 && st.Running == 0
	}, time.Minute, 50*time.Millisecond, "the retried job ran")

	// The dashboard updates itself: its chart draws the last hour from the
	// engine's per-minute counters, polled every 5 seconds, so the jobs
	// run before the page was opened are on it at once.
	br.open(t, "/")
	br.fitsWidth(t, "the dashboard")
	br.waitJS(t, "the first drawing", `document.querySelectorAll("#chart text").length > 0`)
	require.Equal(t, 60, eval[int](t, br, `document.querySelectorAll("#chart circle.processed").length`), "a point a minute")
	require.Positive(t, eval[int](t, br, `Number(document.querySelector("#chart").dataset.processed)`), "jobs of the last hour")
	for i := range 40 {
		_, err := b.jobs.Enqueue(ctx, "test.flaky", map[string]int{"n": i}, nil)
		require.NoError(t, err)
	}
	br.waitJS(t, "the chart drawn", `document.querySelectorAll("#chart polyline").length === 2`)
	br.waitJS(t, "the jobs counted", `Number(document.querySelector('[data-stat="processed"]').textContent) >= 40`)
	// Documents are counted apart from jobs, first: every one of this
	// walk's documents is done or failed by now.
	docs, err := b.st.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, fmt.Sprint(docs.Documents), eval[string](t, br, `document.querySelector('#doc-cards [data-docstate="total"]').textContent`))
	require.Equal(t, fmt.Sprint(docs.ByState[store.StateDone]), eval[string](t, br, `document.querySelector('#doc-cards [data-docstate="done"]').textContent`))
	require.Equal(t, fmt.Sprint(docs.ByState[store.StateFailed]), eval[string](t, br, `document.querySelector('#doc-cards [data-docstate="failed"]').textContent`))
	require.Equal(t, fmt.Sprint(docs.Documents-docs.ByState[store.StateDone]-docs.ByState[store.StateFailed]),
		eval[string](t, br, `document.querySelector('#doc-cards [data-docstate="in_progress"]').textContent`))
	br.waitJS(t, "a line of two samples", `document.querySelectorAll("#chart circle.processed").length >= 2`)
	if screenshots {
		b.screenshot(t, br, "dashboard.png")
	}

	// Without the CSRF token, a form's POST and the API's are refused, the
	// session notwithstanding.
	status := eval[int](t, br, `fetch("/documents/`+id+`/labels", {method: "POST", body: new URLSearchParams({label: "forged"})}).then(r => r.status)`)
	require.Equal(t, 403, status)
	status = eval[int](t, br, `fetch("/api/v1/documents/`+id+`/labels", {method: "POST", headers: {"Content-Type": "application/json"}, body: '{"label": "forged"}'}).then(r => r.status)`)
	require.Equal(t, 403, status)

	// Signed out, the session's token is worth nothing, and pages go to
	// the login again.
	csrf := eval[string](t, br, `document.body.dataset.csrf`)
	br.do(t, chromedp.Click(chromedp.CSS(".who button")))
	br.waitJS(t, "the login page", `location.pathname === "/login"`)
	status = eval[int](t, br, `fetch("/documents/`+id+`/labels", {method: "POST", body: new URLSearchParams({label: "forged", csrf: "`+csrf+`"})}).then(r => r.status)`)
	require.Equal(t, 403, status)
	status = eval[int](t, br, `fetch("/api/v1/documents/`+id+`/labels", {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": "`+csrf+`"}, body: '{"label": "forged"}'}).then(r => r.status)`)
	require.Equal(t, 401, status)
	labels, err = b.st.ListLabels(ctx, &store.ListLabelsParams{DocumentID: id})
	require.NoError(t, err)
	require.Len(t, labels, 1, "no forged label")
	br.open(t, "/jobs")
	require.True(t, strings.HasPrefix(br.location(t), b.srv.URL+"/login"))
	b.forgetRefusals(br)
}

// forgetRefusals drops the browser's log entries of the refused requests
// above: refusing them was the point.
func (b *testBundle) forgetRefusals(br *browser) {
	br.mu.Lock()
	defer br.mu.Unlock()
	kept := br.msgs[:0]
	for _, m := range br.msgs {
		if m.Source == "network" && (strings.Contains(m.Text, "403") || strings.Contains(m.Text, "401")) {
			continue
		}
		kept = append(kept, m)
	}
	br.msgs = kept
}

func (b *testBundle) screenshot(t *testing.T, br *browser, name string) {
	t.Helper()
	png, err := chromedp.Run(br.ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(screenshotDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(screenshotDir, name), png, 0o644))
}

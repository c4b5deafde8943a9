package ui_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// uploadFile sends a file to the API with a write token and returns the
// document's id.
func (b *testBundle) uploadFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	resp, body := b.do(t, http.DefaultClient, http.MethodPost, "/api/v1/documents?name="+url.QueryEscape(name),
		map[string]string{"Authorization": "Bearer " + b.token[auth.ScopeWrite], "Content-Type": "application/octet-stream"}, string(content))
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	var doc struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	return doc.ID
}

func (b *testBundle) waitFinal(t *testing.T, id string) *store.Document {
	t.Helper()
	var doc *store.Document
	require.Eventually(t, func() bool {
		var err error
		doc, err = b.st.GetDocument(context.Background(), id)
		require.NoError(t, err)
		return doc.State == store.StateDone || doc.State == store.StateFailed
	}, 2*time.Minute, 20*time.Millisecond)
	return doc
}

// TestDocumentPages: the list filters and searches; a PDF's page frames
// the original, an image's shows it; the original is served inline only
// for those, and sandboxed unless a PDF.
func TestDocumentPages(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c, _ := b.login(t, auth.ScopeRead)
	pdf, err := os.ReadFile("../../testdata/pdf/float.pdf")
	require.NoError(t, err)
	png, err := os.ReadFile("../../testdata/images/text.png")
	require.NoError(t, err)
	pdfID := b.uploadFile(t, "float.pdf", pdf)
	pngID := b.uploadFile(t, "text.png", png)
	txtID := b.uploadFile(t, "notes.txt", []byte("Minutes of the quarterly meeting about zeppelins.\n<b>bold</b>"))
	for _, id := range []string{pdfID, pngID, txtID} {
		b.waitFinal(t, id)
	}

	_, page := b.get(t, c, "/documents/"+pdfID)
	require.Contains(t, page, `<iframe class="preview" src="/documents/`+pdfID+`/original"`)
	_, page = b.get(t, c, "/documents/"+pngID)
	require.Contains(t, page, `<img class="preview" src="/documents/`+pngID+`/original"`)
	_, page = b.get(t, c, "/documents/"+txtID)
	require.NotContains(t, page, `class="preview"`)
	require.Contains(t, page, "&lt;b&gt;bold&lt;/b&gt;", "the document's text is escaped")

	for _, tc := range []struct {
		id, mime, disposition, csp string
	}{
		{pdfID, "application/pdf", "inline", "default-src 'none'"},
		{pngID, "image/png", "inline", "sandbox"},
		{txtID, "text/plain", "attachment", "sandbox"},
	} {
		resp, _ := b.do(t, c, http.MethodGet, "/documents/"+tc.id+"/original", nil, "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), tc.mime), resp.Header.Get("Content-Type"))
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Disposition"), tc.disposition), tc.mime)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), tc.csp), tc.mime)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	}

	_, page = b.get(t, c, "/documents?q=zeppelins")
	require.Contains(t, page, `<a href="/documents/`+txtID+`">notes.txt</a>`)
	require.NotContains(t, page, "float.pdf")
	_, page = b.get(t, c, "/documents?mime_type=application/pdf")
	require.Contains(t, page, "float.pdf")
	require.NotContains(t, page, "notes.txt")
	code, page := b.get(t, c, "/documents?state=nope")
	require.Equal(t, http.StatusBadRequest, code, page)
	code, _ = b.get(t, c, "/documents/01NOSUCHDOCUMENT")
	require.Equal(t, http.StatusNotFound, code)
}

// TestDocumentProperties: what a document says of itself (an Excel
// workbook's sheets, its modification date) is on its page, escaped.
func TestDocumentProperties(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c, _ := b.login(t, auth.ScopeRead)
	xls, err := os.ReadFile("../../testdata/formats/legacy/sotu.xls")
	require.NoError(t, err)
	id := b.uploadFile(t, "sotu.xls", xls)
	b.waitFinal(t, id)
	code, page := b.get(t, c, "/documents/"+id)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "application/vnd.ms-excel", "the type, from the whole content")
	require.Contains(t, page, "<strong>extract</strong> done: the content is application/vnd.ms-excel</li>",
		"the timeline says that the type seen at ingest, from the first bytes, was refined")
	require.Contains(t, page, `<dl class="props" id="doc-metadata"><dt>created</dt><dd>2026-11-28T12:00:00Z</dd><dt>modified</dt><dd>2026-11-28T12:00:00Z</dd><dt>sheets</dt><dd>Addresses
Presidents
Parties</dd></dl>`)
	_, page = b.get(t, c, "/documents/"+b.uploadFile(t, "notes.txt", []byte("Plain words")))
	require.NotContains(t, page, "doc-metadata", "a document without properties shows none")
}

// TestTruncatedText: a document whose text was cut at the text limit says
// so on its page and in the list; another does not, nor the same one once
// its text is saved whole.
func TestTruncatedText(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c, _ := b.login(t, auth.ScopeRead)
	ctx := context.Background()
	// Documents made in the store directly: no job runs on them.
	create := func(name, text string, truncated bool) string {
		sum := sha256.Sum256([]byte(name))
		hexSum := hex.EncodeToString(sum[:])
		doc, _, err := b.st.CreateDocument(ctx, &store.CreateDocumentParams{SHA256: hexSum, Name: name,
			MIMEType: "text/plain", Size: 100, Source: store.SourceUpload, BlobKey: "sha256/" + hexSum})
		require.NoError(t, err)
		require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: doc.ID, Text: text, Truncated: truncated}))
		return doc.ID
	}
	cutID := create("ledger.txt", "The ledger's first entries", true)
	wholeID := create("note.txt", "A short note", false)
	const notice = `<p class="notice" id="doc-truncated" role="note"><strong>Text truncated:</strong>`

	code, page := b.get(t, c, "/documents/"+cutID)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, notice)
	require.Contains(t, page, "<code>--max-text-bytes</code>")
	require.Contains(t, page, "The ledger&#39;s first entries", "the text is still shown")
	code, page = b.get(t, c, "/documents/"+wholeID)
	require.Equal(t, http.StatusOK, code, page)
	require.NotContains(t, page, "doc-truncated")
	require.NotContains(t, page, "Text truncated")

	_, page = b.get(t, c, "/documents")
	rows := strings.Split(page, "<tr>")
	var cutRow, wholeRow string
	for _, row := range rows {
		switch {
		case strings.Contains(row, `href="/documents/`+cutID+`"`):
			cutRow = row
		case strings.Contains(row, `href="/documents/`+wholeID+`"`):
			wholeRow = row
		}
	}
	require.Contains(t, cutRow, `<span class="badge"`)
	require.Contains(t, cutRow, ">truncated</span>")
	require.NotEmpty(t, wholeRow)
	require.NotContains(t, wholeRow, `class="badge"`)

	// Extracted again, whole: the notice is gone.
	require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: cutID, Text: "The whole ledger"}))
	_, page = b.get(t, c, "/documents/"+cutID)
	require.NotContains(t, page, "doc-truncated")
}

// TestModelsPage shows a model's metrics and confusion matrix, and an
// admin activates another version.
func TestModelsPage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	// As mlpipeline.Publish records them, with a confusion matrix.
	metrics := json.RawMessage(`{"algorithm": "nb", "examples": 400, "held_out": 100, "accuracy": 0.95, "macro_f1": 0.949,
		"artifact": "sha256/ab/cd/abcd", "format_version": 1, "labels": ["ham", "spam"], "confusion": [[40, 2], [3, 55]]}`)
	v1, err := b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "classifier", Name: "spam", Version: "1", Metrics: metrics, Active: true})
	require.NoError(t, err)
	v2, err := b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "classifier", Name: "spam", Version: "2", Metrics: metrics})
	require.NoError(t, err)

	c, csrf := b.login(t, auth.ScopeAdmin)
	_, page := b.get(t, c, "/models")
	require.Contains(t, page, `<th scope="row">spam</th><td class="num">3</td><td class="num hit">55</td>`)
	require.Contains(t, page, "<dd>95%</dd>")
	require.Contains(t, page, "<dd>0.949</dd>")
	require.Contains(t, page, "<dd>100 held-out documents</dd>")
	require.Contains(t, page, `action="/models/`+v2.ID+`/activate"`)
	require.NotContains(t, page, `action="/models/`+v1.ID+`/activate"`, "the active version has no button")

	resp, _ := b.post(t, c, "/models/"+v2.ID+"/activate", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	got, err := b.st.GetModelVersion(ctx, v2.ID)
	require.NoError(t, err)
	require.True(t, got.Active)

	// The tag classifier, multi-label, is measured by micro-F1, as
	// mlpipeline's tag trainer records it, not by accuracy.
	tagger := json.RawMessage(`{"algorithm": "logreg", "examples": 900, "held_out": 180, "micro_f1": 0.627, "macro_f1": 0.332,
		"artifact": "sha256/ef/01/ef01", "format_version": 1}`)
	_, err = b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "tagger", Name: "tags", Version: "1", Metrics: tagger, Active: true})
	require.NoError(t, err)
	_, page = b.get(t, c, "/models")
	require.Contains(t, page, "<dt>Micro F1</dt><dd>0.627</dd><dt>Macro F1</dt><dd>0.332</dd>")
	require.Contains(t, page, "<dd>180 held-out documents</dd>")

	reader, _ := b.login(t, auth.ScopeRead)
	_, page = b.get(t, reader, "/models")
	require.NotContains(t, page, "/activate", "a reader sees no button")
}

// TestJobsBulk retries two dead jobs at once and deletes a third.
func TestJobsBulk(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		j, err := b.jobs.Enqueue(ctx, "test.flaky", map[string]int{"n": i}, &jobs.EnqueueOpts{MaxRetries: jobs.NoRetries})
		require.NoError(t, err)
		ids = append(ids, j.ID)
	}
	require.Eventually(t, func() bool {
		st, err := b.insp.Stats(ctx, 1)
		require.NoError(t, err)
		return st.Dead == 3
	}, time.Minute, 20*time.Millisecond)

	c, csrf := b.login(t, auth.ScopeAdmin)
	_, page := b.get(t, c, "/jobs?tab=dead")
	for _, id := range ids {
		require.Contains(t, page, `<tr data-job-id="`+id+`">`)
	}
	b.flakyOK.Store(true)
	resp, _ := b.post(t, c, "/jobs/retry", url.Values{"csrf": {csrf}, "state": {"dead"}, "ids": ids[:2]})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "msg=Retried+2+job")
	resp, _ = b.post(t, c, "/jobs/delete", url.Values{"csrf": {csrf}, "state": {"dead"}, "id": {ids[2]}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Eventually(t, func() bool {
		st, err := b.insp.Stats(ctx, 1)
		require.NoError(t, err)
		return st.Dead == 0 && st.Ready == 0 && st.Running == 0 && st.Processed == 5
	}, time.Minute, 20*time.Millisecond, "3 failures, then 2 successes")
	resp, _ = b.post(t, c, "/jobs/delete", url.Values{"csrf": {csrf}, "state": {"dead"}, "id": {ids[2]}})
	require.Contains(t, resp.Header.Get("Location"), "were+gone+already")

	// Queues pause and resume.
	resp, _ = b.post(t, c, "/queues/default/pause", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, page = b.get(t, c, "/jobs?tab=queues")
	require.Contains(t, page, "<td>default <small>(paused)</small></td>")
	resp, _ = b.post(t, c, "/queues/default/resume", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	code, _ := b.get(t, c, "/jobs?tab=nope")
	require.Equal(t, http.StatusBadRequest, code)
}

// TestUploadForm: the upload form, as sent without the page's script,
// stores a document; one larger than the limit is refused with 413 before
// it is read whole, and nothing is stored.
func TestUploadForm(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{maxBytes: 64 << 10})
	c, csrf := b.login(t, auth.ScopeWrite)
	form := func(content []byte) (string, string) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		require.NoError(t, mw.WriteField("csrf", csrf))
		fw, err := mw.CreateFormFile("file", "form.txt")
		require.NoError(t, err)
		_, err = fw.Write(content)
		require.NoError(t, err)
		require.NoError(t, mw.Close())
		return mw.FormDataContentType(), body.String()
	}

	ctype, body := form([]byte("A note sent by the plain form."))
	resp, _ := b.do(t, c, http.MethodPost, "/upload", map[string]string{"Content-Type": ctype}, body)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "/documents/")

	ctype, body = form(bytes.Repeat([]byte("x"), 4<<20))
	resp, page := b.do(t, c, http.MethodPost, "/upload", map[string]string{"Content-Type": ctype}, body)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, page)
	require.Contains(t, page, "the form is larger than the largest document taken", "refused while reading the form, not after")
	st, err := b.st.Stats(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Documents, "only the first upload is stored")
}

// TestJobsBatches lists batches on the jobs page: a finished one with its
// counts and fired callbacks, and one still open.
func TestJobsBatches(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	b.flakyOK.Store(true)
	done, err := b.jobs.NewBatch(ctx, &jobs.BatchOpts{Description: "nightly import",
		OnComplete: &jobs.BatchCallback{Type: "test.flaky"}})
	require.NoError(t, err)
	for i := range 3 {
		_, err := done.Enqueue(ctx, "test.flaky", map[string]int{"n": i}, &jobs.EnqueueOpts{MaxRetries: jobs.NoRetries})
		require.NoError(t, err)
	}
	require.NoError(t, done.Commit(ctx))
	open, err := b.jobs.NewBatch(ctx, &jobs.BatchOpts{Description: "still being filled"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := b.insp.Batch(ctx, done.ID())
		require.NoError(t, err)
		return st.Pending == 0 && st.Complete == jobs.CallbackState("fired")
	}, time.Minute, 20*time.Millisecond)

	c, _ := b.login(t, auth.ScopeRead)
	_, page := b.get(t, c, "/jobs?tab=batches")
	require.Contains(t, page, `<tr data-batch-id="`+done.ID()+`">`)
	require.Contains(t, page, "nightly import")
	require.Contains(t, page, `<span class="state state-done">finished</span>`)
	require.Contains(t, page, `<td class="num">3</td><td class="num">0</td><td class="num">3</td><td class="num">0</td>`)
	require.Contains(t, page, "complete: fired · success: fired")
	require.Contains(t, page, `<tr data-batch-id="`+open.ID()+`">`)
	require.Contains(t, page, `<span class="state">open</span>`)
}

// TestJobsLimiters lists limiters on the jobs page: a concurrency limiter
// with its holder's job and process, and a rate limiter with its window.
func TestJobsLimiters(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	ocr, err := jobs.NewConcurrencyLimiter(b.driver, "ocr-box", 2, nil)
	require.NoError(t, err)
	slot, err := ocr.Acquire(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = slot.Release(ctx) })
	hook, err := jobs.NewRateLimiter(b.driver, "webhook:a.example", 3, time.Minute, nil)
	require.NoError(t, err)
	for range 4 {
		_, _ = hook.Acquire(ctx)
	}

	c, _ := b.login(t, auth.ScopeRead)
	_, page := b.get(t, c, "/jobs?tab=limiters")
	require.Contains(t, page, `<a href="/jobs?tab=limiters" aria-current="page">limiters</a>`)
	require.Contains(t, page, `<tr data-limiter="ocr-box"><td>ocr-box</td><td>concurrency</td>`)
	require.Contains(t, page, `<td class="num">1</td><td class="num">2</td><td class="num">1</td><td class="num">0</td>`,
		"held, limit, admitted, rejected")
	require.Contains(t, page, `<div class="holder">a call <small>on `)
	require.Contains(t, page, `<tr data-limiter="webhook:a.example"><td>webhook:a.example</td><td>rate <small>per 1m0s</small></td>`)
	require.Contains(t, page, `<td class="num">3</td><td class="num">3</td><td class="num">3</td><td class="num">1</td>`)
	require.Contains(t, page, "3 in the window")
}

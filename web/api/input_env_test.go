package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/sqlitedriver"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// inputBundle is the API over a real store of either backend, for the tests
// of hostile input (fuzzing, SQL injection), with a jobs server running the
// pipeline.
type inputBundle struct {
	h     http.Handler
	st    store.Store
	token string // an admin token
	doc   *store.Document
}

// inputSeedText is the seeded document's text. It has no digits and none
// of the words of the injection payloads, so a search that the payloads do
// not subvert matches nothing.
const inputSeedText = "Quire reads this note about the harvest in Lisbon."

// newInputBundle opens the store at storeURL (a SQLite path or a
// PostgreSQL URL), migrates it and seeds one document, a label and a
// webhook.
func newInputBundle(t testing.TB, storeURL string) *inputBundle {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	quiet := slog.New(slog.DiscardHandler)
	jd, err := sqlitedriver.Open(filepath.Join(dir, "jobs.db"), nil)
	must(err)
	t.Cleanup(func() { jd.Close() })
	st, err := store.Open(ctx, storeURL)
	must(err)
	t.Cleanup(func() { st.Close() })
	must(st.Migrate(ctx))
	bs, err := blob.Open(ctx, "file://"+filepath.Join(dir, "blobs"))
	must(err)
	t.Cleanup(func() { bs.Close() })
	client, err := jobs.NewClient(jd, nil)
	must(err)
	x := extract.New(extract.Config{})
	t.Cleanup(func() { x.Close() })
	p, err := pipeline.New(pipeline.Config{Store: st, Blobs: bs, Jobs: client, Extractor: x, MaxBytes: maxBytesTest, Logger: quiet})
	must(err)
	hs := jobs.NewHandlers()
	p.Register(hs)
	srv, err := jobs.NewServer(jd, &jobs.Config{Handlers: hs, Queues: pipeline.Queues(), Concurrency: 2,
		PollInterval: 50 * time.Millisecond, Logger: quiet})
	must(err)
	must(srv.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	tokens := auth.NewMemory()
	raw, _, err := auth.Issue(ctx, tokens, &auth.IssueParams{Name: "admin", Scope: auth.ScopeAdmin})
	must(err)
	h, err := NewWithOptions(p, st, &Options{Tokens: tokens, Blobs: bs, Jobs: jd, Logger: quiet})
	must(err)
	doc, _, err := p.Ingest(ctx, &pipeline.IngestParams{Name: "note.txt", Body: strings.NewReader(inputSeedText), Source: store.SourceSubmit})
	must(err)
	// Wait until it is searchable: its text is indexed.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		d, err := st.GetDocument(ctx, doc.ID)
		must(err)
		if d.State == store.StateDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the seeded document is still %s", d.State)
		}
	}
	_, err = st.AddLabel(ctx, &store.AddLabelParams{DocumentID: doc.ID, Label: "letters", SetBy: "test"})
	must(err)
	_, err = st.CreateWebhook(ctx, &store.CreateWebhookParams{URL: "https://93.184.215.14/hook", Secret: "s"})
	must(err)
	return &inputBundle{h: h, st: st, token: raw, doc: doc}
}

// do serves one request with the admin token and returns the answer.
func (b *inputBundle) do(method, target, contentType string, body io.Reader) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, body)
	r.Header.Set("Authorization", "Bearer "+b.token)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, r)
	return w
}

// checkAnswer fails t unless the answer is a client's error as a problem,
// or a success with a JSON (or text) body: never a server error, whatever
// the input.
func checkAnswer(t testing.TB, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	ct := w.Header().Get("Content-Type")
	if w.Code >= 500 {
		t.Fatalf("%s: answered %d: %s", what, w.Code, w.Body.String())
	}
	if w.Code >= 400 {
		var p Problem
		if ct != ProblemMediaType || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Status != w.Code || p.Detail == "" {
			t.Fatalf("%s: %d without a problem document (%s): %s", what, w.Code, ct, w.Body.String())
		}
		return
	}
	if strings.HasPrefix(ct, "application/json") && !json.Valid(w.Body.Bytes()) {
		t.Fatalf("%s: %d with invalid JSON: %s", what, w.Code, w.Body.String())
	}
}

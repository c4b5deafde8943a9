package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/sqlitedriver"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// maxBytesTest is the pipeline's document size limit in tests: small, so a
// test can exceed it cheaply.
const maxBytesTest = 64 << 10

// testBundle is a running API over the real embedded pipeline: a SQLite
// store, sqlitedriver jobs, file blobs and a jobs server running the
// pipeline's handlers.
type testBundle struct {
	srv    *httptest.Server
	api    *api
	p      *pipeline.Pipeline
	jobs   *jobs.Client
	store  *flakyStore
	tokens *auth.Memory
	// token holds a token of each scope.
	token map[auth.Scope]string
}

// flakyStore is the real store, which can be made to fail reads as a
// database that is down would.
type flakyStore struct {
	store.Store
	down atomic.Bool
}

var errDown = errors.New("connection refused")

func (s *flakyStore) GetDocument(ctx context.Context, id string) (*store.Document, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Store.GetDocument(ctx, id)
}

func (s *flakyStore) ListDocuments(ctx context.Context, p *store.ListDocumentsParams) (*store.DocumentList, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Store.ListDocuments(ctx, p)
}

func (s *flakyStore) Stats(ctx context.Context) (*store.Stats, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Store.Stats(ctx)
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	jd, err := sqlitedriver.Open(filepath.Join(dir, "jobs.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { jd.Close() })
	real, err := store.Open(ctx, filepath.Join(dir, "quire.db"))
	require.NoError(t, err)
	require.NoError(t, real.Migrate(ctx))
	t.Cleanup(func() { real.Close() })
	st := &flakyStore{Store: real}
	bs, err := blob.Open(ctx, "file://"+filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	t.Cleanup(func() { bs.Close() })
	client, err := jobs.NewClient(jd, nil)
	require.NoError(t, err)
	x := extract.New(extract.Config{PDFWorkers: 1})
	t.Cleanup(func() { x.Close() })
	p, err := pipeline.New(pipeline.Config{Store: st, Blobs: bs, Jobs: client, Extractor: x, MaxBytes: maxBytesTest,
		Logger:     quiet,
		RetryDelay: func(int, error) time.Duration { return 200 * time.Millisecond }})
	require.NoError(t, err)
	hs := jobs.NewHandlers()
	p.Register(hs)
	srv, err := jobs.NewServer(jd, &jobs.Config{Handlers: hs, Queues: pipeline.Queues(), Concurrency: 4,
		PollInterval: 50 * time.Millisecond, Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, srv.Stop(ctx))
	})

	tokens := auth.NewMemory()
	b := &testBundle{p: p, jobs: client, store: st, tokens: tokens, token: map[auth.Scope]string{}}
	for _, s := range auth.Scopes {
		raw, _, err := auth.Issue(ctx, tokens, &auth.IssueParams{Name: string(s) + " test", Scope: s})
		require.NoError(t, err)
		b.token[s] = raw
	}
	h, err := NewWithOptions(p, st, &Options{Tokens: tokens, Blobs: bs, Jobs: jd, Logger: quiet})
	require.NoError(t, err)
	b.api = h.(*api)
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	return b
}

// do sends a request with a token of scope (none when empty) and returns the
// answer with its body read.
func (b *testBundle) do(t *testing.T, scope auth.Scope, method, path, contentType string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if scope != "" {
		req.Header.Set("Authorization", "Bearer "+b.token[scope])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(data)
}

// upload uploads content as a raw body named name and returns the document.
func (b *testBundle) upload(t *testing.T, name, content string) Document {
	t.Helper()
	resp, body := b.do(t, auth.ScopeWrite, "POST", "/api/v1/documents?name="+name, "application/octet-stream", strings.NewReader(content))
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	return decode[Document](t, body)
}

// waitState waits until a document reaches state.
func (b *testBundle) waitState(t *testing.T, id string, state store.State) {
	t.Helper()
	require.Eventually(t, func() bool {
		d, err := b.store.Store.GetDocument(context.Background(), id)
		require.NoError(t, err)
		return d.State == state
	}, time.Minute, 20*time.Millisecond)
}

package ui_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/redisdriver"
	"github.com/quirehq/quire/jobs/sqlitedriver"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/api"
	"github.com/quirehq/quire/web/auth"
	"github.com/quirehq/quire/web/edge"
	"github.com/quirehq/quire/web/ui"
)

// password is every test user's.
const password = "correct horse battery staple"

// testBundle is the whole web server over the real embedded pipeline: a
// SQLite store, sqlitedriver jobs, file blobs and a jobs server running the
// pipeline's handlers and a "test.flaky" job that fails until told not to.
type testBundle struct {
	srv  *httptest.Server
	st   store.Store
	p    *pipeline.Pipeline
	jobs *jobs.Client
	insp *jobs.Inspector
	// driver is the jobs' broker, for limiters.
	driver jobs.Driver
	token  map[auth.Scope]string
	// email of a user of each scope.
	email map[auth.Scope]string
	// flakyOK makes test.flaky jobs succeed.
	flakyOK atomic.Bool
	// bytesRead counts the bytes the server read from its connections.
	bytesRead atomic.Int64
}

type setupOpts struct {
	limiter *auth.Limiter
	// servers puts the store on PostgreSQL and the jobs on Redis, each
	// test on a database and a key prefix of its own.
	servers bool
	// maxBytes bounds a document, as pipeline.Config.MaxBytes.
	maxBytes int64
	// edge, when set, fronts the UI as cmd/quire does: its handler and
	// its server's timeouts.
	edge *edge.Config
	// logger, when set, is the UI's logger; by default it logs nothing.
	logger *slog.Logger
	// loginLimiter, when set, limits sign-ins; by default 100 a second.
	loginLimiter *auth.Limiter
}

// openServers returns a store on a new PostgreSQL database and a job
// driver on Redis under a new key prefix, both removed at cleanup.
func openServers(t *testing.T) (store.Store, jobs.Driver) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, testenv.NewPostgresDatabase(t))
	require.NoError(t, err)
	redisURL := cmp.Or(os.Getenv("QUIRE_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0")
	ropts, err := redis.ParseURL(redisURL)
	require.NoError(t, err)
	rdb := redis.NewClient(ropts)
	testenv.RequireService(t, "redis", rdb.Ping(ctx).Err())
	prefix := "quire-ui-test-" + rand.Text()[:10]
	t.Cleanup(func() {
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	jd, err := redisdriver.New(rdb, &redisdriver.Config{Prefix: prefix})
	require.NoError(t, err)
	return st, jd
}

func setup(t *testing.T, o *setupOpts) *testBundle {
	t.Helper()
	if o == nil {
		o = &setupOpts{}
	}
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	var (
		st store.Store
		jd jobs.Driver
	)
	if o.servers {
		st, jd = openServers(t)
	} else {
		sd, err := sqlitedriver.Open(filepath.Join(dir, "jobs.db"), nil)
		require.NoError(t, err)
		t.Cleanup(func() { sd.Close() })
		jd = sd
		st, err = store.Open(ctx, filepath.Join(dir, "quire.db"))
		require.NoError(t, err)
	}
	require.NoError(t, st.Migrate(ctx))
	t.Cleanup(func() { st.Close() })
	bs, err := blob.Open(ctx, "file://"+filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	t.Cleanup(func() { bs.Close() })
	client, err := jobs.NewClient(jd, nil)
	require.NoError(t, err)
	x := extract.New(extract.Config{PDFWorkers: 1})
	t.Cleanup(func() { x.Close() })
	p, err := pipeline.New(pipeline.Config{Store: st, Blobs: bs, Jobs: client, Extractor: x, Logger: quiet, MaxBytes: o.maxBytes,
		RetryDelay: func(int, error) time.Duration { return 200 * time.Millisecond }})
	require.NoError(t, err)
	b := &testBundle{st: st, p: p, jobs: client, insp: jobs.NewInspector(jd, nil), driver: jd,
		token: map[auth.Scope]string{}, email: map[auth.Scope]string{}}
	hs := jobs.NewHandlers()
	p.Register(hs)
	hs.Handle("test.webhook", func(context.Context, *jobs.Job) error {
		// As a delivery whose receiver's name no longer resolves fails.
		return errors.New(`deliver document.done to webhook 01J: Post "https://hooks.example.com/in?key=k": dial tcp: lookup hooks.example.com on 203.0.113.7:53: no such host`)
	}, nil)
	hs.Handle("test.flaky", func(context.Context, *jobs.Job) error {
		if b.flakyOK.Load() {
			return nil
		}
		return errors.New("the flaky service is down")
	}, nil)
	queues := pipeline.Queues()
	queues[jobs.QueueDefault] = 1
	srv, err := jobs.NewServer(jd, &jobs.Config{Handlers: hs, Queues: queues, Concurrency: 4,
		PollInterval: 50 * time.Millisecond, Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, srv.Stop(ctx))
	})

	tokens := &auth.StoreTokens{Store: st}
	for _, s := range auth.Scopes {
		raw, _, err := auth.Issue(ctx, tokens, &auth.IssueParams{Name: string(s) + " test", Scope: s})
		require.NoError(t, err)
		b.token[s] = raw
		b.email[s] = string(s) + "@example.org"
		_, err = auth.CreateUser(ctx, st, &auth.CreateUserParams{Email: b.email[s], Password: password, Scope: s})
		require.NoError(t, err)
	}
	sessions := &auth.Sessions{Store: st}
	apiH, err := api.NewWithOptions(p, st, &api.Options{Tokens: tokens, Sessions: sessions, Limiter: o.limiter, Blobs: bs, Jobs: jd, Logger: quiet})
	require.NoError(t, err)
	h, err := ui.New(&ui.Options{Pipeline: p, Store: st, Blobs: bs, Jobs: jd, API: apiH, Sessions: sessions, Logger: cmp.Or(o.logger, quiet),
		LoginLimiter: cmp.Or(o.loginLimiter, auth.NewLimiter(100, 100))})
	require.NoError(t, err)
	b.srv = httptest.NewUnstartedServer(h)
	if o.edge != nil {
		hs := o.edge.Server(o.edge.Handler(h))
		b.srv.Config.Handler = hs.Handler
		b.srv.Config.ReadHeaderTimeout, b.srv.Config.ReadTimeout = hs.ReadHeaderTimeout, hs.ReadTimeout
		b.srv.Config.WriteTimeout, b.srv.Config.IdleTimeout = hs.WriteTimeout, hs.IdleTimeout
	}
	b.srv.Listener = &countingListener{Listener: b.srv.Listener, n: &b.bytesRead}
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	return b
}

// countingListener counts what the server reads from its connections: the
// bytes of a request it actually took in, whatever the client sent.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: l.n}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// client is a browser-like HTTP client: it keeps cookies and does not
// follow redirects, so that tests see them.
func (b *testBundle) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf returns the CSRF token of the first form of a page.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(page)
	require.NotNil(t, m, "no CSRF token in %s", page)
	return m[1]
}

// login signs in the user of scope and returns the client and the
// session's CSRF token.
func (b *testBundle) login(t *testing.T, scope auth.Scope) (*http.Client, string) {
	t.Helper()
	c := b.client(t)
	_, page := b.get(t, c, "/login")
	resp, _ := b.post(t, c, "/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {b.email[scope]}, "password": {password}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/", resp.Header.Get("Location"))
	code, page := b.get(t, c, "/")
	require.Equal(t, http.StatusOK, code, page)
	return c, csrfOf(t, page)
}

func (b *testBundle) get(t *testing.T, c *http.Client, path string) (int, string) {
	t.Helper()
	resp, body := b.do(t, c, http.MethodGet, path, nil, "")
	return resp.StatusCode, body
}

func (b *testBundle) post(t *testing.T, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	return b.do(t, c, http.MethodPost, path, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
}

func (b *testBundle) do(t *testing.T, c *http.Client, method, path string, header map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(data)
}

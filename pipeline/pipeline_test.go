package pipeline_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/cache"
	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/internal/testdocs"
	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobstest"
	"github.com/quirehq/quire/jobs/redisdriver"
	"github.com/quirehq/quire/jobs/sqlitedriver"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/kserve"
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/api"
)

// env is a running pipeline: store, blobs, cache, job engine and a worker.
type env struct {
	p     *pipeline.Pipeline
	store store.Store
	// sqlDB reads the store's tables directly, as another application would.
	sqlDB *sql.DB
	// jobs is the job engine's driver, to inspect jobs.
	jobs jobs.Driver
	// blobDir holds the blobs, when they are in a local directory.
	blobDir string
	// blobs is the pipeline's blob storage.
	blobs *blob.Store
	// stopCache kills the cache server mid-run, if there is one.
	stopCache func()
}

// extractor is shared: the PDF engine takes a while to start.
var (
	extractorOnce sync.Once
	extractor     *extract.Extractor
)

func sharedExtractor() *extract.Extractor {
	extractorOnce.Do(func() {
		extractor = extract.New(extract.Config{PDFWorkers: 2, Limits: extract.Limits{MaxDecompressed: 32 << 20}})
	})
	return extractor
}

// embedded runs everything on one machine's defaults: SQLite for jobs and
// store, a directory for blobs, an in-process cache.
// embedded starts a pipeline on the embedded defaults; opts adjust its
// config.
func embedded(t *testing.T, opts ...option) *env {
	dir := t.TempDir()
	jd, err := sqlitedriver.Open(filepath.Join(dir, "jobs.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { jd.Close() })
	st, err := store.Open(context.Background(), filepath.Join(dir, "quire.db"))
	require.NoError(t, err)
	db, err := sql.Open("sqlite", filepath.Join(dir, "quire.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	e := start(t, jd, st, db, "file://"+filepath.Join(dir, "blobs"), cache.NewMemory(nil), opts...)
	e.blobDir = filepath.Join(dir, "blobs")
	return e
}

// servers runs on Redis, Postgres and Memcached (a private memcached).
func servers(t *testing.T) *env { return serversWith(t) }

// serversWith is servers whose pipeline opts adjust.
func serversWith(t *testing.T, opts ...option) *env {
	ctx := context.Background()
	jd := redisJobs(t)

	dbURL := testenv.NewPostgresDatabase(t)
	st, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	db, err := sql.Open("pgx", dbURL)
	require.NoError(t, err)
	t.Cleanup(func() {
		db.Close()
		st.Close()
	})
	addr, stop := startMemcached(t)
	mc, err := cache.NewMemcached([]string{addr}, nil)
	require.NoError(t, err)
	e := start(t, jd, st, db, "file://"+filepath.Join(t.TempDir(), "blobs"), mc, opts...)
	e.stopCache = stop
	return e
}

// redisJobs returns a job driver on the test Redis under a key prefix of its
// own, whose keys are deleted at cleanup.
func redisJobs(t *testing.T) jobs.Driver {
	ctx := context.Background()
	redisURL := cmpEnv("QUIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	opts, err := redis.ParseURL(redisURL)
	require.NoError(t, err)
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	jobstest.RequireService(t, "Redis at "+redisURL, rdb.Ping(ctx).Err())
	prefix := "quiretest:" + randomHex()
	jd, err := redisdriver.New(rdb, &redisdriver.Config{Prefix: prefix})
	require.NoError(t, err)
	t.Cleanup(func() {
		keys, _ := rdb.Keys(ctx, prefix+":*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return jd
}

// startMemcached starts a private memcached and returns its address and a
// function that kills it, as a crash would.
func startMemcached(t *testing.T) (string, func()) {
	m := testenv.StartMemcached(t)
	return m.Addr, m.Kill
}

// option adjusts the config of a test's pipeline or of its jobs server.
type option func(*pipeline.Config, *jobs.Config)

// allowPrivateWebhooks lets the pipeline deliver to the tests' receivers,
// which listen on 127.0.0.1.
func allowPrivateWebhooks(c *pipeline.Config, _ *jobs.Config) { c.WebhookAllowPrivate = true }

func start(t *testing.T, jd jobs.Driver, st store.Store, db *sql.DB, blobURL string, c cache.Cache, opts ...option) *env {
	ctx := context.Background()
	require.NoError(t, st.Migrate(ctx))
	t.Cleanup(func() { st.Close() })
	bs, err := blob.Open(ctx, blobURL)
	require.NoError(t, err)
	t.Cleanup(func() { bs.Close() })
	client, err := jobs.NewClient(jd, nil)
	require.NoError(t, err)
	cfg := pipeline.Config{Store: st, Blobs: bs, Jobs: client, Broker: jd, Extractor: sharedExtractor(), Cache: c,
		RetryDelay: func(int, error) time.Duration { return 200 * time.Millisecond }}
	jcfg := &jobs.Config{Queues: pipeline.Queues(), Concurrency: 8,
		PollInterval: 50 * time.Millisecond, PeriodicJobs: pipeline.PeriodicJobs()}
	for _, o := range opts {
		o(&cfg, jcfg)
	}
	p, err := pipeline.New(cfg)
	require.NoError(t, err)
	hs := jobs.NewHandlers()
	p.Register(hs)
	jcfg.Handlers = hs
	srv, err := jobs.NewServer(jd, jcfg)
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, srv.Stop(ctx))
	})
	return &env{p: p, store: st, sqlDB: db, jobs: jd, blobs: bs}
}

// corpus lists the committed real documents with what each must become.
func corpus(t *testing.T) map[string]string {
	files, err := filepath.Glob("../testdata/*/*")
	require.NoError(t, err)
	// Without tesseract, documents that are images only fail, saying so.
	_, noOCR := exec.LookPath("tesseract")
	// The formats corpus's table says which of them fail, and why.
	table, err := testdocs.Corpus(filepath.Join("..", "testdata"))
	require.NoError(t, err)
	fails := map[string]string{}
	for _, e := range table {
		if e.Fails != "" {
			fails[filepath.Join("..", "testdata", filepath.FromSlash(e.Path))] = e.Fails
		}
	}
	want := map[string]string{}
	for _, f := range files {
		base := filepath.Base(f)
		if fi, err := os.Stat(f); err == nil && fi.IsDir() {
			continue // a training set, say: documents of another suite
		}
		switch {
		case fails[f] != "":
			want[f] = "failed:" + fails[f]
		case strings.HasSuffix(f, ".go"), strings.HasSuffix(f, ".md") && strings.HasPrefix(base, "README"):
			continue
		case noOCR != nil && (strings.Contains(f, "/images/") || strings.Contains(f, "/ocr/") && filepath.Ext(f) == ".png" || base == "scanned.pdf"):
			want[f] = "failed:OCR is not available"
		case strings.Contains(base, "encrypted"):
			want[f] = "failed:encrypted"
		case strings.Contains(f, "/hostile/") && base != "zipbomb.docx" && !strings.HasPrefix(base, "truncated."):
			continue // TestHostile knows what becomes of each
		case base == "zipbomb.docx":
			// 64 MiB of text: read to the text limit, no further.
			want[f] = "truncated"
		case strings.HasPrefix(base, "truncated."):
			want[f] = "failed:could not be read"
		default:
			want[f] = "done"
		}
	}
	return want
}

// runCorpus uploads every committed document through the REST API and
// checks that each reaches its final state, read back through the API and
// through SQL.
func runCorpus(t *testing.T, e *env) {
	ctx := context.Background()
	srv := httptest.NewServer(api.New(e.p, e.store, slog.Default()))
	t.Cleanup(srv.Close)
	getDoc := func(id string) api.Document {
		t.Helper()
		resp, err := http.Get(srv.URL + "/api/v1/documents/" + id)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var d api.Document
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
		return d
	}
	want := corpus(t)
	ids := map[string]string{}
	for f := range want {
		fh, err := os.Open(f)
		require.NoError(t, err)
		resp, err := http.Post(srv.URL+"/api/v1/documents?name="+url.QueryEscape(filepath.Base(f)), "application/octet-stream", fh)
		fh.Close()
		require.NoError(t, err, f)
		var doc api.Document
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc), f)
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode, f)
		ids[f] = doc.ID
		if e.stopCache != nil && len(ids) == len(want)/2 {
			// The cache goes down mid-run: documents go on, uncached.
			e.stopCache()
		}
	}
	require.Eventually(t, func() bool {
		st, err := e.store.Stats(ctx)
		return err == nil && st.ByState[store.StateDone]+st.ByState[store.StateFailed] == st.Documents && st.Documents >= int64(len(want))
	}, 3*time.Minute, 100*time.Millisecond)
	done, failed := 0, 0
	for f, w := range want {
		doc := getDoc(ids[f])
		if w == "done" || w == "truncated" {
			require.Equal(t, "done", doc.State, "%s: %s", f, doc.FailureReason)
			sd, err := e.store.GetDocument(ctx, ids[f])
			require.NoError(t, err)
			require.Equal(t, w == "truncated", sd.TextTruncated, f)
			done++
			continue
		}
		failed++
		require.Equal(t, "failed", doc.State, f)
		require.Contains(t, doc.FailureReason, strings.TrimPrefix(w, "failed:"), f)
		require.NotContains(t, doc.FailureReason, doc.ID, "%s: a reason is for a person looking at the document already", f)
	}
	t.Logf("%d documents done, %d failed as expected", done, failed)

	// Another application reads the results with SQL.
	var words int
	require.NoError(t, e.sqlDB.QueryRowContext(ctx,
		"SELECT word_count FROM documents WHERE id = $1 AND state = 'done'", ids["../testdata/office/udhr.docx"]).Scan(&words))
	require.Greater(t, words, 1000)
	resp, err := http.Get(srv.URL + "/api/v1/documents/" + ids["../testdata/pdf/float.pdf"] + "/text")
	require.NoError(t, err)
	text, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(text), "float")
	found, err := e.store.Search(ctx, &store.SearchParams{Query: "\"human rights\""})
	require.NoError(t, err)
	require.NotEmpty(t, found.Hits)

	// The same content again is stored and processed once.
	fh, err := os.Open("../testdata/pdf/float.pdf")
	require.NoError(t, err)
	defer fh.Close()
	again, created, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: "copy.pdf", Body: fh, Source: store.SourceUpload})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, ids["../testdata/pdf/float.pdf"], again.ID)
}

// TestCorpusEmbedded runs every document through a job per stage, and
// TestCorpusServers the small ones through one job (the default): between
// them both paths see every format.
func TestCorpusEmbedded(t *testing.T) {
	t.Parallel()
	runCorpus(t, embedded(t, jobPerStage))
}

func TestCorpusServers(t *testing.T) {
	t.Parallel()
	runCorpus(t, servers(t))
}

// jobPerStage sends every document through a job per stage.
func jobPerStage(c *pipeline.Config, _ *jobs.Config) { c.OneJobMaxBytes = -1 }

// slowAcks holds every job's acknowledgement back a while after its handler
// returned, as a loaded broker may: the webhook of a document is then
// delivered while the job that finished it still holds its unique key.
func slowAcks(_ *pipeline.Config, j *jobs.Config) {
	j.Middleware = append(j.Middleware, func(next jobs.HandlerFunc) jobs.HandlerFunc {
		return func(ctx context.Context, job *jobs.Job) error {
			err := next(ctx, job)
			time.Sleep(300 * time.Millisecond)
			return err
		}
	})
}

func TestReprocessAndWebhook(t *testing.T) {
	t.Parallel()
	t.Run("OneJob", func(t *testing.T) {
		t.Parallel()
		testReprocessAndWebhook(t, embedded(t, allowPrivateWebhooks, slowAcks), []string{"ingest", "extract", "analyze", "extract", "analyze"})
	})
	t.Run("JobPerStage", func(t *testing.T) {
		t.Parallel()
		testReprocessAndWebhook(t, embedded(t, allowPrivateWebhooks, jobPerStage, slowAcks),
			[]string{"ingest", "extract", "analyze", "notify", "extract", "analyze", "notify"})
	})
}

// receive waits for a webhook's request, failing the test after a while
// rather than hanging it.
func receive(t *testing.T, got <-chan *http.Request, what string) *http.Request {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(30 * time.Second):
		t.Fatalf("no request came: %s", what)
		return nil
	}
}

// testReprocessAndWebhook checks that a document is done, told, reprocessed
// and told again, its audit trail showing the stages it went through.
func testReprocessAndWebhook(t *testing.T, e *env, stagesDone []string) {
	ctx := context.Background()
	got := make(chan *http.Request, 10)
	bodies := make(chan []byte, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(b)
		got <- r
		bodies <- b
	}))
	t.Cleanup(hook.Close)
	_, err := e.store.CreateWebhook(ctx, &store.CreateWebhookParams{URL: hook.URL, Secret: "s3cret", Events: []string{pipeline.EventDocumentDone}})
	require.NoError(t, err)

	doc, _, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: "note.txt", Body: strings.NewReader("Quire reads this note."), Source: store.SourceSubmit})
	require.NoError(t, err)
	r := receive(t, got, "the webhook of the document's first run")
	body := <-bodies
	require.Equal(t, pipeline.EventDocumentDone, r.Header.Get(pipeline.HeaderEvent))
	var ts int64
	_, err = fmt.Sscan(r.Header.Get(pipeline.HeaderTimestamp), &ts)
	require.NoError(t, err)
	require.Equal(t, pipeline.Sign("s3cret", ts, body), r.Header.Get(pipeline.HeaderSignature))
	require.Contains(t, string(body), doc.ID)

	again, err := e.p.Reprocess(ctx, doc.ID)
	require.NoError(t, err)
	require.Equal(t, store.StateReceived, again.State)
	receive(t, got, "the webhook of the reprocessed document") // done again, told again
	var stages []string
	require.Eventually(t, func() bool {
		events, err := e.store.ListEvents(ctx, doc.ID)
		require.NoError(t, err)
		stages = nil
		for _, ev := range events {
			if ev.Type == store.EventDone {
				stages = append(stages, ev.Stage)
			}
		}
		return len(stages) == len(stagesDone)
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, stagesDone, stages)
	_, err = e.p.Reprocess(ctx, "01NOSUCHDOCUMENT0000000000")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestWebhookConcurrency: with WebhookConcurrency 2, no more than two
// deliveries reach one receiver at once, though a dozen documents finish
// together and the worker runs eight jobs at once; every delivery arrives.
// The receiver counts the requests it holds, so the bound is read from
// what it saw, not from timing.
func TestWebhookConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := embedded(t, allowPrivateWebhooks, func(c *pipeline.Config, _ *jobs.Config) { c.WebhookConcurrency = 2 })
	var (
		mu             sync.Mutex
		inFlight, most int
		delivered      = map[string]bool{}
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		delivered[r.Header.Get(pipeline.HeaderDelivery)] = true
		mu.Unlock()
		time.Sleep(100 * time.Millisecond) // a slow receiver: deliveries would pile up
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	_, err := e.store.CreateWebhook(ctx, &store.CreateWebhookParams{URL: hook.URL, Secret: "s", Events: []string{pipeline.EventDocumentDone}})
	require.NoError(t, err)
	const docs = 12
	for i := range docs {
		_, _, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: fmt.Sprintf("note-%d.txt", i),
			Body: strings.NewReader(fmt.Sprintf("Note number %d for the slow receiver.", i)), Source: store.SourceSubmit})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == docs
	}, 2*time.Minute, 20*time.Millisecond, "every document's delivery arrives")
	mu.Lock()
	defer mu.Unlock()
	require.LessOrEqual(t, most, 2, "deliveries in flight at once")
	require.Positive(t, most)
}

// TestRemoteModelConcurrency: the analyses of many documents call a slow
// remote model through a concurrency limiter on the job broker, as
// --ml-remote-concurrency sets up; never more than its limit are in flight,
// and an analysis refused a slot waits its turn without failing.
func TestRemoteModelConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var (
		mu             sync.Mutex
		inFlight, most int
		calls          int
	)
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		calls++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(100 * time.Millisecond) // a slow model: calls would pile up
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"model_name":"doctype","model_version":"1","outputs":[{"name":"label","shape":[1],"datatype":"BYTES","data":["note"]}]}`)
	}))
	t.Cleanup(model.Close)
	remote, err := kserve.NewClient(&kserve.ClientConfig{URL: model.URL, Model: "doctype"})
	require.NoError(t, err)
	e := embedded(t, func(c *pipeline.Config, _ *jobs.Config) {
		l, err := jobs.NewConcurrencyLimiter(c.Broker, "ml-remote:doctype", 2, &jobs.LimiterOpts{Snooze: 20 * time.Millisecond})
		require.NoError(t, err)
		a, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Remote: []ml.RemoteClassifier{remote}, RemoteGate: l.Do})
		require.NoError(t, err)
		c.Analyzer = mlpipeline.New(a)
	})
	const docs = 12
	for i := range docs {
		_, _, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: fmt.Sprintf("note-%d.txt", i),
			Body: strings.NewReader(fmt.Sprintf("Note number %d for the slow model.", i)), Source: store.SourceSubmit})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		st, err := e.store.Stats(ctx)
		require.NoError(t, err)
		return st.ByState[store.StateDone]+st.ByState[store.StateFailed] == docs
	}, 2*time.Minute, 20*time.Millisecond, "every document finished")
	st, err := e.store.Stats(ctx)
	require.NoError(t, err)
	require.EqualValues(t, docs, st.ByState[store.StateDone], "a refused call is no failure")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, docs, calls, "one call a document")
	require.LessOrEqual(t, most, 2, "calls in flight at once")
	require.Positive(t, most)
}

func TestIngestRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := embedded(t)
	_, _, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: "empty.txt", Body: strings.NewReader(""), Source: store.SourceUpload})
	require.ErrorIs(t, err, pipeline.ErrEmpty)
	st, err := e.store.Stats(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Documents)
}

func cmpEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/redisdriver"
)

// workerQueues are the queues every worker of the test serves: the
// pipeline's and default, where the load generator's jobs go.
const workerQueues = "extract=3,ocr=1,analyze=4,notify=5,maintenance=1,default=2"

// deployment is one machine's Quire: nginx in front of two web processes,
// three workers and a scheduler, on a private Redis and a PostgreSQL
// database of the test's own, sharing one blob directory.
type deployment struct {
	t        *testing.T
	common   []string // the flags every process gets
	webAddrs []string // the API addresses nginx proxies to
	web      []*testenv.Process
	workers  []*testenv.Process
	sched    *testenv.Process
	nginx    *testenv.Nginx
	redis    *testenv.Redis
	db       *sql.DB
	client   *jobs.Client
	insp     *jobs.Inspector
	rec      *testenv.RunRecorder
	started  int    // processes started, to name the next ones
	token    string // the load generator's API token
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	d := &deployment{t: t, rec: testenv.NewRunRecorder(t)}
	d.redis = testenv.StartRedis(t, nil)
	pg := testenv.NewPostgresDatabase(t)
	blobs := (&url.URL{Scheme: "file", Path: t.TempDir()}).String()
	// Six processes at once, each with a pool of its own, on a server that
	// other tests share.
	d.common = []string{"--redis-url", d.redis.URL, "--postgres-url", pg + "&pool_max_conns=8", "--blob-url", blobs, "--log-format", "json"}

	db, err := sql.Open("pgx", pg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	d.db = db
	d.connectBroker()

	// The first process migrates the store; the others find it done.
	d.webAddrs = []string{testenv.FreeAddr(t), testenv.FreeAddr(t)}
	for i := range d.webAddrs {
		d.web = append(d.web, d.startWeb(i))
	}
	for range 3 {
		d.workers = append(d.workers, d.startWorker())
	}
	d.sched = d.startScheduler()
	d.nginx = testenv.StartNginx(t, d.webAddrs...)
	d.token = testenv.QuireToken(t, "write", d.common...)
	return d
}

// connectBroker gives the test a client and an inspector on the
// deployment's Redis.
func (d *deployment) connectBroker() {
	t := d.t
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: strings.TrimSuffix(strings.TrimPrefix(d.redis.URL, "redis://"), "/0")})
	t.Cleanup(func() { _ = rdb.Close() })
	drv, err := redisdriver.New(rdb, nil)
	require.NoError(t, err)
	d.client, err = jobs.NewClient(drv, nil)
	require.NoError(t, err)
	d.insp = jobs.NewInspector(drv, nil)
}

// start runs quire with the common flags and a data directory of its own.
func (d *deployment) start(name string, args ...string) *testenv.Process {
	d.t.Helper()
	d.started++
	args = append(args, d.common...)
	args = append(args, "--data-dir", d.t.TempDir(), "--shutdown-timeout", "20s")
	return testenv.StartQuire(d.t, fmt.Sprintf("%s.%d", name, d.started), nil, args...)
}

func (d *deployment) startWeb(i int) *testenv.Process {
	return d.start(fmt.Sprintf("web%d", i+1), "serve", "--role", "web", "--http-addr", d.webAddrs[i])
}

func (d *deployment) startWorker() *testenv.Process {
	// A short lease, so that the jobs of a killed worker come back soon.
	return d.start("worker", "serve", "--role", "worker", "--queues", workerQueues,
		"--concurrency", "8", "--lease", "3s", "--test-record-url", d.rec.URL)
}

func (d *deployment) startScheduler() *testenv.Process {
	return d.start("scheduler", "serve", "--role", "scheduler")
}

// load is the load generator: uploaders post new documents through nginx
// and an enqueuer enqueues test.record jobs, until stop.
type load struct {
	mu        sync.Mutex
	docIDs    map[string]bool
	jobIDs    []string // the ids given to test.record jobs
	failures  []string // every failed request or enqueue, with its reason
	uploads   atomic.Int64
	enqueued  atomic.Int64
	stopCh    chan struct{}
	wg        sync.WaitGroup
	stopOnce  sync.Once
	uploadSeq atomic.Int64
}

// loadOpts shape the load.
type loadOpts struct {
	uploaders int   // goroutines uploading documents
	jobMS     int64 // how long each test.record job works
}

// startLoad starts opts.uploaders goroutines that upload documents through
// nginx, and one that enqueues jobs, each pausing between requests so that
// the processes under test keep some of the machine.
func (d *deployment) startLoad(opts loadOpts) *load {
	l := &load{stopCh: make(chan struct{}), docIDs: map[string]bool{}}
	hc := &http.Client{Timeout: time.Minute}
	for range opts.uploaders {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for !l.stopped() {
				l.upload(hc, "http://"+d.nginx.Addr, d.token)
				l.pause(20 * time.Millisecond)
			}
		}()
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for batch := 0; !l.stopped(); batch++ {
			params := make([]jobs.EnqueueParams, 20)
			ids := make([]string, len(params))
			for i := range params {
				ids[i] = fmt.Sprintf("job-%d-%d", batch, i)
				params[i] = jobs.EnqueueParams{Type: "test.record", Args: map[string]any{"id": ids[i], "ms": opts.jobMS}}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err := d.client.EnqueueMany(ctx, params)
			cancel()
			l.mu.Lock()
			if err != nil {
				l.failures = append(l.failures, fmt.Sprintf("enqueue batch %d: %v", batch, err))
			} else {
				l.jobIDs = append(l.jobIDs, ids...)
				l.enqueued.Add(int64(len(ids)))
			}
			l.mu.Unlock()
			l.pause(50 * time.Millisecond)
		}
	}()
	return l
}

func (l *load) stopped() bool {
	select {
	case <-l.stopCh:
		return true
	default:
		return false
	}
}

func (l *load) pause(d time.Duration) {
	select {
	case <-l.stopCh:
	case <-time.After(d):
	}
}

// stop ends the load and waits for the requests in flight.
func (l *load) stop() {
	l.stopOnce.Do(func() { close(l.stopCh) })
	l.wg.Wait()
}

// upload posts one new document; anything but 2xx is a failure. nginx may
// resend an upload that failed on a stopping web process after it was
// stored: the same content then answers 200 with the same document.
func (l *load) upload(hc *http.Client, base, token string) {
	n := l.uploadSeq.Add(1)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", fmt.Sprintf("note-%d.txt", n))
	fmt.Fprintf(fw, "Rolling update note %d written at %s.\n\nThe quarterly report for the northern "+
		"region shows revenue growth, and the committee approved the budget for next year.\n",
		n, time.Now().Format(time.RFC3339Nano))
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/documents", &body)
	if err != nil {
		panic(err) // a constant URL
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	fail := func(reason string) {
		l.mu.Lock()
		l.failures = append(l.failures, fmt.Sprintf("upload %d at %s: %s", n, time.Now().Format("15:04:05.000"), reason))
		l.mu.Unlock()
	}
	if err != nil {
		fail(err.Error())
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		fail(fmt.Sprintf("%s: %s", resp.Status, b))
		return
	}
	var doc struct{ ID string }
	if err := json.Unmarshal(b, &doc); err != nil || doc.ID == "" {
		fail(fmt.Sprintf("answer without an id: %s", b))
		return
	}
	l.uploads.Add(1)
	l.mu.Lock()
	l.docIDs[doc.ID] = true
	l.mu.Unlock()
}

// progress waits until the load generator has made n more uploads and
// enqueues, so that every replacement happens under load.
func (l *load) progress(t *testing.T, n int64) {
	t.Helper()
	u0, e0 := l.uploads.Load(), l.enqueued.Load()
	waitFor(t, fmt.Sprintf("%d more uploads and enqueues", n), 2*time.Minute, func() bool {
		return l.uploads.Load()-u0 >= n && l.enqueued.Load()-e0 >= n
	})
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settle waits until every uploaded document is done and every enqueued
// job ran, then checks the outcome: no document failed, no job lost, none
// dead. It returns the number of duplicated runs, which at-least-once
// allows.
func (d *deployment) settle(l *load) (duplicated int) {
	t := d.t
	t.Helper()
	l.mu.Lock()
	docs, jobIDs := len(l.docIDs), append([]string(nil), l.jobIDs...)
	l.mu.Unlock()
	require.NotZero(t, docs)
	require.NotEmpty(t, jobIDs)
	var states map[string]int
	waitFor(t, "every uploaded document to be done", 5*time.Minute, func() bool {
		states = d.documentStates()
		return states["done"]+states["failed"] == docs
	})
	require.Equal(t, map[string]int{"done": docs}, states, "documents by state")
	var ran int
	waitFor(t, "every enqueued job to run", 5*time.Minute, func() bool {
		ran, duplicated = d.rec.Count(jobIDs)
		return ran == len(jobIDs)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	qs, err := d.insp.Queues(ctx)
	require.NoError(t, err)
	for _, q := range qs {
		require.Zero(t, q.Dead, "dead jobs in queue %s", q.Queue)
	}
	t.Logf("uploads %d (documents done %d), jobs enqueued %d, ran %d, lost %d, duplicated runs %d",
		docs, states["done"], len(jobIDs), ran, len(jobIDs)-ran, duplicated)
	return duplicated
}

// documentStates counts the documents of the store by state.
func (d *deployment) documentStates() map[string]int {
	d.t.Helper()
	rows, err := d.db.Query("SELECT state, count(*) FROM documents GROUP BY state")
	require.NoError(d.t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		require.NoError(d.t, rows.Scan(&s, &n))
		out[s] = n
	}
	require.NoError(d.t, rows.Err())
	return out
}

// Package chaos runs Quire through faults while it works: a deployment of
// real processes (a web process, three workers, a scheduler) on a Redis, a
// PostgreSQL and a memcached of its own and a shared blob directory, fed
// documents and jobs while workers are killed, Redis is killed and restarted
// from its append-only file, PostgreSQL is stopped for 30 seconds, memcached
// dies and the blob store fails. It reports, per fault, the jobs and
// documents submitted, completed, duplicated and lost; lost must be 0.
//
// It runs only with QUIRE_CHAOS=1 (scripts/chaos.sh), on the loopback
// interface, bounded in time. QUIRE_CHAOS_JOBS and QUIRE_CHAOS_DOCS set the
// totals (100,000 and 5,000 by default), spread evenly over the faults;
// QUIRE_CHAOS_REPORT names a file for the report in JSON.
package chaos

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/redisdriver"
)

// workerQueues are the pipeline's queues and default, where the chaos jobs
// go.
const workerQueues = "extract=3,ocr=1,analyze=4,notify=5,maintenance=1,default=2"

// fault is one phase of the run: the fault, injected while the phase's
// share of jobs and documents is submitted.
type fault struct {
	name string
	// inject returns once the fault is over. submitted and ran say how
	// much of the phase's work was submitted, and how much of its jobs
	// ran, from 0 to 1.
	inject func(c *cluster, submitted, ran func() float64)
}

// cluster is the deployment under test.
type cluster struct {
	t       *testing.T
	common  []string
	redis   *testenv.Redis
	pg      *testenv.PostgresServer
	mc      *testenv.Memcached
	blobDir string
	rec     *testenv.RunRecorder
	web     *testenv.Process
	webAddr string
	token   string     // the uploaders' API token
	mu      sync.Mutex // guards workers
	workers []*testenv.Process
	sched   *testenv.Process
	db      *sql.DB
	client  *jobs.Client
	n       int
}

func (c *cluster) start(name string, args ...string) *testenv.Process {
	c.t.Helper()
	c.n++
	args = append(args, c.common...)
	args = append(args, "--data-dir", c.t.TempDir(), "--shutdown-timeout", "20s")
	return testenv.StartQuire(c.t, fmt.Sprintf("%s.%d", name, c.n), nil, args...)
}

func (c *cluster) startWorker() *testenv.Process {
	return c.start("worker", "serve", "--role", "worker", "--queues", workerQueues, "--concurrency", "16",
		"--lease", "5s", "--test-record-url", c.rec.URL)
}

// phaseResult is the report of one fault.
type phaseResult struct {
	Fault         string `json:"fault"`
	JobsSubmitted int    `json:"jobs_submitted"`
	JobsCompleted int    `json:"jobs_completed"`
	JobsDuplicate int    `json:"jobs_duplicated"`
	JobsLost      int    `json:"jobs_lost"`
	DocsSubmitted int    `json:"documents_submitted"`
	DocsCompleted int    `json:"documents_completed"`
	DocsFailed    int    `json:"documents_failed"`
	DocsLost      int    `json:"documents_lost"`
	Retries       int64  `json:"submissions_retried"`
	Seconds       int    `json:"seconds"`
}

func TestChaos(t *testing.T) {
	if os.Getenv("QUIRE_CHAOS") != "1" {
		t.Skip("the chaos suite runs with QUIRE_CHAOS=1 (scripts/chaos.sh)")
	}
	totalJobs := envInt(t, "QUIRE_CHAOS_JOBS", 100_000)
	totalDocs := envInt(t, "QUIRE_CHAOS_DOCS", 5_000)

	c := &cluster{t: t, rec: testenv.NewRunRecorder(t)}
	// appendfsync always: an enqueue Redis acknowledged is on disk, so a
	// kill -9 of Redis loses none. everysec would lose up to a second.
	c.redis = testenv.StartRedis(t, &testenv.RedisOpts{AppendFsync: "always"})
	c.pg = testenv.StartPostgres(t)
	c.mc = testenv.StartMemcached(t)
	c.blobDir = filepath.Join(t.TempDir(), "blobs")
	require.NoError(t, os.MkdirAll(c.blobDir, 0o755))
	c.common = []string{"--redis-url", c.redis.URL, "--postgres-url", c.pg.URL + "&pool_max_conns=16",
		"--blob-url", (&url.URL{Scheme: "file", Path: c.blobDir}).String(),
		"--cache-url", "memcache://" + c.mc.Addr, "--log-format", "json"}
	db, err := sql.Open("pgx", c.pg.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	c.db = db
	rdb := redis.NewClient(&redis.Options{Addr: strings.TrimSuffix(strings.TrimPrefix(c.redis.URL, "redis://"), "/0"),
		MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	drv, err := redisdriver.New(rdb, nil)
	require.NoError(t, err)
	c.client, err = jobs.NewClient(drv, nil)
	require.NoError(t, err)

	c.webAddr = testenv.FreeAddr(t)
	c.web = c.start("web", "serve", "--role", "web", "--http-addr", c.webAddr)
	c.token = testenv.QuireToken(t, "write", c.common...)
	for range 3 {
		c.workers = append(c.workers, c.startWorker())
	}
	c.sched = c.start("scheduler", "serve", "--role", "scheduler")

	faults := []fault{
		{"SIGKILL workers", func(c *cluster, submitted, ran func() float64) {
			// Until nine tenths of the phase's jobs ran: the kills hit
			// workers in the middle of them.
			for kills := 0; kills < 3 || (ran() < 0.9 && kills < 60); kills++ {
				time.Sleep(2 * time.Second)
				c.mu.Lock()
				i := rand.IntN(len(c.workers))
				c.workers[i].Kill(c.t)
				c.workers[i] = c.startWorker()
				c.mu.Unlock()
			}
		}},
		{"kill -9 and restart Redis (AOF, appendfsync always)", func(c *cluster, submitted, _ func() float64) {
			waitUntil(func() bool { return submitted() >= 0.3 })
			c.redis.Kill()
			time.Sleep(3 * time.Second)
			c.redis.Start()
		}},
		{"stop PostgreSQL for 30 s", func(c *cluster, submitted, _ func() float64) {
			waitUntil(func() bool { return submitted() >= 0.2 })
			c.pg.Stop()
			time.Sleep(30 * time.Second)
			c.pg.Start()
		}},
		{"stop memcached for 10 s or more", func(c *cluster, submitted, _ func() float64) {
			waitUntil(func() bool { return submitted() >= 0.2 })
			c.mc.Kill()
			time.Sleep(10 * time.Second)
			waitUntil(func() bool { return submitted() >= 1 })
			c.mc.Start()
		}},
		{"blob store fails for 10 s", func(c *cluster, submitted, _ func() float64) {
			waitUntil(func() bool { return submitted() >= 0.2 })
			// The blob directory becomes a file: every read and write of a
			// blob fails, as a lost mount would make it. The two are
			// swapped in one step (RENAME_EXCHANGE): moved away first, the
			// directory was made again by a worker's next write before the
			// file could take its place.
			file := c.blobDir + ".file"
			require.NoError(c.t, os.WriteFile(file, []byte("not a directory"), 0o644))
			swap := func() {
				require.NoError(c.t, unix.Renameat2(unix.AT_FDCWD, file, unix.AT_FDCWD, c.blobDir, unix.RENAME_EXCHANGE))
			}
			swap()
			time.Sleep(10 * time.Second)
			swap()
			require.NoError(c.t, os.Remove(file))
		}},
	}

	type phase struct {
		res    phaseResult
		jobIDs []string
		docIDs map[string]bool
	}
	phases := make([]*phase, len(faults))
	for i, f := range faults {
		p := &phase{res: phaseResult{Fault: f.name}, docIDs: map[string]bool{}}
		phases[i] = p
		nJobs, nDocs := totalJobs/len(faults), totalDocs/len(faults)
		t.Logf("fault %d/%d: %s, while submitting %d jobs and %d documents", i+1, len(faults), f.name, nJobs, nDocs)
		start := time.Now()
		var jobsDone, docsDone, retries atomic.Int64
		submitted := func() float64 {
			return min(float64(jobsDone.Load())/float64(max(nJobs, 1)), float64(docsDone.Load())/float64(max(nDocs, 1)))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b*500 < nJobs; b++ {
				ids := make([]string, min(500, nJobs-b*500))
				params := make([]jobs.EnqueueParams, len(ids))
				for k := range ids {
					ids[k] = fmt.Sprintf("p%d-j%d-%d", i, b, k)
					params[k] = jobs.EnqueueParams{Type: "test.record", Args: map[string]any{"id": ids[k]}}
				}
				// An enqueue that fails is sent again with the same ids
				// until Redis acknowledges it: a job is submitted once
				// acknowledged.
				for {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					_, err := c.client.EnqueueMany(ctx, params)
					cancel()
					if err == nil {
						break
					}
					retries.Add(1)
					time.Sleep(200 * time.Millisecond)
				}
				mu.Lock()
				p.jobIDs = append(p.jobIDs, ids...)
				mu.Unlock()
				jobsDone.Add(int64(len(ids)))
			}
		}()
		var next atomic.Int64
		hc := &http.Client{Timeout: 30 * time.Second}
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n := next.Add(1)
					if n > int64(nDocs) {
						return
					}
					for {
						id, err := upload(hc, c.webAddr, c.token, fmt.Sprintf("p%d-d%d", i, n))
						if err == nil {
							mu.Lock()
							p.docIDs[id] = true
							mu.Unlock()
							break
						}
						retries.Add(1)
						time.Sleep(200 * time.Millisecond)
					}
					docsDone.Add(1)
				}
			}()
		}
		ran := func() float64 {
			mu.Lock()
			ids := p.jobIDs
			mu.Unlock()
			n, _ := c.rec.Count(ids)
			return float64(n) / float64(max(nJobs, 1))
		}
		f.inject(c, submitted, ran)
		wg.Wait()
		p.res.Retries = retries.Load()
		p.res.Seconds = int(time.Since(start).Seconds())
		p.res.JobsSubmitted, p.res.DocsSubmitted = len(p.jobIDs), len(p.docIDs)
	}

	// Settle: every submitted job runs and every document ends, or the
	// bound passes and what is missing is reported lost.
	t.Log("all faults injected; waiting for the work to finish")
	deadline := time.Now().Add(15 * time.Minute)
	for time.Now().Before(deadline) {
		done := true
		for _, p := range phases {
			ran, _ := c.rec.Count(p.jobIDs)
			if ran < len(p.jobIDs) {
				done = false
			}
		}
		byDoc, err := c.documentStateByID()
		for _, p := range phases {
			for id := range p.docIDs {
				if st := byDoc[id]; err != nil || (st != "done" && st != "failed") {
					done = false
				}
			}
		}
		if done {
			break
		}
		time.Sleep(time.Second)
	}
	byDoc, err := c.documentStateByID()
	require.NoError(t, err)
	var report []phaseResult
	for _, p := range phases {
		ran, dup := c.rec.Count(p.jobIDs)
		p.res.JobsCompleted, p.res.JobsDuplicate, p.res.JobsLost = ran, dup, len(p.jobIDs)-ran
		for id := range p.docIDs {
			switch byDoc[id] {
			case "done":
				p.res.DocsCompleted++
			case "failed":
				p.res.DocsFailed++
			default:
				p.res.DocsLost++
				t.Logf("document %s (%s) is still %q", id, p.res.Fault, byDoc[id])
			}
		}
		report = append(report, p.res)
	}
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "fault\tjobs submitted\tcompleted\tduplicated\tlost\tdocuments submitted\tdone\tfailed\tlost\tretried submissions\tseconds\t")
	for _, r := range report {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", r.Fault, r.JobsSubmitted, r.JobsCompleted,
			r.JobsDuplicate, r.JobsLost, r.DocsSubmitted, r.DocsCompleted, r.DocsFailed, r.DocsLost, r.Retries, r.Seconds)
	}
	_ = tw.Flush()
	t.Logf("chaos report:\n%s", table.String())
	if path := os.Getenv("QUIRE_CHAOS_REPORT"); path != "" {
		b, err := json.MarshalIndent(report, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
	}
	for _, r := range report {
		require.Zero(t, r.JobsLost, "jobs lost under %q", r.Fault)
		require.Zero(t, r.DocsLost, "documents lost under %q", r.Fault)
		require.Zero(t, r.DocsFailed, "documents failed under %q", r.Fault)
	}
}

// upload posts one document, its content unique to its name, to the web
// process. An upload sent again after an error is the same content, hence
// the same document: 200 instead of 201 if the first one was stored.
func upload(hc *http.Client, addr, token, name string) (string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name+".txt")
	fmt.Fprintf(fw, "Chaos note %s.\n\nThe quarterly report for the northern region shows "+
		"revenue growth, and the committee approved the budget for next year.\n", name)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/documents", &body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("upload %s: %s: %s", name, resp.Status, b)
	}
	var doc struct{ ID string }
	if err := json.Unmarshal(b, &doc); err != nil || doc.ID == "" {
		return "", fmt.Errorf("upload %s: answer without an id: %s", name, b)
	}
	return doc.ID, nil
}

// documentStateByID reads every document's state from the store.
func (c *cluster) documentStateByID() (map[string]string, error) {
	rows, err := c.db.Query("SELECT id, state FROM documents")
	if err != nil {
		return nil, err // PostgreSQL may be on its way back
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, s string
		if err := rows.Scan(&id, &s); err != nil {
			return nil, err
		}
		out[id] = s
	}
	return out, rows.Err()
}

func waitUntil(cond func() bool) {
	for !cond() {
		time.Sleep(50 * time.Millisecond)
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "%s", name)
	require.Positive(t, n, "%s", name)
	return n
}

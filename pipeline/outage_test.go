package pipeline_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/cache"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobstest"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// privatePostgres is a PostgreSQL server of the test's own, which the test
// may stop and start.
type privatePostgres struct {
	t    *testing.T
	bin  string
	data string
	opts string
	log  string
	cred *syscall.Credential
	url  string
}

// startPostgres initialises and starts a private PostgreSQL on a free port,
// with trust authentication. As root it runs as the postgres user, which
// PostgreSQL requires.
func startPostgres(t *testing.T) *privatePostgres {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	var err error
	if len(bins) == 0 {
		err = exec.ErrNotFound
	}
	jobstest.RequireService(t, "the PostgreSQL server binaries (apt-get install postgresql)", err)
	pg := &privatePostgres{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	// Not in t.TempDir: its parents are private to root, and the server
	// must reach its directory as postgres.
	dir, err := os.MkdirTemp("", "quire-outage-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		jobstest.RequireService(t, "the postgres user to run PostgreSQL as", err)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	pg.data = filepath.Join(dir, "data")
	pg.log = filepath.Join(dir, "postgres.log")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	pg.opts = fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100", port, dir)
	pg.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	pg.run("initdb", "-D", pg.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	pg.start()
	t.Cleanup(func() { _ = pg.cmd("pg_ctl", "-D", pg.data, "stop", "-m", "immediate").Run() })
	return pg
}

func (pg *privatePostgres) cmd(name string, args ...string) *exec.Cmd {
	c := exec.Command(filepath.Join(pg.bin, name), args...)
	c.Dir = os.TempDir()
	if pg.cred != nil {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	return c
}

func (pg *privatePostgres) run(name string, args ...string) {
	pg.t.Helper()
	out, err := pg.cmd(name, args...).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(pg.log)
		pg.t.Fatalf("%s %s: %v\n%s\nlog:\n%s", name, strings.Join(args, " "), err, out, log)
	}
}

func (pg *privatePostgres) start() {
	pg.t.Helper()
	pg.run("pg_ctl", "-D", pg.data, "-o", pg.opts, "-l", pg.log, "-w", "-t", "60", "start")
}

// crash stops the server as a power cut would: no checkpoint, clients cut.
func (pg *privatePostgres) crash() {
	pg.t.Helper()
	pg.run("pg_ctl", "-D", pg.data, "-m", "immediate", "-w", "stop")
}

// TestOutage runs documents on Redis, a private PostgreSQL and a private
// memcached; mid-run PostgreSQL crashes for a few seconds and memcached dies
// for good. Every document must still end as it should: stages retry until
// the store is back, and the cache is only a cache.
func TestOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	jd := redisJobs(t)

	pg := startPostgres(t)
	st, err := store.Open(ctx, pg.url)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	addr, killCache := startMemcached(t)
	mc, err := cache.NewMemcached([]string{addr}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { mc.Close() })
	bs, err := blob.Open(ctx, "file://"+filepath.Join(t.TempDir(), "blobs"))
	require.NoError(t, err)
	t.Cleanup(func() { bs.Close() })
	client, err := jobs.NewClient(jd, nil)
	require.NoError(t, err)
	// Short delays and enough retries to outlast the outage: 40 × 250 ms.
	// A job per stage: its moves between stages do not wait for the disk,
	// so the crash may undo some, which the next stage's job must notice.
	p, err := pipeline.New(pipeline.Config{Store: st, Blobs: bs, Jobs: client, Extractor: sharedExtractor(), Cache: mc,
		MaxRetries: 40, RetryDelay: func(int, error) time.Duration { return 250 * time.Millisecond }, OneJobMaxBytes: -1})
	require.NoError(t, err)
	hs := jobs.NewHandlers()
	p.Register(hs)
	srv, err := jobs.NewServer(jd, &jobs.Config{Handlers: hs, Queues: pipeline.Queues(), Concurrency: 8,
		PollInterval: 50 * time.Millisecond, PeriodicJobs: pipeline.PeriodicJobs()})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, srv.Stop(ctx))
	})

	want := corpus(t)
	ids := map[string]string{}
	for f := range want {
		fh, err := os.Open(f)
		require.NoError(t, err)
		doc, created, err := p.Ingest(ctx, &pipeline.IngestParams{Name: filepath.Base(f), Body: fh, Source: store.SourceProcess})
		fh.Close()
		require.NoError(t, err, f)
		require.True(t, created, f)
		ids[f] = doc.ID
	}
	// Mid-run: some documents finished, not all.
	var before *store.Stats
	require.Eventually(t, func() bool {
		before, err = st.Stats(ctx)
		return err == nil && before.ByState[store.StateDone] > 0
	}, 2*time.Minute, 10*time.Millisecond)
	unfinished := before.Documents - before.ByState[store.StateDone] - before.ByState[store.StateFailed]
	t.Logf("outage begins with %d of %d documents unfinished", unfinished, before.Documents)
	pg.crash()
	killCache()
	time.Sleep(3 * time.Second)
	pg.start()
	t.Log("PostgreSQL is back; memcached stays dead")

	require.Eventually(t, func() bool {
		s, err := st.Stats(ctx)
		return err == nil && s.ByState[store.StateDone]+s.ByState[store.StateFailed] == s.Documents
	}, 3*time.Minute, 100*time.Millisecond)
	retried := 0
	for f, w := range want {
		doc, err := st.GetDocument(ctx, ids[f])
		require.NoError(t, err)
		if w == "done" {
			require.Equal(t, store.StateDone, doc.State, "%s: %s", f, doc.FailureReason)
		} else {
			require.Equal(t, store.StateFailed, doc.State, f)
			require.Contains(t, doc.FailureReason, strings.TrimPrefix(w, "failed:"), f)
		}
		events, err := st.ListEvents(ctx, doc.ID)
		require.NoError(t, err)
		for _, ev := range events {
			if ev.Type == store.EventRetried {
				retried++
				break
			}
		}
	}
	t.Logf("every document ended as it should; %d recorded a retry", retried)
	if unfinished == 0 {
		t.Log("note: every document had finished before the outage")
	}
	// The store answers SQL again for other applications too.
	db, err := sql.Open("pgx", pg.url)
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM documents").Scan(&n))
	require.GreaterOrEqual(t, n, len(want))
}

package pipeline_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/cache"
	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// TestOutage runs documents on Redis, a private PostgreSQL and a private
// memcached; mid-run PostgreSQL crashes for a few seconds and memcached dies
// for good. Every document must still end as it should: stages retry until
// the store is back, and the cache is only a cache.
func TestOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	jd := redisJobs(t)

	pg := testenv.StartPostgres(t)
	st, err := store.Open(ctx, pg.URL)
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
	pg.Crash()
	killCache()
	time.Sleep(3 * time.Second)
	pg.Start()
	t.Log("PostgreSQL is back; memcached stays dead")

	require.Eventually(t, func() bool {
		s, err := st.Stats(ctx)
		return err == nil && s.ByState[store.StateDone]+s.ByState[store.StateFailed] == s.Documents
	}, 3*time.Minute, 100*time.Millisecond)
	retried := 0
	for f, w := range want {
		doc, err := st.GetDocument(ctx, ids[f])
		require.NoError(t, err)
		if w == "done" || w == "truncated" {
			require.Equal(t, store.StateDone, doc.State, "%s: %s", f, doc.FailureReason)
			require.Equal(t, w == "truncated", doc.TextTruncated, f)
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
	db, err := sql.Open("pgx", pg.URL)
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM documents").Scan(&n))
	require.GreaterOrEqual(t, n, len(want))
}

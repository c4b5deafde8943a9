package e2e

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
)

// TestQuietWorker sends a worker process a real SIGTSTP while it runs
// jobs: it turns not-ready but stays live and up, lets its running jobs
// finish, and fetches nothing more, so jobs enqueued after wait for another
// worker. SIGTERM then stops it cleanly.
func TestQuietWorker(t *testing.T) {
	d := &deployment{t: t, rec: testenv.NewRunRecorder(t)}
	d.redis = testenv.StartRedis(t, nil)
	d.common = []string{"--redis-url", d.redis.URL, "--log-format", "json"}
	d.connectBroker()
	quiet := d.startWorker()

	enqueue := func(prefix string, n int, ms int64) []string {
		ids := make([]string, n)
		params := make([]jobs.EnqueueParams, n)
		for i := range params {
			ids[i] = fmt.Sprintf("%s-%d", prefix, i)
			params[i] = jobs.EnqueueParams{Type: "test.record", Args: map[string]any{"id": ids[i], "ms": ms}}
		}
		_, err := d.client.EnqueueMany(context.Background(), params)
		require.NoError(t, err)
		return ids
	}
	running := enqueue("running", 4, 1500)
	waitFor(t, "the worker to run 4 jobs", time.Minute, func() bool {
		return scrape(t, quiet)["quire_process_busy_jobs"] == 4
	})

	quiet.Signal(t, syscall.SIGTSTP)
	waitFor(t, "/readyz to answer 503", time.Minute, func() bool {
		code, _, err := testenv.Get("http://" + quiet.Addr + "/readyz")
		return err == nil && code == http.StatusServiceUnavailable
	})
	code, body, err := testenv.Get("http://" + quiet.Addr + "/healthz")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "a quiet worker is live: %s", body)
	later := enqueue("later", 5, 0)

	// The running jobs finish, each once.
	waitFor(t, "the running jobs to finish", time.Minute, func() bool {
		ran, _ := d.rec.Count(running)
		return ran == len(running)
	})
	_, dup := d.rec.Count(running)
	require.Zero(t, dup)
	waitFor(t, "the worker to be idle", time.Minute, func() bool {
		return scrape(t, quiet)["quire_process_busy_jobs"] == 0
	})
	// Nothing more was fetched: the later jobs wait in their queue, and the
	// process is still up.
	ran, _ := d.rec.Count(later)
	require.Zero(t, ran, "a quiet worker fetched jobs")
	q, err := d.insp.Queue(context.Background(), jobs.QueueDefault)
	require.NoError(t, err)
	require.EqualValues(t, len(later), q.Ready)
	require.False(t, quiet.Exited(), "SIGTSTP stopped the process")

	// Another worker runs them; SIGTERM stops the quiet one cleanly.
	d.startWorker()
	waitFor(t, "another worker to run the later jobs", time.Minute, func() bool {
		ran, _ := d.rec.Count(later)
		return ran == len(later)
	})
	quiet.Stop(t, stopTimeout)
}

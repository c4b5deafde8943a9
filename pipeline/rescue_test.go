package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobstest"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// TestStageThatStopsItsWorker delivers a document's extract job to workers
// that die under it, as a document that crashes or freezes its parser
// would: after MaxRescues of them the document fails with that reason,
// rather than take down one worker after another.
func TestStageThatStopsItsWorker(t *testing.T) {
	// The env's worker runs every queue but extract's, which this test
	// plays the dying workers of, then hands to a worker of its own.
	e := embedded(t, func(_ *pipeline.Config, j *jobs.Config) { delete(j.Queues, pipeline.QueueExtract) })
	ctx := context.Background()
	doc, _, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: "note.txt",
		Body: strings.NewReader("A short note that any worker reads in a moment."), Source: store.SourceUpload})
	require.NoError(t, err)
	for range jobs.MaxRescuesDefault {
		jobstest.RescueOne(t, e.jobs, pipeline.QueueExtract)
	}

	hs := jobs.NewHandlers()
	e.p.Register(hs)
	srv, err := jobs.NewServer(e.jobs, &jobs.Config{Handlers: hs, Queues: map[string]int{pipeline.QueueExtract: 1},
		PollInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(func() { require.NoError(t, srv.Stop(context.Background())) })

	require.Eventually(t, func() bool {
		d, err := e.store.GetDocument(ctx, doc.ID)
		return err == nil && d.State == store.StateFailed
	}, 10*time.Second, 20*time.Millisecond)
	d, err := e.store.GetDocument(ctx, doc.ID)
	require.NoError(t, err)
	require.Contains(t, d.FailureReason, "extract stopped its worker 3 times")
	// The job ended with the document: nothing left to run or dead.
	st, err := jobs.NewInspector(e.jobs, nil).Stats(ctx, 1)
	require.NoError(t, err)
	require.Zero(t, st.Dead)
	require.Zero(t, st.Ready)
}

package cli

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/app"
	"github.com/quirehq/quire/jobs/jobstest"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// --max-rescues reaches the pipeline: a document whose extraction stopped
// its worker once fails at its next delivery when one rescue is all it may
// have, with that reason, where the default (3) would run it. 0, which the
// engine would read as its default, is refused.
func TestMaxRescues(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	file := filepath.Join(t.TempDir(), "note.txt")
	require.NoError(t, os.WriteFile(file, []byte("A short note that any worker reads in a moment."), 0o600))

	r := b.run(t, "process", file, "--max-rescues", "0")
	require.Equal(t, exitUsage, r.code, r.stderr)
	require.Contains(t, r.stderr, "invalid --max-rescues / QUIRE_MAX_RESCUES 0: give at least 1, or a negative number for no limit")

	// The document is received and its extraction taken by a worker that
	// died: the job's lease ran out and it went back to its queue.
	ctx := t.Context()
	g := &app.Config{}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	g.AddFlags(fs)
	require.NoError(t, fs.Parse(b.args))
	br, err := app.OpenBroker(g)
	require.NoError(t, err)
	docs, err := app.OpenDocuments(ctx, g, br, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	f, err := os.Open(file)
	require.NoError(t, err)
	doc, created, err := docs.Pipeline.Ingest(ctx, &pipeline.IngestParams{Name: "note.txt", Body: f, Source: store.SourceProcess})
	require.NoError(t, f.Close())
	require.NoError(t, err)
	require.True(t, created)
	jobstest.RescueOne(t, br.Driver, pipeline.QueueExtract)
	require.NoError(t, docs.Close())
	require.NoError(t, br.Close())

	r = b.run(t, "process", file, "--json", "--log-level", "error", "--max-rescues", "1")
	require.Equal(t, exitError, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	var sum app.ProcessSummary
	require.NoError(t, json.Unmarshal([]byte(r.lastLine()), &sum), r.stdout)
	require.Equal(t, 1, sum.Failed, r.stdout)
	require.Equal(t, 1, sum.Duplicates, "received before the run")
	require.Equal(t, map[string]int{"extract stopped its worker once (the process died, was killed or froze); not run again": 1},
		sum.Reasons)

	st, err := app.OpenStore(ctx, g)
	require.NoError(t, err)
	defer st.Close()
	d, err := st.GetDocument(ctx, doc.ID)
	require.NoError(t, err)
	require.Equal(t, store.StateFailed, d.State)
	require.Equal(t, "extract", d.FailedStage)
}

package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/bench"
	"github.com/quirehq/quire/internal/testenv"
)

func TestBenchPipeline(t *testing.T) {
	t.Parallel()
	r := runCLI(t.Context(), t, nil, "bench", "pipeline", "--corpus", "../../../../testdata/text", "--json",
		"--concurrency", "4", "--ingest-concurrency", "2", "--timeout", "2m")
	require.Equal(t, exitOK, r.code, r.stderr)

	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.lastLine()), &raw), "last line: %s", r.lastLine())
	for _, k := range []string{"docs_per_s", "pages_per_s", "p50_ms", "p99_ms", "stages", "done", "failed", "rss_mib", "cpu_s"} {
		require.Contains(t, raw, k)
	}
	var res bench.PipelineResult
	require.NoError(t, json.Unmarshal([]byte(r.lastLine()), &res))
	require.Equal(t, "quire-sqlite", res.Engine)
	require.True(t, res.ML, "the analyze stage runs the machine learning, as in the workers")
	require.Positive(t, res.Files)
	require.Positive(t, res.Done)
	require.Equal(t, res.Documents, res.Done+res.Failed, "every document done or failed")
	require.Equal(t, int64(res.Files-res.Duplicates-res.Refused), res.Documents, "no attachments in text files")
	require.Positive(t, res.DocsPerS)
	require.Positive(t, res.IngestS)
	require.LessOrEqual(t, res.IngestS, res.ElapsedS)
	require.GreaterOrEqual(t, res.P99MS, res.P50MS)
	for _, stage := range []string{"extract", "analyze"} { // small files: one job, no notify stage
		require.Contains(t, res.Stages, stage)
		require.GreaterOrEqual(t, res.Stages[stage].P99MS, res.Stages[stage].P50MS)
	}
	require.Contains(t, r.stderr, "bench: removed its data")
}

func TestBenchPipelineFlags(t *testing.T) {
	t.Parallel()
	r := runCLI(t.Context(), t, nil, "bench", "pipeline", "--concurrency", "0", "--ingest-concurrency", "-1", "--ingest-batch", "0")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "--corpus is required")
	require.Contains(t, r.stderr, "invalid --concurrency 0")
	require.Contains(t, r.stderr, "invalid --ingest-concurrency -1")
	require.Contains(t, r.stderr, "invalid --ingest-batch 0")
}

// TestBenchPipelineRefuses: a corpus without files and a store that holds
// documents are mistakes in the settings.
func TestBenchPipelineRefuses(t *testing.T) {
	t.Parallel()

	t.Run("EmptyCorpus", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o600))
		r := runCLI(t.Context(), t, nil, "bench", "pipeline", "--corpus", dir, "--ml=false")
		require.Equal(t, exitUsage, r.code, r.stderr)
		require.Contains(t, r.stderr, fmt.Sprintf("invalid --corpus %q: no files in it", dir))
		require.Contains(t, r.stderr, "bench: removed its data")
	})

	t.Run("StoreNotEmpty", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a document"), 0o600))
		args := []string{"bench", "pipeline", "--corpus", dir, "--ml=false", "--postgres-url", testenv.NewPostgresDatabase(t)}
		r := runCLI(t.Context(), t, nil, args...)
		require.Equal(t, exitOK, r.code, r.stderr)
		r = runCLI(t.Context(), t, nil, args...) // the first run's document is still there
		require.Equal(t, exitUsage, r.code, r.stderr)
		require.Contains(t, r.stderr, "the store (--postgres-url / QUIRE_POSTGRES_URL) already holds 1 documents: give the bench a fresh database")
	})
}

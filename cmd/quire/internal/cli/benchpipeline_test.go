package cli

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/bench"
)

func TestBenchPipeline(t *testing.T) {
	t.Parallel()
	r := runCLI(t.Context(), t, nil, "bench", "pipeline", "--corpus", "../../../../testdata/text", "--json",
		"--concurrency", "4", "--ingest-concurrency", "2", "--timeout", "2m")
	require.Equal(t, exitOK, r.code, r.stderr)

	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.lastLine()), &raw), "last line: %s", r.lastLine())
	for _, k := range []string{"docs_per_s", "pages_per_s", "p50_ms", "p99_ms", "stages", "done", "failed", "rss_mib"} {
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
	r := runCLI(t.Context(), t, nil, "bench", "pipeline", "--concurrency", "0", "--ingest-concurrency", "-1")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "--corpus is required")
	require.Contains(t, r.stderr, "invalid --concurrency 0")
	require.Contains(t, r.stderr, "invalid --ingest-concurrency -1")
}

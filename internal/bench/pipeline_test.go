package bench_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/cache"
	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/internal/bench"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// textCorpus holds a few small text documents, each one job through the
// pipeline.
const textCorpus = "../../testdata/text"

// pipelineBundle is a pipeline on the embedded defaults, as `quire bench
// pipeline` opens it: SQLite for the jobs and the store, blobs in a
// directory, the cache in memory.
type pipelineBundle struct {
	driver   jobs.Driver
	pipeline *pipeline.Pipeline
	store    store.Store
	// servers counts the servers NewServerFunc built.
	servers atomic.Int32
}

func setupPipeline(t *testing.T) *pipelineBundle {
	t.Helper()
	dir := t.TempDir()
	b := &pipelineBundle{driver: newSQLiteDriver(t)}
	st, err := store.Open(t.Context(), filepath.Join(dir, "quire.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(t.Context()))
	bs, err := blob.Open(t.Context(), "file://"+filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	t.Cleanup(func() { bs.Close() })
	x := extract.New(extract.Config{PDFWorkers: 1})
	t.Cleanup(func() { x.Close() })
	client, err := jobs.NewClient(b.driver, nil)
	require.NoError(t, err)
	b.pipeline, err = pipeline.New(pipeline.Config{Store: st, Blobs: bs, Cache: cache.NewMemory(nil), Jobs: client,
		Extractor: x, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	b.store = st
	return b
}

// config returns a bench config on the bundle's pipeline, its server built
// as a caller builds its own.
func (b *pipelineBundle) config(corpus string) *bench.PipelineConfig {
	return &bench.PipelineConfig{
		Pipeline: b.pipeline,
		Store:    b.store,
		NewServerFunc: func(c jobs.Config) (*jobs.Server, error) {
			b.servers.Add(1)
			c.Logger = slog.New(slog.DiscardHandler)
			c.PollInterval = 50 * time.Millisecond
			return jobs.NewServer(b.driver, &c)
		},
		Engine:            "quire-sqlite",
		Logger:            slog.New(slog.DiscardHandler),
		Corpus:            corpus,
		Concurrency:       4,
		IngestConcurrency: 2,
		Timeout:           2 * time.Minute,
	}
}

// TestPipeline runs the bench with files ingested one at a time
// (pipeline.Ingest) and a few at a time (pipeline.IngestMany). The runs
// take turns: each writes a CPU profile, and a process has one profiler.
func TestPipeline(t *testing.T) {
	t.Parallel()
	for _, batch := range []int{1, 3} {
		t.Run(fmt.Sprintf("IngestBatch%d", batch), func(t *testing.T) {
			testPipeline(t, batch)
		})
	}
}

func testPipeline(t *testing.T, batch int) {
	b := setupPipeline(t)
	cfg := b.config(textCorpus)
	cfg.IngestBatch = batch
	cfg.ML = true // reported as given
	var prof bytes.Buffer
	cfg.CPUProfile = &prof

	res, err := bench.Pipeline(t.Context(), cfg)
	require.NoError(t, err)
	require.EqualValues(t, 1, b.servers.Load())
	files, err := os.ReadDir(textCorpus)
	require.NoError(t, err)
	require.Equal(t, "quire-sqlite", res.Engine)
	require.Equal(t, "sqlite", res.Store)
	require.True(t, res.ML)
	require.Equal(t, len(files), res.Files)
	require.Equal(t, 4, res.Concurrency)
	require.Equal(t, batch, res.IngestBatch)
	require.Positive(t, res.Done)
	require.Equal(t, res.Documents, res.Done+res.Failed, "every document done or failed")
	require.Equal(t, int64(res.Files-res.Duplicates-res.Refused), res.Documents, "no attachments in text files")
	failed := 0
	for _, n := range res.Failures {
		failed += n
	}
	require.EqualValues(t, res.Failed, failed, "every failure has its reason")
	require.Positive(t, res.DocsPerS)
	require.Positive(t, res.IngestS)
	require.LessOrEqual(t, res.IngestS, res.ElapsedS)
	require.Positive(t, res.P50MS)
	require.GreaterOrEqual(t, res.P99MS, res.P50MS)
	for _, stage := range []string{"extract", "analyze"} { // small files: one job, no notify stage
		require.Contains(t, res.Stages, stage)
		require.EqualValues(t, res.Documents, res.Stages[stage].Count)
		require.GreaterOrEqual(t, res.Stages[stage].P99MS, res.Stages[stage].P50MS)
	}
	require.Positive(t, res.RSSMiB)
	if runtime.GOOS == "linux" {
		require.Positive(t, res.CPUS)
	}
	require.NotZero(t, prof.Len(), "a CPU profile of the run")

	st, err := b.store.Stats(t.Context())
	require.NoError(t, err)
	require.Equal(t, res.Documents, st.Documents)
}

// TestPipelineStoreNotEmpty: the bench counts every document in the store
// as its own, so it refuses a store that holds some, before it starts a
// server.
func TestPipelineStoreNotEmpty(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	_, _, err := b.pipeline.Ingest(t.Context(), &pipeline.IngestParams{Name: "a.txt",
		Body: strings.NewReader("already here"), Source: store.SourceProcess})
	require.NoError(t, err)

	_, err = bench.Pipeline(t.Context(), b.config(textCorpus))
	var notEmpty *bench.StoreNotEmptyError
	require.ErrorAs(t, err, &notEmpty)
	require.EqualValues(t, 1, notEmpty.Documents)
	require.Zero(t, b.servers.Load())
}

// TestPipelineCorpusEmpty: hidden files (the corpora's .complete markers)
// and hidden directories do not count.
func TestPipelineCorpusEmpty(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".git"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref"), 0o600))

	_, err := bench.Pipeline(t.Context(), b.config(dir))
	require.ErrorIs(t, err, bench.ErrCorpusEmpty)
	require.Zero(t, b.servers.Load())
}

func TestPipelineConfigDefaults(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)

	cfg := bench.PipelineConfig{Pipeline: b.pipeline}.WithDefaults()
	require.Equal(t, bench.PipelineConcurrencyDefault, cfg.Concurrency)
	require.Equal(t, bench.PipelineIngestConcurrencyDefault, cfg.IngestConcurrency)
	require.Equal(t, bench.PipelineIngestBatchDefault, cfg.IngestBatch)
	require.Equal(t, bench.PipelineTimeoutDefault, cfg.Timeout)
	require.NotNil(t, cfg.Logger)
}

func TestPipelineConfigInvalid(t *testing.T) {
	t.Parallel()

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	tests := []struct {
		name string
		cfg  bench.PipelineConfig
		want []string
	}{
		{name: "Empty", want: []string{"Pipeline is required", "Store is required", "NewServerFunc is required", "Corpus is required"}},
		{
			name: "Negative",
			cfg:  bench.PipelineConfig{Corpus: file, Concurrency: -1, IngestConcurrency: -2, IngestBatch: -3, Timeout: -time.Second},
			want: []string{`Corpus "` + file + `" is not a directory`, "Concurrency -1 must be at least 1",
				"IngestConcurrency -2 must be at least 1", "IngestBatch -3 must be at least 1", "Timeout -1s must be positive"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := bench.Pipeline(t.Context(), &tt.cfg)
			require.ErrorContains(t, err, "bench: invalid pipeline config")
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
			require.False(t, errors.Is(err, bench.ErrCorpusEmpty))
		})
	}
}

// pipelineResult is a result with every field set, two stages out of
// their printed order and two failure reasons.
func pipelineResult() *bench.PipelineResult {
	return &bench.PipelineResult{Engine: "quire-redis", Store: "postgres", ML: true, Files: 210, Documents: 212,
		Done: 209, Failed: 3, Duplicates: 1, Refused: 2, Pages: 40, Concurrency: 64, IngestConcurrency: 16, IngestBatch: 8, ElapsedS: 1.25, IngestS: 1.125,
		DocsPerS: 169.6, PagesPerS: 32, P50MS: 109.625, P99MS: 257.25,
		Stages: map[string]bench.StageLatency{
			"analyze": {Count: 212, P50MS: 26.25, P99MS: 142.5},
			"extract": {Count: 212, P50MS: 29.5, P99MS: 157.75},
			"webhook": {Count: 1, P50MS: 3, P99MS: 3},
		},
		Failures: map[string]int{"encrypted PDF": 2, "corrupt ZIP": 1},
		RSSMiB:   73.125,
		CPUS:     2.5,
	}
}

// TestPipelineResultJSON: scripts/bench-ml.sh and docs read these names in
// this order.
func TestPipelineResultJSON(t *testing.T) {
	t.Parallel()

	b, err := json.Marshal(pipelineResult())
	require.NoError(t, err)
	require.Equal(t, `{"engine":"quire-redis","store":"postgres","ml":true,"files":210,"documents":212,"done":209,`+
		`"failed":3,"duplicates":1,"refused":2,"pages":40,"concurrency":64,"ingest_concurrency":16,"ingest_batch":8,"elapsed_s":1.25,"ingest_s":1.125,`+
		`"docs_per_s":169.6,"pages_per_s":32,"p50_ms":109.625,"p99_ms":257.25,"stages":{`+
		`"analyze":{"count":212,"p50_ms":26.25,"p99_ms":142.5},"extract":{"count":212,"p50_ms":29.5,"p99_ms":157.75},`+
		`"webhook":{"count":1,"p50_ms":3,"p99_ms":3}},"failures":{"corrupt ZIP":1,"encrypted PDF":2},"rss_mib":73.125,"cpu_s":2.5}`,
		string(b))

	r := pipelineResult()
	r.Failures = map[string]int{}
	b, err = json.Marshal(r)
	require.NoError(t, err)
	require.NotContains(t, string(b), "failures", "left out when none failed")
}

func TestPipelineResultWriteTable(t *testing.T) {
	t.Parallel()

	var buf bytes.Buffer
	require.NoError(t, pipelineResult().WriteTable(&buf))
	require.Equal(t, "quire bench pipeline (quire-redis, store postgres, machine learning): 210 files, 212 documents, concurrency 64\n"+
		"  done                        209\n"+
		"  failed                        3\n"+
		"  throughput                169.6 docs/s  (1.25 s)\n"+
		"  pages                      32.0 pages/s (40 pages)\n"+
		"  ingest to done            109.6 ms p50, 257.2 ms p99\n"+
		"  stage extract              29.5 ms p50, 157.8 ms p99 (212 runs)\n"+
		"  stage analyze              26.2 ms p50, 142.5 ms p99 (212 runs)\n"+
		"  stage webhook               3.0 ms p50, 3.0 ms p99 (1 runs)\n"+
		"  peak RSS                   73.1 MiB\n"+
		"  CPU                         2.5 s\n"+
		"  failed      2  encrypted PDF\n"+
		"  failed      1  corrupt ZIP\n", buf.String())

	r := pipelineResult()
	r.ML = false
	buf.Reset()
	require.NoError(t, r.WriteTable(&buf))
	require.True(t, strings.HasPrefix(buf.String(), "quire bench pipeline (quire-redis, store postgres, basic analysis): "))
}

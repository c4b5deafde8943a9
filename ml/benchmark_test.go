package ml_test

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
)

// benchText is 2 KB of real English prose: the start of a State of the
// Union address (testdata/text, public domain).
var benchText = sync.OnceValue(func() string {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "text", "sotu-1932-hoover.txt"))
	if err != nil {
		panic(err)
	}
	s := string(b)
	cut := 2048
	for cut < len(s) && s[cut] != ' ' {
		cut++
	}
	return s[:cut]
})

// benchModel is the classifier of the benchmarks: the artifact named by
// QUIRE_ML_BENCH_MODEL (written by quire ml train), else one trained on
// the whole SpamAssassin corpus when it is installed (QUIRE_TEST_CORPORA),
// for a model of realistic size, else on the committed sample.
func benchModel(b *testing.B) *ml.Model {
	b.Helper()
	if path := os.Getenv("QUIRE_ML_BENCH_MODEL"); path != "" {
		data, err := os.ReadFile(path)
		require.NoError(b, err)
		m, err := ml.UnmarshalModel(data)
		require.NoError(b, err)
		b.Logf("model %s: %d features, %d labels", path, len(m.Terms), len(m.Labels))
		return m
	}
	var examples []ml.Example
	if os.Getenv("QUIRE_TEST_CORPORA") != "" {
		examples = spamAssassin3(b)
	} else {
		examples = committedSpamAssassin(b)
	}
	m, err := ml.Train(context.Background(), examples, nil)
	require.NoError(b, err)
	b.Logf("model: %d documents, %d features, %d labels", len(examples), len(m.Terms), len(m.Labels))
	return m
}

// BenchmarkClassify measures one prediction of a 2 KB document.
func BenchmarkClassify(b *testing.B) {
	m := benchModel(b)
	text := ml.DocumentText("Re: the budget", "Herbert Hoover", benchText())
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		m.Predict(text)
	}
	cpu.report(b)
}

// cpuClock measures the process's CPU time (user and system) over a
// benchmark loop. On a machine shared with other work, wall time per
// operation grows with the load; CPU time much less, so benchmarks report
// both.
type cpuClock struct{ start time.Duration }

func startCPU(b *testing.B) *cpuClock {
	b.Helper()
	return &cpuClock{start: cpuTime(b)}
}

func (c *cpuClock) report(b *testing.B) {
	b.Helper()
	b.ReportMetric(float64((cpuTime(b)-c.start).Microseconds())/float64(b.N), "cpu-µs/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Skip("getrusage:", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAnalyze measures the full analysis of a 2 KB text (language
// among all 75 languages, entities, keywords, summary and one
// classifier) and reports the median of single analyses.
func BenchmarkAnalyze(b *testing.B) {
	lang, err := ml.NewLanguageIdentifier(&ml.LanguageOpts{Preload: true})
	require.NoError(b, err)
	a, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Language: lang, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	require.NoError(b, a.Load(ml.LoadedModel{Model: benchModel(b)}))
	doc := &ml.Document{Title: "State of the Union", Author: "Herbert Hoover", Text: benchText()}
	ctx := context.Background()
	var times []time.Duration
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		start := time.Now()
		if _, err := a.AnalyzeDocument(ctx, doc); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	cpu.report(b)
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkLoadedRSS reports the process's resident memory with every
// model loaded: the language model and a classifier, as a worker holds
// them. Run it alone, with QUIRE_ML_BENCH_MODEL, so that no training or
// other benchmark has grown the process before.
func BenchmarkLoadedRSS(b *testing.B) {
	lang, err := ml.NewLanguageIdentifier(&ml.LanguageOpts{Preload: true})
	require.NoError(b, err)
	m := benchModel(b)
	a, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Language: lang, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	require.NoError(b, a.Load(ml.LoadedModel{Model: m}))
	_, err = a.AnalyzeDocument(context.Background(), &ml.Document{Text: benchText()})
	require.NoError(b, err)
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for b.Loop() {
		lang.Identify("warm")
	}
	b.ReportMetric(float64(rssKiB(b))/1024, "RSS-MiB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	runtime.KeepAlive(a)
}

// rssKiB reads the process's resident set size from /proc.
func rssKiB(b *testing.B) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status:", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			require.NoError(b, err)
			return n
		}
	}
	b.Skip("no VmRSS in /proc/self/status")
	return 0
}

// fixedLanguage is a LanguageIdentifier that always answers English, so
// that BenchmarkAnalyzeText measures the text analyses alone.
type fixedLanguage struct{}

func (fixedLanguage) Identify(string) (string, float64) { return "en", 1 }

// BenchmarkAnalyzeText measures the analysis of a 2 KB text without
// language identification: tokens, entities, keywords, summary and one
// classifier.
func BenchmarkAnalyzeText(b *testing.B) {
	a, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Language: fixedLanguage{}, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	require.NoError(b, a.Load(ml.LoadedModel{Model: benchModel(b)}))
	doc := &ml.Document{Title: "State of the Union", Author: "Herbert Hoover", Text: benchText()}
	ctx := context.Background()
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		if _, err := a.AnalyzeDocument(ctx, doc); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

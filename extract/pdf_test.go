package extract

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Test binaries do not record their dependencies' versions; go.mod tells
// the engine which wazero compiled its disk-cached code.
func init() {
	data, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/tetratelabs/wazero" {
			pdfTestWazeroVersion = f[1]
		}
	}
}

// sharedPDF is the one PDF engine of the package's tests: it takes seconds
// and hundreds of MB to start, so tests borrow it rather than start their own.
var sharedPDF struct {
	once sync.Once
	x    *Extractor
}

// pdfTestExtractor returns the package's shared Extractor, with default
// limits and a pool of two PDF instances.
func pdfTestExtractor(t testing.TB) *Extractor {
	t.Helper()
	sharedPDF.once.Do(func() { sharedPDF.x = New(Config{PDFWorkers: 2}) })
	return sharedPDF.x
}

// startTestPDFEngine starts an engine of the test's own, once the shared one
// has put the compiled module in the disk cache, so that the tests do not
// each spend seconds compiling it on a cold machine.
func startTestPDFEngine(t testing.TB, workers int, memLimit int64) *pdfEngine {
	t.Helper()
	_, err := pdfTestExtractor(t).pdfEngine()
	require.NoError(t, err)
	eng, err := startPDFEngine(workers, memLimit)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, eng.close()) })
	return eng
}

// pdfTestExtractorWith returns an Extractor configured by cfg that uses the
// shared PDF engine; its OCR engine is its own, so cfg.TesseractPath counts.
func pdfTestExtractorWith(t testing.TB, cfg Config) *Extractor {
	t.Helper()
	eng, err := pdfTestExtractor(t).pdfEngine()
	require.NoError(t, err)
	x := New(cfg)
	x.state["pdf"] = eng
	return x
}

func extractPDFFile(t testing.TB, x *Extractor, name string) (*Result, error) {
	t.Helper()
	return x.Extract(context.Background(), &Input{Name: name, Data: testdataFile(t, "pdf/"+name), Type: "application/pdf"})
}

func TestPDFText(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		pages   int
		title   string
		author  string
		created time.Time
		// phrases maps a page number to phrases it holds.
		phrases map[int][]string
	}{
		{
			name:    "anysize.pdf",
			pages:   1,
			created: time.Date(2008, 5, 31, 12, 50, 14, 0, time.FixedZone("", 2*3600)),
			phrases: map[int][]string{1: {
				"anysize.sty — to set the margin sizes in LATEX",
				"anysize is a LATEX package set the papersize and the margins of a document.",
			}},
		},
		{
			name:    "everyshi.pdf",
			pages:   4,
			created: time.Date(2020, 11, 24, 18, 29, 28, 0, time.FixedZone("", 3600)),
			phrases: map[int][]string{1: {
				"The obsolete everyshi package",
				"Martin Schröder",
				// Hyphenated across a line break in the PDF.
				"this package became obsolete in 2020",
			}},
		},
		{
			name:    "float.pdf",
			pages:   12,
			title:   "float.dvi",
			created: time.Date(2006, 12, 5, 12, 6, 14, 0, time.UTC),
			phrases: map[int][]string{
				1: {"An Improved Environment for Floats", "Anselm Lingnau"},
				2: {"float"},
			},
		},
		{
			name:    "footnotehyper.pdf",
			pages:   17,
			title:   "The footnotehyper package",
			author:  "Jean-François Burnol",
			created: time.Date(2021, 8, 13, 11, 54, 7, 0, time.FixedZone("", 3*3600)),
			phrases: map[int][]string{1: {
				"The footnotehyper package",
				"The footnote package by Mark Wooding",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := extractPDFFile(t, pdfTestExtractor(t), tt.name)
			require.NoError(t, err)

			require.Equal(t, "application/pdf", res.Type)
			require.Len(t, res.Pages, tt.pages)
			require.Equal(t, tt.title, res.Title)
			require.Equal(t, tt.author, res.Author)
			require.True(t, tt.created.Equal(res.Created), "created %v, want %v", res.Created, tt.created)
			require.Empty(t, res.Warnings)
			for i, p := range res.Pages {
				require.Equal(t, i+1, p.Number)
				require.False(t, p.OCR, "page %d", p.Number)
				require.NotEmpty(t, p.Text, "page %d", p.Number)
			}
			for page, phrases := range tt.phrases {
				for _, ph := range phrases {
					require.Contains(t, res.Pages[page-1].Text, ph, "page %d", page)
				}
			}
			require.Equal(t, tt.pages-1, strings.Count(res.Text, "\f"))
			// Each page's text, a blank line (with the form feed) between
			// two: the last word of a page never runs into the next one's.
			texts := make([]string, len(res.Pages))
			for i, p := range res.Pages {
				texts[i] = p.Text
			}
			require.Equal(t, strings.Join(texts, "\n\f\n"), res.Text)
			for i := 1; i < len(res.Pages); i++ {
				end := strings.Fields(res.Pages[i-1].Text)
				start := strings.Fields(res.Pages[i].Text)
				require.Contains(t, res.Text, end[len(end)-1]+"\n\f\n", "page %d", i)
				require.Contains(t, res.Text, "\n\f\n"+start[0], "page %d", i+1)
			}
			require.NotContains(t, res.Text, "\r")
			require.NotContains(t, res.Text, "\ufffe")
		})
	}
}

// TestPDFDetected extracts PDFs and images without a declared type.
func TestPDFDetected(t *testing.T) {
	t.Parallel()
	res, err := pdfTestExtractor(t).Extract(context.Background(), &Input{Name: "upload", Data: testdataFile(t, "pdf/anysize.pdf")})
	require.NoError(t, err)
	require.Equal(t, "application/pdf", res.Type)
	require.Contains(t, res.Text, "anysize is a LATEX package")

	requireTesseract(t)
	res, err = pdfTestExtractor(t).Extract(context.Background(), &Input{Name: "scan", Data: testdataFile(t, "images/fax.tiff")})
	require.NoError(t, err)
	require.Equal(t, "image/tiff", res.Type)
	require.Contains(t, res.Text, "Second page of the fax.")
}

func TestPDFMetaExtras(t *testing.T) {
	t.Parallel()
	res, err := extractPDFFile(t, pdfTestExtractor(t), "footnotehyper.pdf")
	require.NoError(t, err)
	require.Equal(t, "dvipdfmx (20210318)", res.Meta["producer"])
}

func TestPDFMaxPages(t *testing.T) {
	t.Parallel()
	x := pdfTestExtractorWith(t, Config{Limits: Limits{MaxPages: 5}})

	_, err := extractPDFFile(t, x, "footnotehyper.pdf")
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitError{Limit: "pages", Max: 5, Got: 17}, *le)

	res, err := extractPDFFile(t, x, "everyshi.pdf")
	require.NoError(t, err)
	require.Len(t, res.Pages, 4)
}

func TestPDFEncrypted(t *testing.T) {
	t.Parallel()
	_, err := extractPDFFile(t, pdfTestExtractor(t), "encrypted.pdf")
	require.ErrorIs(t, err, ErrEncrypted)
}

func TestPDFCorrupt(t *testing.T) {
	t.Parallel()
	random := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	float := testdataFile(t, "pdf/float.pdf")
	tests := []struct {
		name string
		data []byte
	}{
		{"truncated", testdataFile(t, "pdf/truncated.pdf")},
		{"empty", nil},
		{"header only", []byte("%PDF-1.7\n")},
		{"random", random},
		{"random after header", append([]byte("%PDF-1.5\n"), random...)},
		{"first half of float.pdf", float[:len(float)/2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := pdfTestExtractor(t).Extract(context.Background(), &Input{Data: tt.data, Type: "application/pdf"})
			require.ErrorIs(t, err, ErrCorrupt)
			var pe *PanicError
			require.False(t, errors.As(err, &pe))
		})
	}
}

// TestPDFMutated damages the real PDFs at random places: each must extract
// or fail with an error a person can act on, never panic or hang.
func TestPDFMutated(t *testing.T) {
	t.Parallel()
	x := pdfTestExtractor(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, name := range []string{"anysize.pdf", "everyshi.pdf", "float.pdf", "footnotehyper.pdf"} {
		orig := testdataFile(t, "pdf/"+name)
		for i := range 10 {
			data := slices.Clone(orig)
			for range 1 + rng.IntN(40) {
				data[rng.IntN(len(data))] = byte(rng.Uint32())
			}
			res, err := x.Extract(context.Background(), &Input{Data: data, Type: "application/pdf"})
			var pe *PanicError
			require.False(t, errors.As(err, &pe), "%s #%d: %v", name, i, err)
			if err != nil {
				require.True(t, classified(err) || errors.Is(err, ErrOCRUnavailable), "%s #%d: unclassified error %v", name, i, err)
				continue
			}
			require.True(t, strings.ToValidUTF8(res.Text, "") == res.Text, "%s #%d", name, i)
		}
	}
}

func TestPDFScannedOCR(t *testing.T) {
	t.Parallel()
	requireTesseract(t)

	t.Run("scanned", func(t *testing.T) {
		t.Parallel()
		res, err := extractPDFFile(t, pdfTestExtractor(t), "scanned.pdf")
		require.NoError(t, err)
		require.Empty(t, res.Warnings)
		require.Len(t, res.Pages, 1)
		require.True(t, res.Pages[0].OCR)
		require.Contains(t, res.Pages[0].Text, "Minutes of the annual meeting")
		require.Contains(t, res.Pages[0].Text, "The committee approved the budget")
		require.Equal(t, "Minutes of the annual meeting", res.Title)
	})
	t.Run("mixed", func(t *testing.T) {
		t.Parallel()
		res, err := extractPDFFile(t, pdfTestExtractor(t), "mixed.pdf")
		require.NoError(t, err)
		require.Empty(t, res.Warnings)
		require.Len(t, res.Pages, 2)
		require.False(t, res.Pages[0].OCR)
		require.Equal(t, "Quarterly report for the board\nRevenue grew in every region.", res.Pages[0].Text)
		require.True(t, res.Pages[1].OCR)
		require.Contains(t, res.Pages[1].Text, "Signed copy of the contract")
		require.Contains(t, res.Pages[1].Text, "Witnessed by the notary")
	})
}

func TestPDFScannedOCRUnavailable(t *testing.T) {
	t.Parallel()
	x := pdfTestExtractorWith(t, Config{TesseractPath: filepath.Join(t.TempDir(), "tesseract")})

	t.Run("no text at all", func(t *testing.T) {
		t.Parallel()
		_, err := extractPDFFile(t, x, "scanned.pdf")
		require.ErrorIs(t, err, ErrOCRUnavailable)
	})
	t.Run("some text", func(t *testing.T) {
		t.Parallel()
		res, err := extractPDFFile(t, x, "mixed.pdf")
		require.NoError(t, err)
		require.Len(t, res.Warnings, 1)
		require.Contains(t, res.Warnings[0], "page 2 (scanned) not read")
		require.Contains(t, res.Warnings[0], ErrOCRUnavailable.Error())
		require.Contains(t, res.Pages[0].Text, "Quarterly report for the board")
		require.Empty(t, res.Pages[1].Text)
		require.False(t, res.Pages[1].OCR)
	})
	t.Run("no scans", func(t *testing.T) {
		t.Parallel()
		res, err := extractPDFFile(t, x, "anysize.pdf")
		require.NoError(t, err)
		require.Empty(t, res.Warnings)
	})
}

// TestPDFTimeout stops a document that parses for seconds: the extraction
// fails on time, the instance it held is killed, and the pool goes on with a
// fresh one. It has an engine of its own, so that the instance is surely
// busy when the deadline comes.
func TestPDFTimeout(t *testing.T) {
	t.Parallel()
	eng := startTestPDFEngine(t, 1, 0)
	short := New(Config{Limits: Limits{Timeout: 300 * time.Millisecond}})
	short.state["pdf"] = eng
	long := New(Config{})
	long.state["pdf"] = eng

	start := time.Now()
	_, err := extractPDFFile(t, short, "slow.pdf")
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "time", le.Limit)
	require.Less(t, time.Since(start), 2*time.Second)
	require.Eventually(t, func() bool { return eng.abandoned.Load() == 1 }, 5*time.Second, 10*time.Millisecond)

	// The killed instance's call runs on meanwhile; these must not wait
	// for it.
	for range 3 {
		res, err := extractPDFFile(t, long, "anysize.pdf")
		require.NoError(t, err)
		require.Contains(t, res.Text, "anysize is a LATEX package")
	}
	require.Zero(t, eng.recycled.Load())
}

// TestPDFKilledCallsEnd kills instances at a spread of points in the reading
// of real documents, and waits for every abandoned call to end. A call that
// never ends would stop the process at the next garbage collection (nothing
// preempts compiled WebAssembly), this test's binary included: a killed
// instance's memory zeroed under its call made that happen within a few
// hundred kills.
func TestPDFKilledCallsEnd(t *testing.T) {
	t.Parallel()
	eng := startTestPDFEngine(t, 2, MaxPDFMemoryDefault)
	x := New(Config{})
	x.state["pdf"] = eng
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "pdf", "*.pdf"))
	require.NoError(t, err)
	paths = append(paths, corpusPDFs(t)...)
	docs := make([][]byte, len(paths))
	for i, p := range paths {
		docs[i], err = os.ReadFile(p)
		require.NoError(t, err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+i%40)*time.Millisecond)
		_, _ = x.Extract(ctx, &Input{Data: docs[rnd.IntN(len(docs))], Type: "application/pdf"})
		cancel()
	}
	require.NotZero(t, eng.abandoned.Load())
	require.Eventually(t, func() bool {
		runtime.GC()
		return eng.orphans.Load() == 0
	}, 30*time.Second, 50*time.Millisecond)
}

func TestPDFCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := pdfTestExtractor(t).Extract(ctx, &Input{Data: testdataFile(t, "pdf/anysize.pdf"), Type: "application/pdf"})
	require.ErrorIs(t, err, context.Canceled)
}

// TestPDFRecycle reads a page of half a million strokes, which grows its
// instance's memory past pdfRecycleBytes: the instance is replaced after the
// document rather than kept at that size.
func TestPDFRecycle(t *testing.T) {
	t.Parallel()
	x := pdfTestExtractor(t)
	eng, err := x.pdfEngine()
	require.NoError(t, err)
	before := eng.recycled.Load()

	res, err := extractPDFFile(t, x, "slow.pdf")
	require.NoError(t, err)
	require.Len(t, res.Pages, 1)
	require.Empty(t, res.Pages[0].Text)
	require.Empty(t, res.Warnings)
	require.Greater(t, eng.recycled.Load(), before)
}

// TestPDFMemoryLimit reads the page of half a million strokes on an engine
// whose instances may not grow past 48 MB (it needs about 100): the document
// fails on the limit, and the next one gets a fresh instance.
func TestPDFMemoryLimit(t *testing.T) {
	t.Parallel()
	eng := startTestPDFEngine(t, 1, 48<<20)
	x := New(Config{})
	x.state["pdf"] = eng

	_, err := extractPDFFile(t, x, "slow.pdf")
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitError{Limit: "PDF memory", Max: 48 << 20}, *le)
	require.EqualValues(t, 1, eng.recycled.Load())

	res, err := extractPDFFile(t, x, "anysize.pdf")
	require.NoError(t, err)
	require.Contains(t, res.Text, "anysize is a LATEX package")
}

// TestPDFInstanceMemory guards the reflection pdfInstanceMemory relies on: a
// go-pdfium upgrade that moves the module would silently stop recycling.
func TestPDFInstanceMemory(t *testing.T) {
	t.Parallel()
	eng, err := pdfTestExtractor(t).pdfEngine()
	require.NoError(t, err)
	inst, err := eng.pool.GetInstance(time.Minute)
	require.NoError(t, err)
	defer inst.Close()
	require.Positive(t, pdfInstanceMemory(inst))
}

// TestPDFConcurrent extracts more documents at once than the pool has
// instances; each must come out as it does alone.
func TestPDFConcurrent(t *testing.T) {
	t.Parallel()
	x := pdfTestExtractor(t)
	names := []string{"anysize.pdf", "everyshi.pdf", "float.pdf", "footnotehyper.pdf"}
	want := map[string]string{}
	for _, n := range names {
		res, err := extractPDFFile(t, x, n)
		require.NoError(t, err)
		want[n] = res.Text
	}
	var wg sync.WaitGroup
	for i := range 4 * len(names) {
		n := names[i%len(names)]
		wg.Go(func() {
			res, err := extractPDFFile(t, x, n)
			if !assertNoError(t, err) {
				return
			}
			if res.Text != want[n] {
				t.Errorf("%s: text differs when extracted concurrently", n)
			}
		})
	}
	wg.Wait()
}

func assertNoError(t testing.TB, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

func TestParsePDFDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"D:20080531125014+02'00'", time.Date(2008, 5, 31, 12, 50, 14, 0, time.FixedZone("", 7200)), true},
		{"D:20150302212121-08'00'", time.Date(2015, 3, 2, 21, 21, 21, 0, time.FixedZone("", -8*3600)), true},
		{"D:20061205120614Z", time.Date(2006, 12, 5, 12, 6, 14, 0, time.UTC), true},
		{"D:20061205120614Z00'00'", time.Date(2006, 12, 5, 12, 6, 14, 0, time.UTC), true},
		{"20240115", time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), true},
		{"D:1999", time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"D:20210813115407+05'30", time.Date(2021, 8, 13, 11, 54, 7, 0, time.FixedZone("", 5*3600+1800)), true},
		{"D:20210813115407+0530", time.Date(2021, 8, 13, 11, 54, 7, 0, time.FixedZone("", 5*3600+1800)), true},
		{"", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"D:20241345", time.Time{}, false},
		{"D:202", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parsePDFDate(tt.in)
		require.Equal(t, tt.ok, ok, tt.in)
		require.True(t, tt.want.Equal(got), "%q: got %v, want %v", tt.in, got, tt.want)
	}
}

// corpusPDFs lists the PDFs under QUIRE_TEST_CORPORA/texlive (Debian's
// texlive-latex-recommended-doc, unpacked), or none when it is not set.
func corpusPDFs(t testing.TB) []string {
	t.Helper()
	root := os.Getenv("QUIRE_TEST_CORPORA")
	if root == "" {
		return nil
	}
	var paths []string
	err := filepath.WalkDir(filepath.Join(root, "texlive"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".pdf") {
			paths = append(paths, p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	return paths
}

// TestPDFCorpus reads every PDF of the texlive corpus: none may fail or
// warn, and only single-page drawings (two logos) may come out without text.
func TestPDFCorpus(t *testing.T) {
	t.Parallel()
	paths := corpusPDFs(t)
	if len(paths) == 0 {
		t.Skip("QUIRE_TEST_CORPORA/texlive not present")
	}
	x := pdfTestExtractor(t)
	var pages atomic.Int64
	var mu sync.Mutex
	var empty []string
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, p := range paths {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			data, err := os.ReadFile(p)
			if !assertNoError(t, err) {
				return
			}
			res, err := x.Extract(context.Background(), &Input{Name: p, Data: data, Type: "application/pdf"})
			if err != nil {
				t.Errorf("%s: %v", p, err)
				return
			}
			pages.Add(int64(len(res.Pages)))
			if len(res.Warnings) > 0 {
				t.Errorf("%s: warnings %q", p, res.Warnings)
			}
			if strings.TrimSpace(res.Text) == "" {
				if len(res.Pages) > 1 {
					t.Errorf("%s: %d pages without text", p, len(res.Pages))
				}
				mu.Lock()
				empty = append(empty, filepath.Base(p))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("%d PDFs, %d pages; without text: %v", len(paths), pages.Load(), empty)
}

// BenchmarkPDF measures text extraction in pages per second, over this
// repository's text PDFs and, when present, the texlive corpus; documents go
// through a pool of one instance and of one per core.
func BenchmarkPDF(b *testing.B) {
	sets := map[string][]string{}
	for _, n := range []string{"anysize.pdf", "everyshi.pdf", "float.pdf", "footnotehyper.pdf"} {
		sets["testdata"] = append(sets["testdata"], filepath.Join("..", "testdata", "pdf", n))
	}
	if paths := corpusPDFs(b); len(paths) > 0 {
		sets["texlive"] = paths
	}
	for _, set := range []string{"testdata", "texlive"} {
		paths := sets[set]
		if paths == nil {
			continue
		}
		docs := make([][]byte, len(paths))
		for i, p := range paths {
			var err error
			docs[i], err = os.ReadFile(p)
			require.NoError(b, err)
		}
		// Largest first, so that one long document does not run alone at
		// the end while the other instances idle.
		slices.SortFunc(docs, func(a, b []byte) int { return len(b) - len(a) })
		for _, workers := range []int{1, runtime.NumCPU()} {
			b.Run(set+"/pool="+strconv.Itoa(workers), func(b *testing.B) {
				x := New(Config{PDFWorkers: workers})
				defer x.Close()
				_, err := x.pdfEngine()
				require.NoError(b, err)
				b.ReportAllocs()
				var pages atomic.Int64
				for b.Loop() {
					next := make(chan []byte)
					var wg sync.WaitGroup
					for range workers {
						wg.Go(func() {
							for d := range next {
								res, err := x.Extract(context.Background(), &Input{Data: d, Type: "application/pdf"})
								if err != nil {
									b.Error(err)
									continue
								}
								pages.Add(int64(len(res.Pages)))
							}
						})
					}
					for _, d := range docs {
						next <- d
					}
					close(next)
					wg.Wait()
				}
				b.ReportMetric(float64(pages.Load())/b.Elapsed().Seconds(), "pages/s")
			})
		}
	}
}

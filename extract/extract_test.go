package extract

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdataFile returns a file of the repository's testdata directory.
func testdataFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(name)))
	require.NoError(t, err)
	return data
}

// extractTestdata extracts a testdata file by its own name, the way an
// upload arrives.
func extractTestdata(t testing.TB, lim Limits, name string) (*Result, error) {
	t.Helper()
	x := New(Config{Limits: lim})
	return x.Extract(context.Background(), &Input{Name: filepath.Base(name), Data: testdataFile(t, name)})
}

// mustExtract extracts a testdata file that must extract.
func mustExtract(t testing.TB, name string) *Result {
	t.Helper()
	res, err := extractTestdata(t, Limits{}, name)
	require.NoError(t, err, name)
	require.NotNil(t, res)
	return res
}

// requireLimit asserts that err is a LimitError on limit.
func requireLimit(t testing.TB, err error, limit string) *LimitError {
	t.Helper()
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, limit, le.Limit, err.Error())
	return le
}

// ownTestdata lists this package's text, HTML, email and office testdata
// (the PDF and image files belong to their own tests).
func ownTestdata(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"text", "html", "email", "office", "hostile"} {
		entries, err := os.ReadDir(filepath.Join("..", "testdata", dir))
		require.NoError(t, err)
		for _, e := range entries {
			if !e.IsDir() {
				out = append(out, dir+"/"+e.Name())
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

// classified reports whether err is one of the errors a person can act on:
// every failure of a parser must map onto them.
func classified(err error) bool {
	var le *LimitError
	return errors.Is(err, ErrUnsupported) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrEncrypted) || errors.As(err, &le)
}

// ownFormat reports whether typ is read by one of the formats of this
// package's text, HTML, email and office files, or by none.
func ownFormat(typ string) bool {
	formatsMu.Lock()
	f := formats[baseType(typ)]
	formatsMu.Unlock()
	if f == nil {
		return true
	}
	switch f.name {
	case "text", "html", "email", "docx", "pptx", "odf", "cfb", "xlsx":
		return true
	}
	return false
}

// Garbage must fail as unsupported or corrupt, whatever it is named, and
// never panic; garbage behind a real signature reaches the parser itself.
func TestGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := New(Config{Limits: Limits{Timeout: 20 * time.Second}})
	prefixes := map[string][]byte{
		"none": nil,
		"zip":  []byte("PK\x03\x04"),
		"cfb":  cfbMagic,
		"docx": testdataFile(t, "office/udhr.docx")[:600],
		"xlsx": testdataFile(t, "office/sotu.xlsx")[:600],
		"odt":  testdataFile(t, "office/udhr-fra.odt")[:600],
		"mime": []byte("From: a@example.com\r\nTo: b@example.com\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"),
	}
	names := []string{"", "garbage.bin", "garbage.txt", "garbage.docx", "garbage.xlsx", "garbage.pptx", "garbage.odt", "garbage.eml", "garbage.html", "garbage.json", "garbage.csv"}
	for pname, prefix := range prefixes {
		for _, size := range []int{0, 1, 17, 512, 4096, 100_000} {
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(rng.UintN(256))
			}
			data = append(append([]byte{}, prefix...), data...)
			for _, name := range names {
				typ := Detect(name, data)
				if !ownFormat(typ) {
					continue
				}
				res, err := x.Extract(context.Background(), &Input{Name: name, Data: data})
				var pe *PanicError
				require.False(t, errors.As(err, &pe), "%s %d %q: %v", pname, size, name, err)
				if err != nil {
					assert.True(t, classified(err), "%s %d %q: unclassified error %v", pname, size, name, err)
					continue
				}
				// Random bytes that pass for text (a MIME header with random
				// content, a tiny input) may extract; what they give must
				// be valid UTF-8 at least.
				assert.True(t, strings.ToValidUTF8(res.Text, "") == res.Text, "%s %d %q", pname, size, name)
			}
		}
	}
}

// FuzzExtract feeds mutations of the committed documents to the whole
// extraction, named as they are and as something else. Run it with
//
//	go test ./extract/ -run '^$' -fuzz FuzzExtract -fuzztime 30s
func FuzzExtract(f *testing.F) {
	for _, name := range ownTestdata(f) {
		data := testdataFile(f, name)
		if len(data) > 64<<10 {
			// The zip bomb and friends: the fuzzer mutates what fits in
			// its budget; their limits have tests of their own.
			continue
		}
		f.Add(filepath.Base(name), data)
	}
	x := New(Config{Limits: Limits{MaxDecompressed: 8 << 20, MaxPages: 100, Timeout: 10 * time.Second}})
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		// A hang never reaches the checks below, and the fuzzer reports
		// none by itself: a panic makes the input a failure it keeps.
		watchdog := time.AfterFunc(time.Minute, func() { panic("extraction hangs") })
		defer watchdog.Stop()
		if !ownFormat(Detect(name, data)) {
			return // PDF and images have their own tests
		}
		res, err := x.Extract(context.Background(), &Input{Name: name, Data: data})
		var pe *PanicError
		if errors.As(err, &pe) {
			t.Fatalf("panic: %v\n%s", pe.Value, pe.Stack)
		}
		var le *LimitError
		if errors.As(err, &le) && le.Limit == "time" {
			// A few hundred KiB that take seconds are a denial of service,
			// and the abandoned parser runs on.
			t.Fatalf("%d bytes took longer than the time limit", len(data))
		}
		if err != nil {
			if !classified(err) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if strings.ToValidUTF8(res.Text, "\uFFFD") != res.Text {
			t.Fatalf("text is not valid UTF-8")
		}
	})
}

// TestCorpora extracts every email, HTML and text file of the real corpora
// that scripts/corpora.sh installs, and reports how many extracted and why
// the others failed. It is skipped when they are not installed, unless
// QUIRE_TEST_REQUIRE_CORPORA=1.
func TestCorpora(t *testing.T) {
	dir := os.Getenv("QUIRE_TEST_CORPORA")
	if dir == "" {
		dir = filepath.Join("..", "testdata", "corpora")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("QUIRE_TEST_REQUIRE_CORPORA") == "1" {
			t.Fatalf("corpora not installed in %s (scripts/corpora.sh %s): %v", dir, dir, err)
		}
		t.Skipf("corpora not installed in %s: run scripts/corpora.sh and set QUIRE_TEST_CORPORA", dir)
	}
	if testing.Short() {
		t.Skip("corpora take a minute")
	}
	corpora := []struct {
		name, ext, typ string
		// minimum is how many documents the corpus has: a corpus that
		// shrank is a broken install, not a pass.
		minimum int
	}{
		{"spamassassin", ".eml", typeEmail, 6046},
		{"udhr", ".html", typeHTML, 532},
		{"sotu", ".txt", typeText, 233},
	}
	x := New(Config{})
	for _, c := range corpora {
		t.Run(c.name, func(t *testing.T) {
			var files []string
			err := filepath.WalkDir(filepath.Join(dir, c.name), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && filepath.Ext(p) == c.ext {
					files = append(files, p)
				}
				return err
			})
			require.NoError(t, err, "scripts/corpora.sh %s", dir)
			require.GreaterOrEqual(t, len(files), c.minimum, "an incomplete corpus: rerun scripts/corpora.sh")
			failed := map[string]int{}
			var ok, empty, warned, children int
			var examples []string
			start := time.Now()
			for _, p := range files {
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				typ := Detect(filepath.Base(p), data)
				if typ != c.typ {
					failed["detected as "+typ]++
					examples = append(examples, p)
					continue
				}
				res, err := x.Extract(context.Background(), &Input{Name: filepath.Base(p), Data: data})
				if err != nil {
					failed[reason(err)]++
					examples = append(examples, fmt.Sprintf("%s: %v", p, err))
					continue
				}
				ok++
				if strings.TrimSpace(res.Text) == "" {
					empty++
				}
				if len(res.Warnings) > 0 {
					warned++
				}
				children += len(res.Children)
			}
			elapsed := time.Since(start)
			t.Logf("%s: %d files, %d ok (%d with warnings, %d without text), %d children, %d failed, %.0f files/s",
				c.name, len(files), ok, warned, empty, children, len(files)-ok, float64(len(files))/elapsed.Seconds())
			var reasons []string
			for r, n := range failed {
				reasons = append(reasons, fmt.Sprintf("%d %s", n, r))
			}
			sort.Strings(reasons)
			for _, r := range reasons {
				t.Logf("  failed: %s", r)
			}
			if len(examples) > 10 {
				examples = examples[:10]
			}
			assert.Empty(t, examples, "every file of %s extracts", c.name)
			// Image-only spam has no text; anything more is a regression.
			assert.LessOrEqual(t, empty, len(files)/100, "files without text")
		})
	}
}

// reason names the cause of an extraction error for the corpus report.
func reason(err error) string {
	var le *LimitError
	var pe *PanicError
	switch {
	case errors.As(err, &pe):
		return "panic"
	case errors.As(err, &le):
		return "limit " + le.Limit
	case errors.Is(err, ErrUnsupported):
		return "unsupported"
	case errors.Is(err, ErrEncrypted):
		return "encrypted"
	case errors.Is(err, ErrCorrupt):
		return "corrupt"
	}
	return "other"
}

// TestCloseWaitsForAbandonedParsers: Extract abandons a parser at its
// deadline, but the parser may still use its engine; Close waits for it
// before freeing the engine under it (a PDF engine freed under PDFium
// crashed the process at shutdown).
func TestCloseWaitsForAbandonedParsers(t *testing.T) {
	t.Parallel()
	x := New(Config{Limits: Limits{Timeout: time.Millisecond}})
	// An engine started before the PDF one is closed after it: by then no
	// parser may run.
	var runningAtClose atomic.Int32
	runningAtClose.Store(-1)
	_, err := x.engine("probe", func() (any, func() error, error) {
		return nil, func() error { runningAtClose.Store(x.active.Load()); return nil }, nil
	})
	require.NoError(t, err)
	data := testdataFile(t, "pdf/float.pdf")
	for range 3 {
		_, err := x.Extract(context.Background(), &Input{Name: "float.pdf", Data: data})
		var le *LimitError
		require.ErrorAs(t, err, &le)
		require.Equal(t, "time", le.Limit)
	}
	require.NoError(t, x.Close())
	require.Equal(t, int32(0), runningAtClose.Load(), "parsers running when the engines closed")
}

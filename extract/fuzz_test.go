package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // thumbnails are JPEGs
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// The fuzz targets feed each extractor arbitrary bytes through the
// Extractor's public path, as an upload would arrive, and check what must
// hold for any input: no panic (the Extractor recovers one, so a PanicError
// is the crash), no hang (a time limit hit on a small input), an error that
// says what is wrong (one of the package's errors, so the pipeline fails the
// document at once instead of retrying it), and output bounded by the
// limits, in valid UTF-8. `go test` runs the seeds (the testdata files below
// and testdata/fuzz/FuzzXxx); scripts/fuzz.sh runs each target for longer.
// FuzzExtract (extract_test.go) covers detection and extraction together.

// fuzzLimits are small, so that the fuzzer meets them; the time limit is
// long, so that hitting it means a hang rather than a busy machine.
var fuzzLimits = Limits{
	MaxBytes:        1 << 20,
	MaxPages:        50,
	MaxDecompressed: 8 << 20,
	Timeout:         20 * time.Second,
	MaxChildren:     10,
	MaxText:         256 << 10,
}

// fuzzExtractors are shared by the targets: the PDF engine takes seconds to
// start. OCR is off (a tesseract that does not exist): the fuzzers exercise
// Quire's own parsing, not tesseract's.
var (
	fuzzOnce      sync.Once
	fuzzExtractor *Extractor
)

func fuzzX() *Extractor {
	fuzzOnce.Do(func() {
		fuzzExtractor = New(Config{Limits: fuzzLimits, TesseractPath: "/nonexistent/tesseract", PDFWorkers: 1})
	})
	return fuzzExtractor
}

// addSeeds adds testdata files (relative to the repository's testdata) to
// f's seed corpus.
func addSeeds(f *testing.F, names ...string) {
	f.Helper()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(n)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// checkExtract extracts data as typ (empty: detected) and checks the
// invariants.
func checkExtract(t *testing.T, typ string, data []byte) {
	defer watchdog(data)()
	res, err := fuzzX().Extract(context.Background(), &Input{Name: "fuzz", Data: data, Type: typ})
	checkOutcome(t, data, res, err)
}

func checkOutcome(t *testing.T, data []byte, res *Result, err error) {
	t.Helper()
	var panicked *PanicError
	if errors.As(err, &panicked) {
		t.Fatalf("parser panicked: %v\n%s", panicked.Value, panicked.Stack)
	}
	var limit *LimitError
	if errors.As(err, &limit) {
		if limit.Limit == "time" {
			t.Fatalf("extraction of %d bytes hung: %v", len(data), err)
		}
		return
	}
	if err != nil {
		for _, known := range []error{ErrCorrupt, ErrEncrypted, ErrUnsupported, ErrOCRUnavailable} {
			if errors.Is(err, known) {
				return
			}
		}
		t.Fatalf("error of no known kind (the pipeline would retry it as if it might pass): %v", err)
	}
	if res == nil {
		t.Fatal("no result and no error")
	}
	// Every byte of text is drawn on the document's one budget: the pages'
	// text together, joined by a form feed each, never exceeds it.
	bound := fuzzLimits.MaxText + int64(len(res.Pages))
	if n := int64(len(res.Text)); n > bound {
		t.Fatalf("text of %d bytes from %d bytes of input, over the text limit %d", n, len(data), bound)
	}
	if len(res.Pages) > fuzzLimits.MaxPages {
		t.Fatalf("%d pages, over the limit of %d", len(res.Pages), fuzzLimits.MaxPages)
	}
	if len(res.Children) > fuzzLimits.MaxChildren {
		t.Fatalf("%d children, over the limit of %d", len(res.Children), fuzzLimits.MaxChildren)
	}
	if !utf8.ValidString(res.Text) {
		t.Fatalf("text is not valid UTF-8: %q", truncate(res.Text, 200))
	}
}

// watchdog panics when a call outlives the extraction time limit by far:
// the fuzzer notices no hang by itself, but keeps the input of a panic as a
// failure. Use it as defer watchdog(data)().
func watchdog(data []byte) func() {
	w := time.AfterFunc(fuzzLimits.Timeout+30*time.Second, func() {
		panic(fmt.Sprintf("hangs on %d bytes: %q", len(data), truncate(string(data), 300)))
	})
	return func() { w.Stop() }
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func FuzzDetect(f *testing.F) {
	addSeeds(f, "office/udhr.docx", "text/sotu-index.csv", "email/spamassassin-easy-ham-1-00001.eml", "images/text.png")
	f.Add([]byte("%PDF-1.7\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		for _, name := range []string{"", "a.txt", "a.docx", "a.csv", "a.eml", "a.pdf", "a.xlsx.exe"} {
			typ := Detect(name, data)
			if typ == "" || strings.ContainsAny(typ, "; \t") || typ != strings.ToLower(typ) {
				t.Fatalf("Detect(%q) = %q: want a bare, lower-case media type", name, typ)
			}
			if again := Detect(name, data); again != typ {
				t.Fatalf("Detect(%q) is not deterministic: %q then %q", name, typ, again)
			}
		}
	})
}

func FuzzPDF(f *testing.F) {
	addSeeds(f, "pdf/truncated.pdf", "pdf/slow.pdf")
	f.Add([]byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, "application/pdf", data) })
}

func FuzzDOCX(f *testing.F) {
	addSeeds(f, "office/udhr.docx", "hostile/truncated.docx")
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, typeDOCX, data) })
}

func FuzzPPTX(f *testing.F) {
	addSeeds(f, "office/udhr.pptx")
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, typePPTX, data) })
}

func FuzzODF(f *testing.F) {
	addSeeds(f, "office/udhr-fra.odt", "office/udhr.odp", "office/sotu.ods")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []string{typeODT, typeODP, typeODS} {
			checkExtract(t, typ, data)
		}
	})
}

func FuzzXLSX(f *testing.F) {
	addSeeds(f, "office/sotu.xlsx", "office/encrypted.xlsx")
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, typeXLSX, data) })
}

func FuzzHTML(f *testing.F) {
	addSeeds(f, "html/udhr-eng.html", "html/udhr-jpn.html")
	f.Add([]byte(strings.Repeat("<div>", 5000)))
	f.Add([]byte(`<meta charset="x-unknown"><p>caf\xe9</p>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, typeHTML, data)
		checkExtract(t, typeXHTML, data)
	})
}

func FuzzEmail(f *testing.F) {
	addSeeds(f, "email/spamassassin-easy-ham-2-01248.eml", "email/spamassassin-spam-1-00467.eml",
		"email/spamassassin-spam-2-00204.eml")
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, typeEmail, data) })
}

func FuzzText(f *testing.F) {
	addSeeds(f, "text/sotu-index.csv", "text/udhr-fra.cp1252.txt", "text/sotu-1790-washington.json")
	f.Add([]byte("a\x00b\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []string{typeText, typeMarkdown, typeCSV, typeTSV, typeJSON, typeNDJSON} {
			checkExtract(t, typ, data)
		}
	})
}

func FuzzImage(f *testing.F) {
	addSeeds(f, "images/text.png")
	f.Add([]byte("II*\x00\x08\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("P5\n1 1\n255\n\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []string{"image/png", "image/tiff", "image/jpeg", "image/gif", "image/bmp", "image/webp"} {
			checkExtract(t, typ, data)
		}
	})
}

// FuzzThumbnail feeds arbitrary bytes to Thumbnail as each kind of source
// it reads (a PDF page, an image, the picture an office or iWork document
// carries of itself): no panic, no hang, an error of a known kind, and a
// thumbnail that is a JPEG within the size asked.
func FuzzThumbnail(f *testing.F) {
	addSeeds(f, "images/text.png", "images/fax.tiff", "pdf/truncated.pdf", "office/udhr.docx", "office/udhr.odp")
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"))
	f.Add([]byte("BM\x1e\x00\x00\x00\x00\x00\x00\x00\x1a\x00\x00\x00\x0c\x00\x00\x00\xff\x7f\xff\x7f\x01\x00\x18\x00"))
	const maxSide = 64
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		for _, typ := range []string{"application/pdf", "image/png", "image/jpeg", "image/gif", "image/bmp",
			"image/tiff", typeDOCX, typeODT, typeKeynote} {
			th, err := fuzzX().Thumbnail(context.Background(), &Input{Name: "fuzz", Data: data, Type: typ},
				&ThumbnailOptions{MaxSide: maxSide})
			var panicked *PanicError
			if errors.As(err, &panicked) {
				t.Fatalf("thumbnail of %s panicked: %v\n%s", typ, panicked.Value, panicked.Stack)
			}
			var limit *LimitError
			if errors.As(err, &limit) {
				if limit.Limit == "time" {
					t.Fatalf("thumbnail of %d bytes as %s hung: %v", len(data), typ, err)
				}
				continue
			}
			if err != nil {
				if !errors.Is(err, ErrNoThumbnail) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrEncrypted) {
					t.Fatalf("thumbnail of %s: error of no known kind: %v", typ, err)
				}
				continue
			}
			c, format, err := image.DecodeConfig(bytes.NewReader(th.Data))
			if err != nil || format != "jpeg" {
				t.Fatalf("thumbnail of %s is not a JPEG (%s): %v", typ, format, err)
			}
			if c.Width != th.Width || c.Height != th.Height || max(c.Width, c.Height) > maxSide || min(c.Width, c.Height) < 1 {
				t.Fatalf("thumbnail of %s is %d×%d (says %d×%d), asked at most %d", typ, c.Width, c.Height, th.Width, th.Height, maxSide)
			}
		}
	})
}

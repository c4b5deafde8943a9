// Package extract turns documents into text: one file per format, each behind
// the same small interface, chosen by the document's content rather than its
// name. The pipeline's extract stage calls Extractor.Extract; everything a
// parser may do wrong (panic, loop, balloon) is bounded by Limits and
// reported as an error that names the cause.
package extract

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/internal/bytesize"
)

// Limits bound the work one document may cause. Zero values take the
// defaults below; a negative value means no limit.
type Limits struct {
	// MaxBytes is the largest document accepted.
	MaxBytes int64
	// MaxPages is the most pages (PDF pages, slides, sheets) read.
	MaxPages int
	// MaxDecompressed bounds what archives (DOCX, XLSX, ODT, compressed
	// streams) may expand to, against zip bombs.
	MaxDecompressed int64
	// Timeout bounds one extraction.
	Timeout time.Duration
	// MaxChildren bounds the attachments one document (an email) may carry.
	MaxChildren int
	// MaxText bounds the text extracted from one document, its pages and
	// notes included. Past it the document is done with its text cut
	// there and Result.Truncated set: a large document is never failed for
	// its size, and never held whole. Every decompression of the document
	// stops once it is reached (see sink.go).
	MaxText int64
	// MaxPDFMemory bounds the memory of one PDF engine instance (PDFium's
	// WebAssembly memory: its parsed objects, decompressed streams and a
	// rendered page; the document itself stays in Go's memory). A PDF that
	// needs more fails on this limit and its instance is replaced; -1
	// allows the WebAssembly maximum, 4 GiB. The instances are shared
	// (Config.PDFWorkers), so this is spent once per instance, not per
	// document.
	MaxPDFMemory int64
}

// Defaults of Limits.
const (
	MaxBytesDefault        = 100 << 20
	MaxPagesDefault        = 2000
	MaxDecompressedDefault = 500 << 20
	TimeoutDefault         = 2 * time.Minute
	MaxChildrenDefault     = 100
	MaxTextDefault         = 16 << 20
	// MaxPDFMemoryDefault is nearly twice what the heaviest document of
	// the tests needs (a page of half a million strokes, 104 MiB; the 155
	// texlive PDFs need less), and keeps a process that meets a PDF stream
	// bomb near 300 MiB.
	MaxPDFMemoryDefault = 192 << 20
)

// WithDefaults returns l with unset fields filled in.
func (l Limits) WithDefaults() Limits {
	if l.MaxBytes == 0 {
		l.MaxBytes = MaxBytesDefault
	}
	if l.MaxPages == 0 {
		l.MaxPages = MaxPagesDefault
	}
	if l.MaxDecompressed == 0 {
		l.MaxDecompressed = MaxDecompressedDefault
	}
	if l.Timeout == 0 {
		l.Timeout = TimeoutDefault
	}
	if l.MaxChildren == 0 {
		l.MaxChildren = MaxChildrenDefault
	}
	if l.MaxText == 0 {
		l.MaxText = MaxTextDefault
	}
	if l.MaxPDFMemory == 0 {
		l.MaxPDFMemory = MaxPDFMemoryDefault
	}
	return l
}

// Input is one document to extract.
type Input struct {
	// Name is the file name as uploaded; a hint only, never trusted alone.
	Name string
	// Data is the whole document.
	Data []byte
	// Type is the MIME type when already known (a child of an email);
	// empty detects it from Data and Name.
	Type string
	// Language is the language of the text the document came with, as
	// OCR names it ("eng", "deu"): an email's body for its attachments
	// (see Extractor.TextLanguage). An image is then read in that language
	// alone rather than in every language installed, which is faster and
	// reads its words as the language's own. A language OCR does not read
	// is ignored.
	Language string
}

// PageBreak separates the pages of a paged document in its text: a form
// feed, as pdftotext writes, on a line of its own, so that a page's last
// word and the next page's first never run together ("region.Signed") and a
// reader of the text sees a blank line between pages.
const PageBreak = "\n\f\n"

// Result is what a document contains.
type Result struct {
	// Type is the detected MIME type, e.g. "application/pdf".
	Type string
	// Text is the document's text, pages separated by PageBreak.
	Text string
	// Pages holds the text of each page for paged formats (PDF, slides,
	// sheets); nil for formats without pages.
	Pages []Page
	// Title, Author and Created come from the document's metadata when it
	// has them.
	Title   string
	Author  string
	Created time.Time
	// Meta holds further format-specific facts (email headers, sheet
	// names), for display.
	Meta map[string]string
	// Children are documents inside this one (email attachments), to be
	// processed as documents of their own.
	Children []Child
	// Warnings are problems that did not stop the extraction (a page that
	// failed, a truncated attachment).
	Warnings []string
	// Truncated reports that the document holds more text than
	// Limits.MaxText: Text (and Pages) are its first MaxText bytes.
	Truncated bool
}

// Page is the text of one page.
type Page struct {
	Number int // from 1
	Text   string
	// OCR reports that the text was recognised from an image.
	OCR bool
}

// Child is a document found inside another.
type Child struct {
	Name string
	Type string // as declared by the parent; detected again when processed
	Data []byte
}

// Errors an extraction may end with. Each names a cause a person can act on;
// match them with errors.Is or errors.As.
var (
	// ErrUnsupported: the type has no extractor.
	ErrUnsupported = errors.New("unsupported document type")
	// ErrEncrypted: the document needs a password.
	ErrEncrypted = errors.New("document is encrypted")
	// ErrCorrupt: the document could not be parsed.
	ErrCorrupt = errors.New("document is corrupt")
	// ErrOCRUnavailable: the document needs OCR and no OCR engine is
	// installed (the tesseract command).
	ErrOCRUnavailable = errors.New("OCR not available: install tesseract-ocr")
)

// LimitError reports a document that exceeded one of its Limits.
type LimitError struct {
	Limit string // "bytes", "pages", "decompressed size", "time", "children"
	Max   int64
	Got   int64 // 0 when unknown
}

func (e *LimitError) Error() string {
	format := func(n int64) string { return strconv.FormatInt(n, 10) }
	switch e.Limit {
	case "time":
		return fmt.Sprintf("document exceeds the time limit of %s", time.Duration(e.Max))
	case "bytes", "decompressed size", "PDF memory":
		format = bytesize.Format
	}
	// A reader stops as soon as it passes the limit, so what it got may
	// round to the limit itself: "500 MiB > 500 MiB" says nothing.
	if e.Got > 0 && format(e.Got) != format(e.Max) {
		return fmt.Sprintf("document exceeds the %s limit: %s > %s", e.Limit, format(e.Got), format(e.Max))
	}
	return fmt.Sprintf("document exceeds the %s limit of %s", e.Limit, format(e.Max))
}

// PanicError reports a parser that panicked. The panic is contained: the
// document fails, the process lives on.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("parser panicked: %v", e.Value) }

// format is one extractor, registered by its file with register.
type format struct {
	// name is short and stable, for logs and metrics: "pdf", "docx".
	name string
	// types are the MIME types it reads.
	types []string
	// extract reads in (whose Type is set) within the document's budget,
	// writing its text through sinks drawn on b. The Extractor has already
	// applied MaxBytes, Timeout and panic recovery.
	extract func(ctx context.Context, x *Extractor, in *Input, b *budget) (*Result, error)
}

var (
	formatsMu sync.Mutex
	formats   = map[string]*format{} // by MIME type
)

// register adds a format; each format file calls it from init.
func register(f *format) {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	for _, t := range f.types {
		if _, dup := formats[t]; dup {
			panic("extract: two formats for " + t)
		}
		formats[t] = f
	}
}

// lookupFormat returns the format that reads typ: the one registered for
// it or, failing that, the one of its family. Any XML type ("+xml":
// application/x-gpx+xml, model/x3d+xml) is read as generic XML, and any
// other text type (text/x-php, text/x-c, text/troff) as plain text, since
// text is what it is.
func lookupFormat(typ string) *format {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	if f := formats[typ]; f != nil {
		return f
	}
	if strings.HasSuffix(typ, "+xml") {
		return formats["application/xml"]
	}
	if strings.HasPrefix(typ, "text/") {
		return formats["text/plain"]
	}
	return nil
}

// Types lists the MIME types that can be extracted, sorted. Beyond them,
// any other text/* and +xml type is read as plain text and XML.
func Types() []string {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	out := make([]string, 0, len(formats))
	for t := range formats {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Config configures an Extractor.
type Config struct {
	Limits Limits
	// TesseractPath is the OCR command; empty looks up "tesseract" on PATH.
	// OCR is reported unavailable when it is not found.
	TesseractPath string
	// OCRLanguages are the tesseract languages OCR chooses from, joined by
	// "+": "eng+deu+fra". A document with text (a PDF's text pages) has its
	// scans read in the language of that text; an image without any is
	// read in all of them at once (language.go, image.go). A language not
	// installed makes OCR unavailable, naming its Debian package. Defaults
	// to every language installed, of which an image without text is read
	// in at most three at once.
	OCRLanguages string
	// PDFWorkers is the number of PDF engine instances kept warm; each costs
	// memory (hundreds of MB), so the default is 1.
	PDFWorkers int
	// OfficeConverter is LibreOffice's soffice command, which converts the
	// formats without a Go reader (WordPerfect, Works, Publisher, Visio,
	// Lotus 1-2-3, HWP…; convert.go). Empty looks up soffice, then
	// libreoffice, on PATH; ConverterOff ("off") turns it off. Documents
	// of those formats fail with ErrConverterUnavailable without it.
	OfficeConverter string
	// ConverterSlots is how many LibreOffice processes the converter keeps
	// running, each converting one document at a time. Defaults to
	// ConverterSlotsDefault (2).
	ConverterSlots int
}

// Extractor extracts documents. It is safe for concurrent use; Close
// releases the engines it started (PDF, OCR).
type Extractor struct {
	cfg Config

	mu      sync.Mutex
	closers []func() error
	state   map[string]any // per-format engines, created on first use
	// running counts the parsers' goroutines, which Extract abandons at
	// its deadline or cancellation but which may still use an engine:
	// Close waits for them before closing the engines under them. active
	// is their number, for Close's error.
	running sync.WaitGroup
	active  atomic.Int32
}

// closeGrace is how long Close waits for abandoned parsers. A parser still
// running after it keeps its engine: the engines are left open (Close says
// so) rather than freed under it, which crashes the process (a PDF
// engine's memory unmapped while PDFium writes to it).
const closeGrace = 10 * time.Second

// New returns an Extractor. Engines that are slow to start (PDF) start on
// first use.
func New(cfg Config) *Extractor {
	cfg.Limits = cfg.Limits.WithDefaults()
	return &Extractor{cfg: cfg, state: map[string]any{}}
}

// Limits returns the limits the extractor applies, defaults filled in.
func (x *Extractor) Limits() Limits { return x.cfg.Limits }

// Close releases the engines the extractor started, once the parsers
// still running (abandoned at a deadline) have returned, or leaves them
// open after closeGrace.
func (x *Extractor) Close() error {
	idle := make(chan struct{})
	go func() { x.running.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-time.After(closeGrace):
		return fmt.Errorf("close extractor: %d parsers still run after %s; the engines are left open", x.active.Load(), closeGrace)
	}
	x.mu.Lock()
	cs := x.closers
	x.closers = nil
	x.mu.Unlock()
	var errs []error
	for _, c := range cs {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// engine returns the engine named key, creating it with start on first use.
// A format keeps its warm state (a PDF pool) here.
func (x *Extractor) engine(key string, start func() (any, func() error, error)) (any, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e, ok := x.state[key]; ok {
		return e, nil
	}
	e, closer, err := start()
	if err != nil {
		return nil, err
	}
	x.state[key] = e
	if closer != nil {
		x.closers = append(x.closers, closer)
	}
	return e, nil
}

// Extract reads one document. It detects the type when in.Type is empty,
// enforces the limits and recovers a parser's panic as a PanicError.
func (x *Extractor) Extract(ctx context.Context, in *Input) (res *Result, err error) {
	lim := x.cfg.Limits
	if lim.MaxBytes > 0 && int64(len(in.Data)) > lim.MaxBytes {
		return nil, &LimitError{Limit: "bytes", Max: lim.MaxBytes, Got: int64(len(in.Data))}
	}
	typ := in.Type
	if typ == "" {
		typ = Detect(in.Name, in.Data)
	}
	typ = baseType(typ)
	f := lookupFormat(typ)
	if f == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, typ)
	}
	if lim.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, lim.Timeout)
		defer cancel()
	}
	in2 := *in
	in2.Type = typ
	type outcome struct {
		res *Result
		err error
	}
	bud := newBudget(lim)
	done := make(chan outcome, 1)
	x.running.Add(1)
	x.active.Add(1)
	go func() {
		defer x.running.Done()
		defer x.active.Add(-1)
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{err: &PanicError{Value: r, Stack: debug.Stack()}}
			}
		}()
		r, err := f.extract(ctx, x, &in2, bud)
		done <- outcome{r, err}
	}()
	// A parser that ignores its context is abandoned at the deadline: the
	// document fails on time even if the goroutine runs on.
	select {
	case o := <-done:
		res, err = o.res, o.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && lim.Timeout > 0 {
			return nil, &LimitError{Limit: "time", Max: int64(lim.Timeout)}
		}
		return nil, ctx.Err()
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && lim.Timeout > 0 {
			return nil, &LimitError{Limit: "time", Max: int64(lim.Timeout)}
		}
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	if res.Type == "" {
		res.Type = typ
	}
	if res.Text == "" && len(res.Pages) > 0 {
		texts := make([]string, len(res.Pages))
		for i, p := range res.Pages {
			texts[i] = p.Text
		}
		// The page breaks count against the text limit too.
		res.Text = strings.Join(texts, PageBreak)
		if limit := x.cfg.Limits.MaxText; int64(len(res.Text)) > limit {
			res.Text, res.Truncated = cutUTF8(res.Text, int(limit)), true
		}
	}
	res.Truncated = res.Truncated || bud.full()
	return res, nil
}

// baseType strips parameters: "text/plain; charset=utf-8" -> "text/plain".
func baseType(t string) string {
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return strings.ToLower(strings.TrimSpace(t))
}

package extract

// PDFs are read by PDFium, the engine in Chrome, compiled to WebAssembly and
// run by wazero: no cgo, and it read every real PDF of the test corpus
// (DESIGN.md). Its price is the start: compiling the module takes seconds, so
// an extractor starts the engine once, on its first PDF, with a pool of
// Config.PDFWorkers instances that documents borrow one at a time. Instances
// themselves are cheap (milliseconds), which is what makes replacing a
// doubtful one the safe answer to every failure below.
//
// Pages whose text layer is empty but which carry an image are scans: they are
// rendered and read by tesseract (image.go), side by side.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/enums"
	pdfiumerrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

func init() {
	register(&format{name: "pdf", types: []string{"application/pdf"}, extract: extractPDF})
}

const (
	// pdfScanMaxChars: a page with fewer visible characters than this and an
	// image on it is taken for a scan, so that a page number or a stamp
	// over a scanned page does not hide the page from OCR.
	pdfScanMaxChars = 16
	// pdfObjectScanMax bounds the objects looked through for that image; a
	// page with more is a drawing, not a scan.
	pdfObjectScanMax = 1000
	// pdfOCRDPI is the resolution tesseract reads best at.
	pdfOCRDPI = 300
	// pdfOCRMaxSide caps a rendered page's longer side in pixels, so a
	// poster-sized page costs no more to OCR than an A2 sheet.
	pdfOCRMaxSide = 7000
	// pdfRecycleBytes: an instance whose memory grew past this on a large
	// document is replaced rather than reused, because WebAssembly memory
	// never shrinks and the pool would otherwise keep every peak. Ordinary
	// documents leave an instance at about 20 MB.
	pdfRecycleBytes = 64 << 20
	// pdfLanguageSample is about how much of the text pages' text tells
	// the language of the scanned ones: a few pages, as guessLanguage
	// reads no more.
	pdfLanguageSample = 16 << 10
)

// pdfEngine is the extractor's PDFium pool.
type pdfEngine struct {
	pool  pdfium.Pool
	cache wazero.CompilationCache // nil when there is none
	// sharedCache: cache belongs to the process, not to this engine.
	sharedCache bool
	// memLimit is the most memory an instance may grow to, 0 for the
	// WebAssembly maximum.
	memLimit uint64

	// abandoned counts instances killed mid-call because a document's
	// context ended; recycled counts those replaced after a document left
	// them too large or in doubt. Tests read both.
	abandoned atomic.Int64
	recycled  atomic.Int64
	// orphans counts the killed instances' calls still running.
	orphans atomic.Int64
}

func (e *pdfEngine) close() error {
	err := e.pool.Close()
	if e.cache != nil && !e.sharedCache {
		err = errors.Join(err, e.cache.Close(context.Background()))
	}
	return err
}

// pdfEngine returns the extractor's PDF engine, starting it on first use.
func (x *Extractor) pdfEngine() (*pdfEngine, error) {
	e, err := x.engine("pdf", func() (any, func() error, error) {
		e, err := startPDFEngine(x.cfg.PDFWorkers, max(x.cfg.Limits.MaxPDFMemory, 0))
		if err != nil {
			return nil, nil, err
		}
		return e, e.close, nil
	})
	if err != nil {
		return nil, err
	}
	return e.(*pdfEngine), nil
}

// startPDFEngine starts a pool of workers instances, each allowed memLimit
// bytes of memory (0: the WebAssembly maximum, 4 GiB).
func startPDFEngine(workers int, memLimit int64) (*pdfEngine, error) {
	workers = max(workers, 1)
	rc := wazero.NewRuntimeConfig().
		// PDFium's setjmp/longjmp are compiled to WebAssembly exceptions.
		// WithCloseOnContextDone, which would let a running call be
		// interrupted, is left off: its checks in every loop made text
		// extraction two to three times slower here (see extractPDF).
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling)
	e := &pdfEngine{}
	e.cache, e.sharedCache = pdfCompilationCache()
	poolCtx := context.Background()
	if memLimit > 0 {
		// A decompression bomb then fails inside its instance instead of
		// taking the machine's memory; the instance is replaced.
		const wasmPage = 64 << 10
		pages := max(min(memLimit/wasmPage, 65536), 1)
		rc = rc.WithMemoryLimitPages(uint32(pages))
		e.memLimit = uint64(pages) * wasmPage
		poolCtx = experimental.WithMemoryAllocator(poolCtx, pdfMemoryAllocator)
	}
	cfg := webassembly.Config{
		MinIdle:      workers,
		MaxIdle:      workers,
		MaxTotal:     workers,
		ReuseWorkers: true,
		// Documents are handed over as bytes; the engine sees no files.
		FSConfig: wazero.NewFSConfig(),
		Stdout:   io.Discard,
		Stderr:   io.Discard,
		Context:  poolCtx,
	}
	if e.cache != nil {
		cfg.RuntimeConfig = rc.WithCompilationCache(e.cache)
		pool, err := webassembly.Init(cfg)
		if err == nil {
			e.pool = pool
			return e, nil
		}
		// A damaged cache must not stop PDFs: compile afresh without it.
		if !e.sharedCache {
			e.cache.Close(context.Background())
		}
		e.cache = nil
	}
	cfg.RuntimeConfig = rc
	pool, err := webassembly.Init(cfg)
	if err != nil {
		return nil, fmt.Errorf("start PDF engine: %w", err)
	}
	e.pool = pool
	return e, nil
}

// pdfCompilationCache keeps the compiled engine, so that only the first
// start on a machine spends 6–9 s compiling; later ones take about 0.2 s.
//
// The cache is on disk, in a directory per wazero version, when that version
// is known: go build records it in the binary, and the tests read it from
// go.mod (go test records none). Without it wazero would key its files by
// "dev", and after an upgrade load code the old wazero compiled; the cache is
// then kept in memory, shared by the engines of the process. Without a
// writable cache directory the engine is compiled at every start.
func pdfCompilationCache() (c wazero.CompilationCache, shared bool) {
	version := pdfWazeroVersion()
	if version == "" {
		return pdfMemoryCache(), true
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil, false
	}
	c, err = wazero.NewCompilationCacheWithDir(filepath.Join(dir, "quire", "pdfium", version))
	if err != nil {
		return nil, false
	}
	return c, false
}

var pdfMemoryCache = sync.OnceValue(wazero.NewCompilationCache)

// pdfTestWazeroVersion is wazero's version as the tests read it from go.mod.
var pdfTestWazeroVersion string

func pdfWazeroVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/tetratelabs/wazero" && dep.Version != "" && dep.Version != "(devel)" {
				return dep.Version
			}
		}
	}
	return pdfTestWazeroVersion
}

func extractPDF(ctx context.Context, x *Extractor, in *Input, b *budget) (*Result, error) {
	var res *Result
	err := x.withPDF(ctx, b, func(r *pdfReader) (err error) {
		res, err = r.read(in.Data)
		return err
	})
	return res, err
}

// withPDF runs read on an instance borrowed from the extractor's PDF pool,
// and gives the instance back, or replaces it when read left it in doubt
// or too large. Every use of the engine (a document's text, its
// thumbnail) goes through here, so that all share the one pool and its
// rules.
func (x *Extractor) withPDF(ctx context.Context, b *budget, read func(r *pdfReader) error) error {
	eng, err := x.pdfEngine()
	if err != nil {
		return err
	}
	inst, err := eng.pool.GetInstanceWithContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("PDF engine: %w", err)
	}
	// When the context ends the instance is killed at once: the pool starts
	// a fresh one in its place, so other documents do not wait on this one.
	// The call it was running cannot be interrupted (see startPDFEngine) and
	// runs on to its end in this goroutine, which Extract has abandoned by
	// then; the page loop checks ctx between calls, so that is one call (one
	// page parsed or rendered), never the rest of the document.
	// Its memory stays mapped and as it was until that call returns
	// (pdfHold): a call reading memory unmapped under it would crash the
	// process, one reading it zeroed can loop for ever.
	killed := make(chan func(), 1)
	stop := context.AfterFunc(ctx, func() {
		release := pdfHold()
		eng.orphans.Add(1)
		_ = inst.Kill() // the instance is discarded either way
		eng.abandoned.Add(1)
		killed <- release
	})
	r := &pdfReader{ctx: ctx, x: x, eng: eng, inst: inst, lim: b.lim, bud: b}
	err = read(r)
	if !stop() {
		release := <-killed
		release()
		eng.orphans.Add(-1)
		return ctx.Err()
	}
	if r.fault != nil || pdfInstanceMemory(inst) > pdfRecycleBytes {
		_ = inst.Kill() // the instance is discarded either way
		eng.recycled.Add(1)
	} else if cerr := inst.Close(); cerr != nil {
		eng.recycled.Add(1)
	}
	return err
}

// pdfReader reads one document on one borrowed instance.
type pdfReader struct {
	ctx  context.Context
	x    *Extractor
	eng  *pdfEngine
	inst pdfium.Pdfium
	lim  Limits
	bud  *budget
	// fault is the first failure of the engine itself (as against PDFium's
	// verdict on the document); the instance is not reused after one.
	fault error
}

// check records err as an engine fault unless it is PDFium's own status
// code, and returns it.
func (r *pdfReader) check(err error) error {
	if err == nil || r.fault != nil {
		return err
	}
	for _, status := range []error{
		pdfiumerrors.ErrSuccess, pdfiumerrors.ErrUnknown, pdfiumerrors.ErrFile,
		pdfiumerrors.ErrFormat, pdfiumerrors.ErrPassword, pdfiumerrors.ErrSecurity,
		pdfiumerrors.ErrPage, pdfiumerrors.ErrUnexpected,
	} {
		if errors.Is(err, status) {
			return err
		}
	}
	r.fault = err
	return err
}

// failed turns an engine fault into the document's error. PDFium aborts
// when an allocation fails, so an instance found at its memory limit ran out
// of it; any other fault means the document broke the engine and cannot be
// read, whatever else is wrong with it.
func (r *pdfReader) failed(err error) error {
	if cerr := r.ctx.Err(); cerr != nil {
		return cerr
	}
	const slack = 16 << 20 // the allocation that failed may have been large
	if lim := r.eng.memLimit; lim > 0 && pdfInstanceMemory(r.inst)+slack >= lim {
		return &LimitError{Limit: "PDF memory", Max: int64(lim)}
	}
	// wazero appends a WebAssembly stack trace, of no use to a person.
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return fmt.Errorf("%w: PDF engine failed: %s", ErrCorrupt, msg)
}

// open opens data as a document. One that PDFium takes for password
// protected is opened again with one crypt filter for strings and streams
// (pdf_crypt.go) when it names two; readStrings is then false: its strings
// cannot be read.
func (r *pdfReader) open(data []byte) (doc references.FPDF_DOCUMENT, readStrings bool, err error) {
	opened, err := r.inst.OpenDocument(&requests.OpenDocument{FileReader: bytes.NewReader(data), FileReaderSize: int64(len(data))})
	if err == nil {
		return opened.Document, true, nil
	}
	r.check(err)
	switch {
	case r.fault != nil:
		return "", false, r.failed(err)
	case errors.Is(err, pdfiumerrors.ErrPassword), errors.Is(err, pdfiumerrors.ErrSecurity):
		if one, ok := pdfOneCryptFilter(data); ok {
			opened, oerr := r.inst.OpenDocument(&requests.OpenDocument{FileReader: bytes.NewReader(one), FileReaderSize: int64(len(one))})
			if oerr == nil {
				return opened.Document, false, nil
			}
			if r.check(oerr); r.fault != nil {
				return "", false, r.failed(oerr)
			}
		}
		return "", false, fmt.Errorf("%w: %v", ErrEncrypted, err)
	default:
		return "", false, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
}

func (r *pdfReader) read(data []byte) (*Result, error) {
	doc, readStrings, err := r.open(data)
	if err != nil {
		return nil, err
	}
	defer func() {
		_, err := r.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc})
		r.check(err)
	}()

	count, err := r.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc})
	if r.check(err) != nil {
		return nil, r.failed(err)
	}
	n := count.PageCount
	if r.lim.MaxPages > 0 && n > r.lim.MaxPages {
		return nil, &LimitError{Limit: "pages", Max: int64(r.lim.MaxPages), Got: int64(n)}
	}

	res := &Result{Pages: make([]Page, n)}
	if readStrings {
		if err := r.metadata(doc, res); err != nil {
			return nil, r.failed(err)
		}
	} else {
		res.Warnings = append(res.Warnings, "strings and streams are encrypted with different crypt filters: the page text was read, the metadata, annotations and form fields were not")
	}
	var scans []int
	for i := range n {
		if err := r.ctx.Err(); err != nil {
			return nil, err
		}
		if r.bud.full() {
			// The text limit is reached: the pages after it are counted,
			// not read.
			for j := i; j < n; j++ {
				res.Pages[j] = Page{Number: j + 1}
			}
			break
		}
		res.Pages[i] = Page{Number: i + 1}
		text, err := r.pageText(doc, i)
		if err != nil {
			if r.fault != nil {
				return nil, r.failed(err)
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("page %d not read: %v", i+1, err))
			continue
		}
		var notes string
		if readStrings {
			notes, err = r.annotText(doc, i)
		}
		if err != nil {
			if r.fault != nil {
				return nil, r.failed(err)
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("page %d: annotations not read: %v", i+1, err))
		}
		if notes != "" {
			text = joinNonEmpty(text, notes)
		}
		res.Pages[i].Text = text
		if pdfVisibleChars(text) >= pdfScanMaxChars {
			continue
		}
		scan, err := r.hasImage(doc, i)
		if r.fault != nil {
			return nil, r.failed(err)
		}
		if scan {
			scans = append(scans, i)
		}
	}
	if len(scans) > 0 {
		if err := r.ocrPages(doc, res, scans); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// metadata fills in what the document information dictionary says.
// pdfNoMetadata is go-pdfium's error for a document without an information
// dictionary (PDFium reports no text at all, not even an empty one): such a
// document has no metadata, which is no fault. go-pdfium has no sentinel
// for it, so the message is matched.
const pdfNoMetadata = "Could not get metadata"

func (r *pdfReader) metadata(doc references.FPDF_DOCUMENT, res *Result) error {
	get := func(tag string) (string, error) {
		m, err := r.inst.FPDF_GetMetaText(&requests.FPDF_GetMetaText{Document: doc, Tag: tag})
		if err != nil && err.Error() == pdfNoMetadata {
			return "", nil
		}
		if r.check(err) != nil {
			return "", err
		}
		return strings.TrimSpace(m.Value), nil
	}
	var err error
	if res.Title, err = get("Title"); err != nil {
		return err
	}
	if res.Author, err = get("Author"); err != nil {
		return err
	}
	created, err := get("CreationDate")
	if err != nil {
		return err
	}
	res.Created, _ = parsePDFDate(created)
	for _, tag := range []string{"Subject", "Keywords", "Creator", "Producer"} {
		v, err := get(tag)
		if err != nil {
			return err
		}
		if v != "" {
			if res.Meta == nil {
				res.Meta = map[string]string{}
			}
			res.Meta[strings.ToLower(tag)] = v
		}
	}
	return nil
}

// pdfText turns PDFium's text into the pipeline's: PDFium ends lines with
// CRLF and marks a hyphen it removed at a line break with U+FFFE.
var pdfText = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\ufffe", "", "\x00", "")

func pdfPage(doc references.FPDF_DOCUMENT, i int) requests.Page {
	return requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: i}}
}

func (r *pdfReader) pageText(doc references.FPDF_DOCUMENT, i int) (string, error) {
	tp, err := r.inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: pdfPage(doc, i)})
	if r.check(err) != nil {
		return "", err
	}
	defer func() {
		_, err := r.inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
		r.check(err)
	}()
	count, err := r.inst.FPDFText_CountChars(&requests.FPDFText_CountChars{TextPage: tp.TextPage})
	if r.check(err) != nil {
		return "", err
	}
	n := count.Count
	if left := r.bud.left(); left >= 0 && int64(n) > left {
		// More characters than the document may keep: ask for no more
		// than fit (a character is at least a byte).
		n = int(left)
		r.bud.markTruncated()
	}
	if n <= 0 {
		return "", nil
	}
	text, err := r.inst.FPDFText_GetText(&requests.FPDFText_GetText{TextPage: tp.TextPage, Count: n})
	if r.check(err) != nil {
		return "", err
	}
	return r.bud.clip(strings.TrimSpace(pdfText.Replace(text.Text))), nil
}

// Annotations and form fields. What a reader adds to a page (a note, a
// comment on a highlight, a text box, a stamp's text) and what a person
// typed into a form are not in the page's text layer: PDFium's text page
// reads the page's content only. They follow the page's text, after a
// blank line: an annotation's contents, and a field's name and value
// ("applicant: Ada Lovelace"), one a line.
//
// A field is read from its widget's own dictionary. PDFium's form API
// would give the full name of a field whose name and value are on a parent
// field, but its environment (FPDFDOC_InitFormFillEnvironment) left the
// WebAssembly instance corrupt for the next document in go-pdfium 1.21:
// such fields are not read.

// pdfNoValue reports go-pdfium's own verdict that an annotation has no
// such value ("could not get string value"), as against a fault of the
// engine.
func pdfNoValue(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "could not")
}

// pdfAnnotMax bounds the annotations read on a page: a page of more is a
// drawing made of them, not a page with comments.
const pdfAnnotMax = 2000

// annotText returns the text of the annotations and form fields of page
// i, drawn on the budget.
func (r *pdfReader) annotText(doc references.FPDF_DOCUMENT, i int) (string, error) {
	page := pdfPage(doc, i)
	count, err := r.inst.FPDFPage_GetAnnotCount(&requests.FPDFPage_GetAnnotCount{Page: page})
	if r.check(err) != nil {
		return "", err
	}
	if count.Count <= 0 {
		return "", nil
	}
	var lines []string
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.TrimSpace(pdfText.Replace(s))
		if s != "" && !seen[s] {
			seen[s] = true
			lines = append(lines, s)
		}
	}
	for j := range min(count.Count, pdfAnnotMax) {
		if r.bud.full() {
			break
		}
		a, err := r.inst.FPDFPage_GetAnnot(&requests.FPDFPage_GetAnnot{Page: page, Index: j})
		if err != nil {
			if pdfNoValue(err) {
				continue
			}
			return "", r.check(err)
		}
		err = r.annotation(a.Annotation, add)
		_, cerr := r.inst.FPDFPage_CloseAnnot(&requests.FPDFPage_CloseAnnot{Annotation: a.Annotation})
		if err == nil {
			err = r.check(cerr)
		}
		if err != nil {
			return "", err
		}
	}
	return r.bud.clip(strings.Join(lines, "\n")), nil
}

// annotation passes the text of one annotation to add.
func (r *pdfReader) annotation(a references.FPDF_ANNOTATION, add func(string)) error {
	st, err := r.inst.FPDFAnnot_GetSubtype(&requests.FPDFAnnot_GetSubtype{Annotation: a})
	if err != nil {
		if pdfNoValue(err) {
			return nil
		}
		return r.check(err)
	}
	switch st.Subtype {
	case enums.FPDF_ANNOT_SUBTYPE_LINK, enums.FPDF_ANNOT_SUBTYPE_POPUP:
		// A link's contents are its alternate text at most; a popup
		// shows its parent's contents, read with the parent.
		return nil
	case enums.FPDF_ANNOT_SUBTYPE_WIDGET:
		return r.field(a, add)
	}
	v, err := r.annotString(a, "Contents")
	if err != nil {
		return err
	}
	add(v)
	return nil
}

// annotString returns the text of key in an annotation's dictionary, ""
// when it has none.
func (r *pdfReader) annotString(a references.FPDF_ANNOTATION, key string) (string, error) {
	v, err := r.inst.FPDFAnnot_GetStringValue(&requests.FPDFAnnot_GetStringValue{Annotation: a, Key: key})
	if err != nil {
		if pdfNoValue(err) {
			return "", nil
		}
		return "", r.check(err)
	}
	return strings.TrimSpace(v.Value), nil
}

// field passes a form field's name and value to add: a text, a choice, or
// a check box or radio button that is on ("Off" is off). Buttons have no
// value, and a signature's is a dictionary, not text.
func (r *pdfReader) field(a references.FPDF_ANNOTATION, add func(string)) error {
	value, err := r.annotString(a, "V")
	if err != nil || value == "" || value == "Off" {
		return err
	}
	name, err := r.annotString(a, "T")
	if err != nil {
		return err
	}
	if name != "" {
		value = name + ": " + value
	}
	add(value)
	return nil
}

func pdfVisibleChars(s string) int {
	n := 0
	for _, c := range s {
		if !unicode.IsSpace(c) {
			n++
		}
	}
	return n
}

// hasImage reports whether page i draws an image, directly or through a
// form XObject (where some scanners put theirs).
func (r *pdfReader) hasImage(doc references.FPDF_DOCUMENT, i int) (bool, error) {
	page := pdfPage(doc, i)
	count, err := r.inst.FPDFPage_CountObjects(&requests.FPDFPage_CountObjects{Page: page})
	if r.check(err) != nil {
		return false, err
	}
	if count.Count > pdfObjectScanMax {
		return false, nil
	}
	for j := range count.Count {
		obj, err := r.inst.FPDFPage_GetObject(&requests.FPDFPage_GetObject{Page: page, Index: j})
		if r.check(err) != nil {
			return false, err
		}
		typ, err := r.inst.FPDFPageObj_GetType(&requests.FPDFPageObj_GetType{PageObject: obj.PageObject})
		if r.check(err) != nil {
			return false, err
		}
		if typ.Type == enums.FPDF_PAGEOBJ_IMAGE || typ.Type == enums.FPDF_PAGEOBJ_FORM {
			return true, nil
		}
	}
	return false, nil
}

// ocrPages reads the scanned pages with tesseract. Pages are rendered one
// after the other (the instance runs one call at a time) and recognised side
// by side; a page is rendered only once an OCR slot is free, so no more than
// one rendered page per core waits in memory.
func (r *pdfReader) ocrPages(doc references.FPDF_DOCUMENT, res *Result, scans []int) error {
	o := r.x.ocr()
	if o.err != nil {
		for _, p := range res.Pages {
			if pdfVisibleChars(p.Text) > 0 {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s not read: %v", pdfPageList(scans), o.err))
				return nil
			}
		}
		return o.err
	}
	// The text pages tell the language the scans are most likely in: a
	// scanned annex to a German letter is German.
	var sample strings.Builder
	for _, p := range res.Pages {
		if sample.Len() >= pdfLanguageSample {
			break
		}
		sample.WriteString(p.Text)
		sample.WriteByte('\n')
	}
	lang := o.language(sample.String())
	var (
		wg      sync.WaitGroup
		langsMu sync.Mutex
		langs   []string // each set of languages a scan was read in, once
	)
	defer wg.Wait()
	errs := make([]error, len(scans))
	for k, i := range scans {
		if err := o.acquire(r.ctx); err != nil {
			return err
		}
		img, dpi, err := r.render(doc, i)
		if err != nil {
			o.release()
			if r.fault != nil {
				return r.failed(err)
			}
			errs[k] = err
			continue
		}
		wg.Go(func() {
			defer o.release()
			text, used, err := o.read(r.ctx, img, dpi, lang)
			if err != nil {
				errs[k] = err
				return
			}
			langsMu.Lock()
			if !slices.Contains(langs, used) {
				langs = append(langs, used)
			}
			langsMu.Unlock()
			// A text layer too thin to count is kept only if OCR finds less.
			if text = strings.TrimSpace(text); pdfVisibleChars(text) > pdfVisibleChars(res.Pages[i].Text) {
				res.Pages[i].Text = r.bud.clip(text)
				res.Pages[i].OCR = true
			}
		})
	}
	wg.Wait()
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if len(langs) > 0 {
		slices.Sort(langs)
		if res.Meta == nil {
			res.Meta = map[string]string{}
		}
		res.Meta[ocrLanguagesMeta] = strings.Join(langs, ", ")
	}
	for k, err := range errs {
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("page %d: OCR failed: %v", scans[k]+1, err))
		}
	}
	return nil
}

// pdfPageList names pages for a warning: "page 3", "pages 2, 5".
func pdfPageList(idx []int) string {
	nums := make([]string, len(idx))
	for k, i := range idx {
		nums[k] = strconv.Itoa(i + 1)
	}
	if len(nums) == 1 {
		return "page " + nums[0] + " (scanned)"
	}
	return "pages " + strings.Join(nums, ", ") + " (scanned)"
}

// render draws page i in grey at the resolution OCR wants and returns it as
// a binary PGM, the cheapest format to write that tesseract reads.
func (r *pdfReader) render(doc references.FPDF_DOCUMENT, i int) ([]byte, int, error) {
	page := pdfPage(doc, i)
	size, err := r.inst.GetPageSize(&requests.GetPageSize{Page: page})
	if r.check(err) != nil {
		return nil, 0, err
	}
	dpi := pdfOCRDPI
	if longest := max(size.Width, size.Height); longest*pdfOCRDPI/72 > pdfOCRMaxSide {
		dpi = max(int(pdfOCRMaxSide*72/longest), 1)
	}
	out, err := r.inst.RenderPageInDPI(&requests.RenderPageInDPI{
		Page:        page,
		DPI:         dpi,
		RenderFlags: enums.FPDF_RENDER_FLAG_ANNOT,
		ImageFormat: requests.RenderImageFormatGrayscale,
	})
	if r.check(err) != nil {
		return nil, 0, err
	}
	// The pixels live in the instance's memory until Cleanup: copy first.
	defer out.Cleanup()
	g, ok := out.Result.RenderedImage.(*image.Gray)
	if !ok {
		return nil, 0, fmt.Errorf("render page %d: got %T, want grey", i+1, out.Result.RenderedImage)
	}
	return pdfEncodePGM(g), dpi, nil
}

func pdfEncodePGM(g *image.Gray) []byte {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	header := fmt.Sprintf("P5\n%d %d\n255\n", w, h)
	b := make([]byte, 0, len(header)+w*h)
	b = append(b, header...)
	for y := range h {
		off := y * g.Stride
		b = append(b, g.Pix[off:off+w]...)
	}
	return b
}

// pdfInstanceMemory returns the WebAssembly memory an instance has grown to, or
// 0 when it cannot be told. go-pdfium keeps the module behind an exported
// field of an internal type, so it is reached by reflection; a version that
// moves it disables recycling, and TestPDFInstanceMemory says so.
func pdfInstanceMemory(inst pdfium.Pdfium) (size uint64) {
	defer func() {
		if recover() != nil {
			size = 0
		}
	}()
	v := reflect.ValueOf(inst.GetImplementation())
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0
	}
	mod := v.FieldByName("Module")
	if !mod.IsValid() || mod.IsNil() {
		return 0
	}
	mem := mod.MethodByName("Memory")
	if !mem.IsValid() {
		return 0
	}
	m := mem.Call(nil)[0]
	if m.IsNil() {
		return 0
	}
	s := m.MethodByName("Size")
	if !s.IsValid() {
		return 0
	}
	return s.Call(nil)[0].Uint()
}

// parsePDFDate reads a PDF date, "D:YYYYMMDDHHmmSSOHH'mm'", of which every
// part after the year is optional. Producers get the time zone wrong in many
// ways; what cannot be read of it is taken as UTC.
func parsePDFDate(s string) (time.Time, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "D:")
	digits := 0
	for digits < len(s) && digits < 14 && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	if digits < 4 || digits%2 != 0 {
		return time.Time{}, false
	}
	field := func(at, def int) int {
		if at+2 > digits {
			return def
		}
		v, _ := strconv.Atoi(s[at : at+2])
		return v
	}
	year, _ := strconv.Atoi(s[:4])
	month, day := field(4, 1), field(6, 1)
	hour, minute, sec := field(8, 0), field(10, 0), field(12, 0)
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	loc := time.UTC
	if rest := s[digits:]; len(rest) >= 3 && (rest[0] == '+' || rest[0] == '-') {
		tz := strings.NewReplacer("'", "", ":", "").Replace(rest[1:])
		oh, err1 := strconv.Atoi(tz[:min(2, len(tz))])
		om := 0
		var err2 error
		if len(tz) >= 4 {
			om, err2 = strconv.Atoi(tz[2:4])
		}
		if err1 == nil && err2 == nil && oh <= 14 && om < 60 {
			off := (oh*60 + om) * 60
			if rest[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc), true
}

package extract

// Images are read by the tesseract command rather than a library: it is
// Debian's tesseract-ocr that DESIGN.md measured, it needs no cgo, and a
// process can be killed at the deadline without taking this one down. Each
// process is held to one thread (OMP_THREAD_LIMIT=1) and the extractor runs
// one per GOMAXPROCS instead: tesseract's own threads help one page little
// and get in each other's way when pages are read side by side. The
// processes are kept running between images (tesseract.go).

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

func init() {
	register(&format{
		name: "image",
		// What Debian's tesseract reads through leptonica, under the names
		// Detect gives them and the aliases mail clients declare.
		types: []string{
			"image/apng", "image/bmp", "image/gif", "image/jp2", "image/jpeg",
			"image/jpg", "image/pjpeg", "image/png", "image/tiff", "image/webp",
			"image/x-bmp", "image/x-ms-bmp", "image/x-png",
			"image/x-portable-anymap", "image/x-portable-arbitrarymap",
			"image/x-portable-bitmap", "image/x-portable-graymap",
			"image/x-portable-pixmap",
		},
		extract: extractImage,
	})
}

func extractImage(ctx context.Context, x *Extractor, in *Input, b *budget) (*Result, error) {
	tooSmall, err := checkImage(in.Data, b.lim)
	if err != nil {
		return nil, err
	}
	if tooSmall {
		// Mail is full of 1×1 tracking pixels and spacers; a tesseract run
		// costs tens of milliseconds of CPU, mostly loading its model, to
		// find nothing in them.
		return &Result{Pages: []Page{{Number: 1, OCR: true}}}, nil
	}
	o := x.ocr()
	if o.err != nil {
		return nil, o.err
	}
	text, langs, err := o.recognise(ctx, in.Data, in.Language)
	if err != nil {
		return nil, err
	}
	// tesseract separates the pages of a multi-page TIFF with form feeds.
	parts := strings.Split(strings.TrimRight(text, "\f\n "), "\f")
	res := &Result{Pages: make([]Page, len(parts)), Meta: map[string]string{ocrLanguagesMeta: langs}}
	for i, p := range parts {
		res.Pages[i] = Page{Number: i + 1, Text: b.clip(strings.TrimSpace(p)), OCR: true}
	}
	return res, nil
}

// imageBytesPerPixel estimates what a decoded pixel costs tesseract: leptonica
// holds colour as 32 bits a pixel, and tesseract keeps a grey and a binary
// copy beside it.
const imageBytesPerPixel = 6

// ocrMinSide is the fewest pixels across and down an image needs to hold a
// line of text tesseract can read; images with a shorter side are not sent
// to it.
const ocrMinSide = 8

// checkImage refuses data that is not an image tesseract reads, TIFFs of
// more than lim.MaxPages pages, and images whose pixels would exceed
// lim.MaxDecompressed. It reports a single-image format whose header says a
// side is shorter than ocrMinSide as too small to hold text.
//
// The magic check is a safety measure, not a courtesy: tesseract takes stdin
// that is not an image for a list of file names and reads those (URLs too:
// Debian's build links libcurl), so an attachment declared image/png whose
// body is a path would otherwise OCR a file of this machine, or fetch an
// address of its network, into the document's text.
func checkImage(data []byte, lim Limits) (tooSmall bool, _ error) {
	kind := imageKind(data)
	if kind == "" {
		return false, fmt.Errorf("%w: not an image tesseract reads", ErrCorrupt)
	}
	if kind == "tiff" && lim.MaxPages > 0 {
		if n := tiffPages(data, lim.MaxPages+1); n > lim.MaxPages {
			return false, &LimitError{Limit: "pages", Max: int64(lim.MaxPages), Got: int64(n)}
		}
	}
	decodeConfig := imageConfigReader(kind)
	if decodeConfig == nil {
		return false, nil
	}
	// A header Go cannot parse is left to leptonica, which reads more
	// variants (TIFF compressions, odd BMPs) and reports its own error.
	c, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return false, nil
	}
	if got := int64(c.Width) * int64(c.Height) * imageBytesPerPixel; lim.MaxDecompressed >= 0 && got > lim.MaxDecompressed {
		return false, &LimitError{Limit: "decompressed size", Max: lim.MaxDecompressed, Got: got}
	}
	// A TIFF's header gives its first page only; the others may be larger.
	return kind != "tiff" && min(c.Width, c.Height) < ocrMinSide, nil
}

// imageConfigReader returns the function that reads the dimensions of an
// image of kind (imageKind) from its header alone, nil for a kind Go has
// no reader of.
func imageConfigReader(kind string) func(io.Reader) (image.Config, error) {
	switch kind {
	case "png":
		return png.DecodeConfig
	case "jpeg":
		return jpeg.DecodeConfig
	case "gif":
		return gif.DecodeConfig
	case "bmp":
		return bmp.DecodeConfig
	case "tiff":
		return tiff.DecodeConfig
	case "webp":
		return webpConfig
	}
	return nil
}

// webpConfig reads a WebP's dimensions from its first chunk's header. It
// stands in for golang.org/x/image/webp's DecodeConfig, whose lossless
// path could allocate without bound before x/image 0.45.0 (GO-2026-6222):
// the few header bytes are all the size check needs.
func webpConfig(r io.Reader) (image.Config, error) {
	var h [30]byte
	n, err := io.ReadFull(r, h[:])
	if err != nil && !(errors.Is(err, io.ErrUnexpectedEOF) && n >= 25) {
		return image.Config{}, err
	}
	if n < 30 && string(h[12:16]) != "VP8L" {
		return image.Config{}, io.ErrUnexpectedEOF
	}
	le24 := func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }
	switch string(h[12:16]) {
	case "VP8X": // extended: 24-bit canvas width and height, minus one
		return image.Config{Width: le24(h[24:]) + 1, Height: le24(h[27:]) + 1}, nil
	case "VP8L": // lossless: a signature byte, then 14 bits each, minus one
		if h[20] != 0x2f {
			return image.Config{}, errors.New("webp: bad lossless signature")
		}
		bits := binary.LittleEndian.Uint32(h[21:25])
		return image.Config{Width: int(bits&0x3fff) + 1, Height: int(bits>>14&0x3fff) + 1}, nil
	case "VP8 ": // lossy: a key frame's start code, then 14 bits each
		if h[23] != 0x9d || h[24] != 0x01 || h[25] != 0x2a {
			return image.Config{}, errors.New("webp: bad key frame start code")
		}
		return image.Config{Width: int(binary.LittleEndian.Uint16(h[26:]) & 0x3fff),
			Height: int(binary.LittleEndian.Uint16(h[28:]) & 0x3fff)}, nil
	}
	return image.Config{}, errors.New("webp: unknown chunk")
}

// imageKind names the format of data from its first bytes, or returns "" for
// anything leptonica would not recognise as an image.
func imageKind(data []byte) string {
	has := func(prefix string) bool { return bytes.HasPrefix(data, []byte(prefix)) }
	switch {
	case has("\x89PNG\r\n\x1a\n"):
		return "png"
	case has("\xff\xd8\xff"):
		return "jpeg"
	case has("GIF87a"), has("GIF89a"):
		return "gif"
	case has("II*\x00"), has("MM\x00*"):
		return "tiff"
	case has("BM"):
		return "bmp"
	case len(data) >= 12 && has("RIFF") && string(data[8:12]) == "WEBP":
		return "webp"
	case has("\x00\x00\x00\x0cjP  \r\n\x87\n"), has("\xff\x4f\xff\x51"):
		return "jp2"
	case len(data) >= 3 && data[0] == 'P' && data[1] >= '1' && data[1] <= '7' && pnmSpace(data[2]):
		return "pnm"
	}
	return ""
}

// tiffPages counts the pages (image file directories) of a classic TIFF, up
// to most. A chain that loops or leaves the file ends the count, as it ends
// libtiff's reading.
func tiffPages(data []byte, most int) int {
	if len(data) < 8 {
		return 0
	}
	var order binary.ByteOrder = binary.LittleEndian
	if data[0] == 'M' {
		order = binary.BigEndian
	}
	seen := map[uint64]bool{}
	n := 0
	off := uint64(order.Uint32(data[4:]))
	for off != 0 && n < most && !seen[off] {
		seen[off] = true
		if off+2 > uint64(len(data)) {
			break
		}
		n++
		next := off + 2 + uint64(order.Uint16(data[off:]))*12
		if next+4 > uint64(len(data)) {
			break
		}
		off = uint64(order.Uint32(data[next:]))
	}
	return n
}

func pnmSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// ocrEngine runs tesseract. It is found once per extractor: a missing
// command or language is reported on every document that needs OCR, not
// looked for again each time.
type ocrEngine struct {
	path string
	// langs are the languages a document's own is chosen from:
	// Config.OCRLanguages, else every language installed.
	langs []string
	// textless is what a document with no text to tell its language by is
	// read in ("eng+deu"); bounded reports that it leaves some of langs
	// out, which a second pass then reads (read).
	textless string
	bounded  bool
	// err says why OCR is unavailable; it wraps ErrOCRUnavailable.
	err error
	// slots bounds the tesseract processes of the whole extractor that
	// read an image, so documents extracted side by side share the cores
	// rather than oversubscribe them.
	slots chan struct{}
	// pool keeps processes running between images (tesseract.go).
	pool ocrPool
}

// ocrTextlessMax is the most languages an image without text is read in at
// once. tesseract runs every language's model over every word it doubts, so
// each one more costs time (docs/benchmarks.md: "OCR languages") and lets
// a model read words of another language as its own; a second pass reads
// the document in its language when the first tells it is another.
const ocrTextlessMax = 3

// ocrLanguagesMeta is the Result.Meta key naming the languages OCR read a
// document in: "deu", "eng+deu"; for a PDF whose scans were read in
// different ones, each set once, "eng+deu, fra".
const ocrLanguagesMeta = "ocr_languages"

// ocrStderrMax bounds the diagnostics kept from one tesseract run.
const ocrStderrMax = 4 << 10

// ocr returns the extractor's OCR engine, finding tesseract on first use.
func (x *Extractor) ocr() *ocrEngine {
	e, _ := x.engine("ocr", func() (any, func() error, error) {
		o := newOCREngine(x.cfg.TesseractPath, x.cfg.OCRLanguages)
		return o, o.close, nil
	})
	return e.(*ocrEngine)
}

// OCRLanguages returns the tesseract languages OCR chooses from:
// Config.OCRLanguages, or every language installed. It finds tesseract if
// no document has yet, and fails as OCR would, with an error wrapping
// ErrOCRUnavailable, when the command or a language named is missing: a
// command can check the setting at start.
func (x *Extractor) OCRLanguages() ([]string, error) {
	o := x.ocr()
	if o.err != nil {
		return nil, o.err
	}
	return slices.Clone(o.langs), nil
}

// TextLanguage returns the language text is written in, among those OCR
// reads, as OCR names it ("deu"), or "" when text is too short to tell,
// in none of them, or OCR has only one language or none. A document's
// attachments are read in it (Input.Language): an image in a German email
// is most likely German.
func (x *Extractor) TextLanguage(text string) string {
	o := x.ocr()
	if o.err != nil {
		return ""
	}
	return o.language(text)
}

// ocrPackage names the Debian package of a tesseract language:
// "chi_sim" -> "tesseract-ocr-chi-sim".
func ocrPackage(lang string) string {
	return "tesseract-ocr-" + strings.ReplaceAll(strings.ToLower(lang), "_", "-")
}

func newOCREngine(path, langs string) *ocrEngine {
	// GOMAXPROCS, not NumCPU: it follows a container's CPU limit, and the
	// GOMAXPROCS variable where there is none (deploy/k8s sets it from
	// the OCR pod's request), so a scanned PDF on a node of 64 cores does
	// not start 64 tesseracts in a pod of two.
	o := &ocrEngine{slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	o.pool.idleFor = ocrIdle
	p, err := exec.LookPath(cmp.Or(path, "tesseract"))
	if err != nil {
		o.err = fmt.Errorf("%w (%v)", ErrOCRUnavailable, err)
		return o
	}
	o.path = p
	removeStaleOCRFiles()
	// A language without its traineddata fails every run; say so once, by
	// name, rather than as an unreadable document each time.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, "--list-langs").Output()
	if err != nil {
		o.err = fmt.Errorf("%w (%s --list-langs: %v)", ErrOCRUnavailable, p, err)
		return o
	}
	var installed []string
	for _, l := range strings.Split(string(out), "\n")[1:] {
		// osd finds a page's orientation and script; it reads no text.
		if l = strings.TrimSpace(l); l != "" && l != "osd" {
			installed = append(installed, l)
		}
	}
	if langs == "" {
		if len(installed) == 0 {
			o.err = fmt.Errorf("%w: no language is installed (Debian: %s)", ErrOCRUnavailable, ocrPackage("eng"))
			return o
		}
		o.langs = ocrPreferred(installed)
		o.bounded = len(o.langs) > ocrTextlessMax
		o.textless = strings.Join(o.langs[:min(len(o.langs), ocrTextlessMax)], "+")
		return o
	}
	for _, l := range strings.Split(langs, "+") {
		if !slices.Contains(installed, l) {
			o.err = fmt.Errorf("%w: language %q is not installed (Debian: %s)", ErrOCRUnavailable, l, ocrPackage(l))
			return o
		}
		if !slices.Contains(o.langs, l) {
			o.langs = append(o.langs, l)
		}
	}
	// Languages named are read together, in their order, however many: an
	// operator who lists five asks for five.
	o.textless = strings.Join(o.langs, "+")
	return o
}

// ocrPreferred orders installed languages as ocrLanguages prefers them,
// those it does not know last, by name.
func ocrPreferred(installed []string) []string {
	rank := func(l string) int {
		if i := slices.IndexFunc(ocrLanguages, func(o ocrLanguage) bool { return o.code == l }); i >= 0 {
			return i
		}
		return len(ocrLanguages)
	}
	out := slices.Clone(installed)
	slices.SortStableFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b)) })
	return out
}

// language returns the language of langs that text is written in, for OCR
// to read the rest of its document in, or "" when text does not tell.
func (o *ocrEngine) language(text string) string {
	if len(o.langs) < 2 {
		return "" // nothing to choose
	}
	return guessLanguage(text, o.langs)
}

// recognise returns the text tesseract reads in img, an image file's bytes,
// once one of the extractor's OCR slots is free, and the languages it was
// read in: lang when it is one OCR reads, else as read decides.
func (o *ocrEngine) recognise(ctx context.Context, img []byte, lang string) (text, langs string, _ error) {
	if o.err != nil {
		return "", "", o.err
	}
	if !slices.Contains(o.langs, lang) {
		lang = ""
	}
	if err := o.acquire(ctx); err != nil {
		return "", "", err
	}
	defer o.release()
	return o.read(ctx, img, 0, lang)
}

// read runs tesseract on img in a slot the caller holds, in lang when the
// document's language is known (language), else in the textless set, and
// returns the text and the languages it was read in. When that set leaves
// languages out and the text read is in one of them, the image is read
// again in it: the first pass is good enough to tell the language by, and
// most documents, in the set's languages, are read once.
func (o *ocrEngine) read(ctx context.Context, img []byte, dpi int, lang string) (string, string, error) {
	if lang != "" {
		text, err := o.tesseract(ctx, img, dpi, lang)
		return text, lang, err
	}
	text, err := o.tesseract(ctx, img, dpi, o.textless)
	if err != nil || !o.bounded {
		return text, o.textless, err
	}
	lang = o.language(text)
	if lang == "" || slices.Contains(strings.Split(o.textless, "+"), lang) {
		return text, o.textless, nil
	}
	again, err := o.tesseract(ctx, img, dpi, lang)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", err
		}
		return text, o.textless, nil // the first pass stands
	}
	return again, lang, nil
}

func (o *ocrEngine) acquire(ctx context.Context) error {
	select {
	case o.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (o *ocrEngine) release() { <-o.slots }

// tesseract reads img in langs ("eng+deu") in a slot the caller holds. dpi
// is the image's resolution when known (a rendered PDF page), 0 to let
// tesseract estimate it. A single-page image goes to a running process
// (tesseract.go); a TIFF, which may have pages, to a run of its own.
// tesseract is killed when ctx ends.
func (o *ocrEngine) tesseract(ctx context.Context, img []byte, dpi int, langs string) (string, error) {
	if imageKind(img) != "tiff" {
		text, err := o.readStreamed(ctx, img, ocrKey{langs: langs, dpi: dpi})
		if !errors.Is(err, errOCRFiles) {
			return text, err
		}
	}
	return o.tesseractRun(ctx, img, dpi, langs)
}

// tesseractRun runs the command on img given on its stdin.
func (o *ocrEngine) tesseractRun(ctx context.Context, img []byte, dpi int, langs string) (string, error) {
	args := []string{"stdin", "stdout", "-l", langs}
	if dpi > 0 {
		args = append(args, "--dpi", strconv.Itoa(dpi))
	}
	cmd := exec.CommandContext(ctx, o.path, args...)
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	cmd.Stdin = bytes.NewReader(img)
	var stdout bytes.Buffer
	stderr := &ocrStderrTail{max: ocrStderrMax}
	cmd.Stdout = &stdout
	cmd.Stderr = stderr
	// Killing tesseract closes its pipes; WaitDelay only guards against a
	// child that inherited them.
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("%w: tesseract: %v: %s", ErrCorrupt, err, ocrCause(stderr.String()))
	}
	return stdout.String(), nil
}

// ocrCause picks the line of tesseract's stderr that names the problem,
// skipping its progress notes and closing boilerplate.
func ocrCause(stderr string) string {
	cause := "no diagnostics"
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		// A running process names each file it reads ("Page 3 : /tmp/...",
		// "Image file /tmp/... cannot be read!"): the files are Quire's,
		// their names no cause.
		if l == "" || strings.HasPrefix(l, "Estimating resolution") || strings.HasPrefix(l, "Error during processing") ||
			strings.HasPrefix(l, "Page ") || strings.HasPrefix(l, "Image file ") {
			continue
		}
		cause = l
	}
	return cause
}

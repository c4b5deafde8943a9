package extract

// Thumbnails: a small picture of a document's first page, for lists and the
// document's page. They are made by the engines extraction already runs and
// within the document's limits:
//
//   - a PDF's first page is rendered by the extractor's PDFium pool (withPDF),
//     at the thumbnail's size, never at full resolution;
//   - an image is decoded by Go's own decoders once its header says its
//     pixels fit the document's decompressed-size limit, then scaled;
//   - an office document is shown by the rendition it carries of itself:
//     OpenDocument's Thumbnails/thumbnail.png, OOXML's docProps/thumbnail,
//     iWork's QuickLook/Preview.pdf. LibreOffice (convert.go) converts the
//     long tail to OpenDocument, not PDF, with thumbnails turned off, so it
//     is not run again for a picture: those documents have none;
//   - anything else has none (ErrNoThumbnail).
//
// Every thumbnail is a JPEG (quality ThumbnailQuality) whose longer side is
// at most ThumbnailMaxSideDefault pixels: JPEG because Go's standard library
// encodes it and a page or a photo is a fraction of a PNG's size in it.
// WebP images are not decoded: golang.org/x/image/webp before 0.45.0
// (GO-2026-6222) may allocate without bound on a hostile lossless stream,
// and the decode could then escape the document's limit.

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/klippa-app/go-pdfium/enums"
	"github.com/klippa-app/go-pdfium/requests"
	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"
)

// ThumbnailType is the MIME type of every thumbnail.
const ThumbnailType = "image/jpeg"

// ThumbnailVersion names the way thumbnails are made. It changes when they
// are made differently (a new size, a new format), so that what a cache
// holds under an older version is not taken for the new one.
const ThumbnailVersion = 1

// Defaults of ThumbnailOptions.
const (
	// ThumbnailMaxSideDefault is the longer side of a thumbnail, in pixels:
	// twice the largest the web UI shows, for screens of two pixels per
	// point.
	ThumbnailMaxSideDefault = 400
	// ThumbnailQuality is the JPEG quality of thumbnails: text at
	// thumbnail size stays legible, and a page takes 10 to 30 KB.
	ThumbnailQuality = 80
)

// thumbnailPDFMaxObjects bounds the objects of a first page that is drawn:
// PDFium's time to draw grows with them, whatever the size it draws at (a
// page of half a million strokes took 10 s at 400 pixels), and a call
// cannot be interrupted, so the work is bounded rather than timed.
const thumbnailPDFMaxObjects = 20_000

// thumbnailBytesPerPixel is what one pixel of a source image may cost Go's
// decoders at most: a 16-bit PNG is 8 bytes a pixel, a progressive JPEG
// holds its coefficients (2 bytes a sample) beside its 3-byte samples.
const thumbnailBytesPerPixel = 9

// thumbnailEmbeddedMax bounds an office document's own thumbnail or
// preview PDF as read from its ZIP: a rendition, not a document.
const thumbnailEmbeddedMax = 16 << 20

// ErrNoThumbnail means the document's type has no thumbnail, or the
// document carries no rendition to make one from.
var ErrNoThumbnail = errors.New("no thumbnail for this document")

// ThumbnailOptions configure Extractor.Thumbnail. The zero value takes the
// defaults.
type ThumbnailOptions struct {
	// MaxSide is the longer side of the thumbnail in pixels. Defaults to
	// ThumbnailMaxSideDefault.
	MaxSide int
	// MaxPixels bounds the pixels of a source image decoded for a
	// thumbnail, below what the extractor's Limits.MaxDecompressed allows
	// (its bytes at thumbnailBytesPerPixel). 0 leaves that limit alone.
	MaxPixels int64
	// Timeout bounds one thumbnail. Defaults to the extractor's
	// Limits.Timeout, and is never longer.
	Timeout time.Duration
}

// Thumbnail is a small JPEG of a document's first page.
type Thumbnail struct {
	// Data is the JPEG.
	Data []byte
	// Width and Height are its size in pixels.
	Width, Height int
	// Source says what it was made from, for the audit trail: "PDF page
	// 1", "image", "embedded thumbnail".
	Source string
}

// ThumbnailSupported reports whether a document of type typ may have a
// thumbnail: a PDF, an image Go decodes, or an office document that may
// carry a rendition of itself. It lets a caller skip reading a document
// that cannot have one.
func ThumbnailSupported(typ string) bool {
	return thumbnailKind(baseType(typ)) != ""
}

// thumbnailKind says how a thumbnail of type typ is made: "pdf", "image",
// "odf", "ooxml", "iwork", or "" when it has none.
func thumbnailKind(typ string) string {
	switch typ {
	case "application/pdf":
		return "pdf"
	case "image/png", "image/x-png", "image/apng", "image/jpeg", "image/jpg", "image/pjpeg",
		"image/gif", "image/bmp", "image/x-bmp", "image/x-ms-bmp", "image/tiff":
		return "image"
	case typeDOCX, typeXLSX, typePPTX:
		return "ooxml"
	case typeKeynote, typePages, typeNumbers:
		return "iwork"
	}
	if strings.HasPrefix(typ, "application/vnd.oasis.opendocument.") {
		return "odf"
	}
	if f := lookupFormat(typ); f != nil && (f.name == "docx" || f.name == "pptx" || f.name == "xlsx") {
		return "ooxml" // templates and macro-enabled variants
	}
	return ""
}

// Thumbnail makes a thumbnail of the first page of in. It fails with
// ErrNoThumbnail when the type has none, with a *LimitError when the
// source is larger than the limits allow, and recovers a decoder's panic
// as a *PanicError. A failure concerns the thumbnail only: the document
// itself may be fine.
func (x *Extractor) Thumbnail(ctx context.Context, in *Input, opts *ThumbnailOptions) (th *Thumbnail, err error) {
	var o ThumbnailOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxSide <= 0 {
		o.MaxSide = ThumbnailMaxSideDefault
	}
	lim := x.cfg.Limits
	if lim.MaxBytes > 0 && int64(len(in.Data)) > lim.MaxBytes {
		return nil, &LimitError{Limit: "bytes", Max: lim.MaxBytes, Got: int64(len(in.Data))}
	}
	typ := in.Type
	if typ == "" {
		typ = Detect(in.Name, in.Data)
	}
	typ = baseType(typ)
	kind := thumbnailKind(typ)
	if kind == "" {
		return nil, fmt.Errorf("%w: %s", ErrNoThumbnail, typ)
	}
	// The document's own time limit, not a shorter one: a timeout kills
	// the PDF instance under a call that runs on, which thumbnailPDFMaxObjects
	// avoids by bounding the work instead.
	timeout := lim.Timeout
	if o.Timeout > 0 && (timeout <= 0 || o.Timeout < timeout) {
		timeout = o.Timeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	t := &thumbnailer{x: x, opts: o, lim: lim, bud: newBudget(lim)}
	type outcome struct {
		th  *Thumbnail
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{err: &PanicError{Value: r, Stack: debug.Stack()}}
			}
		}()
		th, err := t.make(ctx, kind, in.Data)
		done <- outcome{th, err}
	}()
	select {
	case out := <-done:
		th, err = out.th, out.err
	case <-ctx.Done():
		err = ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, &LimitError{Limit: "time", Max: int64(timeout)}
	}
	if err != nil {
		return nil, fmt.Errorf("thumbnail of %s: %w", typ, err)
	}
	return th, nil
}

// thumbnailer makes one thumbnail.
type thumbnailer struct {
	x    *Extractor
	opts ThumbnailOptions
	lim  Limits
	bud  *budget
}

func (t *thumbnailer) make(ctx context.Context, kind string, data []byte) (*Thumbnail, error) {
	switch kind {
	case "pdf":
		return t.pdf(ctx, data, "PDF page 1")
	case "image":
		return t.image(data, "image")
	case "odf":
		return t.embedded(data, "Thumbnails/thumbnail.png")
	case "ooxml":
		return t.embedded(data, "docProps/thumbnail.jpeg", "docProps/thumbnail.jpg", "docProps/thumbnail.png")
	case "iwork":
		pdf, err := iworkPreview(data, Limits{MaxDecompressed: min(t.decompressedMax(), thumbnailEmbeddedMax)})
		if err != nil {
			return nil, err
		}
		if pdf != nil {
			return t.pdf(ctx, pdf, "embedded preview (QuickLook/Preview.pdf)")
		}
		return t.embedded(data, "QuickLook/Thumbnail.jpg", "preview.jpg")
	}
	return nil, ErrNoThumbnail
}

func (t *thumbnailer) decompressedMax() int64 {
	if t.lim.MaxDecompressed < 0 {
		return converterOutputMax
	}
	return t.lim.MaxDecompressed
}

// pdf renders the first page of a PDF to fit the thumbnail: PDFium draws it
// at that size directly, so a poster-sized page costs no more than a letter.
func (t *thumbnailer) pdf(ctx context.Context, data []byte, source string) (*Thumbnail, error) {
	var th *Thumbnail
	err := t.x.withPDF(ctx, t.bud, func(r *pdfReader) error {
		doc, _, err := r.open(data)
		if err != nil {
			return err
		}
		defer func() {
			_, err := r.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc})
			r.check(err)
		}()
		count, err := r.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc})
		if r.check(err) != nil {
			return r.failed(err)
		}
		if count.PageCount < 1 {
			return fmt.Errorf("%w: the PDF has no pages", ErrNoThumbnail)
		}
		objects, err := r.inst.FPDFPage_CountObjects(&requests.FPDFPage_CountObjects{Page: pdfPage(doc, 0)})
		if r.check(err) != nil {
			if r.fault != nil {
				return r.failed(err)
			}
			return fmt.Errorf("%w: page 1: %v", ErrCorrupt, err)
		}
		if objects.Count > thumbnailPDFMaxObjects {
			return &LimitError{Limit: "thumbnail page objects", Max: thumbnailPDFMaxObjects, Got: int64(objects.Count)}
		}
		out, err := r.inst.RenderPageInPixels(&requests.RenderPageInPixels{
			Page:        pdfPage(doc, 0),
			Width:       t.opts.MaxSide,
			Height:      t.opts.MaxSide,
			RenderFlags: enums.FPDF_RENDER_FLAG_ANNOT | enums.FPDF_RENDER_FLAG_LCD_TEXT,
		})
		if r.check(err) != nil {
			if r.fault != nil {
				return r.failed(err)
			}
			return fmt.Errorf("%w: render page 1: %v", ErrCorrupt, err)
		}
		// The pixels live in the instance's memory until Cleanup: encode
		// them first.
		defer out.Cleanup()
		th, err = encodeThumbnail(out.Result.RenderedImage, source)
		return err
	})
	return th, err
}

// image decodes an image whose header says it fits the limits, and scales
// it down.
func (t *thumbnailer) image(data []byte, source string) (*Thumbnail, error) {
	kind := imageKind(data)
	var decode func(io.Reader) (image.Image, error)
	switch kind {
	case "png":
		decode = png.Decode
	case "jpeg":
		decode = jpeg.Decode
	case "gif":
		decode = gif.Decode
	case "bmp":
		decode = bmp.Decode
	case "tiff":
		decode = tiff.Decode
	default:
		return nil, fmt.Errorf("%w: %s images are not decoded for thumbnails", ErrNoThumbnail, cmp.Or(kind, "unknown"))
	}
	cfg, err := imageConfigReader(kind)(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: image header: %v", ErrCorrupt, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: image of %d×%d pixels", ErrCorrupt, cfg.Width, cfg.Height)
	}
	// The header is checked before a byte is decoded: Go's decoders
	// allocate the whole image up front, from these two numbers.
	pixels := int64(cfg.Width) * int64(cfg.Height)
	if budget := t.decompressedMax(); pixels*thumbnailBytesPerPixel > budget {
		return nil, &LimitError{Limit: "decompressed size", Max: budget, Got: pixels * thumbnailBytesPerPixel}
	}
	if t.opts.MaxPixels > 0 && pixels > t.opts.MaxPixels {
		return nil, &LimitError{Limit: "thumbnail source pixels", Max: t.opts.MaxPixels, Got: pixels}
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: decode %s: %v", ErrCorrupt, kind, err)
	}
	return encodeThumbnail(scaleToFit(img, t.opts.MaxSide), source)
}

// embedded makes the thumbnail from the first of names an office document
// (a ZIP) holds: a picture of itself its application saved with it.
func (t *thumbnailer) embedded(data []byte, names ...string) (*Thumbnail, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	for _, name := range names {
		for _, f := range zr.File {
			if f.Name != name {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
			}
			b, err := io.ReadAll(io.LimitReader(rc, thumbnailEmbeddedMax+1))
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
			}
			if len(b) > thumbnailEmbeddedMax {
				return nil, &LimitError{Limit: "decompressed size", Max: thumbnailEmbeddedMax}
			}
			return t.image(b, "embedded thumbnail ("+name+")")
		}
	}
	return nil, fmt.Errorf("%w: the document carries no picture of itself", ErrNoThumbnail)
}

// scaleToFit scales img down so that its longer side is at most maxSide,
// averaging what it drops, so that lines of text do not alias. An image
// that fits already is returned as it is.
//
// A large image is first halved until it is less than twice the size:
// ApproxBiLinear at exactly half samples between the four pixels it
// replaces, an average of them, at a cost of the smaller image's pixels;
// BiLinear then makes the last step. BiLinear alone over a photograph of
// millions of pixels cost a second here, its kernel widening with the
// reduction.
func scaleToFit(img image.Image, maxSide int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if max(w, h) <= maxSide {
		return img
	}
	opaque := !hasAlpha(img)
	for max(w, h) >= 2*maxSide {
		w, h = max(w/2, 1), max(h/2, 1)
		half := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.ApproxBiLinear.Scale(half, half.Bounds(), img, b, draw.Src, nil)
		img, b = half, half.Bounds()
	}
	if w >= h {
		w, h = maxSide, max(h*maxSide/w, 1)
	} else {
		w, h = max(w*maxSide/h, 1), maxSide
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if opaque {
		draw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
		return dst
	}
	// Transparent areas become white, as on paper, rather than the black
	// JPEG would make of them.
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	return dst
}

// encodeThumbnail encodes img as the thumbnail's JPEG.
func encodeThumbnail(img image.Image, source string) (*Thumbnail, error) {
	if img == nil {
		return nil, fmt.Errorf("%w: nothing rendered", ErrCorrupt)
	}
	b := img.Bounds()
	if b.Dx() == 0 || b.Dy() == 0 {
		return nil, fmt.Errorf("%w: empty image", ErrCorrupt)
	}
	if hasAlpha(img) {
		flat := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(flat, flat.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		draw.Draw(flat, flat.Bounds(), img, b.Min, draw.Over)
		img = flat
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: ThumbnailQuality}); err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	return &Thumbnail{Data: buf.Bytes(), Width: b.Dx(), Height: b.Dy(), Source: source}, nil
}

// hasAlpha reports whether img may have transparent pixels, which JPEG
// would turn black.
func hasAlpha(img image.Image) bool {
	switch m := img.(type) {
	case *image.YCbCr, *image.Gray, *image.Gray16, *image.CMYK:
		return false
	case *image.RGBA:
		return !m.Opaque()
	case *image.NRGBA:
		return !m.Opaque()
	case *image.Paletted:
		return !m.Opaque()
	}
	return true
}

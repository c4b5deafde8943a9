package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/quirehq/quire/internal/testenv"
)

var tesseractCheck struct {
	once sync.Once
	err  error
}

// requireTesseract skips a test that needs the tesseract command (and its
// English data) when they are not installed, and fails it instead under
// QUIRE_TEST_REQUIRE_SERVICES=1 (as in CI), so CI never passes by skipping
// OCR. Debian: apt-get install tesseract-ocr tesseract-ocr-eng.
func requireTesseract(t testing.TB) {
	t.Helper()
	tesseractCheck.once.Do(func() { tesseractCheck.err = newOCREngine("", "").err })
	testenv.RequireService(t, "tesseract (apt-get install tesseract-ocr tesseract-ocr-eng)", tesseractCheck.err)
}

// textPNG is testdata/images/text.png; testdata/images/gen.go draws it.
const (
	textPNGLine1 = "Quire extracts text from images."
	textPNGLine2 = "Invoice 4711 was paid in full."
)

func extractImageData(x *Extractor, typ string, data []byte) (*Result, error) {
	return x.Extract(context.Background(), &Input{Data: data, Type: typ})
}

func TestImageOCR(t *testing.T) {
	t.Parallel()
	requireTesseract(t)

	res, err := extractImageData(pdfTestExtractor(t), "image/png", testdataFile(t, "images/text.png"))
	require.NoError(t, err)
	require.Equal(t, "image/png", res.Type)
	require.Equal(t, []Page{{Number: 1, Text: textPNGLine1 + "\n" + textPNGLine2, OCR: true}}, res.Pages)
	require.Equal(t, res.Pages[0].Text, res.Text)
}

// TestImageFormats reads the same page in each format tesseract is
// registered for that Go can write.
func TestImageFormats(t *testing.T) {
	t.Parallel()
	requireTesseract(t)

	img, err := png.Decode(bytes.NewReader(testdataFile(t, "images/text.png")))
	require.NoError(t, err)
	gray := img.(*image.Gray)
	encode := func(f func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		require.NoError(t, f(&b))
		return b.Bytes()
	}
	tests := []struct {
		typ  string
		data []byte
	}{
		{"image/jpeg", encode(func(b *bytes.Buffer) error { return jpeg.Encode(b, img, &jpeg.Options{Quality: 85}) })},
		{"image/gif", encode(func(b *bytes.Buffer) error { return gif.Encode(b, img, nil) })},
		{"image/bmp", encode(func(b *bytes.Buffer) error { return bmp.Encode(b, img) })},
		{"image/tiff", encode(func(b *bytes.Buffer) error { return tiff.Encode(b, img, &tiff.Options{Compression: tiff.Deflate}) })},
		{"image/x-portable-graymap", pdfEncodePGM(gray)},
		// Declared as one format, sent as another: the content decides.
		{"image/jpeg", testdataFile(t, "images/text.png")},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			res, err := extractImageData(pdfTestExtractor(t), tt.typ, tt.data)
			require.NoError(t, err)
			require.Len(t, res.Pages, 1)
			require.Contains(t, res.Text, "Quire extracts text from images")
			require.Contains(t, res.Text, "Invoice 4711")
		})
	}
}

// TestImageMultiPageTIFF reads testdata/images/fax.tiff, two pages.
func TestImageMultiPageTIFF(t *testing.T) {
	t.Parallel()
	requireTesseract(t)

	res, err := extractImageData(pdfTestExtractor(t), "image/tiff", testdataFile(t, "images/fax.tiff"))
	require.NoError(t, err)
	require.Equal(t, []Page{
		{Number: 1, Text: "First page of the fax.\nPlease call back tomorrow.", OCR: true},
		{Number: 2, Text: "Second page of the fax.\nThe order ships on Monday.", OCR: true},
	}, res.Pages)
}

func TestImageTIFFMaxPages(t *testing.T) {
	t.Parallel()
	x := New(Config{Limits: Limits{MaxPages: 1}})
	_, err := extractImageData(x, "image/tiff", testdataFile(t, "images/fax.tiff"))
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, LimitError{Limit: "pages", Max: 1, Got: 2}, *le)
}

func TestTIFFPages(t *testing.T) {
	t.Parallel()
	fax := testdataFile(t, "images/fax.tiff")
	require.Equal(t, 2, tiffPages(fax, 10))
	require.Equal(t, 1, tiffPages(fax, 1))
	require.Equal(t, 0, tiffPages(fax[:6], 10))

	// A directory whose next pointer is itself.
	loop := []byte("II*\x00\x08\x00\x00\x00\x00\x00\x08\x00\x00\x00")
	require.Equal(t, 1, tiffPages(loop, 10))
}

// TestImageNotAnImage makes sure data that is not an image never reaches
// tesseract, which would take it for a list of files to read.
func TestImageNotAnImage(t *testing.T) {
	t.Parallel()
	path, err := filepath.Abs(filepath.Join("..", "testdata", "images", "text.png"))
	require.NoError(t, err)
	for _, data := range [][]byte{
		[]byte(path + "\n"),
		[]byte("http://127.0.0.1/text.png\n"),
		nil,
		[]byte("P5"),
	} {
		res, err := extractImageData(pdfTestExtractor(t), "image/png", data)
		require.ErrorIs(t, err, ErrCorrupt, "%q", data)
		require.Nil(t, res)
	}
}

func TestImageCorrupt(t *testing.T) {
	t.Parallel()
	requireTesseract(t)
	data := testdataFile(t, "images/text.png")
	_, err := extractImageData(pdfTestExtractor(t), "image/png", data[:len(data)/3])
	require.ErrorIs(t, err, ErrCorrupt)
}

// TestImageDecompressedLimit sends a 40-byte PNG that claims 100,000 ×
// 100,000 pixels.
func TestImageDecompressedLimit(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, 100_000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 100_000)
	ihdr = append(ihdr, 8, 0, 0, 0, 0) // 8-bit grey, no interlace
	chunk("IHDR", ihdr)
	chunk("IEND", nil)

	_, err := extractImageData(pdfTestExtractor(t), "image/png", b.Bytes())
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "decompressed size", le.Limit)
	require.Equal(t, int64(MaxDecompressedDefault), le.Max)
}

func TestImageOCRUnavailable(t *testing.T) {
	t.Parallel()
	x := New(Config{TesseractPath: filepath.Join(t.TempDir(), "tesseract")})
	_, err := extractImageData(x, "image/png", testdataFile(t, "images/text.png"))
	require.ErrorIs(t, err, ErrOCRUnavailable)
}

// TestImageTooSmallForText: a tracking pixel or a spacer (here 1×1 and
// 300×4) is done with no text and never reaches tesseract, which this
// extractor does not even have; an 8×8 image does.
func TestImageTooSmallForText(t *testing.T) {
	t.Parallel()
	x := New(Config{TesseractPath: filepath.Join(t.TempDir(), "tesseract")})
	for _, size := range []image.Point{{1, 1}, {300, 4}} {
		var b bytes.Buffer
		require.NoError(t, gif.Encode(&b, image.NewPaletted(image.Rect(0, 0, size.X, size.Y), color.Palette{color.White}), nil))
		res, err := extractImageData(x, "image/gif", b.Bytes())
		require.NoError(t, err, "%v", size)
		require.Equal(t, []Page{{Number: 1, OCR: true}}, res.Pages, "%v", size)
		require.Empty(t, res.Text)
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8))))
	_, err := extractImageData(x, "image/png", b.Bytes())
	require.ErrorIs(t, err, ErrOCRUnavailable)
}

func TestImageOCRLanguageMissing(t *testing.T) {
	t.Parallel()
	requireTesseract(t)
	x := New(Config{OCRLanguages: "eng+qqq"})
	_, err := extractImageData(x, "image/png", testdataFile(t, "images/text.png"))
	require.ErrorIs(t, err, ErrOCRUnavailable)
	require.ErrorContains(t, err, `"qqq"`)
}

// TestImageTimeout kills tesseract at the deadline; the extractor's OCR
// slots are free again afterwards.
func TestImageTimeout(t *testing.T) {
	t.Parallel()
	requireTesseract(t)
	x := New(Config{Limits: Limits{Timeout: 50 * time.Millisecond}})
	data := testdataFile(t, "images/text.png")

	start := time.Now()
	_, err := extractImageData(x, "image/png", data)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "time", le.Limit)
	require.Less(t, time.Since(start), time.Second)

	o := x.ocr()
	require.Eventually(t, func() bool { return len(o.slots) == 0 }, 5*time.Second, 10*time.Millisecond)
	text, _, err := o.recognise(context.Background(), data, "")
	require.NoError(t, err)
	require.Contains(t, text, "Invoice 4711")
}

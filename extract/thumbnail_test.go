package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// thumbnailCase is a document and the thumbnail it must have.
type thumbnailCase struct {
	name, file, typ string
	// source is what the thumbnail says it was made from.
	source string
}

var thumbnailCases = []thumbnailCase{
	{name: "PDF", file: "pdf/everyshi.pdf", source: "PDF page 1"},
	{name: "PNG", file: "images/text.png", source: "image"},
	{name: "TIFF", file: "images/fax.tiff", source: "image"},
	{name: "ODFTemplate", file: "formats/odf/udhr-fra.ott", source: "embedded thumbnail (Thumbnails/thumbnail.png)"},
	{name: "ODFPresentation", file: "formats/odf/udhr.otp", source: "embedded thumbnail (Thumbnails/thumbnail.png)"},
	{name: "PagesPreviewPDF", file: "formats/longtail/preview.pages", source: "embedded preview (QuickLook/Preview.pdf)"},
}

// checkThumbnail decodes a thumbnail and checks it is the JPEG it claims.
func checkThumbnail(t *testing.T, th *Thumbnail) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(th.Data))
	require.NoError(t, err)
	require.Equal(t, th.Width, img.Bounds().Dx())
	require.Equal(t, th.Height, img.Bounds().Dy())
	require.LessOrEqual(t, max(th.Width, th.Height), ThumbnailMaxSideDefault)
	require.Greater(t, min(th.Width, th.Height), 16, "a thumbnail, not a sliver")
	require.Less(t, len(th.Data), 100<<10, "a thumbnail stays small")
	return img
}

func TestThumbnail(t *testing.T) {
	t.Parallel()
	x := pdfTestExtractor(t)
	for _, tc := range thumbnailCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := testdataFile(t, tc.file)
			require.True(t, ThumbnailSupported(Detect(tc.file, data)), "type %s", Detect(tc.file, data))
			th, err := x.Thumbnail(t.Context(), &Input{Name: tc.file, Data: data, Type: tc.typ}, nil)
			require.NoError(t, err)
			require.Equal(t, tc.source, th.Source)
			checkThumbnail(t, th)
		})
	}

	t.Run("PDFPageIsDrawn", func(t *testing.T) {
		t.Parallel()
		// A portrait page fills the height, and its text makes dark
		// pixels on a white page: rendered, not blank.
		th, err := x.Thumbnail(t.Context(), &Input{Name: "a.pdf", Data: testdataFile(t, "pdf/everyshi.pdf")}, nil)
		require.NoError(t, err)
		img := checkThumbnail(t, th)
		if out := os.Getenv("QUIRE_TEST_THUMBNAIL_OUT"); out != "" {
			require.NoError(t, os.WriteFile(out, th.Data, 0o600))
		}
		require.Equal(t, ThumbnailMaxSideDefault, th.Height)
		require.Less(t, th.Width, th.Height)
		dark, light := 0, 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
				switch {
				case g < 160:
					dark++
				case g > 230:
					light++
				}
			}
		}
		require.Greater(t, dark, 200, "the page's text shows")
		require.Greater(t, light, b.Dx()*b.Dy()/2, "the paper is white")
	})

	t.Run("SmallImageKeepsItsSize", func(t *testing.T) {
		t.Parallel()
		th, err := x.Thumbnail(t.Context(), &Input{Name: "s.png", Data: encodePNG(t, 120, 40)}, nil)
		require.NoError(t, err)
		require.Equal(t, []int{120, 40}, []int{th.Width, th.Height})
	})

	t.Run("TransparencyIsWhite", func(t *testing.T) {
		t.Parallel()
		m := image.NewNRGBA(image.Rect(0, 0, 800, 400)) // all transparent
		var buf bytes.Buffer
		require.NoError(t, png.Encode(&buf, m))
		th, err := x.Thumbnail(t.Context(), &Input{Name: "t.png", Data: buf.Bytes()}, nil)
		require.NoError(t, err)
		img := checkThumbnail(t, th)
		require.Equal(t, []int{400, 200}, []int{th.Width, th.Height})
		g := color.GrayModel.Convert(img.At(200, 100)).(color.Gray).Y
		require.Greater(t, g, uint8(240), "transparent is paper, not black")
	})

	t.Run("NoThumbnail", func(t *testing.T) {
		t.Parallel()
		for name, data := range map[string][]byte{
			"note.txt":    []byte("just text"),
			"udhr.docx":   testdataFile(t, "office/udhr.docx"), // saved without a thumbnail
			"mail.eml":    testdataFile(t, "email/spamassassin-easy-ham-1-00001.eml"),
			"page.html":   []byte("<html><body>hi</body></html>"),
			"hoover.pub":  testdataFile(t, "formats/longtail/hoover.pub"),
			"photo.webp":  []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"),
			"unknown.bin": {0, 1, 2, 3},
		} {
			_, err := x.Thumbnail(t.Context(), &Input{Name: name, Data: data}, nil)
			require.ErrorIs(t, err, ErrNoThumbnail, name)
		}
		require.False(t, ThumbnailSupported("text/plain; charset=utf-8"))
		require.False(t, ThumbnailSupported("message/rfc822"))
	})

	t.Run("Corrupt", func(t *testing.T) {
		t.Parallel()
		_, err := x.Thumbnail(t.Context(), &Input{Name: "bad.pdf", Data: testdataFile(t, "pdf/truncated.pdf")[:2000], Type: "application/pdf"}, nil)
		require.Error(t, err)
		_, err = x.Thumbnail(t.Context(), &Input{Name: "bad.png", Data: encodePNG(t, 50, 50)[:60], Type: "image/png"}, nil)
		require.ErrorIs(t, err, ErrCorrupt)
	})
}

// TestThumbnailHostile holds thumbnails to the document's limits: an image
// whose header declares a huge size is refused from the header, before
// anything is decoded, and costs no memory to speak of. Not parallel: the
// allocations it counts are the process's.
func TestThumbnailHostile(t *testing.T) {
	x := New(Config{Limits: Limits{MaxDecompressed: 16 << 20}})
	for name, data := range map[string][]byte{
		"png-bomb.png":  thumbPNGBomb(100_000, 100_000),
		"wide.png":      thumbPNGBomb(10_000_000, 1),
		"jpeg-bomb.jpg": thumbJPEGBomb(t, 65_000, 65_000),
		"gif-bomb.gif":  []byte("GIF89a\xff\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"),
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := x.Thumbnail(context.Background(), &Input{Name: name, Data: data}, nil)
		runtime.ReadMemStats(&after)
		var limit *LimitError
		require.ErrorAs(t, err, &limit, name)
		require.Equal(t, "decompressed size", limit.Limit, name)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "%s: refused from its header", name)
	}

	// A page too costly to draw is refused by its count of objects, not
	// drawn until a deadline.
	_, err := pdfTestExtractor(t).Thumbnail(context.Background(), &Input{Name: "slow.pdf", Data: testdataFile(t, "pdf/slow.pdf")}, nil)
	var objects *LimitError
	require.ErrorAs(t, err, &objects)
	require.Equal(t, "thumbnail page objects", objects.Limit)
	require.Equal(t, int64(500_000), objects.Got)

	// MaxPixels is a tighter bound of the caller's own.
	_, err = x.Thumbnail(context.Background(), &Input{Name: "a.png", Data: encodePNG(t, 1200, 1000)}, &ThumbnailOptions{MaxPixels: 1 << 20})
	var limit *LimitError
	require.ErrorAs(t, err, &limit)
	require.Equal(t, "thumbnail source pixels", limit.Limit)
}

// thumbPNGBomb is a PNG of a few bytes whose header declares width×height
// grey pixels.
func thumbPNGBomb(width, height uint32) []byte {
	chunk := func(b []byte, typ string, data []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		start := len(b)
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	ihdr = append(ihdr, 8, 0, 0, 0, 0)
	row := []byte{0, 0}
	idat := append([]byte{0x78, 0x01, 0x01, 2, 0, 0xfd, 0xff}, row...)
	idat = binary.BigEndian.AppendUint32(idat, adler32.Checksum(row))
	b := []byte("\x89PNG\r\n\x1a\n")
	b = chunk(b, "IHDR", ihdr)
	b = chunk(b, "IDAT", idat)
	return chunk(b, "IEND", nil)
}

// thumbJPEGBomb is a small JPEG whose frame header is rewritten to declare
// width×height pixels.
func thumbJPEGBomb(t *testing.T, width, height uint16) []byte {
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil))
	b := buf.Bytes()
	i := bytes.Index(b, []byte{0xff, 0xc0})
	require.Positive(t, i)
	binary.BigEndian.PutUint16(b[i+5:], height)
	binary.BigEndian.PutUint16(b[i+7:], width)
	return b
}

// encodePNG is a width×height PNG: white, with a black bar.
func encodePNG(t testing.TB, width, height int) []byte {
	m := image.NewGray(image.Rect(0, 0, width, height))
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	for y := height / 3; y < height/2; y++ {
		for x := width / 8; x < width*7/8; x++ {
			m.SetGray(x, y, color.Gray{})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, m))
	return buf.Bytes()
}

// BenchmarkThumbnail measures a thumbnail per format, with the PDF engine
// warm.
func BenchmarkThumbnail(b *testing.B) {
	x := pdfTestExtractor(b)
	photo := func() []byte {
		m := image.NewRGBA(image.Rect(0, 0, 3000, 2000))
		for y := range 2000 {
			for x := range 3000 {
				m.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
			}
		}
		var buf bytes.Buffer
		require.NoError(b, jpeg.Encode(&buf, m, &jpeg.Options{Quality: 85}))
		return buf.Bytes()
	}()
	for _, tc := range []struct{ name, file string }{
		{"PDF", "pdf/everyshi.pdf"},
		{"PNG", "images/text.png"},
		{"TIFF", "images/fax.tiff"},
		{"JPEG6MP", ""},
		{"ODF", "formats/odf/udhr-fra.ott"},
		{"PagesPreviewPDF", "formats/longtail/preview.pages"},
	} {
		data, name := photo, "photo.jpg"
		if tc.file != "" {
			data, name = testdataFile(b, tc.file), tc.file
		}
		in := &Input{Name: name, Data: data}
		if _, err := x.Thumbnail(context.Background(), in, nil); err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.Thumbnail(context.Background(), in, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

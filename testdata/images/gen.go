//go:build ignore

// gen writes the images the OCR tests read: text.png, a printed page, and
// fax.tiff, two such pages in one TIFF as a fax machine sends them. Both are
// black Go Regular text on white at the size a 300 dpi scan of 12 pt type
// has, so tesseract sees what it sees in a real scan. Run it from this
// directory with `go run gen.go`; the tests assert on the words below.
package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

func main() {
	writePNG("text.png", render("Quire extracts text from images.", "Invoice 4711 was paid in full."))
	writeTIFF("fax.tiff",
		render("First page of the fax.", "Please call back tomorrow."),
		render("Second page of the fax.", "The order ships on Monday."))
}

func render(lines ...string) *image.Gray {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		log.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 12, DPI: 300, Hinting: font.HintingFull})
	if err != nil {
		log.Fatal(err)
	}
	const lineHeight = 75
	img := image.NewGray(image.Rect(0, 0, 1400, 80+lineHeight*len(lines)))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face}
	for i, l := range lines {
		d.Dot = fixed.P(60, 90+i*lineHeight)
		d.DrawString(l)
	}
	return img
}

func writePNG(name string, img *image.Gray) {
	out, err := os.Create(name)
	if err != nil {
		log.Fatal(err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(out, img); err != nil {
		log.Fatal(err)
	}
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}
}

// writeTIFF writes grey pages as one little-endian TIFF, each page a single
// Deflate-compressed strip: x/image/tiff writes only one page.
func writeTIFF(name string, pages ...*image.Gray) {
	var b bytes.Buffer
	b.WriteString("II*\x00")
	le := binary.LittleEndian
	// Each directory's offset is patched in once its page data is written.
	patch := 4
	b.Write(make([]byte, 4))
	for _, img := range pages {
		w, h := img.Rect.Dx(), img.Rect.Dy()
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		for y := range h {
			zw.Write(img.Pix[y*img.Stride : y*img.Stride+w])
		}
		zw.Close()
		strip := b.Len()
		b.Write(z.Bytes())
		if b.Len()%2 == 1 {
			b.WriteByte(0)
		}
		le.PutUint32(b.Bytes()[patch:], uint32(b.Len()))
		const short, long = 3, 4
		tags := [][3]uint32{ // tag, type, value
			{256, long, uint32(w)}, {257, long, uint32(h)},
			{258, short, 8}, // bits per sample
			{259, short, 8}, // Deflate
			{262, short, 1}, // black is zero
			{273, long, uint32(strip)}, {277, short, 1},
			{278, long, uint32(h)}, {279, long, uint32(z.Len())},
		}
		binary.Write(&b, le, uint16(len(tags)))
		for _, t := range tags {
			binary.Write(&b, le, uint16(t[0]))
			binary.Write(&b, le, uint16(t[1]))
			binary.Write(&b, le, uint32(1))
			binary.Write(&b, le, t[2]) // a SHORT sits in the low half
		}
		patch = b.Len()
		b.Write(make([]byte, 4)) // next directory, 0 for the last
	}
	if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

//go:build ignore

// gen writes the German OCR test documents: deu.png, a printed page with
// umlauts and ß, and deu-mixed.pdf, a page of German text then a scan of
// the same page as deu.png, so that the text tells OCR the scan's language.
// The text is black Go Regular on white at the size a 300 dpi scan of 12 pt
// type has, as in testdata/images. Run it from this directory with
// `go run gen.go`; the tests assert on the words below.
package main

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"log"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

const dpi = 300

// scan is the page OCR reads, in both files.
var scan = []string{
	"Die Größe der Übersetzung wurde geprüft.",
	"Quire liest Straßen, Brücken und Bäume.",
}

func main() {
	img := render(scan)
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		log.Fatal(err)
	}
	write("deu.png", b.Bytes())
	// Helvetica's standard encoding has no umlauts: the text page gets by
	// without them, as its only job is to be German.
	write("deu-mixed.pdf", mixedPDF([]string{
		"Bericht des Jahres",
		"Die Zahlen sind gut, und das Team ist mit dem Ergebnis zufrieden.",
		"Der Vorstand wird die Arbeit auf der Sitzung vorstellen, und die",
		"Abteilung ist nicht mehr allein mit der Planung des Projekts.",
	}, img))
}

func write(name string, data []byte) {
	if err := os.WriteFile(name, data, 0o644); err != nil {
		log.Fatal(err)
	}
}

// render draws lines as a 300 dpi scanner would see them.
func render(lines []string) *image.Gray {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		log.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 12, DPI: dpi, Hinting: font.HintingFull})
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

// mixedPDF writes two pages: text in Helvetica, then img as a greyscale
// JPEG, with no text layer.
func mixedPDF(text []string, img *image.Gray) []byte {
	var objs []string
	add := func(s string) int { objs = append(objs, s); return len(objs) }
	stream := func(dict string, data []byte) int {
		return add(fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data))
	}
	deflate := func(s string) []byte {
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
		zw.Write([]byte(s))
		zw.Close()
		return z.Bytes()
	}

	var content strings.Builder
	content.WriteString("BT /F1 14 Tf 20 TL 72 700 Td\n")
	for _, l := range text {
		fmt.Fprintf(&content, "(%s) Tj T*\n", l)
	}
	content.WriteString("ET\n")
	var j bytes.Buffer
	if err := jpeg.Encode(&j, img, &jpeg.Options{Quality: 80}); err != nil {
		log.Fatal(err)
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	pw, ph := float64(w)*72/dpi, float64(h)*72/dpi

	font := add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	text1 := stream("/Filter /FlateDecode", deflate(content.String()))
	im := stream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", w, h), j.Bytes())
	scan2 := stream("/Filter /FlateDecode", deflate(fmt.Sprintf("q %.2f 0 0 %.2f 54 %.2f cm /Im1 Do Q\n", pw, ph, 720-ph)))
	pages := len(objs) + 3 // the page tree, after the two pages
	p1 := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>", pages, font, text1))
	p2 := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 %d 0 R >> >> /Contents %d 0 R >>", pages, im, scan2))
	add(fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count 2 >>", p1, p2))
	catalog := add(fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages))
	info := add("<< /Title (Bericht des Jahres) /Author (Quire tests) /Producer (testdata/ocr/gen.go) /CreationDate (D:20240115093000Z) >>")

	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, catalog, info, xref)
	return out.Bytes()
}

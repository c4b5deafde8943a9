//go:build ignore

// gen writes the PDFs of this directory that are made rather than found:
// scanned.pdf (one page that is only a picture of text, as a scanner makes
// it), mixed.pdf (a page of real text, then a scanned page) and slow.pdf (a
// page of half a million strokes, tiny on disk, that takes the engine seconds to
// parse). Run it from this directory with `go run gen.go`; the tests assert on
// the words below.
package main

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"log"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

const scanDPI = 300

func main() {
	write("scanned.pdf", "Minutes of the annual meeting", []page{
		{scan: []string{"Minutes of the annual meeting.", "The committee approved the budget."}},
	})
	write("mixed.pdf", "Quarterly report", []page{
		{text: []string{"Quarterly report for the board", "Revenue grew in every region."}},
		{scan: []string{"Signed copy of the contract.", "Witnessed by the notary."}},
	})
	write("slow.pdf", "Half a million strokes", []page{{strokes: 500_000}})
}

type page struct {
	text    []string // drawn with Helvetica, so the PDF carries the text
	scan    []string // drawn into a JPEG, so only OCR finds it
	strokes int      // tiny line segments, to make parsing slow
}

// pdf collects numbered objects and writes them with a cross-reference table.
type pdf struct {
	objs [][]byte
}

func (p *pdf) add(s string) int {
	p.objs = append(p.objs, []byte(s))
	return len(p.objs)
}

func (p *pdf) addStream(dict string, data []byte) int {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<< %s /Length %d >>\nstream\n", dict, len(data))
	b.Write(data)
	b.WriteString("\nendstream")
	p.objs = append(p.objs, b.Bytes())
	return len(p.objs)
}

func write(name, title string, pages []page) {
	p := &pdf{}
	catalog := p.add("") // filled in once the pages exist
	pagesObj := p.add("")
	font := p.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	var kids []string
	for _, pg := range pages {
		var content bytes.Buffer
		res := fmt.Sprintf("/Font << /F1 %d 0 R >>", font)
		if len(pg.text) > 0 {
			content.WriteString("BT /F1 18 Tf 24 TL 72 700 Td\n")
			for _, l := range pg.text {
				fmt.Fprintf(&content, "(%s) Tj T*\n", l)
			}
			content.WriteString("ET\n")
		}
		if len(pg.scan) > 0 {
			img := render(pg.scan)
			var j bytes.Buffer
			if err := jpeg.Encode(&j, img, &jpeg.Options{Quality: 80}); err != nil {
				log.Fatal(err)
			}
			w, h := img.Bounds().Dx(), img.Bounds().Dy()
			im := p.addStream(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", w, h), j.Bytes())
			res += fmt.Sprintf(" /XObject << /Im1 %d 0 R >>", im)
			pw, ph := float64(w)*72/scanDPI, float64(h)*72/scanDPI
			fmt.Fprintf(&content, "q %.2f 0 0 %.2f 54 %.2f cm /Im1 Do Q\n", pw, ph, 720-ph)
		}
		// The same stroke over and over compresses a thousandfold.
		content.WriteString(strings.Repeat("72 72 m 73 73 l S\n", pg.strokes))
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
		zw.Write(content.Bytes())
		zw.Close()
		c := p.addStream("/Filter /FlateDecode", z.Bytes())
		kids = append(kids, fmt.Sprintf("%d 0 R", p.add(fmt.Sprintf(
			"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << %s >> /Contents %d 0 R >>",
			pagesObj, res, c))))
	}
	p.objs[catalog-1] = []byte(fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesObj))
	p.objs[pagesObj-1] = []byte(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids)))
	info := p.add(fmt.Sprintf("<< /Title (%s) /Author (Quire tests) /Producer (testdata/pdf/gen.go) /CreationDate (D:20240115093000Z) >>", title))

	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(p.objs))
	for i, o := range p.objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n", i+1)
		out.Write(o)
		out.WriteString("\nendobj\n")
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(p.objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(p.objs)+1, catalog, info, xref)
	if err := os.WriteFile(name, out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// render draws lines of 12 pt Go Regular as a 300 dpi scanner would see them.
func render(lines []string) *image.Gray {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		log.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 12, DPI: scanDPI, Hinting: font.HintingFull})
	if err != nil {
		log.Fatal(err)
	}
	const lineHeight = 75
	img := image.NewGray(image.Rect(0, 0, 1800, 80+lineHeight*len(lines)))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face}
	for i, l := range lines {
		d.Dot = fixed.P(60, 90+i*lineHeight)
		d.DrawString(l)
	}
	return img
}

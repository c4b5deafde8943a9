//go:build ignore

// gen writes the long-tail test files that the office converter
// (extract/convert.go) reads, all from the repository's own text (see
// README.md). Run it from this directory with `go run gen.go`; it needs
// soffice (Debian's libreoffice-calc-nogui and libreoffice-base-drivers)
// for the files LibreOffice writes. The files this program writes itself,
// from the formats' public descriptions and from what LibreOffice's import
// libraries read, come out byte for byte the same; LibreOffice's stamp its
// own.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/quirehq/quire/internal/testdocs"
)

// mtime is every ZIP entry's modification time.
var mtime = time.Date(1933, 1, 4, 12, 0, 0, 0, time.UTC)

func main() {
	log.SetFlags(0)
	hoover := paragraphs(must(os.ReadFile("../../text/sotu-1932-hoover.txt")), 6)
	rows := sotuRows(30)

	write("hoover.wpd", wordPerfect5(hoover))
	write("sotu.wk1", lotusWK1(rows))
	write("hoover.sxw", starWriter(hoover))
	write("hoover.vsdx", visioVSDX(hoover[:2]))
	write("hoover.pages", pages09(hoover[:3]))
	write("hoover.key", keynote09(hoover[:2]))
	write("hoover.hwp", hwp3("Hoover, 1932", "Herbert Hoover", hoover[:4]))
	write("hoover.wps", worksWPS(hoover[:5]))
	write("hoover.vsd", visioVSD(hoover[:2]))
	write("hoover.pub", publisher2000(hoover[:3]))

	// What LibreOffice writes: SYLK, DIF and dBase from a CSV of the same
	// rows, and the PDF an iWork file carries as its preview.
	tmp := must(os.MkdirTemp("", "longtail-"))
	defer os.RemoveAll(tmp)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	check(w.WriteAll(rows))
	check(os.WriteFile(filepath.Join(tmp, "sotu.csv"), b.Bytes(), 0o644))
	check(os.WriteFile(filepath.Join(tmp, "preview.txt"), []byte(strings.Join(hoover[:2], "\n\n")+"\n"), 0o644))
	soffice(tmp, "slk:SYLK", "sotu.csv")
	soffice(tmp, "dif:DIF", "sotu.csv")
	soffice(tmp, `dbf:dBase:UTF8`, "sotu.csv")
	soffice(tmp, "pdf", "preview.txt")
	for _, name := range []string{"sotu.slk", "sotu.dif", "sotu.dbf"} {
		write(name, must(os.ReadFile(filepath.Join(tmp, name))))
	}
	write("preview.pages", iworkWithPreview(must(os.ReadFile(filepath.Join(tmp, "preview.pdf")))))
}

// paragraphs splits the address's first sentences into n paragraphs of
// three sentences each.
func paragraphs(text []byte, n int) []string {
	sentences := strings.SplitAfter(string(text), ". ")
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, strings.TrimSpace(strings.Join(sentences[3*i:3*i+3], "")))
	}
	return out
}

// sotuRows returns the header and the first n rows of sotu-index.csv.
func sotuRows(n int) [][]string {
	f := must(os.Open("../../text/sotu-index.csv"))
	defer f.Close()
	rows := must(csv.NewReader(f).ReadAll())
	return rows[:n+1]
}

// wordPerfect5 writes a WordPerfect 5.1 document: the 16-byte prefix
// (0xFF "WPC", the offset of the document area, product 1 = WordPerfect,
// file type 10 = document, version 0.1, no encryption), then the text, each
// paragraph ended by a hard return (0x0A). Without a prefix index area the
// document area starts right after the prefix.
func wordPerfect5(paras []string) []byte {
	var b bytes.Buffer
	b.WriteString("\xFFWPC")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	b.Write([]byte{1, 10, 0, 1, 0, 0, 0, 0})
	for _, p := range paras {
		b.WriteString(p)
		b.WriteByte(0x0A)
	}
	return b.Bytes()
}

// lotusWK1 writes a Lotus 1-2-3 release 2 worksheet: a BOF record (version
// 0x406), the active range, a LABEL record (left-aligned, "'") per text
// cell and a NUMBER record (an IEEE double) per number, and EOF. Each
// record is a 16-bit type, a 16-bit length and its data; cells give their
// format byte (0xFF: default), column and row.
func lotusWK1(rows [][]string) []byte {
	var b bytes.Buffer
	rec := func(typ uint16, data []byte) {
		binary.Write(&b, binary.LittleEndian, typ)
		binary.Write(&b, binary.LittleEndian, uint16(len(data)))
		b.Write(data)
	}
	le := binary.LittleEndian
	rec(0x00, le.AppendUint16(nil, 0x406))
	rng := le.AppendUint16(le.AppendUint16(le.AppendUint16(le.AppendUint16(nil, 0), 0), uint16(len(rows[0])-1)), uint16(len(rows)-1))
	rec(0x06, rng)
	for r, row := range rows {
		for c, v := range row {
			cell := le.AppendUint16(le.AppendUint16([]byte{0xFF}, uint16(c)), uint16(r))
			if n, err := strconv.ParseFloat(v, 64); err == nil && r > 0 {
				rec(0x0E, le.AppendUint64(cell, math.Float64bits(n)))
				continue
			}
			rec(0x0F, append(append(append(cell, '\''), v...), 0))
		}
	}
	rec(0x01, nil)
	return b.Bytes()
}

// starWriter writes a StarOffice 6 / OpenOffice.org 1 text document
// (.sxw): a ZIP container whose first, stored entry is its mimetype, a
// manifest, and content.xml and meta.xml in the namespaces of
// http://openoffice.org/2000/.
func starWriter(paras []string) []byte {
	var content strings.Builder
	content.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE office:document-content PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "office.dtd">
<office:document-content xmlns:office="http://openoffice.org/2000/office" xmlns:style="http://openoffice.org/2000/style" xmlns:text="http://openoffice.org/2000/text" xmlns:table="http://openoffice.org/2000/table" xmlns:fo="http://www.w3.org/1999/XSL/Format" office:class="text" office:version="1.0">
<office:body>
<text:h text:level="1">State of the Union, 1932</text:h>
`)
	for _, p := range paras {
		content.WriteString("<text:p>" + xmlEscape(p) + "</text:p>\n")
	}
	content.WriteString("</office:body>\n</office:document-content>\n")
	meta := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE office:document-meta PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "office.dtd">
<office:document-meta xmlns:office="http://openoffice.org/2000/office" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="http://openoffice.org/2000/meta" office:version="1.0">
<office:meta><dc:title>Hoover's 1932 address</dc:title><dc:creator>Herbert Hoover</dc:creator></office:meta>
</office:document-meta>
`
	manifest := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE manifest:manifest PUBLIC "-//OpenOffice.org//DTD Manifest 1.0//EN" "Manifest.dtd">
<manifest:manifest xmlns:manifest="http://openoffice.org/2001/manifest">
 <manifest:file-entry manifest:media-type="application/vnd.sun.xml.writer" manifest:full-path="/"/>
 <manifest:file-entry manifest:media-type="text/xml" manifest:full-path="content.xml"/>
 <manifest:file-entry manifest:media-type="text/xml" manifest:full-path="meta.xml"/>
</manifest:manifest>
`
	return zipOf([][2]string{
		{"mimetype", "application/vnd.sun.xml.writer"},
		{"content.xml", content.String()},
		{"meta.xml", meta},
		{"META-INF/manifest.xml", manifest},
	})
}

// iworkWithPreview writes the shape of a Pages '09 document that carries
// a PDF of itself: index.xml (here a stub, which no reader needs) and
// QuickLook/Preview.pdf.
func iworkWithPreview(pdf []byte) []byte {
	return zipOf([][2]string{
		{"index.xml", `<?xml version="1.0"?><sl:document xmlns:sl="http://developer.apple.com/namespaces/sl" sl:version="92008102400"/>` + "\n"},
		{"QuickLook/Preview.pdf", string(pdf)},
	})
}

// pages09 writes a Pages '09 document without a preview, so that only
// LibreOffice (libetonyek) can read it: a ZIP holding index.xml, an
// sl:document whose body text storage (sf:text-storage of kind "body")
// holds a section of paragraphs, in the sl and sf namespaces of
// http://developer.apple.com/namespaces/. Styles, which Pages always
// writes, are left out: every paragraph takes the default.
func pages09(paras []string) []byte {
	var x strings.Builder
	x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<sl:document xmlns:sl="http://developer.apple.com/namespaces/sl" xmlns:sf="http://developer.apple.com/namespaces/sf" xmlns:sfa="http://developer.apple.com/namespaces/sfa" sl:version="92008102400">
<sf:text-storage sf:kind="body" sfa:ID="SFWPStorage-1"><sf:text-body><sf:section><sf:layout>
`)
	for _, p := range paras {
		x.WriteString("<sf:p>" + xmlEscape(p) + "</sf:p>\n")
	}
	x.WriteString("</sf:layout></sf:section></sf:text-body></sf:text-storage>\n</sl:document>\n")
	return zipOf([][2]string{{"index.xml", x.String()}})
}

// keynote09 writes a Keynote '09 presentation without a preview, a slide
// a paragraph: a ZIP holding index.apxl, a key:presentation (in the
// keynote2 namespace of http://developer.apple.com/namespaces/) of the
// slide size and a slide list; each slide's page holds one layer of one
// shape (its size and position in points, a rectangular path) whose text
// storage holds the paragraph. Themes and masters, which Keynote always
// writes, are left out.
func keynote09(paras []string) []byte {
	var x strings.Builder
	x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<key:presentation xmlns:key="http://developer.apple.com/namespaces/keynote2" xmlns:sf="http://developer.apple.com/namespaces/sf" xmlns:sfa="http://developer.apple.com/namespaces/sfa" key:version="92008102400">
<key:size sfa:w="1024" sfa:h="768"/>
<key:slide-list>
`)
	for _, p := range paras {
		x.WriteString(`<key:slide><key:page><sf:layers><sf:layer><sf:drawables><sf:shape>` +
			`<sf:geometry><sf:naturalSize sfa:w="824" sfa:h="568"/><sf:position sfa:x="100" sfa:y="100"/></sf:geometry>` +
			`<sf:path><sf:bezier-path><sf:bezier sfa:path="M 0 0 L 824 0 L 824 568 L 0 568 Z"/></sf:bezier-path></sf:path>` +
			`<sf:text><sf:text-storage><sf:text-body><sf:p>` + xmlEscape(p) + `</sf:p></sf:text-body></sf:text-storage></sf:text>` +
			"</sf:shape></sf:drawables></sf:layer></sf:layers></key:page></key:slide>\n")
	}
	x.WriteString("</key:slide-list>\n</key:presentation>\n")
	return zipOf([][2]string{{"index.apxl", x.String()}})
}

// hwp3 writes an HWP 3 (HWP 97) document, uncompressed, as LibreOffice's
// hwpfilter reads it: the 30-byte signature, the 128-byte document
// information, the summary (nine strings of 56 two-byte characters: title,
// subject, author, ...), one font name per language, one style, then the
// paragraphs and an empty paragraph that ends them. HWP's character code
// is its own, but below 0x80 it is ASCII, which is all the address needs.
// Lengths are in HWP units of 1/1800 inch.
func hwp3(title, author string, paras []string) []byte {
	const (
		languages = 7  // font, ratio and spacing are per language
		tabs      = 40 // tab stops in a paragraph shape
		endOfPara = 13 // the character that ends a paragraph
		inch      = 1800
	)
	le := binary.LittleEndian
	var b bytes.Buffer
	u16 := func(v ...uint16) {
		for _, x := range v {
			b.Write(le.AppendUint16(nil, x))
		}
	}
	b.WriteString("HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05")

	// Document information: cursor position, paper kind and direction
	// (0: portrait), then the paper (A4) and its margins, ...
	info := make([]byte, 128)
	le.PutUint16(info[6:], 21047) // paper height, 297 mm
	le.PutUint16(info[8:], 14882) // paper width, 210 mm
	for i := 10; i < 18; i += 2 { // top, bottom, left, right margins
		le.PutUint16(info[i:], inch)
	}
	le.PutUint16(info[18:], inch/2) // header
	le.PutUint16(info[20:], inch/2) // footer
	le.PutUint16(info[98:], 1)      // the first page's number
	le.PutUint16(info[100:], 1)     // the first footnote's number
	// Bytes 124 (compressed) and 126 (the length of an information block
	// after the summary) stay 0.
	b.Write(info)
	for _, s := range []string{title, "", author, "", "", "", "", "", ""} {
		field := make([]uint16, 56)
		for i := 0; i < len(s) && i < 55; i++ {
			field[i] = uint16(s[i])
		}
		u16(field...)
	}

	// Fonts: for each language a count and 40-byte names.
	for range languages {
		u16(1)
		name := make([]byte, 40)
		copy(name, "Batang")
		b.Write(name)
	}
	// A character shape: size (10 points: 25 units a point), font, width ratio (%)
	// and spacing per language, colours, shade, attributes, reserved.
	charShape := func() {
		u16(10 * inch / 72)
		b.Write(make([]byte, languages))
		b.Write(bytes.Repeat([]byte{100}, languages))
		b.Write(make([]byte, languages))
		b.Write(make([]byte, 2+1+1+4))
	}
	// A paragraph shape: left and right margins, indent, line spacing (%),
	// spacing after; condense, alignment; the tab stops (type, leader,
	// position); columns (count, separator, spacing, lengths); shade,
	// outline, its continuation; spacing before; reserved.
	paraShape := func() {
		u16(0, 0, 0, 160, 0)
		b.Write([]byte{0, 0})
		for i := range tabs {
			b.Write([]byte{0, 0})
			u16(uint16(1000 * (i + 1)))
		}
		b.Write([]byte{1, 0})
		u16(0, 0, 0)
		b.Write([]byte{0, 0, 0})
		u16(0)
		b.Write([]byte{0, 0})
	}
	// One style: a 20-byte name, its character and paragraph shapes.
	u16(1)
	name := make([]byte, 20)
	copy(name, "Body")
	b.Write(name)
	charShape()
	paraShape()

	// Paragraphs: reuse the previous shape (0), the character count
	// including the end, lines (none: the reader lays them out), whether
	// characters carry shapes of their own (0), flags, controls, style; the
	// paragraph's character and paragraph shapes; then its characters.
	for _, p := range paras {
		b.WriteByte(0)
		u16(uint16(len(p)+1), 0)
		b.Write([]byte{0, 0})
		b.Write(le.AppendUint32(nil, 0))
		b.WriteByte(0)
		charShape()
		paraShape()
		for i := 0; i < len(p); i++ {
			u16(uint16(p[i]))
		}
		u16(endOfPara)
	}
	// A paragraph of no characters ends the list.
	b.WriteByte(0)
	u16(0, 0)
	b.Write(make([]byte, 2+4+1))
	charShape()
	return b.Bytes()
}

// worksWPS writes a Works 4 for Windows word-processor document as
// LibreOffice's Works import (libwps, WPS4Parser) reads it: a compound
// file whose MN0 stream is the document. The stream is a 256-byte header,
// then the text from offset 0x100, each paragraph ended by CR LF (a lone
// CR does not end one). The header gives the version (6: Works 4, then 0xFE), where the
// header, footer and main text end (no header or footer: they end where
// they begin, at 0x100), the stream's length, the offsets and lengths of
// the optional zones (character and paragraph formatting, fonts, notes,
// ...: none, so the text takes the defaults), and the page (margins, size,
// in twips). Works 2 and 3 wrote the same layout as a file of its own.
func worksWPS(paras []string) []byte {
	const twip = 1440 // a inch
	le := binary.LittleEndian
	text := []byte(strings.Join(paras, "\r\n") + "\r\n")
	mn0 := make([]byte, 0x100, 0x100+len(text))
	mn0[0], mn0[1] = 6, 0xFE      // Works 4
	le.PutUint16(mn0[2:], 0x5375) // the creator Works 4.0 writes
	end := uint32(0x100 + len(text))
	le.PutUint32(mn0[0x1A:], 0x100) // text begins
	le.PutUint32(mn0[0x1E:], 0x100) // header ends
	le.PutUint32(mn0[0x22:], 0x100) // footer ends
	le.PutUint32(mn0[0x26:], end)   // main text ends
	le.PutUint32(mn0[0x2A:], end)   // the stream ends
	// 0x2E to 0x64: nine zones of an offset and a length, all empty.
	// The page: top, bottom, left and right margins, height, width; the
	// first page's number, header and footer heights, portrait, 100% zoom.
	for i, v := range []uint16{twip, twip, 1.25 * twip, 1.25 * twip, 11 * twip, 8.5 * twip, 1, 0, 0, twip / 2, twip / 2, 0, 100} {
		le.PutUint16(mn0[0x64+2*i:], v)
	}
	le.PutUint16(mn0[0x8E:], 2) // one column (the count times two)
	mn0 = append(mn0, text...)
	return testdocs.CFB(testdocs.CFBStorage("Root Entry", testdocs.CFBStream("MN0", mn0)))
}

// visioVSD writes a Visio 2003 drawing (binary .vsd, version 11) as
// LibreOffice's Visio import (libvisio, VSDParser) reads it: a compound
// file whose VisioDocument stream starts with "Visio (TM) Drawing", the
// version at 0x1A and, at 0x24, a pointer to the trailer. A pointer is a
// type, a reserved word, the offset and length of what it points to in the
// stream, and a format: its high nibble says whether that is a blob (4),
// a blob with pointers to children (5) or a list of chunks (0xD); bit 1
// would say it is compressed (nothing here is). A pointer list is an
// offset to it, the length of an order list (0: none), the count of
// pointers and a reserved word. The tree is trailer → pages → page → (page
// sheet, each shape, the page's list of shape IDs). A chunk is a type, an
// ID, a list flag, its data's length, a level and a flag byte, then its
// data; doubles are preceded by a byte each (their unit). One shape a
// paragraph: its header (no parent, master or styles), its transform
// (pin, size, local pin, in inches) and its text (UTF-16).
func visioVSD(paras []string) []byte {
	const (
		typePage, typePages, typePageSheet, typeShape   = 0x15, 0x27, 0x46, 0x48
		typeText, typeShapeID, typePageProps, typeXForm = 0x0E, 0x83, 0x92, 0x9B
		blob, blobWithChildren, chunks                  = 0x40, 0x50, 0xD0
		none                                            = 0xFFFFFFFF
	)
	le := binary.LittleEndian
	var doc bytes.Buffer
	doc.WriteString("Visio (TM) Drawing\r\n")
	doc.Write(make([]byte, 0x40-doc.Len()))
	doc.Bytes()[0x1A] = 11
	// place appends data to the stream and returns a pointer to it.
	place := func(typ uint32, format uint16, data []byte) []byte {
		p := le.AppendUint32(nil, typ)
		p = le.AppendUint32(p, 0)
		p = le.AppendUint32(p, uint32(doc.Len()))
		p = le.AppendUint32(p, uint32(len(data)))
		p = le.AppendUint16(p, format)
		doc.Write(data)
		return p
	}
	// pointerList returns head (whose first word it overwrites with the
	// list's offset) followed by the list of pointers.
	pointerList := func(head []byte, pointers ...[]byte) []byte {
		b := append([]byte(nil), head...)
		le.PutUint32(b, uint32(len(b)+4))
		b = le.AppendUint32(b, 0) // no order list
		b = le.AppendUint32(b, uint32(len(pointers)))
		b = le.AppendUint32(b, 0)
		for _, p := range pointers {
			b = append(b, p...)
		}
		return b
	}
	chunk := func(typ, id uint32, level uint16, data []byte) []byte {
		b := le.AppendUint32(nil, typ)
		b = le.AppendUint32(b, id)
		b = le.AppendUint32(b, 0)
		b = le.AppendUint32(b, uint32(len(data)))
		b = le.AppendUint16(b, level)
		b = append(b, 0x50)
		return append(b, data...)
	}
	doubles := func(v ...float64) []byte {
		var b []byte
		for _, x := range v {
			b = le.AppendUint64(append(b, 0), math.Float64bits(x))
		}
		return b
	}

	const width, height = 8.5, 11.0
	// The page sheet: the page's size, shadow offset and scale (1:1). Page
	// properties carry a 4-byte trailer after their data.
	sheet := chunk(typePageSheet, 0, 1, nil)
	sheet = append(sheet, chunk(typePageProps, 0, 2, doubles(width, height, 0, 0, 1, 1))...)
	sheet = append(sheet, 0, 0, 0, 0)
	children := [][]byte{place(typePageSheet, chunks, sheet)}
	var ids []byte
	for i, p := range paras {
		id := uint32(i + 1)
		var head []byte
		head = append(head, make([]byte, 10)...)
		head = le.AppendUint32(head, 0) // parent: the page
		for range 5 {                   // master page and shape, fill, line and text styles
			head = le.AppendUint32(le.AppendUint32(head, 0), none)
		}
		shape := chunk(typeShape, id, 1, head)
		xform := doubles(width/2, height-2-3*float64(i), 7, 2, 3.5, 1, 0)
		shape = append(shape, chunk(typeXForm, 0, 2, append(xform, 0, 0))...)
		text := make([]byte, 8)
		for _, r := range utf16.Encode([]rune(p)) {
			text = le.AppendUint16(text, r)
		}
		shape = append(shape, chunk(typeText, 0, 2, text)...)
		children = append(children, place(typeShape, chunks, shape))
		ids = le.AppendUint32(ids, id)
	}
	// The page's shape IDs, after its shapes: libvisio draws the shapes it
	// lists, in that order.
	for i := 0; i < len(ids); i += 4 {
		children = append(children, place(typeShapeID, blob, ids[i:i+4]))
	}
	// A page's own data is its background page (none) after two words.
	pageHead := le.AppendUint32(make([]byte, 8), none)
	page := place(typePage, blobWithChildren|1, pointerList(pageHead, children...))
	pages := place(typePages, blobWithChildren, pointerList(make([]byte, 4), page))
	trailer := place(0x14, blobWithChildren, pointerList(make([]byte, 4), pages))
	copy(doc.Bytes()[0x24:], trailer)
	return testdocs.CFB(testdocs.CFBStorage("Root Entry", testdocs.CFBStream("VisioDocument", doc.Bytes())))
}

// publisher2000 writes a Publisher 2000 document as LibreOffice's
// Publisher import (libmspub, MSPUBParser2k) reads it: a compound file of
// two streams. Contents starts with its magic (E8 AC, version 0x22) and, at
// 0x16, the offset of its block list: a count, then per block two
// reserved bytes, an ID, its parent's ID and its offset. The blocks here:
// the document (type 0x15: page width and height in EMU at 0x14), a page
// (0x14) and on it a text frame (8: its corners in EMU at 6, no fill or
// border, the ID of its text at 0x58). Quill/QuillSub/CONTENTS holds the
// text: at 0x18 a list of chunk references (a count, the next list's offset
// or none, then per chunk its name, ID, offset and length), and the chunks
// the reader needs: TEXT (UTF-16, each paragraph ended by CR), STRS (each
// text's length), SYID (each text's ID), FDPC and FDPP (where character and
// paragraph runs end, each with an empty property list), two style sheets
// (STSH) and the fonts (FONT), both empty.
func publisher2000(paras []string) []byte {
	const (
		emu    = 914400 // a inch
		textID = 1
		// block IDs: the page's is its parent in the frame's block.
		documentID, pageID, frameID = 0x10, 0x100, 0x101
	)
	le := binary.LittleEndian

	// Contents.
	contents := make([]byte, 0x20)
	copy(contents, []byte{0xE8, 0xAC, 0x22, 0x00})
	type block struct{ id, parent, offset uint16 }
	var blocks []block
	add := func(id, parent uint16, data []byte) {
		blocks = append(blocks, block{id, parent, uint16(len(contents))})
		contents = append(contents, data...)
	}
	document := make([]byte, 0x20)
	le.PutUint16(document, 0x15)
	le.PutUint32(document[0x14:], 8.5*emu)
	le.PutUint32(document[0x18:], 11*emu)
	add(documentID, 0, document)
	page := make([]byte, 0x20)
	le.PutUint16(page, 0x14)
	add(pageID, documentID, page)
	frame := make([]byte, 0x60)
	le.PutUint16(frame, 8)
	// The corners are from the page's centre: an inch inside its edges.
	for i, v := range []int32{-3.25 * emu, -4.5 * emu, 3.25 * emu, 4.5 * emu} {
		le.PutUint32(frame[6+4*i:], uint32(v))
	}
	le.PutUint32(frame[0x58:], textID)
	add(frameID, pageID, frame)
	le.PutUint32(contents[0x16:], uint32(len(contents)))
	contents = le.AppendUint16(contents, uint16(len(blocks)))
	for _, b := range blocks {
		contents = append(contents, 0, 0)
		contents = le.AppendUint16(contents, b.id)
		contents = le.AppendUint16(contents, b.parent)
		contents = le.AppendUint32(contents, uint32(b.offset))
	}

	// Quill/QuillSub/CONTENTS: the chunks first, after room for the list
	// of their references at 0x18.
	const names = 8 // TEXT, STRS, SYID, FDPC, FDPP, STSH twice, FONT
	quill := make([]byte, 0x18+8+24*names)
	type ref struct {
		name           string
		offset, length uint32
	}
	var refs []ref
	chunk := func(name string, data []byte) uint32 {
		off := uint32(len(quill))
		refs = append(refs, ref{name, off, uint32(len(data))})
		quill = append(quill, data...)
		return off
	}
	var text []byte
	var ends []uint32 // each paragraph's end, in bytes from the text's start
	chars := 0
	for _, p := range paras {
		for _, r := range utf16.Encode([]rune(p + "\r")) {
			text = le.AppendUint16(text, r)
			chars++
		}
		ends = append(ends, uint32(len(text)))
	}
	textAt := chunk("TEXT", text)
	chunk("STRS", le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, 1), 4), uint32(chars)))
	chunk("SYID", le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, 0), 1), textID))
	// runs lists, for the runs ending at ends: a count, six reserved
	// bytes, each run's end (an offset in this stream), then each run's
	// property list (its offset in the chunk): one empty list, shared.
	runs := func(ends []uint32) []byte {
		b := le.AppendUint16(nil, uint16(len(ends)))
		b = append(b, make([]byte, 6)...)
		for _, e := range ends {
			b = le.AppendUint32(b, textAt+e)
		}
		props := uint16(len(b) + 2*len(ends))
		for range ends {
			b = le.AppendUint16(b, props)
		}
		return le.AppendUint32(b, 4) // a property list of no properties
	}
	chunk("FDPC", runs(ends[len(ends)-1:]))
	chunk("FDPP", runs(ends))
	empty := make([]byte, 20) // a reserved word, no elements, 12 reserved bytes
	chunk("STSH", empty)
	chunk("STSH", empty)
	chunk("FONT", empty)
	list := quill[0x18:]
	le.PutUint16(list[2:], uint16(len(refs)))
	le.PutUint32(list[4:], 0xFFFFFFFF) // no further list
	for i, r := range refs {
		e := list[8+24*i:]
		le.PutUint16(e, 0x18)
		copy(e[2:], r.name)
		le.PutUint16(e[6:], uint16(i))
		le.PutUint32(e[8:], 1)
		copy(e[12:], r.name)
		le.PutUint32(e[16:], r.offset)
		le.PutUint32(e[20:], r.length)
	}
	return testdocs.CFB(testdocs.CFBStorage("Root Entry",
		testdocs.CFBStream("Contents", contents),
		testdocs.CFBStorage("Quill", testdocs.CFBStorage("QuillSub", testdocs.CFBStream("CONTENTS", quill)))))
}

// visioVSDX writes a Visio 2013 drawing ([MS-VSDX]): one page of one
// rectangle a paragraph, the paragraph its text; title and author in the
// core properties. The parts and relationships are the fewest LibreOffice's
// Visio import needs.
func visioVSDX(paras []string) []byte {
	const (
		ns   = `xmlns="http://schemas.microsoft.com/office/visio/2012/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
		rels = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
		vrel = `http://schemas.microsoft.com/visio/2010/relationships/`
	)
	var shapes strings.Builder
	for i, p := range paras {
		fmt.Fprintf(&shapes, `<Shape ID="%d" Type="Shape"><Cell N="PinX" V="4.25"/><Cell N="PinY" V="%d"/><Cell N="Width" V="7"/><Cell N="Height" V="2"/><Cell N="LocPinX" V="3.5"/><Cell N="LocPinY" V="1"/>`+
			`<Section N="Geometry" IX="0"><Row T="MoveTo" IX="1"><Cell N="X" V="0"/><Cell N="Y" V="0"/></Row><Row T="LineTo" IX="2"><Cell N="X" V="7"/><Cell N="Y" V="0"/></Row>`+
			`<Row T="LineTo" IX="3"><Cell N="X" V="7"/><Cell N="Y" V="2"/></Row><Row T="LineTo" IX="4"><Cell N="X" V="0"/><Cell N="Y" V="2"/></Row><Row T="LineTo" IX="5"><Cell N="X" V="0"/><Cell N="Y" V="0"/></Row></Section>`+
			`<Text>%s</Text></Shape>`, i+1, 9-3*i, xmlEscape(p))
	}
	return zipOf([][2]string{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/visio/document.xml" ContentType="application/vnd.ms-visio.drawing.main+xml"/><Override PartName="/visio/pages/pages.xml" ContentType="application/vnd.ms-visio.pages+xml"/>` +
			`<Override PartName="/visio/pages/page1.xml" ContentType="application/vnd.ms-visio.page+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + rels +
			`<Relationship Id="rId1" Type="` + vrel + `document" Target="visio/document.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>`},
		{"docProps/core.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">` +
			`<dc:title>Hoover, 1932</dc:title><dc:creator>Quire testdata</dc:creator></cp:coreProperties>`},
		{"visio/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><VisioDocument ` + ns + `><DocumentSettings/></VisioDocument>`},
		{"visio/_rels/document.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + rels + `<Relationship Id="rId1" Type="` + vrel + `pages" Target="pages/pages.xml"/></Relationships>`},
		{"visio/pages/pages.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Pages ` + ns + `><Page ID="0" NameU="Page-1" Name="Page-1">` +
			`<PageSheet><Cell N="PageWidth" V="8.5"/><Cell N="PageHeight" V="11"/></PageSheet><Rel r:id="rId1"/></Page></Pages>`},
		{"visio/pages/_rels/pages.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + rels + `<Relationship Id="rId1" Type="` + vrel + `page" Target="page1.xml"/></Relationships>`},
		{"visio/pages/page1.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><PageContents ` + ns + `><Shapes>` + shapes.String() + `</Shapes></PageContents>`},
	})
}

func zipOf(entries [][2]string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i, e := range entries {
		h := &zip.FileHeader{Name: e[0], Method: zip.Deflate, Modified: mtime}
		if i == 0 && e[0] == "mimetype" {
			h.Method = zip.Store
		}
		w := must(zw.CreateHeader(h))
		must(w.Write([]byte(e[1])))
	}
	check(zw.Close())
	return b.Bytes()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// soffice converts name in dir with LibreOffice, to the filter given.
func soffice(dir, to, name string) {
	profile := filepath.Join(dir, "profile")
	cmd := exec.Command("soffice", "-env:UserInstallation=file://"+profile, "--headless", "--norestore",
		"--convert-to", to, "--outdir", dir, filepath.Join(dir, name))
	out, err := cmd.CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("Error")) {
		log.Fatalf("soffice --convert-to %s %s: %v\n%s", to, name, err, out)
	}
}

func write(name string, data []byte) {
	check(os.WriteFile(name, data, 0o644))
	fmt.Printf("%-14s %6d bytes\n", name, len(data))
}

func must[T any](v T, err error) T {
	check(err)
	return v
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

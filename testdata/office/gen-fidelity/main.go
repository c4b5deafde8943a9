//go:build ignore

// gen-fidelity writes fidelity.{docx,pptx,xlsx,odt} in testdata/office:
// small documents with the parts a reader must not drop besides the body
// text (headers, footers, comments, text boxes, charts, SmartArt, slide
// master footers, embedded documents and OLE objects, numbers in the
// General format). The text is the Universal Declaration of Human Rights
// (testdata/html/udhr-eng.html), each passage labelled with the part it is
// in, so that a test can tell where it came from. Run it from this
// directory with `go run main.go`; the output is byte-for-byte
// reproducible.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"strings"
	"time"
)

var stamp = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const (
	article1 = "All human beings are born free and equal in dignity and rights."
	article3 = "Everyone has the right to life, liberty and security of person."
	article4 = "No one shall be held in slavery or servitude."
	article5 = "No one shall be subjected to torture or to cruel, inhuman or degrading treatment or punishment."
	article6 = "Everyone has the right to recognition everywhere as a person before the law."
)

func main() {
	write("fidelity.docx", docx())
	write("fidelity.pptx", pptx())
	write("fidelity.xlsx", xlsx())
	write("fidelity.odt", odt())
}

func write(name string, data []byte) {
	if err := os.WriteFile("../"+name, data, 0o644); err != nil {
		log.Fatal(err)
	}
}

type part struct{ name, data string }

func pack(parts ...part) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		h := &zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: stamp}
		if p.name == "mimetype" {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			log.Fatal(err)
		}
		w.Write([]byte(p.data))
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

const (
	decl    = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	relNS   = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
	wNS     = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="` + relNS + `" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" xmlns:v="urn:schemas-microsoft-com:vml" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" mc:Ignorable="wps"`
	pNS     = `xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="` + relNS + `" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"`
	typeRel = relNS + "/"
)

// rels writes a relationships part: id, type (after .../relationships/),
// target, in threes.
func rels(r ...string) string {
	var b strings.Builder
	b.WriteString(decl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i := 0; i < len(r); i += 3 {
		t := r[i+1]
		if !strings.HasPrefix(t, "http") {
			t = typeRel + t
		}
		fmt.Fprintf(&b, `<Relationship Id="%s" Type="%s" Target="%s"/>`, r[i], t, r[i+2])
	}
	b.WriteString(`</Relationships>`)
	return b.String()
}

func contentTypes(overrides ...string) string {
	var b strings.Builder
	b.WriteString(decl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="bin" ContentType="application/vnd.openxmlformats-officedocument.oleObject"/><Default Extension="docx" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document"/><Default Extension="xlsx" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"/>`)
	for i := 0; i < len(overrides); i += 2 {
		fmt.Fprintf(&b, `<Override PartName="%s" ContentType="application/vnd.openxmlformats-officedocument.%s"/>`, overrides[i], overrides[i+1])
	}
	b.WriteString(`</Types>`)
	return b.String()
}

func para(text string) string {
	return `<w:p><w:r><w:t xml:space="preserve">` + text + `</w:t></w:r></w:p>`
}

// ---- embedded objects

// smallDOCX is a document to embed.
func smallDOCX(text string) []byte {
	return pack(
		part{"[Content_Types].xml", contentTypes("/word/document.xml", "wordprocessingml.document.main+xml")},
		part{"_rels/.rels", rels("rId1", "officeDocument", "word/document.xml")},
		part{"word/document.xml", decl + `<w:document ` + wNS + `><w:body>` + para(text) + `</w:body></w:document>`},
	)
}

// smallXLSX is a workbook to embed: one sheet, a label and a number.
func smallXLSX(label string, n string) []byte {
	return pack(
		part{"[Content_Types].xml", contentTypes("/xl/workbook.xml", "spreadsheetml.sheet.main+xml", "/xl/worksheets/sheet1.xml", "spreadsheetml.worksheet+xml")},
		part{"_rels/.rels", rels("rId1", "officeDocument", "xl/workbook.xml")},
		part{"xl/workbook.xml", decl + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="` + relNS + `"><sheets><sheet name="Embedded" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		part{"xl/_rels/workbook.xml.rels", rels("rId1", "worksheet", "worksheets/sheet1.xml")},
		part{"xl/worksheets/sheet1.xml", decl + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>` + label + `</t></is></c><c r="B1"><v>` + n + `</v></c></row></sheetData></worksheet>`},
	)
}

// oleObject wraps a file as Windows' Object Packager does: a CFB container
// whose "\x01Ole10Native" stream holds the file's name and bytes.
func oleObject(name string, data []byte) []byte {
	var s bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&s, le, uint16(2))
	s.WriteString(name + "\x00")
	s.WriteString(`C:\Users\quire\` + name + "\x00")
	binary.Write(&s, le, uint16(0))
	binary.Write(&s, le, uint16(3))
	tmp := `C:\Temp\` + name + "\x00"
	binary.Write(&s, le, uint32(len(tmp)))
	s.WriteString(tmp)
	binary.Write(&s, le, uint32(len(data)))
	s.Write(data)
	stream := binary.LittleEndian.AppendUint32(nil, uint32(s.Len()))
	stream = append(stream, s.Bytes()...)
	return cfb("\x01Ole10Native", stream)
}

// cfb writes a CFB container (version 3, 512-byte sectors) holding one
// stream of at least 4,096 bytes, so that it lives in regular sectors.
func cfb(name string, stream []byte) []byte {
	const sec = 512
	const endChain, fatSect, free, noStream = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF, 0xFFFFFFFF
	if len(stream) < 4096 {
		stream = append(stream, make([]byte, 4096-len(stream))...) // the size prefix bounds the content
	}
	nData := (len(stream) + sec - 1) / sec
	// Sector 0: the FAT; 1: the directory; 2...: the stream.
	fat := make([]uint32, sec/4)
	for i := range fat {
		fat[i] = free
	}
	fat[0], fat[1] = fatSect, endChain
	for i := range nData {
		fat[2+i] = uint32(3 + i)
	}
	fat[2+nData-1] = endChain
	le := binary.LittleEndian
	hdr := make([]byte, sec)
	copy(hdr, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	le.PutUint16(hdr[24:], 0x3E)
	le.PutUint16(hdr[26:], 3)
	le.PutUint16(hdr[28:], 0xFFFE)
	le.PutUint16(hdr[30:], 9)
	le.PutUint16(hdr[32:], 6)
	le.PutUint32(hdr[44:], 1)        // FAT sectors
	le.PutUint32(hdr[48:], 1)        // first directory sector
	le.PutUint32(hdr[56:], 4096)     // mini stream cutoff
	le.PutUint32(hdr[60:], endChain) // no mini FAT
	le.PutUint32(hdr[68:], endChain) // no DIFAT sectors
	le.PutUint32(hdr[76:], 0)        // the FAT is sector 0
	for i := 1; i < 109; i++ {
		le.PutUint32(hdr[76+4*i:], free)
	}
	entry := func(name string, typ byte, child uint32, start uint32, size uint64) []byte {
		e := make([]byte, 128)
		u := []rune(name)
		for i, r := range u {
			le.PutUint16(e[2*i:], uint16(r))
		}
		le.PutUint16(e[64:], uint16(2*(len(u)+1)))
		e[66], e[67] = typ, 1
		le.PutUint32(e[68:], noStream)
		le.PutUint32(e[72:], noStream)
		le.PutUint32(e[76:], child)
		le.PutUint32(e[116:], start)
		le.PutUint64(e[120:], size)
		return e
	}
	dir := append(entry("Root Entry", 5, 1, endChain, 0), entry(name, 2, noStream, 2, uint64(len(stream)))...)
	dir = append(dir, make([]byte, sec-len(dir))...)
	for i := 2; i < 4; i++ {
		le.PutUint32(dir[128*i+68:], noStream)
		le.PutUint32(dir[128*i+72:], noStream)
		le.PutUint32(dir[128*i+76:], noStream)
	}
	var out bytes.Buffer
	out.Write(hdr)
	for _, v := range fat {
		binary.Write(&out, le, v)
	}
	out.Write(dir)
	out.Write(stream)
	out.Write(make([]byte, nData*sec-len(stream)))
	return out.Bytes()
}

// oleText is the packaged file: long enough for regular sectors.
func oleText() []byte {
	var b strings.Builder
	b.WriteString("Packaged text file: Article 5\n")
	for range 50 {
		b.WriteString(article5 + "\n")
	}
	return []byte(b.String())
}

// ---- charts and diagrams

func chart(title, axis, series string, cats ...string) string {
	rich := func(s string) string {
		return `<c:tx><c:rich><a:bodyPr/><a:p><a:r><a:t>` + s + `</a:t></a:r></a:p></c:rich></c:tx>`
	}
	var pts strings.Builder
	for i, c := range cats {
		fmt.Fprintf(&pts, `<c:pt idx="%d"><c:v>%s</c:v></c:pt>`, i, c)
	}
	var vals strings.Builder
	for i := range cats {
		fmt.Fprintf(&vals, `<c:pt idx="%d"><c:v>%d</c:v></c:pt>`, i, 10*(i+1))
	}
	return decl + `<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="` + relNS + `"><c:chart>` +
		`<c:title>` + rich(title) + `</c:title><c:plotArea><c:barChart><c:barDir val="col"/>` +
		`<c:ser><c:idx val="0"/><c:tx><c:strRef><c:f>Sheet1!$B$1</c:f><c:strCache><c:ptCount val="1"/><c:pt idx="0"><c:v>` + series + `</c:v></c:pt></c:strCache></c:strRef></c:tx>` +
		`<c:cat><c:strRef><c:f>Sheet1!$A$2:$A$4</c:f><c:strCache>` + pts.String() + `</c:strCache></c:strRef></c:cat>` +
		`<c:val><c:numRef><c:f>Sheet1!$B$2:$B$4</c:f><c:numCache>` + vals.String() + `</c:numCache></c:numRef></c:val></c:ser>` +
		`<c:axId val="1"/><c:axId val="2"/></c:barChart>` +
		`<c:catAx><c:axId val="1"/><c:title>` + rich(axis) + `</c:title></c:catAx><c:valAx><c:axId val="2"/></c:valAx>` +
		`</c:plotArea></c:chart></c:chartSpace>`
}

func diagramData(texts ...string) string {
	var b strings.Builder
	b.WriteString(decl + `<dgm:dataModel xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><dgm:ptLst>`)
	for i, t := range texts {
		fmt.Fprintf(&b, `<dgm:pt modelId="{%d}"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/><a:p><a:r><a:t>%s</a:t></a:r></a:p></dgm:t></dgm:pt>`, i+1, t)
	}
	b.WriteString(`</dgm:ptLst></dgm:dataModel>`)
	return b.String()
}

// ---- DOCX: body, text box (twice, as Word writes it), header, footer,
// footnote, endnote, comment, chart, embedded workbook and packaged file.

func docx() []byte {
	textBox := `<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData><wps:wsp><wps:txbx><w:txbxContent>` +
		para("Text box: "+article3) + `</w:txbxContent></wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>` +
		`<mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>` + para("Text box: "+article3) + `</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>`
	body := para("Universal Declaration of Human Rights") +
		`<w:p><w:r><w:t xml:space="preserve">Article 1. ` + article1 + `</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r><w:r><w:endnoteReference w:id="1"/></w:r>` +
		`<w:commentRangeStart w:id="0"/><w:r><w:t xml:space="preserve"> They are endowed with reason and conscience.</w:t></w:r><w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r></w:p>` +
		textBox +
		`<w:p><w:r><w:object><v:shape/><o:OLEObject xmlns:o="urn:schemas-microsoft-com:office:office" ProgID="Excel.Sheet.12" r:id="rId20"/></w:object></w:r></w:p>` +
		`<w:sectPr><w:headerReference w:type="default" r:id="rId11"/><w:headerReference w:type="first" r:id="rId12"/><w:footerReference w:type="default" r:id="rId13"/></w:sectPr>`
	hdr := func(tag, text string) string {
		return decl + `<w:` + tag + ` ` + wNS + `>` + para(text) + `</w:` + tag + `>`
	}
	notes := func(tag, text string) string {
		return decl + `<w:` + tag + `s ` + wNS + `><w:` + tag + ` w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:` + tag + `><w:` + tag + ` w:id="1">` + para(text) + `</w:` + tag + `></w:` + tag + `s>`
	}
	return pack(
		part{"[Content_Types].xml", contentTypes("/word/document.xml", "wordprocessingml.document.main+xml", "/word/chart1.xml", "drawingml.chart+xml")},
		part{"_rels/.rels", rels("rId1", "officeDocument", "word/document.xml")},
		part{"word/document.xml", decl + `<w:document ` + wNS + `><w:body>` + body + `</w:body></w:document>`},
		part{"word/_rels/document.xml.rels", rels(
			"rId2", "footnotes", "footnotes.xml",
			"rId3", "endnotes", "endnotes.xml",
			"rId4", "comments", "comments.xml",
			"rId5", "chart", "charts/chart1.xml",
			"rId11", "header", "header1.xml",
			"rId12", "header", "header2.xml",
			"rId13", "footer", "footer1.xml",
			"rId20", "package", "embeddings/Microsoft_Excel_Worksheet.xlsx",
			"rId21", "oleObject", "embeddings/oleObject1.bin",
		)},
		part{"word/header1.xml", hdr("hdr", "Header: United Nations General Assembly")},
		part{"word/header2.xml", hdr("hdr", "Header: United Nations General Assembly")},
		part{"word/footer1.xml", hdr("ftr", "Footer: resolution 217 A (III)")},
		part{"word/footnotes.xml", notes("footnote", "Footnote: adopted on 10 December 1948.")},
		part{"word/endnotes.xml", notes("endnote", "Endnote: proclaimed in Paris.")},
		part{"word/comments.xml", decl + `<w:comments ` + wNS + `><w:comment w:id="0" w:author="Quire">` + para("Comment: check the French translation.") + `</w:comment></w:comments>`},
		part{"word/charts/chart1.xml", chart("Chart title: Translations by region", "Axis title: Region", "Series: Translations", "Africa", "Asia", "Europe")},
		part{"word/embeddings/Microsoft_Excel_Worksheet.xlsx", string(smallXLSX("Embedded workbook: Article 4", "1948"))},
		part{"word/embeddings/oleObject1.bin", string(oleObject("article5.txt", oleText()))},
		part{"word/media/image1.png", "\x89PNG\r\n\x1a\nnot an embedded object"},
	)
}

// ---- PPTX: two slides on one layout and master; the master's footer and
// a text box of the layout are shown once, their prompts never.

func shape(id int, ph string, paras ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<p:sp><p:nvSpPr><p:cNvPr id="%d" name="Shape %d"/><p:cNvSpPr/><p:nvPr>%s</p:nvPr></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/>`, id, id, ph)
	for _, p := range paras {
		b.WriteString(`<a:p><a:r><a:t>` + p + `</a:t></a:r></a:p>`)
	}
	b.WriteString(`</p:txBody></p:sp>`)
	return b.String()
}

const spTreeHead = `<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>`

func pptx() []byte {
	slide := func(title, body string, extra string) string {
		return decl + `<p:sld ` + pNS + `><p:cSld><p:spTree>` + spTreeHead +
			shape(2, `<p:ph type="title"/>`, title) + shape(3, `<p:ph idx="1"/>`, body) + extra +
			`</p:spTree></p:cSld></p:sld>`
	}
	frame := `<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="4" name="Chart"/><p:cNvGraphicFramePr/><p:nvPr/></p:nvGraphicFramePr><p:xfrm/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="rId2"/></a:graphicData></a:graphic></p:graphicFrame>`
	master := decl + `<p:sldMaster ` + pNS + `><p:cSld><p:spTree>` + spTreeHead +
		shape(2, `<p:ph type="title"/>`, "Click to edit Master title style") +
		shape(3, `<p:ph type="body" idx="1"/>`, "Click to edit Master text styles", "Second level") +
		shape(4, `<p:ph type="dt" sz="half" idx="2"/>`, "11/28/2026") +
		shape(5, `<p:ph type="ftr" sz="quarter" idx="3"/>`, "Master footer: United Nations") +
		shape(6, `<p:ph type="sldNum" sz="quarter" idx="4"/>`, "‹#›") +
		`</p:spTree></p:cSld><p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst></p:sldMaster>`
	layout := decl + `<p:sldLayout ` + pNS + ` type="obj"><p:cSld name="Title and Content"><p:spTree>` + spTreeHead +
		shape(2, `<p:ph type="title"/>`, "Click to edit Master title style") +
		shape(3, `<p:ph idx="1"/>`, "Click to edit Master text styles") +
		shape(7, ``, "Layout text box: Paris, 1948") +
		`</p:spTree></p:cSld></p:sldLayout>`
	return pack(
		part{"[Content_Types].xml", contentTypes("/ppt/presentation.xml", "presentationml.presentation.main+xml")},
		part{"_rels/.rels", rels("rId1", "officeDocument", "ppt/presentation.xml")},
		part{"ppt/presentation.xml", decl + `<p:presentation ` + pNS + `><p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst><p:sldIdLst><p:sldId id="256" r:id="rId10"/><p:sldId id="257" r:id="rId11"/></p:sldIdLst></p:presentation>`},
		part{"ppt/_rels/presentation.xml.rels", rels("rId1", "slideMaster", "slideMasters/slideMaster1.xml", "rId10", "slide", "slides/slide1.xml", "rId11", "slide", "slides/slide2.xml")},
		part{"ppt/slides/slide1.xml", slide("Article 1", article1, frame)},
		part{"ppt/slides/_rels/slide1.xml.rels", rels("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml", "rId2", "chart", "../charts/chart1.xml", "rId3", "package", "../embeddings/Microsoft_Word_Document.docx")},
		part{"ppt/slides/slide2.xml", slide("Article 6", article6, "")},
		part{"ppt/slides/_rels/slide2.xml.rels", rels("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml", "rId2", "diagramData", "../diagrams/data1.xml")},
		part{"ppt/slideLayouts/slideLayout1.xml", layout},
		part{"ppt/slideLayouts/_rels/slideLayout1.xml.rels", rels("rId1", "slideMaster", "../slideMasters/slideMaster1.xml")},
		part{"ppt/slideMasters/slideMaster1.xml", master},
		part{"ppt/slideMasters/_rels/slideMaster1.xml.rels", rels("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml")},
		part{"ppt/charts/chart1.xml", chart("Chart title: Languages of the Declaration", "Axis title: Continent", "Series: Languages", "Africa", "Americas", "Oceania")},
		part{"ppt/diagrams/data1.xml", diagramData("SmartArt: Dignity", "SmartArt: Rights")},
		part{"ppt/diagrams/drawing1.xml", diagramData("SmartArt: Dignity", "SmartArt: Rights")},
		part{"ppt/embeddings/Microsoft_Word_Document.docx", string(smallDOCX("Embedded document: " + article4))},
	)
}

// ---- XLSX: numbers in the General format, a date, a chart and an
// embedded document.

func xlsx() []byte {
	styles := decl + `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="2"><font><sz val="11"/></font><font><b/><sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		`<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf fontId="1" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>`
	row := func(r int, label, v string, s int) string {
		return fmt.Sprintf(`<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c><c r="B%d" s="%d"><v>%s</v></c></row>`, r, r, label, r, s, v)
	}
	sheet := decl + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="` + relNS + `"><sheetData>` +
		row(1, "Big integer", "123456789012345", 1) +
		row(2, "Decimal", "1234567.891", 1) +
		row(3, "Tenth", "0.1", 3) +
		row(4, "Sixteen digits", "1234567890123456", 1) +
		row(5, "Adopted", "17877", 2) +
		row(6, "Unstyled", "98765432109876", 0) +
		`</sheetData><drawing r:id="rId1"/></worksheet>`
	drawing := decl + `<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="` + relNS + `"><xdr:twoCellAnchor><xdr:from><xdr:col>3</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>9</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>15</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="Chart 1"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr><xdr:xfrm/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="rId1"/></a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>`
	return pack(
		part{"[Content_Types].xml", contentTypes("/xl/workbook.xml", "spreadsheetml.sheet.main+xml", "/xl/worksheets/sheet1.xml", "spreadsheetml.worksheet+xml", "/xl/styles.xml", "spreadsheetml.styles+xml", "/xl/drawings/drawing1.xml", "drawing+xml", "/xl/charts/chart1.xml", "drawingml.chart+xml")},
		part{"_rels/.rels", rels("rId1", "officeDocument", "xl/workbook.xml")},
		part{"xl/workbook.xml", decl + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="` + relNS + `"><sheets><sheet name="Numbers" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		part{"xl/_rels/workbook.xml.rels", rels("rId1", "worksheet", "worksheets/sheet1.xml", "rId2", "styles", "styles.xml")},
		part{"xl/styles.xml", styles},
		part{"xl/worksheets/sheet1.xml", sheet},
		part{"xl/worksheets/_rels/sheet1.xml.rels", rels("rId1", "drawing", "../drawings/drawing1.xml", "rId2", "package", "../embeddings/Microsoft_Word_Document.docx")},
		part{"xl/drawings/drawing1.xml", drawing},
		part{"xl/drawings/_rels/drawing1.xml.rels", rels("rId1", "chart", "../charts/chart1.xml")},
		part{"xl/charts/chart1.xml", chart("Chart title: Votes in the General Assembly", "Axis title: Vote", "Series: States", "In favour", "Abstaining", "Against")},
		part{"xl/embeddings/Microsoft_Word_Document.docx", string(smallDOCX("Embedded document: " + article6))},
	)
}

// ---- ODT: a chart object and an embedded spreadsheet.

const odfNS = `xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:chart="urn:oasis:names:tc:opendocument:xmlns:chart:1.0" office:version="1.3"`

func odt() []byte {
	content := decl + `<office:document-content ` + odfNS + `><office:body><office:text>` +
		`<text:p>Universal Declaration of Human Rights</text:p><text:p>Article 1. ` + article1 + `</text:p>` +
		`<text:p><draw:frame><draw:object xlink:href="./Object 1" xlink:type="simple"/></draw:frame></text:p>` +
		`<text:p><draw:frame><draw:object xlink:href="./Object 2" xlink:type="simple"/></draw:frame></text:p>` +
		`</office:text></office:body></office:document-content>`
	chartContent := decl + `<office:document-content ` + odfNS + `><office:body><office:chart><chart:chart><chart:title><text:p>Chart title: Member States in 1948</text:p></chart:title>` +
		`<table:table table:name="local-table"><table:table-rows><table:table-row><table:table-cell office:value-type="string"><text:p>Chart category: Founding members</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="58"><text:p>58</text:p></table:table-cell></table:table-row></table:table-rows></table:table>` +
		`</chart:chart></office:chart></office:body></office:document-content>`
	sheetContent := decl + `<office:document-content ` + odfNS + `><office:body><office:spreadsheet><table:table table:name="Votes"><table:table-row><table:table-cell office:value-type="string"><text:p>Embedded spreadsheet: 48 in favour</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>`
	manifest := decl + `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">` +
		`<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>` +
		`<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>` +
		`<manifest:file-entry manifest:full-path="Object 1/" manifest:media-type="application/vnd.oasis.opendocument.chart"/>` +
		`<manifest:file-entry manifest:full-path="Object 1/content.xml" manifest:media-type="text/xml"/>` +
		`<manifest:file-entry manifest:full-path="Object 2/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>` +
		`<manifest:file-entry manifest:full-path="Object 2/content.xml" manifest:media-type="text/xml"/>` +
		`</manifest:manifest>`
	return pack(
		part{"mimetype", "application/vnd.oasis.opendocument.text"},
		part{"content.xml", content},
		part{"Object 1/content.xml", chartContent},
		part{"Object 2/content.xml", sheetContent},
		part{"META-INF/manifest.xml", manifest},
	)
}

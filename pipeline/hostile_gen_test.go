package pipeline_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"strings"

	"github.com/quirehq/quire/internal/testdocs"
)

// Generators of the hostile corpus (see testdata/hostile/README.md). The
// small files are committed as well, written by these generators
// (QUIRE_UPDATE_HOSTILE=1 go test ./pipeline -run TestHostileCommitted); the
// large ones (zip bombs, deep HTML) exist only here.

const (
	wordNS      = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`
	ooxmlRels   = `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="%s"/></Relationships>`
	contentType = `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/%s" ContentType="%s"/></Types>`
)

// zipPart is one entry of a generated ZIP container.
type zipPart struct {
	name string
	data string
	// store writes it uncompressed (an ODF package's mimetype).
	store bool
	// declare, when set, is the uncompressed size the headers claim.
	declare uint64
}

func makeZip(parts ...zipPart) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		h := &zip.FileHeader{Name: p.name, Method: zip.Deflate}
		if p.store {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			panic(err)
		}
		if _, err := w.Write([]byte(p.data)); err != nil {
			panic(err)
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	out := buf.Bytes()
	for _, p := range parts {
		if p.declare > 0 {
			out = lieAboutSize(out, p.name, p.declare)
		}
	}
	return out
}

// lieAboutSize rewrites the uncompressed size the central directory gives
// for name (the size readers check first) to size.
func lieAboutSize(z []byte, name string, size uint64) []byte {
	sig := []byte{'P', 'K', 1, 2}
	for i := bytes.Index(z, sig); i >= 0; {
		nameLen := int(binary.LittleEndian.Uint16(z[i+28:]))
		if string(z[i+46:i+46+nameLen]) == name {
			binary.LittleEndian.PutUint32(z[i+24:], uint32(size))
			return z
		}
		next := bytes.Index(z[i+4:], sig)
		if next < 0 {
			break
		}
		i += 4 + next
	}
	panic("no central directory entry for " + name)
}

// docxWith is a minimal DOCX whose document part is doc.
func docxWith(doc string, declare uint64) []byte { return makeZip(docxParts(doc, declare)...) }

// docxStored is a minimal DOCX whose parts are stored uncompressed, for the
// committed files: they must not change with the Go release's deflate
// encoder, whose output differs between releases.
func docxStored(doc string) []byte {
	parts := docxParts(doc, 0)
	for i := range parts {
		parts[i].store = true
	}
	return makeZip(parts...)
}

func docxParts(doc string, declare uint64) []zipPart {
	return []zipPart{
		{name: "[Content_Types].xml", data: fmt.Sprintf(contentType, "word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")},
		{name: "_rels/.rels", data: fmt.Sprintf(ooxmlRels, "word/document.xml")},
		{name: "word/document.xml", data: doc, declare: declare},
	}
}

func wordDoc(text string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + wordNS + `><w:body><w:p><w:r><w:t>` +
		text + `</w:t></w:r></w:p></w:body></w:document>`
}

// docxBomb expands to size bytes of one letter.
func docxBomb(size int) []byte { return docxWith(wordDoc(strings.Repeat("A", size)), 0) }

// docxBombLying expands to size bytes while its directory claims 1 KiB:
// a reader that trusts the declared size is fooled.
func docxBombLying(size int) []byte {
	return docxWith(wordDoc(strings.Repeat("A", size)), 1024)
}

// xlsxBomb is a workbook whose one sheet expands to size bytes.
func xlsxBomb(size int) []byte {
	row := `<row><c t="inlineStr"><is><t>` + strings.Repeat("A", 1000) + `</t></is></c></row>`
	sheet := `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		strings.Repeat(row, size/len(row)) + `</sheetData></worksheet>`
	return makeZip(
		zipPart{name: "[Content_Types].xml", data: fmt.Sprintf(contentType, "xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")},
		zipPart{name: "_rels/.rels", data: fmt.Sprintf(ooxmlRels, "xl/workbook.xml")},
		zipPart{name: "xl/workbook.xml", data: `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		zipPart{name: "xl/_rels/workbook.xml.rels", data: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		zipPart{name: "xl/worksheets/sheet1.xml", data: sheet},
	)
}

// odtBomb is an ODF text whose content expands to size bytes.
func odtBomb(size int) []byte {
	content := `<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"><office:body><office:text><text:p>` +
		strings.Repeat("A", size) + `</text:p></office:text></office:body></office:document-content>`
	return makeZip(
		zipPart{name: "mimetype", data: "application/vnd.oasis.opendocument.text", store: true},
		zipPart{name: "META-INF/manifest.xml", data: `<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>`},
		zipPart{name: "content.xml", data: content},
	)
}

// billionLaughs declares entities that expand exponentially (10^9 "lol"s).
func billionLaughs() []byte {
	var dtd strings.Builder
	dtd.WriteString(`<!ENTITY lol0 "lol">`)
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&dtd, `<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	doc := `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE w:document [` + dtd.String() + `]><w:document ` + wordNS +
		`><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>`
	return docxStored(doc)
}

// externalEntity tries to read a file of the server into the text (XXE).
func externalEntity() []byte {
	doc := `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><w:document ` + wordNS +
		`><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>`
	return docxStored(doc)
}

const pdfPage = `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>`
const pdfFont = `<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>`

func pdfContent(text string) string {
	s := "BT /F1 12 Tf 20 100 Td (" + text + ") Tj ET"
	return fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(s), s)
}

// pdfCycle has a page tree whose node lists itself among its kids.
func pdfCycle() []byte {
	return testdocs.PDF(
		`<< /Type /Catalog /Pages 2 0 R >>`,
		`<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>`,
		pdfPage,
		pdfContent("cycle"),
		pdfFont,
	)
}

// pdfManyPages has pages pages, each its own object sharing one content
// stream.
func pdfManyPages(pages int) []byte {
	objs := []string{`<< /Type /Catalog /Pages 2 0 R >>`, "", pdfContent("page"), pdfFont}
	kids := make([]string, pages)
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", len(objs)+1)
		objs = append(objs, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 3 0 R /Resources << /Font << /F1 4 0 R >> >> >>`)
	}
	objs[1] = fmt.Sprintf(`<< /Type /Pages /Kids [%s] /Count %d >>`, strings.Join(kids, " "), pages)
	return testdocs.PDF(objs...)
}

// pdfHugeCount declares a billion pages and holds one.
func pdfHugeCount() []byte {
	return testdocs.PDF(
		`<< /Type /Catalog /Pages 2 0 R >>`,
		`<< /Type /Pages /Kids [3 0 R] /Count 1000000000 >>`,
		pdfPage,
		pdfContent("one page"),
		pdfFont,
	)
}

// deepHTML nests depth elements.
func deepHTML(depth int) []byte {
	return []byte("<!DOCTYPE html><html><body>" + strings.Repeat("<div>", depth) + "deep text" +
		strings.Repeat("</div>", depth) + "</body></html>")
}

// deepMIME nests multiparts depth deep.
func deepMIME(depth int) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.com\r\nTo: b@example.com\r\nSubject: nested\r\nMIME-Version: 1.0\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ninnermost\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return []byte(b.String())
}

// brokenMIME declares a multipart without a boundary.
func brokenMIME() []byte {
	return []byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: broken\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed\r\nContent-Transfer-Encoding: base64\r\n\r\n--\r\n!!!! not base64 !!!!\r\n")
}

// pngBomb is a PNG whose header declares width x height pixels; its data is
// a single pixel's. It is written byte by byte, its pixel data as a stored
// (uncompressed) zlib block, so that the committed file does not change with
// the Go release's deflate encoder.
func pngBomb(width, height uint32) []byte {
	chunk := func(b []byte, typ string, data []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		start := len(b)
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, width)
	ihdr = binary.BigEndian.AppendUint32(ihdr, height)
	ihdr = append(ihdr, 8, 0, 0, 0, 0) // 8-bit grey, deflate, adaptive filters, not interlaced
	row := []byte{0, 0}                // filter none, one black pixel
	// zlib header, then one final stored block: its length and the length's complement.
	idat := append([]byte{0x78, 0x01, 0x01, 2, 0, 0xfd, 0xff}, row...)
	idat = binary.BigEndian.AppendUint32(idat, adler32.Checksum(row))
	b := []byte("\x89PNG\r\n\x1a\n")
	b = chunk(b, "IHDR", ihdr)
	b = chunk(b, "IDAT", idat)
	return chunk(b, "IEND", nil)
}

// elf is the start of an executable, named as a PDF.
func elf() []byte {
	b := []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00\x01\x00\x00\x00")
	return append(b, make([]byte, 512)...)
}

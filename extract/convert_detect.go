package extract

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"strings"
)

// The long tail: formats that Quire has no Go reader for and that
// LibreOffice imports (convert.go), named by their content. mimetype knows a
// few of them (WordPerfect, Lotus 1-2-3, dBase, StarOffice Calc, VSDX);
// cfb.go names the CFB ones by their streams (Publisher, Visio, Works,
// HWP 5); the rest are named here: SYLK and DIF, which mimetype takes for
// plain text, HWP 3, and the ZIP containers of StarOffice, VSDX and iWork,
// which it takes for plain ZIP archives.

// Media types of the long tail, beside cfb.go's typePublisher, typeVisio,
// typeWorks and typeHWP.
const (
	typeWordPerfect = "application/vnd.wordperfect"
	typeLotus123    = "application/vnd.lotus-1-2-3"
	typeSYLK        = "application/x-sylk"
	typeDIF         = "application/x-dif"
	typeDBF         = "application/x-dbf"
	typeVSDX        = "application/vnd.ms-visio.drawing"
	// typeVSDXMain is mimetype's name for a VSDX file (the content type of
	// its main part).
	typeVSDXMain    = "application/vnd.ms-visio.drawing.main+xml"
	typeStarWriter  = "application/vnd.sun.xml.writer"
	typeStarCalc    = "application/vnd.sun.xml.calc"
	typeStarImpress = "application/vnd.sun.xml.impress"
	typeStarDraw    = "application/vnd.sun.xml.draw"
	typeKeynote     = "application/vnd.apple.keynote"
	typePages       = "application/vnd.apple.pages"
	typeNumbers     = "application/vnd.apple.numbers"
)

// DetectLongTail names a document of the long tail from its content: ""
// when it is none of them. name is the uploaded name, a hint only for what
// content cannot tell (which of iWork's three applications wrote a
// document); mime is mimetype's guess for data, which spares a second
// look at ZIP containers it has already named. Detect calls it first: every
// test is on the first bytes, or on the central directory of a ZIP archive
// mimetype could not name, and none matches a format with a Go reader.
func DetectLongTail(name string, data []byte, mime string) string {
	switch {
	case bytes.HasPrefix(data, []byte("\xFFWPC")):
		// WordPerfect 5 and later: the prefix of every WordPerfect
		// Corporation product; byte 9 is the file type, 10 a document.
		if len(data) >= 16 && data[8] == 1 && data[9] == 10 {
			return typeWordPerfect
		}
	case isLotus(data):
		return typeLotus123
	case isSYLK(data):
		return typeSYLK
	case isDIF(data):
		return typeDIF
	case bytes.HasPrefix(data, []byte("HWP Document File V")):
		// HWP 3 (HWP 97); HWP 5 is a CFB container, named by cfb.go.
		return typeHWP
	case baseType(mime) == typeDBF:
		return typeDBF
	case baseType(mime) == typeVSDXMain:
		return typeVSDX
	case baseType(mime) == typeStarCalc:
		return typeStarCalc
	case baseType(mime) == typeZip && bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return longTailZip(name, data)
	}
	return ""
}

// isLotus reports whether data starts with the BOF record of a Lotus 1-2-3
// worksheet: record type 0, two bytes long, holding the file version —
// 0x404 (WKS, 1-2-3 release 1A), 0x405 (Symphony), 0x406 (WK1, release 2) —
// or, from release 3 on (WK3, WK4, 123), 26 bytes long, holding 0x1000 to
// 0x1005.
func isLotus(data []byte) bool {
	if len(data) < 8 {
		return false
	}
	le := binary.LittleEndian
	if le.Uint16(data) != 0 {
		return false
	}
	n, v := le.Uint16(data[2:]), le.Uint16(data[4:])
	switch n {
	case 2:
		// The next record's header follows: a small type, a small length.
		return v >= 0x404 && v <= 0x406 && data[7] == 0
	case 26:
		return v >= 0x1000 && v <= 0x1005
	}
	return false
}

// isSYLK reports whether data is a SYLK (Symbolic Link) spreadsheet: its
// first record is "ID" with the writer's name ("ID;PWXL;N;E",
// "ID;PCALCOOO32"), and the next is another record: a letter or two and a
// semicolon, or E, the end.
func isSYLK(data []byte) bool {
	if !bytes.HasPrefix(data, []byte("ID;P")) {
		return false
	}
	first, rest, ok := bytes.Cut(head(data, 512), []byte("\n"))
	first = bytes.TrimSuffix(first, []byte("\r"))
	if !ok || bytes.ContainsAny(first, " \t\x00") {
		return false
	}
	second, _, _ := bytes.Cut(rest, []byte("\n"))
	second = bytes.TrimSuffix(second, []byte("\r"))
	if string(second) == "E" {
		return true
	}
	i := bytes.IndexByte(second, ';')
	if i < 1 || i > 2 {
		return false
	}
	for _, c := range second[:i] {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// isDIF reports whether data is a DIF (Data Interchange Format) table: its
// header starts with the TABLE item, "TABLE", "0,1" (the version).
func isDIF(data []byte) bool {
	b := bytes.ReplaceAll(head(data, 16), []byte("\r\n"), []byte("\n"))
	return bytes.HasPrefix(b, []byte("TABLE\n0,1\n"))
}

// longTailZip names a ZIP container of the long tail from its entries: a
// StarOffice document by its mimetype entry, VSDX by its Visio part, iWork
// by its index.
func longTailZip(name string, data []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && err != zip.ErrInsecurePath {
		return ""
	}
	var iwork, slides, tables bool
	for _, f := range zr.File {
		switch {
		case f.Name == "mimetype":
			switch t := zipMimetype(f); t {
			case typeStarWriter, typeStarCalc, typeStarImpress, typeStarDraw:
				return t
			}
		case f.Name == "visio/document.xml":
			return typeVSDX
		case f.Name == "index.apxl", f.Name == "index.apxl.gz":
			return typeKeynote // Keynote 2 to '09
		case f.Name == "index.xml", f.Name == "index.xml.gz", f.Name == "Index/Document.iwa":
			// Pages and Numbers '09 (index.xml), and every iWork
			// application since 2013 (Index/*.iwa).
			iwork = true
		case strings.HasPrefix(f.Name, "Index/Slide"), strings.HasPrefix(f.Name, "Index/MasterSlide"):
			slides = true
		case f.Name == "Index/CalculationEngine.iwa", strings.HasPrefix(f.Name, "Index/Tables/"):
			tables = true
		}
	}
	if !iwork {
		return ""
	}
	switch extOf(name) {
	case ".key":
		return typeKeynote
	case ".numbers":
		return typeNumbers
	case ".pages":
		return typePages
	}
	switch {
	case slides:
		return typeKeynote
	case tables:
		return typeNumbers
	}
	return typePages
}

// zipMimetype returns the content of a small "mimetype" entry.
func zipMimetype(f *zip.File) string {
	if f.UncompressedSize64 > 100 {
		return ""
	}
	rc, err := f.Open()
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 100))
	return strings.TrimSpace(string(b))
}

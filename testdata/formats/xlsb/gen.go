//go:build ignore

// gen writes the XLSB workbook the XLSB tests read (see README.md), record
// by record from [MS-XLSB]: LibreOffice reads XLSB but cannot write it, and
// no other writer runs on Debian. Run it from this directory with
// `go run gen.go`; the output is the same on every run.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"log"
	"math"
	"os"
	"time"
	"unicode/utf16"
)

var mtime = time.Date(1998, 12, 10, 12, 0, 0, 0, time.UTC)

// Record types of [MS-XLSB] 2.3.
const (
	brtRowHdr          = 0
	brtCellRk          = 2
	brtCellError       = 3
	brtCellBool        = 4
	brtCellReal        = 5
	brtCellSt          = 6
	brtCellIsst        = 7
	brtFmlaString      = 8
	brtFmlaNum         = 9
	brtSSTItem         = 19
	brtFmt             = 44
	brtXF              = 47
	brtBeginSheet      = 129
	brtEndSheet        = 130
	brtBeginBook       = 131
	brtEndBook         = 132
	brtBeginBundleShs  = 143
	brtEndBundleShs    = 144
	brtBeginSheetData  = 145
	brtEndSheetData    = 146
	brtWbProp          = 153
	brtBundleSh        = 156
	brtBeginSst        = 159
	brtEndSst          = 160
	brtBeginStyleSheet = 278
	brtEndStyleSheet   = 279
	brtBeginFmts       = 615
	brtEndFmts         = 616
	brtBeginCellXFs    = 617
	brtEndCellXFs      = 618
)

// records is a BIFF12 part being written.
type records struct{ bytes.Buffer }

// rec writes a record: its type and length as base-128 numbers, then data.
func (r *records) rec(typ int, data ...[]byte) {
	body := bytes.Join(data, nil)
	r.varint(typ)
	r.varint(len(body))
	r.Write(body)
}

func (r *records) varint(v int) {
	for {
		b := byte(v & 0x7F)
		v >>= 7
		if v != 0 {
			r.WriteByte(b | 0x80)
			continue
		}
		r.WriteByte(b)
		return
	}
}

func u16(v int) []byte     { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }
func u32(v int) []byte     { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
func f64(v float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)) }

// wstr is an XLWideString: a count of UTF-16 units, then the units.
func wstr(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := u32(len(u))
	for _, c := range u {
		b = append(b, u16(int(c))...)
	}
	return b
}

// cell is a Cell structure: the column, the cell format (24 bits) and flags.
func cell(col, xf int) []byte { return append(u32(col), u32(xf&0xFFFFFF)...) }

// rk encodes an RK number: an integer (fInt) or the top 30 bits of a
// double, optionally times 100 (fX100).
func rkInt(v int) []byte { return u32(v<<2 | 2) }

func rkInt100(v int) []byte { return u32(v<<2 | 3) }

// Shared strings, by index.
var sst = []string{"Year", "President", "Words", "Big number", "Delivered", "Share"}

func main() {
	var wb records
	wb.rec(brtBeginBook)
	wb.rec(brtWbProp, u32(0), u32(0), wstr("")) // the 1900 date system
	wb.rec(brtBeginBundleShs)
	wb.rec(brtBundleSh, u32(0), u32(1), wstr("rId1"), wstr("Addresses"))
	wb.rec(brtBundleSh, u32(0), u32(2), wstr("rId2"), wstr("Notes → ünïcode"))
	wb.rec(brtEndBundleShs)
	wb.rec(brtEndBook)

	var ss records
	ss.rec(brtBeginSst, u32(len(sst)), u32(len(sst)))
	for _, s := range sst {
		ss.rec(brtSSTItem, []byte{0}, wstr(s))
	}
	ss.rec(brtEndSst)

	// Cell formats: 0 General, 1 a date (built-in 14), 2 the workbook's
	// own date-time format 164.
	var st records
	st.rec(brtBeginStyleSheet)
	st.rec(brtBeginFmts, u32(1))
	st.rec(brtFmt, u16(164), wstr("yyyy\\-mm\\-dd hh:mm"))
	st.rec(brtEndFmts)
	st.rec(brtBeginCellXFs, u32(3))
	for _, ifmt := range []int{0, 14, 164} {
		st.rec(brtXF, u16(0xFFFF), u16(ifmt), u16(0), u16(0), u16(0), []byte{0, 0}, u16(0), []byte{0, 0})
	}
	st.rec(brtEndCellXFs)
	st.rec(brtEndStyleSheet)

	row := func(r *records, n int) {
		r.rec(brtRowHdr, u32(n), u32(0), u16(300), []byte{0, 0, 0}, u32(0))
	}
	var s1 records
	s1.rec(brtBeginSheet)
	s1.rec(brtBeginSheetData)
	row(&s1, 0)
	for i := range 6 {
		s1.rec(brtCellIsst, cell(i, 0), u32(i))
	}
	row(&s1, 1)
	s1.rec(brtCellRk, cell(0, 0), rkInt(1790))
	s1.rec(brtCellSt, cell(1, 0), wstr("George Washington"))
	s1.rec(brtCellReal, cell(2, 0), f64(1089))
	s1.rec(brtCellReal, cell(3, 0), f64(123456789012345))
	s1.rec(brtCellRk, cell(4, 1), rkInt(40))      // 1900-02-09 in the 1900 date system
	s1.rec(brtCellRk, cell(5, 0), rkInt100(1234)) // 12.34
	row(&s1, 2)
	s1.rec(brtCellRk, cell(0, 0), rkInt(1932))
	s1.rec(brtCellSt, cell(1, 0), wstr("Herbert Hoover"))
	s1.rec(brtFmlaNum, cell(2, 0), f64(2.5e-7), u16(0), u32(0))
	s1.rec(brtCellReal, cell(3, 0), f64(-9007199254740993))
	s1.rec(brtCellReal, cell(4, 2), f64(11665.5)) // 1931-12-08 12:00
	s1.rec(brtCellBool, cell(5, 0), []byte{1})
	row(&s1, 4) // a row left empty before it
	s1.rec(brtFmlaString, cell(1, 0), wstr("=A2&\" total\""), u16(0), u32(0))
	s1.rec(brtCellError, cell(2, 0), []byte{0x07})
	s1.rec(brtEndSheetData)
	s1.rec(brtEndSheet)

	var s2 records
	s2.rec(brtBeginSheet)
	s2.rec(brtBeginSheetData)
	row(&s2, 0)
	s2.rec(brtCellSt, cell(0, 0), wstr("Déclaration universelle des droits de l’homme"))
	row(&s2, 1)
	s2.rec(brtCellSt, cell(3, 0), wstr("人人生而自由，在尊严和权利上一律平等。"))
	s2.rec(brtEndSheetData)
	s2.rec(brtEndSheet)

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mtime})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			log.Fatal(err)
		}
	}
	add("[Content_Types].xml", []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/worksheets/sheet1.bin" ContentType="application/vnd.ms-excel.worksheet"/><Override PartName="/xl/worksheets/sheet2.bin" ContentType="application/vnd.ms-excel.worksheet"/><Override PartName="/xl/styles.bin" ContentType="application/vnd.ms-excel.styles"/><Override PartName="/xl/sharedStrings.bin" ContentType="application/vnd.ms-excel.sharedStrings"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>`))
	add("_rels/.rels", []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.bin"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>`))
	add("docProps/core.xml", []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>State of the Union addresses</dc:title><dc:creator>Quire test data</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">2024-05-01T10:00:00Z</dcterms:created></cp:coreProperties>`))
	add("xl/workbook.bin", wb.Bytes())
	add("xl/_rels/workbook.bin.rels", []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.bin"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.bin"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.bin"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.bin"/></Relationships>`))
	add("xl/sharedStrings.bin", ss.Bytes())
	add("xl/styles.bin", st.Bytes())
	add("xl/worksheets/sheet1.bin", s1.Bytes())
	add("xl/worksheets/sheet2.bin", s2.Bytes())
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("sotu.xlsb", buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

package testdocs

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"strconv"
	"time"
	"unicode/utf16"
)

// A writer of HWP 5 documents (Hancom's "HWP 5.0 file format") for tests
// and generators: a compound file of FileHeader, DocInfo, the sections'
// records under BodyText and the summary property set.

// Record tags of HWP 5 (HWPTAG_BEGIN is 0x10).
const (
	HWPTagDocumentProperties = 0x10
	HWPTagParaHeader         = 0x10 + 50
	HWPTagParaText           = 0x10 + 51
	HWPTagParaCharShape      = 0x10 + 52
	HWPTagCtrlHeader         = 0x10 + 55
	HWPTagListHeader         = 0x10 + 56
	HWPTagTable              = 0x10 + 61
)

// HWPDoc is an HWP 5 document to write.
type HWPDoc struct {
	// Compressed deflates DocInfo and the sections, as Hangul does by
	// default.
	Compressed bool
	// Flags are more FileHeader properties: 2 password-encrypted, 4 a
	// distribution document.
	Flags uint32
	// Title, Author and Created go to \x05HwpSummaryInformation.
	Title, Author string
	Created       time.Time
	// Sections are the records of each section (HWPRecord, HWPPara).
	Sections [][]byte
}

// HWP returns the document d describes.
func HWP(d HWPDoc) []byte {
	hdr := make([]byte, 256)
	copy(hdr, "HWP Document File")
	binary.LittleEndian.PutUint32(hdr[32:], 0x05000300) // 5.0.3.0
	props := d.Flags
	if d.Compressed {
		props |= 1
	}
	binary.LittleEndian.PutUint32(hdr[36:], props)
	stream := func(b []byte) []byte {
		if !d.Compressed {
			return b
		}
		var out bytes.Buffer
		zw, _ := flate.NewWriter(&out, flate.BestCompression)
		if _, err := zw.Write(b); err != nil {
			panic(err) // a bytes.Buffer does not fail
		}
		if err := zw.Close(); err != nil {
			panic(err)
		}
		return out.Bytes()
	}
	// DocInfo: the document's properties (the number of sections, the
	// first page, footnote, endnote, picture, table and equation
	// numbers, the caret), enough for a reader that looks at it.
	docProps := make([]byte, 26)
	binary.LittleEndian.PutUint16(docProps, uint16(len(d.Sections)))
	for i := 2; i < 14; i += 2 {
		binary.LittleEndian.PutUint16(docProps[i:], 1)
	}
	var sections []*CFBNode
	for i, s := range d.Sections {
		sections = append(sections, CFBStream("Section"+strconv.Itoa(i), stream(s)))
	}
	var summary []any
	if d.Title != "" {
		summary = append(summary, uint32(2), d.Title)
	}
	if d.Author != "" {
		summary = append(summary, uint32(4), d.Author)
	}
	if !d.Created.IsZero() {
		summary = append(summary, uint32(12), d.Created)
	}
	return CFB(CFBStorage("Root Entry",
		CFBStream("FileHeader", hdr),
		CFBStream("DocInfo", stream(HWPRecord(HWPTagDocumentProperties, 0, docProps))),
		CFBStorage("BodyText", sections...),
		CFBStream("\x05HwpSummaryInformation", PropertySet(summary...)),
	))
}

// HWPRecord returns a record: its header (tag, level, size; a size of
// 4,095 bytes or more follows the header) and data.
func HWPRecord(tag, level int, data []byte) []byte {
	size := len(data)
	h := uint32(tag&0x3FF) | uint32(level&0x3FF)<<10
	var out []byte
	if size >= 0xFFF {
		out = binary.LittleEndian.AppendUint32(out, h|0xFFF<<20)
		out = binary.LittleEndian.AppendUint32(out, uint32(size))
	} else {
		out = binary.LittleEndian.AppendUint32(out, h|uint32(size)<<20)
	}
	return append(out, data...)
}

// HWPPara returns the records of a paragraph at level: its header, its
// text (text, with controls from HWPControl, ended by a paragraph break)
// and its one character shape.
func HWPPara(level int, text string) []byte {
	units := append(utf16.Encode([]rune(text)), 13)
	var t []byte
	for _, u := range units {
		t = binary.LittleEndian.AppendUint16(t, u)
	}
	head := make([]byte, 22)
	binary.LittleEndian.PutUint32(head, uint32(len(units)))
	binary.LittleEndian.PutUint16(head[12:], 1) // one character shape
	out := HWPRecord(HWPTagParaHeader, level, head)
	out = append(out, HWPRecord(HWPTagParaText, level+1, t)...)
	return append(out, HWPRecord(HWPTagParaCharShape, level+1, make([]byte, 8))...)
}

// HWPControl returns the eight code units of a control in a paragraph's
// text: its code (1–9, 11, 12, 14–23), the four characters of its id
// ("tbl ", "head", "fn  "), reversed as the format stores them, nothing
// in its parameters, and its code again.
func HWPControl(code rune, id string) string {
	// The id is a little-endian 32-bit number whose first letter is the
	// most significant byte.
	return string([]rune{code, rune(id[3]) | rune(id[2])<<8, rune(id[1]) | rune(id[0])<<8, 0, 0, 0, 0, code})
}

// PropertySet returns a property set stream (as SummaryInformation is
// written) of one section holding id, value pairs: a string (written as
// UTF-16), an int32 or a time.Time (a FILETIME). It panics on another type.
func PropertySet(pairs ...any) []byte {
	le := binary.LittleEndian
	type prop struct {
		id  uint32
		val []byte
	}
	props := []prop{{1, []byte{2, 0, 0, 0, 0xB0, 0x04, 0, 0}}} // code page 1200, UTF-16
	for i := 0; i+1 < len(pairs); i += 2 {
		var v []byte
		switch x := pairs[i+1].(type) {
		case string:
			u := append(utf16.Encode([]rune(x)), 0)
			v = le.AppendUint32([]byte{0x1F, 0, 0, 0}, uint32(len(u)))
			for _, c := range u {
				v = le.AppendUint16(v, c)
			}
		case int32:
			v = le.AppendUint32([]byte{3, 0, 0, 0}, uint32(x))
		case time.Time:
			ft := uint64(x.Unix()+11644473600)*10_000_000 + uint64(x.Nanosecond()/100)
			v = le.AppendUint64([]byte{0x40, 0, 0, 0}, ft)
		default:
			panic("testdocs.PropertySet: a value of an unknown type")
		}
		for len(v)%4 != 0 {
			v = append(v, 0)
		}
		props = append(props, prop{pairs[i].(uint32), v})
	}
	sec := le.AppendUint32(nil, 0) // its size, set below
	sec = le.AppendUint32(sec, uint32(len(props)))
	off := 8 + 8*len(props)
	for _, p := range props {
		sec = le.AppendUint32(sec, p.id)
		sec = le.AppendUint32(sec, uint32(off))
		off += len(p.val)
	}
	for _, p := range props {
		sec = append(sec, p.val...)
	}
	le.PutUint32(sec, uint32(len(sec)))
	head := make([]byte, 48)
	le.PutUint16(head, 0xFFFE)
	le.PutUint32(head[24:], 1)
	// The format ID of HwpSummaryInformation.
	copy(head[28:], []byte{0x60, 0xB6, 0xA2, 0x9F, 0x61, 0x10, 0xD4, 0x11, 0xB4, 0xC6, 0x00, 0x60, 0x97, 0xC0, 0x9D, 0x8C})
	le.PutUint32(head[44:], 48)
	return append(head, sec...)
}

package extract

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

func init() {
	register(&format{name: "xls", types: []string{typeXLS}, extract: extractXLS})
}

// Excel 97–2003 workbooks (BIFF8, [MS-XLS]), and the 8-bit BIFF5/7 of
// Excel 5.0/95. The Workbook stream is a sequence of records: the globals
// (sheet list, shared strings, number formats, cell formats) and then one
// substream per sheet, whose cell records give each value with its cell
// format. A sheet is written as one line per row, cells separated by tabs
// (as xlsx.go writes them), one Page per sheet. Numbers are written exactly
// (integers in full, others in the shortest form that reads back the same),
// except those whose number format is a date or a time, written in ISO 8601.

const (
	biffFORMULA    = 0x0006
	biffEOF        = 0x000A
	biffFILEPASS   = 0x002F
	biffDATEMODE   = 0x0022
	biffCONTINUE   = 0x003C
	biffCODEPAGE   = 0x0042
	biffBOUNDSHEET = 0x0085
	biffMULRK      = 0x00BD
	biffRSTRING    = 0x00D6
	biffXF         = 0x00E0
	biffSST        = 0x00FC
	biffLABELSST   = 0x00FD
	biffNUMBER     = 0x0203
	biffLABEL      = 0x0204
	biffBOOLERR    = 0x0205
	biffSTRING     = 0x0207
	biffRK         = 0x027E
	biffFORMAT     = 0x041E
	biffBOF        = 0x0809
)

func extractXLS(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	r, err := openCFB(in.Data)
	if err != nil {
		return nil, err
	}
	return readXLS(ctx, r, b)
}

// xlsBook is a workbook being read.
type xlsBook struct {
	data     []byte // the Workbook stream
	biff8    bool
	codepage int
	date1904 bool
	xfFmt    []uint16          // number format of each cell format (XF)
	formats  map[uint16]string // number formats by index (FORMAT records)
	isDate   map[uint16]int8   // memo of dateKind by format index
	// The shared strings, one arena: string i is sst[sstOff[i]:sstOff[i+1]].
	sst    []byte
	sstOff []int32
}

type xlsSheet struct {
	name string
	pos  int64
	kind byte
}

// rec reads the record at pos: its type, data and the position after it.
func (x *xlsBook) rec(pos int) (typ uint16, data []byte, next int, ok bool) {
	if pos < 0 || pos+4 > len(x.data) {
		return 0, nil, 0, false
	}
	typ = binary.LittleEndian.Uint16(x.data[pos:])
	n := int(binary.LittleEndian.Uint16(x.data[pos+2:]))
	if pos+4+n > len(x.data) {
		return 0, nil, 0, false
	}
	return typ, x.data[pos+4 : pos+4+n], pos + 4 + n, true
}

// continued returns the data of the record at pos and of the CONTINUE
// records after it, and the position after them all.
func (x *xlsBook) continued(data []byte, next int) ([][]byte, int) {
	segs := [][]byte{data}
	for {
		typ, d, n, ok := x.rec(next)
		if !ok || typ != biffCONTINUE {
			return segs, next
		}
		segs = append(segs, d)
		next = n
	}
}

func readXLS(ctx context.Context, r *cfbReader, b *budget) (*Result, error) {
	wb, ok, err := r.stream("Workbook")
	if err == nil && !ok {
		wb, ok, err = r.stream("Book")
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no Workbook stream", ErrCorrupt)
	}
	x := &xlsBook{data: wb, codepage: 1252, formats: map[uint16]string{}, isDate: map[uint16]int8{}}
	typ, bof, next, ok := x.rec(0)
	if !ok || len(bof) < 4 {
		return nil, fmt.Errorf("%w: workbook stream cut short", ErrCorrupt)
	}
	switch {
	case typ != biffBOF:
		return nil, fmt.Errorf("%w: Excel 2.x–4.x worksheet", ErrUnsupported)
	case binary.LittleEndian.Uint16(bof) == 0x0600:
		x.biff8 = true
	case binary.LittleEndian.Uint16(bof) != 0x0500:
		return nil, fmt.Errorf("%w: BIFF version %#x", ErrCorrupt, binary.LittleEndian.Uint16(bof))
	}
	res := &Result{Meta: map[string]string{}}
	r.summary().apply(res)
	if !x.biff8 {
		res.Meta["format"] = "Excel 5.0/95"
	}
	sheets, err := x.globals(ctx, next)
	if err != nil {
		return nil, err
	}
	lim := b.lim
	if lim.MaxPages > 0 && len(sheets) > lim.MaxPages {
		return nil, &LimitError{Limit: "pages", Max: int64(lim.MaxPages), Got: int64(len(sheets))}
	}
	names := make([]string, len(sheets))
	for i, s := range sheets {
		names[i] = s.name
	}
	res.Meta["sheets"] = strings.Join(names, "\n")
	read := map[int64]bool{}
	for i, s := range sheets {
		p := Page{Number: i + 1}
		// Two sheets at one offset are one sheet listed twice: read once.
		if !b.full() && !read[s.pos] {
			read[s.pos] = true
			text, err := x.sheetText(ctx, s, b)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				res.Warnings = append(res.Warnings, fmt.Sprintf("sheet %q: %v", s.name, err))
			}
			p.Text = text
		}
		res.Pages = append(res.Pages, p)
	}
	return res, nil
}

// globals reads the workbook globals from pos to their EOF record.
func (x *xlsBook) globals(ctx context.Context, pos int) ([]xlsSheet, error) {
	le := binary.LittleEndian
	var sheets []xlsSheet
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		typ, d, next, ok := x.rec(pos)
		if !ok {
			break // a stream cut short: what was read is kept
		}
		switch typ {
		case biffEOF:
			return sheets, nil
		case biffFILEPASS:
			return nil, fmt.Errorf("%w: password-protected Excel workbook", ErrEncrypted)
		case biffCODEPAGE:
			if len(d) >= 2 {
				x.codepage = int(le.Uint16(d))
			}
		case biffDATEMODE:
			x.date1904 = len(d) >= 2 && le.Uint16(d) == 1
		case biffFORMAT:
			if len(d) >= 3 {
				var s []byte
				if x.biff8 {
					s, _ = x.unicodeString(d[2:], 2)
				} else {
					s = x.byteString(d[2:], 1)
				}
				x.formats[le.Uint16(d)] = string(s)
			}
		case biffXF:
			if len(d) >= 4 {
				x.xfFmt = append(x.xfFmt, le.Uint16(d[2:]))
			}
		case biffBOUNDSHEET:
			if len(d) >= 7 {
				s := xlsSheet{pos: int64(le.Uint32(d)), kind: d[5]}
				var name []byte
				if x.biff8 {
					name, _ = x.unicodeString(d[6:], 1)
				} else {
					name = x.byteString(d[6:], 1)
				}
				s.name = string(name)
				// Worksheets and macro sheets hold cells; charts and
				// VBA modules do not.
				if s.kind == 0 || s.kind == 1 {
					sheets = append(sheets, s)
				}
			}
		case biffSST:
			segs, after := x.continued(d, next)
			x.readSST(segs)
			next = after
		}
		pos = next
	}
	return sheets, nil
}

// byteString reads an 8-bit string of BIFF5 after its length of lenSize
// bytes, in the workbook's code page.
func (x *xlsBook) byteString(d []byte, lenSize int) []byte {
	if len(d) < lenSize {
		return nil
	}
	n := int(d[0])
	if lenSize == 2 {
		n = int(binary.LittleEndian.Uint16(d))
	}
	d = d[lenSize:]
	n = min(n, len(d))
	return []byte(decodeCodepage(d[:n], x.codepage))
}

// unicodeString reads a BIFF8 string (XLUnicodeString, or
// ShortXLUnicodeString when lenSize is 1) held in one record.
func (x *xlsBook) unicodeString(d []byte, lenSize int) ([]byte, bool) {
	s := segReader{segs: [][]byte{d}}
	return s.str(nil, lenSize, false)
}

// readSST reads the shared string table, whose strings run on across
// CONTINUE records.
func (x *xlsBook) readSST(segs [][]byte) {
	s := segReader{segs: segs}
	if _, ok := s.u32(); !ok {
		return
	}
	unique, ok := s.u32()
	if !ok {
		return
	}
	x.sstOff = append(x.sstOff[:0], 0)
	for i := uint32(0); i < unique; i++ {
		var ok bool
		if x.sst, ok = s.str(x.sst, 2, true); !ok {
			break
		}
		x.sstOff = append(x.sstOff, int32(len(x.sst)))
		if len(x.sst) > math.MaxInt32/2 {
			break
		}
	}
}

// sstString returns shared string i.
func (x *xlsBook) sstString(i uint32) []byte {
	if int64(i)+1 >= int64(len(x.sstOff)) {
		return nil
	}
	return x.sst[x.sstOff[i]:x.sstOff[i+1]]
}

// segReader reads a record's data and its CONTINUE records as one: raw
// fields run on across them, while a string's characters start each new
// record with a byte that says whether they are 8- or 16-bit.
type segReader struct {
	segs [][]byte
	i, p int
}

func (s *segReader) byte() (byte, bool) {
	for s.i < len(s.segs) && s.p >= len(s.segs[s.i]) {
		s.i, s.p = s.i+1, 0
	}
	if s.i >= len(s.segs) {
		return 0, false
	}
	c := s.segs[s.i][s.p]
	s.p++
	return c, true
}

func (s *segReader) u16() (uint16, bool) {
	a, ok1 := s.byte()
	b, ok2 := s.byte()
	return uint16(a) | uint16(b)<<8, ok1 && ok2
}

func (s *segReader) u32() (uint32, bool) {
	a, ok1 := s.u16()
	b, ok2 := s.u16()
	return uint32(a) | uint32(b)<<16, ok1 && ok2
}

// skip passes over n bytes.
func (s *segReader) skip(n int64) bool {
	for n > 0 {
		if s.i >= len(s.segs) {
			return false
		}
		k := min(n, int64(len(s.segs[s.i])-s.p))
		s.p += int(k)
		n -= k
		if s.p >= len(s.segs[s.i]) {
			s.i, s.p = s.i+1, 0
		}
	}
	return true
}

// str appends a string to dst as UTF-8: its length (lenSize bytes), its
// flags, and, when rich, its formatting runs and phonetic block, which are
// skipped. Tabs and line breaks become spaces, as a cell is one field of a
// line.
func (s *segReader) str(dst []byte, lenSize int, rich bool) ([]byte, bool) {
	var cch int
	if lenSize == 1 {
		c, ok := s.byte()
		if !ok {
			return dst, false
		}
		cch = int(c)
	} else {
		c, ok := s.u16()
		if !ok {
			return dst, false
		}
		cch = int(c)
	}
	flags, ok := s.byte()
	if !ok {
		return dst, false
	}
	var runs, ext int64
	if rich && flags&0x08 != 0 {
		n, ok := s.u16()
		if !ok {
			return dst, false
		}
		runs = int64(n)
	}
	if rich && flags&0x04 != 0 {
		n, ok := s.u32()
		if !ok {
			return dst, false
		}
		ext = int64(n)
	}
	high := flags&0x01 != 0
	for cch > 0 {
		if s.i < len(s.segs) && s.p >= len(s.segs[s.i]) {
			// The characters go on in the next record, which starts with
			// their width.
			s.i, s.p = s.i+1, 0
			c, ok := s.byte()
			if !ok {
				return dst, false
			}
			high = c&0x01 != 0
			continue
		}
		if s.i >= len(s.segs) {
			return dst, false
		}
		seg := s.segs[s.i][s.p:]
		if high {
			k := min(cch, len(seg)/2)
			if k == 0 {
				return dst, false // half a character before a record's end
			}
			for j := 0; j < k; j++ {
				dst = appendCellRune(dst, rune(binary.LittleEndian.Uint16(seg[2*j:])), seg[2*j+2:], &j)
			}
			s.p += 2 * k
			cch -= k
		} else {
			k := min(cch, len(seg))
			for _, c := range seg[:k] {
				dst = appendCellRune(dst, rune(c), nil, nil)
			}
			s.p += k
			cch -= k
		}
	}
	if !s.skip(4*runs) || !s.skip(ext) {
		return dst, false
	}
	return dst, true
}

// appendCellRune appends a character of a cell's text; a high surrogate is
// joined with the low one at the start of rest, advancing *j.
func appendCellRune(dst []byte, c rune, rest []byte, j *int) []byte {
	switch {
	case c == '\t' || c == '\n' || c == '\r':
		return append(dst, ' ')
	case c < 0x80:
		return append(dst, byte(c))
	case c >= 0xD800 && c < 0xDC00 && len(rest) >= 2:
		if lo := rune(binary.LittleEndian.Uint16(rest)); lo >= 0xDC00 && lo < 0xE000 {
			*j++
			return utf8.AppendRune(dst, utf16.DecodeRune(c, lo))
		}
	}
	return utf8.AppendRune(dst, c) // a lone surrogate becomes U+FFFD
}

// xlsCell is one cell's text in a sheet's arena.
type xlsCell struct {
	row      uint32
	col      uint16
	from, to int32
}

// sheetText reads a sheet's substream and returns its text.
func (x *xlsBook) sheetText(ctx context.Context, sh xlsSheet, b *budget) (string, error) {
	le := binary.LittleEndian
	typ, _, pos, ok := x.rec(int(min(sh.pos, math.MaxInt32)))
	if !ok || typ != biffBOF || sh.pos > int64(len(x.data)) {
		return "", fmt.Errorf("%w: no sheet at offset %d", ErrCorrupt, sh.pos)
	}
	// The cells' text is gathered first (cells may come out of order),
	// within what is left of the budget.
	arena := textSink{bud: b, scratch: true}
	var cells []xlsCell
	var buf []byte
	add := func(row, col uint16, text []byte) {
		if len(text) == 0 {
			return
		}
		from := arena.Len()
		if !arena.write(text) {
			return
		}
		cells = append(cells, xlsCell{row: uint32(row), col: col, from: int32(from), to: int32(arena.Len())})
	}
	var pending *xlsCell // a formula whose string result follows
	depth := 1           // BOF and EOF nest (a chart inside a sheet)
	for n := 0; depth > 0; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return "", ctx.Err()
		}
		if b.full() {
			break
		}
		typ, d, next, ok := x.rec(pos)
		if !ok {
			break
		}
		pos = next
		switch typ {
		case biffBOF:
			depth++
			continue
		case biffEOF:
			depth--
			continue
		}
		if depth > 1 || len(d) < 6 {
			continue
		}
		row, col, ixfe := le.Uint16(d), le.Uint16(d[2:]), le.Uint16(d[4:])
		switch typ {
		case biffLABELSST:
			if len(d) >= 10 {
				add(row, col, x.sstString(le.Uint32(d[6:])))
			}
		case biffLABEL, biffRSTRING:
			if x.biff8 {
				buf, _ = x.unicodeString(d[6:], 2)
			} else {
				buf = x.byteString(d[6:], 2)
			}
			add(row, col, buf)
		case biffNUMBER:
			if len(d) >= 14 {
				add(row, col, x.number(buf[:0], math.Float64frombits(le.Uint64(d[6:])), ixfe))
			}
		case biffRK:
			if len(d) >= 10 {
				add(row, col, x.number(buf[:0], rkValue(le.Uint32(d[6:])), ixfe))
			}
		case biffMULRK:
			for i := 0; 6+6*i+6 <= len(d) && i < 256; i++ {
				e := d[4+6*i:]
				add(row, col+uint16(i), x.number(buf[:0], rkValue(le.Uint32(e[2:])), le.Uint16(e)))
			}
		case biffBOOLERR:
			if len(d) >= 8 {
				add(row, col, boolErr(d[6], d[7] != 0))
			}
		case biffFORMULA:
			if len(d) < 14 {
				continue
			}
			v := d[6:14]
			if le.Uint16(v[6:]) != 0xFFFF {
				add(row, col, x.number(buf[:0], math.Float64frombits(le.Uint64(v)), ixfe))
				continue
			}
			switch v[0] {
			case 0: // a string, in the STRING record that follows
				pending = &xlsCell{row: uint32(row), col: col}
			case 1:
				add(row, col, boolErr(v[2], false))
			case 2:
				add(row, col, boolErr(v[2], true))
			}
		case biffSTRING:
			if pending == nil {
				continue
			}
			segs, after := x.continued(d, pos)
			pos = after
			if x.biff8 {
				s := segReader{segs: segs}
				buf, _ = s.str(buf[:0], 2, false)
			} else {
				buf = x.byteString(d, 2)
			}
			add(uint16(pending.row), pending.col, buf)
			pending = nil
		}
	}
	return cellsText(b, cells, arena.String()), nil
}

// cellsText writes a sheet's cells, their text the spans of arena, through
// the document's budget: rows in order, cells in order within them (as
// writers put them, but not as the BIFF formats require), a row a line,
// tabs between cells and for the empty ones before a cell, so that columns
// line up. Shared by the XLS and XLSB readers.
func cellsText(b *budget, cells []xlsCell, arena string) string {
	if !sort.SliceIsSorted(cells, func(i, j int) bool { return cellBefore(cells[i], cells[j]) }) {
		sort.SliceStable(cells, func(i, j int) bool { return cellBefore(cells[i], cells[j]) })
	}
	out := textSink{bud: b}
	for i, c := range cells {
		if i > 0 && cells[i-1].row == c.row && cells[i-1].col == c.col {
			continue // the same cell twice
		}
		prev := 0
		if i > 0 && cells[i-1].row == c.row {
			prev = int(cells[i-1].col)
		} else if i > 0 {
			out.writeByte('\n')
		}
		// Empty cells before this one keep its column: as many tabs as
		// columns passed, within the 256 columns of a sheet.
		for range min(int(c.col)-prev, 256) {
			out.writeByte('\t')
		}
		if !out.writeString(arena[c.from:c.to]) {
			break
		}
	}
	return out.String()
}

func cellBefore(a, b xlsCell) bool {
	return a.row < b.row || a.row == b.row && a.col < b.col
}

// rkValue decodes an RK number: a 30-bit integer or the high 30 bits of
// a double, either of them possibly divided by 100.
func rkValue(rk uint32) float64 {
	var v float64
	if rk&0x02 != 0 {
		v = float64(int32(rk) >> 2)
	} else {
		v = math.Float64frombits(uint64(rk&^3) << 32)
	}
	if rk&0x01 != 0 {
		v /= 100
	}
	return v
}

var xlsErrors = map[byte]string{
	0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!",
	0x1D: "#NAME?", 0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA",
}

func boolErr(v byte, isErr bool) []byte {
	if isErr {
		if s, ok := xlsErrors[v]; ok {
			return []byte(s)
		}
		return []byte("#ERROR!")
	}
	if v != 0 {
		return []byte("TRUE")
	}
	return []byte("FALSE")
}

// number appends the text of a number shown in cell format ixfe.
func (x *xlsBook) number(dst []byte, v float64, ixfe uint16) []byte {
	if int(ixfe) < len(x.xfFmt) {
		if kind := x.dateKind(x.xfFmt[ixfe]); kind != 0 {
			if s, ok := excelDate(v, x.date1904, kind); ok {
				return append(dst, s...)
			}
		}
	}
	return appendExactNumber(dst, v)
}

// appendExactNumber appends v in full: integers without an exponent,
// others in the shortest form that reads back as v.
func appendExactNumber(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return append(dst, "#NUM!"...)
	case v == 0:
		return append(dst, '0')
	case v == math.Trunc(v) && math.Abs(v) < 1e21:
		return strconv.AppendFloat(dst, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// Kinds of date formats.
const (
	dateNone = 0
	dateDay  = 1 // a date
	dateTime = 2 // a time of day
	dateBoth = 3
)

// dateKind says whether number format ifmt shows a date, a time or both.
func (x *xlsBook) dateKind(ifmt uint16) int8 {
	if k, ok := x.isDate[ifmt]; ok {
		return k
	}
	var k int8
	switch {
	case ifmt >= 14 && ifmt <= 17, ifmt >= 27 && ifmt <= 31, ifmt >= 34 && ifmt <= 36, ifmt >= 50 && ifmt <= 58:
		k = dateDay
	case ifmt >= 18 && ifmt <= 21, ifmt == 32, ifmt == 33, ifmt >= 45 && ifmt <= 47:
		k = dateTime
	case ifmt == 22:
		k = dateBoth
	default:
		if f, ok := x.formats[ifmt]; ok {
			k = formatDateKind(f)
		}
	}
	x.isDate[ifmt] = k
	return k
}

// formatDateKind reads a number format: outside quoted text, escaped
// characters and [colour] brackets, y and d are parts of a date, h and s
// of a time, and m of whichever it stands beside. A format with a digit
// placeholder is a number's.
func formatDateKind(f string) int8 {
	if i := strings.IndexByte(f, ';'); i >= 0 {
		f = f[:i] // the format of positive numbers
	}
	if strings.EqualFold(strings.TrimSpace(f), "General") {
		return dateNone
	}
	var k int8
	month := false
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch c {
		case '"':
			if j := strings.IndexByte(f[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(f)
			}
		case '\\', '_', '*':
			i++
		case '[':
			j := strings.IndexByte(f[i:], ']')
			if j < 0 {
				return k
			}
			switch strings.ToLower(f[i+1 : i+j]) {
			case "h", "hh", "m", "mm", "s", "ss":
				k |= dateTime // elapsed time
			}
			i += j
		case '0', '#', '?', '@':
			return dateNone
		case 'y', 'Y', 'd', 'D':
			k |= dateDay
		case 'h', 'H', 's', 'S':
			k |= dateTime
		case 'm', 'M':
			month = true
		}
	}
	if month && k == dateNone {
		k = dateDay
	}
	return k
}

// excelDate formats a date serial number of the 1900 or 1904 date system
// in ISO 8601.
func excelDate(v float64, date1904 bool, kind int8) (string, bool) {
	if v < 0 || v >= 2958466 { // before the epoch or after 9999
		return "", false
	}
	days := math.Floor(v)
	secs := int64(math.Round((v - days) * 86400))
	if secs >= 86400 {
		days, secs = days+1, secs-86400
	}
	var day time.Time
	switch {
	case date1904:
		day = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(days))
	case days == 60:
		// 1900-02-29, which Lotus 1-2-3 believed in and Excel keeps.
		if kind == dateDay {
			return "1900-02-29", true
		}
		day = time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC)
	case days < 60:
		day = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(days))
	default:
		day = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(days))
	}
	t := day.Add(time.Duration(secs) * time.Second)
	switch kind {
	case dateDay:
		return t.Format("2006-01-02"), true
	case dateTime:
		if days >= 1 {
			return t.Format("2006-01-02 15:04:05"), true
		}
		return t.Format("15:04:05"), true
	}
	return t.Format("2006-01-02 15:04:05"), true
}

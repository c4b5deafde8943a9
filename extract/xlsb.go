package extract

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf16"
)

// XLSB, Excel's binary workbook ([MS-XLSB]): the parts of an XLSX (an OPC
// package, the same relationships) written as BIFF12 records instead of
// XML. A record is a type and a length, each a little-endian base-128
// number (7 bits a byte, the high bit continuing: at most 2 bytes of type,
// 4 of length), then its data. workbook.bin names the sheets (BrtBundleSh)
// and the date system (BrtWbProp); sharedStrings.bin holds the strings
// cells refer to (BrtSSTItem); styles.bin the number formats that tell a
// date from a number (BrtFmt, and BrtXF between BrtBeginCellXFs and
// BrtEndCellXFs); each sheet its cells, rows announced by BrtRowHdr. Cells
// are written as the XLS reader writes them: a sheet a page, rows on
// lines, cells separated by tabs that keep their columns, numbers exact
// (no 1.23E+14 for an integer), dates in ISO 8601.

const typeXLSB = "application/vnd.ms-excel.sheet.binary.macroenabled.12"

func init() {
	register(&format{name: "xlsb", types: []string{typeXLSB}, extract: extractXLSB})
}

// BIFF12 record types read.
const (
	brtRowHdr       = 0
	brtCellBlank    = 1
	brtCellRk       = 2
	brtCellError    = 3
	brtCellBool     = 4
	brtCellReal     = 5
	brtCellSt       = 6
	brtCellIsst     = 7
	brtFmlaString   = 8
	brtFmlaNum      = 9
	brtFmlaBool     = 10
	brtFmlaError    = 11
	brtSSTItem      = 19
	brtFmt          = 44
	brtXF           = 47
	brtWbProp       = 153
	brtBundleSh     = 156
	brtBeginCellXFs = 617
	brtEndCellXFs   = 618
	xlsbPartMax     = 256 << 20 // a part is read whole: more is a bomb
	xlsbSheetsMax   = 4096
)

// xlsbRecords iterates over the records of a part.
type xlsbRecords struct {
	b   []byte
	err error
}

// next returns the next record, false at the end or at damage (err set).
func (r *xlsbRecords) next() (typ int, data []byte, ok bool) {
	if len(r.b) == 0 {
		return 0, nil, false
	}
	typ, n := xlsbVarint(r.b, 2)
	if n == 0 {
		r.err = fmt.Errorf("a record type cut short")
		return 0, nil, false
	}
	size, m := xlsbVarint(r.b[n:], 4)
	if m == 0 {
		r.err = fmt.Errorf("a record length cut short")
		return 0, nil, false
	}
	start := n + m
	if size > len(r.b)-start {
		r.err = fmt.Errorf("a record of type %d and %d bytes in %d", typ, size, len(r.b)-start)
		return 0, nil, false
	}
	data = r.b[start : start+size]
	r.b = r.b[start+size:]
	return typ, data, true
}

// xlsbVarint reads a base-128 number of at most max bytes; n is 0 when it
// is cut short or longer.
func xlsbVarint(b []byte, max int) (v, n int) {
	for i := 0; i < max && i < len(b); i++ {
		v |= int(b[i]&0x7F) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// xlsbString reads an XLWideString: a 32-bit count of UTF-16 code units,
// then the units. null reports the count 0xFFFFFFFF of a nullable one.
func xlsbString(b []byte) (s string, rest []byte, ok bool) {
	if len(b) < 4 {
		return "", nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	if n == 0xFFFFFFFF {
		return "", b[4:], true
	}
	if uint64(n)*2 > uint64(len(b)-4) {
		return "", nil, false
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[4+2*i:])
	}
	return string(utf16.Decode(u)), b[4+2*int(n):], true
}

type xlsbBook struct {
	ctx      context.Context
	d        *zipDoc
	bud      *budget
	strings  []string
	xfFmt    []uint16
	formats  map[uint16]string
	isDate   map[uint16]int8
	date1904 bool
}

type xlsbSheet struct{ name, part string }

func extractXLSB(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	d, err := openZip(ctx, in.Data, b)
	if err != nil {
		return nil, err
	}
	x := &xlsbBook{ctx: ctx, d: d, bud: b, formats: map[uint16]string{}, isDate: map[uint16]int8{}}
	main := "xl/workbook.bin"
	if rels, err := d.relationships(""); err == nil {
		for _, r := range rels {
			if strings.HasSuffix(r.typ, "/officeDocument") && d.has(r.target) {
				main = r.target
			}
		}
	}
	if !d.has(main) {
		return nil, fmt.Errorf("%w: an XLSB package without its workbook part (%s)", ErrCorrupt, main)
	}
	rels, err := d.relationships(main)
	if err != nil {
		return nil, err
	}
	sheets, err := x.workbook(main, rels)
	if err != nil {
		return nil, err
	}
	res := &Result{Meta: map[string]string{}}
	if err := d.coreProperties(res); err != nil {
		return nil, err
	}
	for _, r := range rels {
		switch {
		case strings.HasSuffix(r.typ, "/sharedStrings") && d.has(r.target):
			if err := x.sharedStrings(r.target); err != nil {
				return nil, err
			}
		case strings.HasSuffix(r.typ, "/styles") && d.has(r.target):
			if err := x.styles(r.target); err != nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %v", r.target, err))
			}
		}
	}
	if lim := b.lim.MaxPages; lim > 0 && len(sheets) > lim {
		return nil, &LimitError{Limit: "pages", Max: int64(lim), Got: int64(len(sheets))}
	}
	names := make([]string, len(sheets))
	for i, sh := range sheets {
		names[i] = sh.name
	}
	// As the XLS reader: the sheets' names in Meta, a page of cells each.
	res.Meta["sheets"] = strings.Join(names, "\n")
	for i, sh := range sheets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := Page{Number: i + 1}
		switch {
		case b.full():
		case !d.has(sh.part):
			res.Warnings = append(res.Warnings, fmt.Sprintf("sheet %q: its part %s is missing", sh.name, sh.part))
		default:
			text, err := x.sheetText(sh)
			if err != nil {
				if ctx.Err() != nil || isLimit(err) {
					return nil, err
				}
				res.Warnings = append(res.Warnings, fmt.Sprintf("sheet %q: %v", sh.name, err))
			}
			p.Text = text
		}
		res.Pages = append(res.Pages, p)
	}
	return res, nil
}

// part reads a whole part: BIFF12 records are read from memory, and a part
// expands to no more than xlsbPartMax nor what is left of the
// decompression limit (the counted reader enforces that).
func (x *xlsbBook) part(name string) ([]byte, error) {
	rc, err := x.d.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, xlsbPartMax+1))
	if err != nil {
		return nil, x.d.fail(name, err)
	}
	if len(b) > xlsbPartMax {
		return nil, fmt.Errorf("%w: %s expands past %d MiB", ErrCorrupt, name, xlsbPartMax>>20)
	}
	return b, nil
}

// workbook reads the sheets, in the workbook's order, and the date system.
func (x *xlsbBook) workbook(name string, rels map[string]rel) ([]xlsbSheet, error) {
	data, err := x.part(name)
	if err != nil {
		return nil, err
	}
	var sheets []xlsbSheet
	r := xlsbRecords{b: data}
	for {
		typ, d, ok := r.next()
		if !ok {
			break
		}
		switch typ {
		case brtWbProp:
			if len(d) >= 4 {
				x.date1904 = binary.LittleEndian.Uint32(d)&1 != 0
			}
		case brtBundleSh:
			if len(d) < 8 {
				continue
			}
			relID, rest, ok := xlsbString(d[8:])
			if !ok {
				continue
			}
			sheetName, _, ok := xlsbString(rest)
			if !ok {
				continue
			}
			rl, found := rels[relID]
			if !found {
				continue
			}
			if len(sheets) >= xlsbSheetsMax {
				return nil, fmt.Errorf("%w: %s lists more than %d sheets", ErrCorrupt, name, xlsbSheetsMax)
			}
			sheets = append(sheets, xlsbSheet{name: sheetName, part: rl.target})
		}
	}
	if r.err != nil && len(sheets) == 0 {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, r.err)
	}
	if len(sheets) == 0 {
		return nil, fmt.Errorf("%w: %s lists no sheets", ErrCorrupt, name)
	}
	return sheets, nil
}

// sharedStrings reads the shared string table. Each string is kept within
// what is left of the text budget: strings past it could not be written.
func (x *xlsbBook) sharedStrings(name string) error {
	data, err := x.part(name)
	if err != nil {
		return err
	}
	room := x.bud.left()
	r := xlsbRecords{b: data}
	for n := 0; ; n++ {
		if n%4096 == 0 && x.ctx.Err() != nil {
			return x.ctx.Err()
		}
		typ, d, ok := r.next()
		if !ok {
			break
		}
		if typ != brtSSTItem || len(d) < 1 {
			continue
		}
		// A RichStr: flags, then the string (runs and phonetics after it
		// are formatting).
		s, _, ok := xlsbString(d[1:])
		if !ok {
			s = ""
		}
		if room >= 0 {
			if int64(len(s)) > room {
				s = strings.Clone(cutUTF8(s, int(max(room, 0))))
			}
			room -= int64(len(s))
		}
		x.strings = append(x.strings, s)
	}
	if r.err != nil && len(x.strings) == 0 {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, name, r.err)
	}
	return nil
}

// styles reads the number format of each cell format (XF), and the
// workbook's own number formats.
func (x *xlsbBook) styles(name string) error {
	data, err := x.part(name)
	if err != nil {
		return err
	}
	r := xlsbRecords{b: data}
	inCellXFs := false
	for {
		typ, d, ok := r.next()
		if !ok {
			break
		}
		switch typ {
		case brtFmt:
			if len(d) >= 2 {
				if f, _, ok := xlsbString(d[2:]); ok {
					x.formats[binary.LittleEndian.Uint16(d)] = f
				}
			}
		case brtBeginCellXFs:
			inCellXFs = true
		case brtEndCellXFs:
			inCellXFs = false
		case brtXF:
			if inCellXFs && len(d) >= 4 && len(x.xfFmt) < 1<<16 {
				x.xfFmt = append(x.xfFmt, binary.LittleEndian.Uint16(d[2:]))
			}
		}
	}
	if r.err != nil {
		return r.err
	}
	return nil
}

// dateKind says whether number format ifmt shows a date, a time or both:
// the built-in formats as in XLS, the workbook's own by their codes.
func (x *xlsbBook) dateKind(ifmt uint16) int8 {
	xb := xlsBook{formats: x.formats, isDate: x.isDate}
	return xb.dateKind(ifmt)
}

// number appends the text of a number shown in cell format ixfe.
func (x *xlsbBook) number(dst []byte, v float64, ixfe uint32) []byte {
	if int64(ixfe) < int64(len(x.xfFmt)) {
		if kind := x.dateKind(x.xfFmt[ixfe]); kind != 0 {
			if s, ok := excelDate(v, x.date1904, kind); ok {
				return append(dst, s...)
			}
		}
	}
	return appendExactNumber(dst, v)
}

// sheetText returns a sheet's cells: rows on lines, cells after tabs that
// keep their columns.
func (x *xlsbBook) sheetText(sh xlsbSheet) (string, error) {
	data, err := x.part(sh.part)
	if err != nil {
		return "", err
	}
	le := binary.LittleEndian
	arena := textSink{bud: x.bud, scratch: true}
	var (
		cells []xlsCell
		buf   []byte
		row   uint32
	)
	add := func(col uint32, text []byte) {
		if len(text) == 0 {
			return
		}
		from := arena.Len()
		if !arena.write(text) {
			return
		}
		cells = append(cells, xlsCell{row: row, col: uint16(min(col, math.MaxUint16)), from: int32(from), to: int32(arena.Len())})
	}
	r := xlsbRecords{b: data}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := x.ctx.Err(); err != nil {
				return "", err
			}
			if x.bud.full() {
				break
			}
		}
		typ, d, ok := r.next()
		if !ok {
			break
		}
		if typ == brtRowHdr {
			if len(d) >= 4 {
				row = le.Uint32(d)
			}
			continue
		}
		if typ < brtCellBlank || typ > brtFmlaError || len(d) < 8 {
			continue
		}
		// A Cell: the column, then the style (24 bits) and flags.
		col, ixfe, v := le.Uint32(d), le.Uint32(d[4:])&0xFFFFFF, d[8:]
		switch typ {
		case brtCellRk:
			if len(v) >= 4 {
				add(col, x.number(buf[:0], rkValue(le.Uint32(v)), ixfe))
			}
		case brtCellReal, brtFmlaNum:
			if len(v) >= 8 {
				add(col, x.number(buf[:0], math.Float64frombits(le.Uint64(v)), ixfe))
			}
		case brtCellIsst:
			if len(v) >= 4 {
				if i := le.Uint32(v); int64(i) < int64(len(x.strings)) {
					add(col, []byte(x.strings[i]))
				}
			}
		case brtCellSt, brtFmlaString:
			if s, _, ok := xlsbString(v); ok {
				add(col, []byte(s))
			}
		case brtCellBool, brtFmlaBool:
			if len(v) >= 1 {
				add(col, boolErr(v[0], false))
			}
		case brtCellError, brtFmlaError:
			if len(v) >= 1 {
				add(col, boolErr(v[0], true))
			}
		}
	}
	if r.err != nil && len(cells) == 0 && !x.bud.full() {
		return "", fmt.Errorf("%w: %s: %v", ErrCorrupt, sh.part, r.err)
	}
	return cellsText(x.bud, cells, arena.String()), nil
}

// isLimit reports a LimitError, which ends the document rather than a part.
func isLimit(err error) bool {
	var le *LimitError
	return errors.As(err, &le)
}

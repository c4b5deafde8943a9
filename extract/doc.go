package extract

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

func init() {
	register(&format{name: "doc", types: []string{typeDOC}, extract: extractDOC})
}

// Word 97–2003 documents ([MS-DOC]). The text of every story lives in the
// WordDocument stream, in pieces listed by the piece table (the CLX, in the
// 0Table or 1Table stream): each piece is a run of character positions
// stored either as windows-1252 bytes ("compressed") or as UTF-16. The
// stories follow one another in character positions: the main text, then
// footnotes, headers and footers, macros, comments, endnotes and text boxes,
// their lengths given by the FIB. Field instructions (between the field's
// begin and separator marks) are dropped and its result kept; Word's control
// characters become tabs and line breaks.

// docStories are the stories of a Word document in the order of their
// character positions, by the index of their length in the FIB's
// FibRgLw97, and whether and where their text is written out.
var docStories = []struct {
	name  string
	lw    int
	order int // place in the output; -1: not written
}{
	{"main text", 3, 0},
	{"footnotes", 4, 2},
	{"headers and footers", 5, 1},
	{"macros", 6, -1},
	{"comments", 7, 4},
	{"endnotes", 8, 3},
	{"text boxes", 9, 5},
	{"header text boxes", 10, 6},
}

func extractDOC(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	r, err := openCFB(in.Data)
	if err != nil {
		return nil, err
	}
	return readDOC(ctx, r, b)
}

// docPiece is one entry of the piece table: character positions
// [cp, cpEnd) stored at byte offset fc of the WordDocument stream.
type docPiece struct {
	cp, cpEnd  int64
	fc         int64
	compressed bool
}

func readDOC(ctx context.Context, r *cfbReader, b *budget) (*Result, error) {
	wd, ok, err := r.stream("WordDocument")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no WordDocument stream", ErrCorrupt)
	}
	le := binary.LittleEndian
	if len(wd) < 32 || le.Uint16(wd) != 0xA5EC {
		return nil, fmt.Errorf("%w: no Word file information block", ErrCorrupt)
	}
	nFib := le.Uint16(wd[2:])
	flags := le.Uint16(wd[10:])
	if flags&0x0100 != 0 || flags&0x8000 != 0 { // fEncrypted, fObfuscated
		return nil, fmt.Errorf("%w: password-protected Word document", ErrEncrypted)
	}
	res := &Result{Meta: map[string]string{}}
	r.summary().apply(res)

	var pieces []docPiece
	var ccp [11]int64
	if nFib < 0x6A {
		// Word 6.0 and 95 (nFib 101 to 105): a FIB of fixed layout, text
		// in 8-bit pieces; only the main text is read.
		if pieces, ccp, err = word95Pieces(wd); err != nil {
			return nil, err
		}
		res.Meta["format"] = "Word 6.0/95"
	} else {
		if pieces, ccp, err = word97Pieces(r, wd, flags); err != nil {
			return nil, err
		}
	}

	texts := make([]string, len(docStories))
	var cp int64
	// Every character comes from a byte or two of the WordDocument
	// stream: pieces that claim more (overlapping, repeated) are read no
	// further than that.
	left := int64(len(wd))
	for _, st := range docStories {
		n := ccp[st.lw]
		lo, hi := cp, cp+n
		cp = hi
		if n <= 0 || st.order < 0 || b.full() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		texts[st.order] = docStoryText(wd, pieces, lo, hi, b, &left)
	}
	res.Text = joinStories(texts)
	return res, nil
}

// joinStories joins the non-empty texts with blank lines.
func joinStories(texts []string) string {
	var out []string
	for _, t := range texts {
		if t != "" {
			out = append(out, t)
		}
	}
	return strings.Join(out, "\n\n")
}

// word97Pieces reads the FIB of Word 97 and later and the piece table it
// points to.
func word97Pieces(r *cfbReader, wd []byte, flags uint16) ([]docPiece, [11]int64, error) {
	le := binary.LittleEndian
	var ccp [11]int64
	// FibBase (32 bytes), then three arrays, each after its count.
	pos := 32
	u16 := func(at int) (int, bool) {
		if at+2 > len(wd) {
			return 0, false
		}
		return int(le.Uint16(wd[at:])), true
	}
	csw, ok := u16(pos)
	pos += 2 + 2*csw
	cslw, ok2 := u16(pos)
	lw := pos + 2
	pos = lw + 4*cslw
	cbRgFcLcb, ok3 := u16(pos)
	fcLcb := pos + 2
	if !ok || !ok2 || !ok3 || cslw < 11 || cbRgFcLcb < 34 || fcLcb+8*cbRgFcLcb > len(wd) {
		return nil, ccp, fmt.Errorf("%w: Word file information block is cut short", ErrCorrupt)
	}
	for i := range ccp {
		ccp[i] = int64(int32(le.Uint32(wd[lw+4*i:])))
	}
	fcClx := int64(le.Uint32(wd[fcLcb+33*8:]))
	lcbClx := int64(le.Uint32(wd[fcLcb+33*8+4:]))
	table := "0Table"
	if flags&0x0200 != 0 {
		table = "1Table"
	}
	tbl, ok, err := r.stream(table)
	if err != nil {
		return nil, ccp, err
	}
	if !ok || lcbClx == 0 {
		// No piece table: one piece of 8-bit text from fcMin.
		fcMin := int64(le.Uint32(wd[24:]))
		return []docPiece{{cp: 0, cpEnd: ccpTotal(ccp), fc: fcMin, compressed: true}}, ccp, nil
	}
	if fcClx+lcbClx > int64(len(tbl)) {
		return nil, ccp, fmt.Errorf("%w: piece table outside the %s stream", ErrCorrupt, table)
	}
	pieces, err := parseCLX(tbl[fcClx:fcClx+lcbClx], true)
	return pieces, ccp, err
}

// word95Pieces reads the FIB of Word 6.0 and 95.
func word95Pieces(wd []byte) ([]docPiece, [11]int64, error) {
	le := binary.LittleEndian
	var ccp [11]int64
	if len(wd) < 0x168 {
		return nil, ccp, fmt.Errorf("%w: Word file information block is cut short", ErrCorrupt)
	}
	ccp[3] = int64(int32(le.Uint32(wd[0x34:]))) // ccpText; the other stories are not read
	fcMin := int64(le.Uint32(wd[0x18:]))
	flags := le.Uint16(wd[10:])
	fcClx, lcbClx := int64(le.Uint32(wd[0x160:])), int64(le.Uint32(wd[0x164:]))
	if flags&0x0004 == 0 || lcbClx == 0 { // not fComplex: the text in one run
		return []docPiece{{cp: 0, cpEnd: ccp[3], fc: fcMin, compressed: true}}, ccp, nil
	}
	if fcClx+lcbClx > int64(len(wd)) {
		return nil, ccp, fmt.Errorf("%w: piece table outside the WordDocument stream", ErrCorrupt)
	}
	pieces, err := parseCLX(wd[fcClx:fcClx+lcbClx], false)
	return pieces, ccp, err
}

func ccpTotal(ccp [11]int64) int64 {
	var n int64
	for _, st := range docStories {
		n += max(ccp[st.lw], 0)
	}
	return n
}

// parseCLX reads the piece table out of a CLX: formatting entries (Prc),
// skipped, then the table (Pcdt). In Word 97 and later a piece's offset
// marks 8-bit text with bit 30; in Word 95 all text is 8-bit.
func parseCLX(clx []byte, unicode bool) ([]docPiece, error) {
	le := binary.LittleEndian
	for i := 0; i < len(clx); {
		switch clx[i] {
		case 1: // Prc: a property modifier, skipped
			if i+3 > len(clx) {
				return nil, fmt.Errorf("%w: piece table cut short", ErrCorrupt)
			}
			i += 3 + int(le.Uint16(clx[i+1:]))
		case 2: // Pcdt: the piece table
			if i+5 > len(clx) {
				return nil, fmt.Errorf("%w: piece table cut short", ErrCorrupt)
			}
			lcb := int64(le.Uint32(clx[i+1:]))
			plc := clx[i+5:]
			if lcb < int64(len(plc)) {
				plc = plc[:lcb]
			}
			n := (len(plc) - 4) / 12
			if n <= 0 {
				return nil, fmt.Errorf("%w: empty piece table", ErrCorrupt)
			}
			pieces := make([]docPiece, 0, n)
			for k := range n {
				cp, cpEnd := int64(le.Uint32(plc[4*k:])), int64(le.Uint32(plc[4*k+4:]))
				pcd := plc[4*(n+1)+8*k:]
				fc := int64(le.Uint32(pcd[2:]))
				p := docPiece{cp: cp, cpEnd: cpEnd, fc: fc, compressed: !unicode}
				if unicode && fc&0x40000000 != 0 {
					p.compressed = true
					p.fc = (fc &^ 0x40000000) / 2
				}
				// Pieces follow one another; one that goes back over
				// another's positions is not read.
				if cpEnd > cp && (len(pieces) == 0 || cp >= pieces[len(pieces)-1].cpEnd) {
					pieces = append(pieces, p)
				}
			}
			return pieces, nil
		default:
			return nil, fmt.Errorf("%w: piece table entry of unknown kind %d", ErrCorrupt, clx[i])
		}
	}
	return nil, fmt.Errorf("%w: no piece table", ErrCorrupt)
}

// docStoryText returns the text of character positions [lo, hi).
func docStoryText(wd []byte, pieces []docPiece, lo, hi int64, b *budget, left *int64) string {
	t := docWriter{w: lineWriter{b: textSink{bud: b}}}
	for _, p := range pieces {
		if p.cpEnd <= lo || p.cp >= hi {
			continue
		}
		if b.full() || *left <= 0 {
			break
		}
		from, to := max(p.cp, lo)-p.cp, min(p.cpEnd, hi)-p.cp
		to = min(to, from+*left)
		*left -= to - from
		if p.compressed {
			start, end := p.fc+from, p.fc+to
			if start >= int64(len(wd)) || start < 0 {
				continue
			}
			for _, c := range wd[start:min(end, int64(len(wd)))] {
				t.char(cp1252[c])
			}
		} else {
			start, end := p.fc+2*from, p.fc+2*to
			if start >= int64(len(wd)) || start < 0 {
				continue
			}
			s := wd[start:min(end, int64(len(wd)))]
			for i := 0; i+1 < len(s); i += 2 {
				t.unit(uint16(s[i]) | uint16(s[i+1])<<8)
			}
		}
	}
	t.flush()
	return t.w.String()
}

// docWriter turns Word's characters into text.
type docWriter struct {
	w   lineWriter
	buf []byte
	// fields holds, for each open field, whether its result has begun;
	// instr counts those still in their instruction, whose text is dropped.
	fields    []bool
	instr     int
	deep      int  // fields opened past maxFieldDepth
	cell      bool // the last character was a table cell mark
	surrogate uint16
}

const maxFieldDepth = 64

// unit takes one UTF-16 code unit.
func (t *docWriter) unit(u uint16) {
	if t.surrogate != 0 {
		hi := t.surrogate
		t.surrogate = 0
		if u >= 0xDC00 && u < 0xE000 {
			t.char((rune(hi)-0xD800)<<10 + (rune(u) - 0xDC00) + 0x10000)
			return
		}
		t.char(utf8.RuneError)
	}
	if u >= 0xD800 && u < 0xDC00 {
		t.surrogate = u
		return
	}
	t.char(rune(u))
}

func (t *docWriter) char(c rune) {
	if c >= 0x20 && c != 0xFEFF {
		if t.instr == 0 {
			t.cell = false
			t.buf = utf8.AppendRune(t.buf, c)
			if len(t.buf) >= 4096 {
				t.flush()
			}
		}
		return
	}
	switch c {
	case 0x13: // field begin
		if len(t.fields) >= maxFieldDepth {
			t.deep++
			return
		}
		t.fields = append(t.fields, false)
		t.instr++
		return
	case 0x14: // field separator: the result follows
		if t.deep == 0 && len(t.fields) > 0 && !t.fields[len(t.fields)-1] {
			t.fields[len(t.fields)-1] = true
			t.instr--
		}
		return
	case 0x15: // field end
		if t.deep > 0 {
			t.deep--
			return
		}
		if n := len(t.fields); n > 0 {
			if !t.fields[n-1] {
				t.instr--
			}
			t.fields = t.fields[:n-1]
		}
		return
	}
	if t.instr > 0 {
		return
	}
	switch c {
	case 0x07: // the end of a table cell; a second one ends the row
		t.flush()
		if t.cell {
			t.w.endRow()
			t.cell = false
		} else {
			t.w.writeByte('\t')
			t.cell = true
		}
		return
	case 0x0D, 0x0B, 0x0C, 0x0E: // paragraph, line, page or section, column break
		t.flush()
		t.w.writeByte('\n')
	case 0x09:
		t.flush()
		t.w.writeByte('\t')
	case 0x1E: // non-breaking hyphen
		t.buf = append(t.buf, '-')
	}
	// Other control characters (pictures, note references, separators,
	// the soft hyphen 0x1F) are not text.
	t.cell = false
}

func (t *docWriter) flush() {
	if len(t.buf) > 0 {
		t.w.write(t.buf)
		t.buf = t.buf[:0]
	}
}

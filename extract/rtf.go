package extract

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// RTF is read by a tokenizer that walks the document once, byte by byte,
// keeping a stack of group states (destination, font, \uc, hidden) and
// writing text as it goes: a 100 MB file, mostly pictures, is never held as
// tokens, and its pictures are skipped by a scan that only counts braces.
//
// What becomes text:
//   - the body, paragraphs and lines on lines of their own, table cells
//     separated by tabs, rows on lines; hidden (\v) and deleted (\deleted)
//     text left out; of a field, its result (\fldrslt), not its code;
//   - then footnotes and endnotes, then headers and footers, each part
//     after a blank line, as the DOCX reader places notes: a note in the
//     middle of a sentence would break it, and a header repeats on every
//     page;
//   - text boxes (\shptxt) and the results of embedded objects in place.
//
// \info gives the title, author, creation time and a few more facts;
// the other destinations (font and colour tables, style sheets, pictures,
// object data, themes, \* groups of any kind) are skipped. Bytes (\'hh and
// raw ones) are decoded in the code page of the current font (\fcharset,
// \cpg in the font table) or of the document (\ansicpg), double-byte
// characters joined first; \uN escapes are read with their \ucN fallback
// skipped. An RTF that encapsulates HTML (\fromhtml1, as Outlook writes
// it) is turned back into its HTML, which the HTML reader lays out.

// MIME types of RTF: mimetype names it text/rtf, and application/rtf is
// what mail clients and web servers send.
const (
	typeRTF    = "text/rtf"
	typeRTFApp = "application/rtf"
)

func init() {
	register(&format{name: "rtf", types: []string{typeRTF, typeRTFApp}, extract: extractRTF})
}

// rtfSignature starts every RTF document.
var rtfSignature = []byte(`{\rtf`)

// isRTF reports whether data starts like an RTF document, after a byte
// order mark or white space that some writers put first.
func isRTF(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(head(data, 1024), utf8BOM), " \t\r\n"), rtfSignature)
}

func extractRTF(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	data := bytes.TrimLeft(bytes.TrimPrefix(in.Data, utf8BOM), " \t\r\n")
	if !bytes.HasPrefix(data, rtfSignature) {
		return nil, fmt.Errorf("%w: no RTF header ({\\rtf)", ErrCorrupt)
	}
	doc, err := readRTF(ctx, data, b)
	if err != nil {
		return nil, err
	}
	res := &Result{Meta: doc.meta, Title: doc.title, Author: doc.author, Created: doc.created}
	res.Text = doc.text
	return res, nil
}

// rtfDoc is what an RTF document holds.
type rtfDoc struct {
	text          string
	title, author string
	created       time.Time
	meta          map[string]string
	// html reports an RTF encapsulating HTML.
	html bool
}

// readRTF reads an RTF document (data starts with "{\rtf") within b.
func readRTF(ctx context.Context, data []byte, b *budget) (*rtfDoc, error) {
	p := newRTFParser(data, b)
	if err := p.run(ctx); err != nil {
		return nil, err
	}
	p.flush()
	doc := &rtfDoc{meta: map[string]string{}, html: p.fromHTML}
	body := p.body.String()
	if p.fromHTML {
		h, err := htmlText(ctx, p.html.String(), b)
		if err != nil {
			return nil, err
		}
		body = joinParts(b, body, h.text)
		if h.lang != "" {
			doc.meta["lang"] = h.lang
		}
		if doc.title == "" {
			doc.title = h.title
		}
	}
	doc.text = joinParts(b, body, p.notes.String(), p.heads.String())
	for i, f := range rtfInfoFields {
		v := collapseSpace(p.info[i].String())
		if v == "" {
			continue
		}
		switch f {
		case "title":
			doc.title = v
		case "author":
			doc.author = v
		default:
			doc.meta[f] = v
		}
	}
	if t, ok := p.times[0].time(); ok {
		doc.created = t
	}
	if t, ok := p.times[1].time(); ok {
		doc.meta["modified"] = t.Format(time.RFC3339)
	}
	return doc, nil
}

// joinParts joins the non-empty parts of a text by blank lines, drawn on b.
func joinParts(b *budget, parts ...string) string {
	var out []string
	for _, s := range parts {
		if s == "" {
			continue
		}
		if len(out) > 0 && b.take(2) < 2 {
			break
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n\n")
}

// Limits of the parser, against hostile files.
const (
	// rtfMaxDepth is the deepest group given a state of its own; Word
	// nests a few dozen deep. Deeper groups share their parent's state.
	rtfMaxDepth = 1024
	// rtfMaxFonts bounds the font table.
	rtfMaxFonts = 4096
	// rtfMaxUC bounds \ucN: real files use 0 to 2.
	rtfMaxUC = 16
	// rtfPendingMax is the most bytes held before decoding them.
	rtfPendingMax = 4 << 10
)

// rtfTarget is where a group's text goes.
type rtfTarget uint8

const (
	tgtSkip    rtfTarget = iota // nowhere: the group is skipped unread
	tgtBody                     // the document's text (or its HTML)
	tgtNotes                    // footnotes and endnotes
	tgtHeads                    // headers and footers
	tgtFonts                    // the font table: read for code pages
	tgtDrop                     // read for its groups, its text dropped (\info)
	tgtInfo                     // an \info field (state.field)
	tgtTime                     // an \info time (state.field)
	tgtHTMLTag                  // an \*\htmltag group of encapsulated HTML
)

// rtfState is a group's state, restored when the group ends.
type rtfState struct {
	target  rtfTarget
	field   uint8 // \info field or time index
	uc      uint8 // \ucN: bytes of fallback after a \uN
	hidden  bool  // \v or \deleted
	htmlrtf bool  // \htmlrtf: RTF-only content of encapsulated HTML
	font    int32 // \fN
}

// rtfFont is an entry of the font table.
type rtfFont struct {
	charset int32 // \fcharsetN, -1 when unset
	cpg     int32 // \cpgN, 0 when unset
}

// rtfTime is an \info time being read.
type rtfTime struct {
	yr, mo, dy, hr, min, sec int32
}

func (t rtfTime) time() (time.Time, bool) {
	if t.yr < 1 || t.yr > 9999 || t.mo < 1 || t.mo > 12 || t.dy < 1 || t.dy > 31 ||
		t.hr < 0 || t.hr > 23 || t.min < 0 || t.min > 59 || t.sec < 0 || t.sec > 59 {
		return time.Time{}, false
	}
	return time.Date(int(t.yr), time.Month(t.mo), int(t.dy), int(t.hr), int(t.min), int(t.sec), 0, time.UTC), true
}

// rtfInfoFields are the \info fields kept, by index.
var rtfInfoFields = []string{"title", "author", "subject", "keywords", "company", "category", "manager", "comments"}

// rtfParser reads one document.
type rtfParser struct {
	data []byte
	pos  int
	bud  *budget

	st       rtfState
	stack    []rtfState
	overflow int  // groups past rtfMaxDepth, sharing st
	skip     int  // fallback bytes of a \uN still to skip
	starred  bool // a \* was read: an unknown destination follows
	done     bool

	fonts    map[int32]rtfFont
	curFont  int32 // the font being defined in the font table
	deff     int32
	docCP    int
	fromHTML bool
	hiSur    rune // a high surrogate waiting for its low half

	// pending holds bytes to decode together in code page pendCP, for
	// pendTarget: a double-byte character may be written as two \'hh.
	pending    []byte
	pendCP     int
	pendTarget rtfTarget
	pendField  uint8

	body, notes, heads rtfWriter
	html               strings.Builder
	htmlMax            int
	info               [8]strings.Builder
	times              [2]rtfTime
}

func newRTFParser(data []byte, b *budget) *rtfParser {
	p := &rtfParser{
		data:    data,
		bud:     b,
		st:      rtfState{target: tgtBody, uc: 1},
		fonts:   map[int32]rtfFont{},
		docCP:   1252,
		htmlMax: -1,
		body:    rtfWriter{s: textSink{bud: b}},
		notes:   rtfWriter{s: textSink{bud: b}},
		heads:   rtfWriter{s: textSink{bud: b}},
	}
	// The HTML recovered is markup around the text it yields; it is held
	// up to a multiple of the text budget.
	if m := b.lim.MaxText; m >= 0 {
		p.htmlMax = int(min(8*m+1<<20, int64(len(data))+1<<20))
	}
	return p
}

func (p *rtfParser) run(ctx context.Context) error {
	data := p.data
	for n := 0; p.pos < len(data) && !p.done; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if p.bud.full() {
				return nil
			}
		}
		switch c := data[p.pos]; c {
		case '{':
			p.pos++
			p.push()
		case '}':
			p.pos++
			p.pop()
		case '\\':
			p.control()
		case '\r', '\n':
			p.pos++
		default:
			p.textRun()
		}
	}
	return nil
}

// push opens a group.
func (p *rtfParser) push() {
	p.skip = 0
	p.starred = false
	if len(p.stack) >= rtfMaxDepth {
		p.overflow++
		return
	}
	p.stack = append(p.stack, p.st)
}

// pop closes a group; closing the outermost one ends the document.
func (p *rtfParser) pop() {
	p.skip = 0
	p.starred = false
	if p.overflow > 0 {
		p.overflow--
		return
	}
	if len(p.stack) == 0 {
		p.done = true
		return
	}
	p.st = p.stack[len(p.stack)-1]
	p.stack = p.stack[:len(p.stack)-1]
	if len(p.stack) == 0 {
		// The document's group is closed: what follows (NULs, a
		// second copy) is not part of it.
		p.done = true
	}
}

// skipGroup skips the rest of the current group, unread: it only counts
// braces, and steps over \bin data, which may hold any byte.
func (p *rtfParser) skipGroup() {
	data := p.data
	depth := 1
	for p.pos < len(data) {
		i := bytes.IndexAny(data[p.pos:], `{}\`)
		if i < 0 {
			p.pos = len(data)
			break
		}
		p.pos += i
		switch data[p.pos] {
		case '{':
			depth++
			p.pos++
		case '}':
			depth--
			p.pos++
			if depth == 0 {
				p.pop()
				return
			}
		case '\\':
			p.pos++
			if p.pos < len(data) && isASCIILetter(data[p.pos]) {
				name, param, hasParam := p.word()
				if string(name) == "bin" && hasParam {
					p.skipBin(param)
				}
			} else {
				p.pos++
			}
		}
	}
	p.pop()
}

// skipBin steps over n bytes of \bin data.
func (p *rtfParser) skipBin(n int64) {
	if n <= 0 {
		return
	}
	if left := int64(len(p.data) - p.pos); n > left {
		n = left
	}
	p.pos += int(n)
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// word reads a control word after its backslash: its letters, a numeric
// parameter and the space that may end it.
func (p *rtfParser) word() (name []byte, param int64, hasParam bool) {
	data := p.data
	start := p.pos
	for p.pos < len(data) && isASCIILetter(data[p.pos]) {
		p.pos++
	}
	name = data[start:p.pos]
	neg := false
	if p.pos < len(data) && data[p.pos] == '-' && p.pos+1 < len(data) && data[p.pos+1] >= '0' && data[p.pos+1] <= '9' {
		neg = true
		p.pos++
	}
	for p.pos < len(data) && data[p.pos] >= '0' && data[p.pos] <= '9' {
		hasParam = true
		if param < 1<<40 {
			param = param*10 + int64(data[p.pos]-'0')
		}
		p.pos++
	}
	if neg {
		param = -param
	}
	if p.pos < len(data) && data[p.pos] == ' ' {
		p.pos++
	}
	return name, param, hasParam
}

// control reads a control word or symbol.
func (p *rtfParser) control() {
	data := p.data
	p.pos++ // the backslash
	if p.pos >= len(data) {
		return
	}
	c := data[p.pos]
	if !isASCIILetter(c) {
		p.pos++
		p.symbol(c)
		return
	}
	name, param, hasParam := p.word()
	if p.skip > 0 {
		p.skip--
		if string(name) == "bin" && hasParam {
			p.skipBin(param)
		}
		return
	}
	w, known := rtfWords[string(name)]
	if p.starred {
		p.starred = false
		if !known || w.kind != kTransparent && w.kind != kHTMLTag && w.kind != kNotes {
			p.skipGroup()
			return
		}
	}
	p.word1(w, param, hasParam)
}

// symbol handles a control symbol: a backslash and one character.
func (p *rtfParser) symbol(c byte) {
	if c == '\'' {
		// A byte in hex, decoded with its neighbours.
		data := p.data
		if p.pos+1 < len(data) {
			hi, ok1 := unhex(data[p.pos])
			lo, ok2 := unhex(data[p.pos+1])
			if ok1 && ok2 {
				p.pos += 2
				if p.skip > 0 {
					p.skip--
					return
				}
				p.appendByte(hi<<4 | lo)
				return
			}
		}
		return
	}
	if p.skip > 0 {
		p.skip--
		return
	}
	switch c {
	case '*':
		p.starred = true
	case '\\', '{', '}':
		p.appendByte(c)
	case '~':
		p.emit("\u00a0")
	case '_':
		p.emit("-")
	case '-': // an optional hyphen
	case '\r', '\n':
		p.brk(kPar)
	case '\t':
		p.brk(kTab)
	}
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// textRun reads the plain bytes up to the next special character.
func (p *rtfParser) textRun() {
	data := p.data
	end := p.pos
	for end < len(data) {
		c := data[end]
		if c == '\\' || c == '{' || c == '}' || c == '\r' || c == '\n' {
			break
		}
		end++
	}
	run := data[p.pos:end]
	p.pos = end
	p.starred = false
	if p.skip > 0 {
		if len(run) <= p.skip {
			p.skip -= len(run)
			return
		}
		run = run[p.skip:]
		p.skip = 0
	}
	for len(run) > 0 {
		i := 0
		for i < len(run) && run[i] >= 0x20 {
			i++
		}
		if i > 0 {
			p.appendBytes(run[:i])
			run = run[i:]
			continue
		}
		if run[0] == '\t' {
			p.brk(kTab)
		}
		run = run[1:]
	}
}

// visible reports whether text in the current state is kept, and where.
func (p *rtfParser) visible() bool {
	switch p.st.target {
	case tgtSkip, tgtFonts, tgtDrop:
		return false
	case tgtBody, tgtNotes, tgtHeads:
		if p.st.hidden || p.fromHTML && p.st.htmlrtf && p.st.target == tgtBody {
			return false
		}
	}
	return true
}

// appendByte queues a byte of text in the current code page.
func (p *rtfParser) appendByte(c byte) {
	if !p.visible() {
		return
	}
	p.queue()
	p.pending = append(p.pending, c)
}

func (p *rtfParser) appendBytes(b []byte) {
	if !p.visible() {
		return
	}
	p.queue()
	p.pending = append(p.pending, b...)
	if len(p.pending) > rtfPendingMax {
		p.decodePending(false)
	}
}

// queue readies pending for bytes of the current state.
func (p *rtfParser) queue() {
	cp := p.codePage()
	if len(p.pending) > 0 && (cp != p.pendCP || p.st.target != p.pendTarget || p.st.field != p.pendField) {
		p.flush()
	}
	p.pendCP, p.pendTarget, p.pendField = cp, p.st.target, p.st.field
	if p.hiSur != 0 {
		p.hiSur = 0
		p.out(p.pendTarget, p.pendField, "\uFFFD")
	}
}

// flush decodes what is pending.
func (p *rtfParser) flush() {
	if len(p.pending) > 0 {
		p.decodePending(true)
	}
}

// decodePending decodes the pending bytes; unless final, an incomplete
// double-byte character at the end stays pending.
func (p *rtfParser) decodePending(final bool) {
	src := p.pending
	e := rtfEncoding(p.pendCP)
	switch e := e.(type) {
	case nil:
		p.out(p.pendTarget, p.pendField, strings.ToValidUTF8(string(src), "\uFFFD"))
		p.pending = p.pending[:0]
		return
	case *charmap.Charmap:
		var sb strings.Builder
		sb.Grow(len(src))
		for _, c := range src {
			if c < utf8.RuneSelf {
				sb.WriteByte(c)
			} else {
				sb.WriteRune(e.DecodeByte(c))
			}
		}
		p.out(p.pendTarget, p.pendField, sb.String())
		p.pending = p.pending[:0]
		return
	}
	dec := e.NewDecoder()
	dst := make([]byte, 3*len(src)+16)
	nDst, nSrc, _ := dec.Transform(dst, src, final)
	if !final && nSrc == 0 && len(src) > 0 {
		// Nothing decodable: never hold bytes forever.
		nDst, nSrc, _ = dec.Transform(dst, src, true)
	}
	p.out(p.pendTarget, p.pendField, strings.ToValidUTF8(string(dst[:nDst]), "\uFFFD"))
	rest := copy(p.pending, src[nSrc:])
	p.pending = p.pending[:rest]
	if final && rest > 0 {
		p.out(p.pendTarget, p.pendField, "\uFFFD")
		p.pending = p.pending[:0]
	}
}

// codePage is the code page of the current font.
func (p *rtfParser) codePage() int {
	f, ok := p.fonts[p.st.font]
	if !ok {
		return p.docCP
	}
	if f.cpg > 0 {
		return int(f.cpg)
	}
	if cp, ok := rtfCharsets[f.charset]; ok {
		return cp
	}
	return p.docCP
}

// emit writes text that needs no decoding.
func (p *rtfParser) emit(s string) {
	if !p.visible() {
		return
	}
	p.flush()
	if p.hiSur != 0 {
		p.hiSur = 0
		s = "\uFFFD" + s
	}
	p.out(p.st.target, p.st.field, s)
}

// emitUnicode writes the character of a \uN.
func (p *rtfParser) emitUnicode(n int64) {
	if n < 0 {
		n += 65536
	}
	if n < 0 || n > 0xFFFF {
		return
	}
	r := rune(n)
	switch {
	case utf16.IsSurrogate(r) && r < 0xDC00:
		if !p.visible() {
			return
		}
		p.flush()
		if p.hiSur != 0 {
			p.out(p.st.target, p.st.field, "\uFFFD")
		}
		p.hiSur = r
		return
	case utf16.IsSurrogate(r):
		if p.hiSur != 0 {
			r = utf16.DecodeRune(p.hiSur, r)
			p.hiSur = 0
		} else {
			r = utf8.RuneError
		}
	case r == 0:
		return
	}
	var buf [4]byte
	p.emit(string(buf[:utf8.EncodeRune(buf[:], r)]))
}

// brk writes a break: a paragraph or line, a tab, a cell or a row.
func (p *rtfParser) brk(k rtfKind) {
	if !p.visible() {
		return
	}
	p.flush()
	t := p.st.target
	switch t {
	case tgtBody:
		if p.fromHTML {
			switch k {
			case kTab, kCell:
				p.out(t, 0, "\t")
			default:
				p.out(t, 0, "\n")
			}
			return
		}
	case tgtInfo:
		p.out(t, p.st.field, " ")
		return
	case tgtHTMLTag:
		if k == kTab {
			p.out(t, 0, "\t")
		} else {
			p.out(t, 0, "\n")
		}
		return
	}
	w := p.writer(t)
	if w == nil {
		return
	}
	switch k {
	case kTab, kCell:
		w.tab()
	default:
		w.newline()
	}
}

func (p *rtfParser) writer(t rtfTarget) *rtfWriter {
	switch t {
	case tgtBody:
		return &p.body
	case tgtNotes:
		return &p.notes
	case tgtHeads:
		return &p.heads
	}
	return nil
}

// out writes decoded text to a target.
func (p *rtfParser) out(t rtfTarget, field uint8, s string) {
	switch t {
	case tgtBody:
		if p.fromHTML {
			p.writeHTML(s)
			return
		}
		p.body.text(s)
	case tgtNotes:
		p.notes.text(s)
	case tgtHeads:
		p.heads.text(s)
	case tgtHTMLTag:
		p.writeHTML(s)
	case tgtInfo:
		if f := &p.info[field]; f.Len() < metaFieldMax {
			f.WriteString(cutUTF8(s, metaFieldMax-f.Len()))
		}
	}
}

func (p *rtfParser) writeHTML(s string) {
	if p.htmlMax >= 0 && p.html.Len()+len(s) > p.htmlMax {
		p.html.WriteString(cutUTF8(s, p.htmlMax-p.html.Len()))
		p.bud.markTruncated()
		p.done = true
		return
	}
	p.html.WriteString(s)
}

// rtfKind is what a control word does.
type rtfKind uint8

const (
	kIgnore      rtfKind = iota
	kTransparent         // a destination whose text is the group's own
	kSkip                // a destination skipped
	kChar                // a character (\emdash)
	kPar
	kTab
	kCell
	kRow
	kUnicode
	kUC
	kBin
	kFont
	kDeff
	kAnsicpg
	kCharsetDoc // \ansi, \mac, \pc, \pca
	kFcharset
	kCpg
	kHidden
	kDeleted
	kPlain
	kFromHTML
	kHTMLRTF
	kHTMLTag
	kFonttbl
	kInfo
	kInfoField
	kInfoTime
	kTimePart
	kNotes
	kHeads
	kFldinst
)

type rtfWord struct {
	kind rtfKind
	s    string // kChar: the character; kInfoField, kTimePart: which
	n    int    // kCharsetDoc: the code page; kInfoField, kInfoTime: the index
}

// rtfWords are the control words the parser acts on; all others are
// ignored (formatting), or skipped with their group after \*.
var rtfWords = map[string]rtfWord{
	"par": {kind: kPar}, "line": {kind: kPar}, "sect": {kind: kPar}, "page": {kind: kPar},
	"column": {kind: kPar}, "lbr": {kind: kPar},
	"tab": {kind: kTab}, "cell": {kind: kCell}, "nestcell": {kind: kCell},
	"row": {kind: kRow}, "nestrow": {kind: kRow},
	"emdash": {kind: kChar, s: "\u2014"}, "endash": {kind: kChar, s: "\u2013"},
	"bullet": {kind: kChar, s: "\u2022"}, "lquote": {kind: kChar, s: "\u2018"},
	"rquote": {kind: kChar, s: "\u2019"}, "ldblquote": {kind: kChar, s: "\u201C"},
	"rdblquote": {kind: kChar, s: "\u201D"}, "emspace": {kind: kChar, s: " "},
	"enspace": {kind: kChar, s: " "}, "qmspace": {kind: kChar, s: " "},
	"zwj": {kind: kChar, s: "\u200D"}, "zwnj": {kind: kChar, s: "\u200C"},
	"ltrmark": {kind: kIgnore}, "rtlmark": {kind: kIgnore},
	"u": {kind: kUnicode}, "uc": {kind: kUC}, "bin": {kind: kBin},
	"f": {kind: kFont}, "deff": {kind: kDeff}, "ansicpg": {kind: kAnsicpg},
	"ansi": {kind: kCharsetDoc, n: 1252}, "mac": {kind: kCharsetDoc, n: 10000},
	"pc": {kind: kCharsetDoc, n: 437}, "pca": {kind: kCharsetDoc, n: 850},
	"fcharset": {kind: kFcharset}, "cpg": {kind: kCpg},
	"v": {kind: kHidden}, "deleted": {kind: kDeleted}, "plain": {kind: kPlain},
	"fromhtml": {kind: kFromHTML}, "htmlrtf": {kind: kHTMLRTF}, "htmltag": {kind: kHTMLTag},
	"fonttbl": {kind: kFonttbl}, "info": {kind: kInfo},
	"title": {kind: kInfoField, n: 0}, "author": {kind: kInfoField, n: 1},
	"subject": {kind: kInfoField, n: 2}, "keywords": {kind: kInfoField, n: 3},
	"company": {kind: kInfoField, n: 4}, "category": {kind: kInfoField, n: 5},
	"manager": {kind: kInfoField, n: 6}, "doccomm": {kind: kInfoField, n: 7},
	"creatim": {kind: kInfoTime, n: 0}, "revtim": {kind: kInfoTime, n: 1},
	"printim": {kind: kSkip}, "buptim": {kind: kSkip},
	"yr": {kind: kTimePart, n: 0}, "mo": {kind: kTimePart, n: 1}, "dy": {kind: kTimePart, n: 2},
	"hr": {kind: kTimePart, n: 3}, "min": {kind: kTimePart, n: 4}, "sec": {kind: kTimePart, n: 5},
	"footnote": {kind: kNotes},
	"header":   {kind: kHeads}, "headerl": {kind: kHeads}, "headerr": {kind: kHeads}, "headerf": {kind: kHeads},
	"footer": {kind: kHeads}, "footerl": {kind: kHeads}, "footerr": {kind: kHeads}, "footerf": {kind: kHeads},
	"fldinst": {kind: kFldinst},
	// Destinations read as text in place, even after \*.
	"field": {kind: kTransparent}, "fldrslt": {kind: kTransparent}, "shpinst": {kind: kTransparent},
	"shptxt": {kind: kTransparent}, "result": {kind: kTransparent}, "object": {kind: kTransparent},
	"shp": {kind: kTransparent}, "shpgrp": {kind: kTransparent}, "listtext": {kind: kTransparent},
	"pntext": {kind: kTransparent}, "upr": {kind: kTransparent},
	// Destinations without text to read.
	"colortbl": {kind: kSkip}, "stylesheet": {kind: kSkip}, "pict": {kind: kSkip},
	"nonshppict": {kind: kSkip}, "shprslt": {kind: kSkip}, "objdata": {kind: kSkip},
	"objclass": {kind: kSkip}, "objname": {kind: kSkip}, "objalias": {kind: kSkip},
	"objsect": {kind: kSkip}, "objtime": {kind: kSkip}, "objitem": {kind: kSkip},
	"objtopic": {kind: kSkip}, "themedata": {kind: kSkip}, "colorschememapping": {kind: kSkip},
	"datastore": {kind: kSkip}, "xmlnstbl": {kind: kSkip}, "generator": {kind: kSkip},
	"listtable": {kind: kSkip}, "listoverridetable": {kind: kSkip}, "rsidtbl": {kind: kSkip},
	"revtbl": {kind: kSkip}, "filetbl": {kind: kSkip}, "latentstyles": {kind: kSkip},
	"pgdsctbl": {kind: kSkip}, "template": {kind: kSkip}, "docvar": {kind: kSkip},
	"userprops": {kind: kSkip}, "sp": {kind: kSkip}, "sn": {kind: kSkip}, "sv": {kind: kSkip},
	"xe": {kind: kSkip}, "tc": {kind: kSkip}, "tcn": {kind: kSkip}, "do": {kind: kSkip},
	"pn": {kind: kSkip}, "pntxta": {kind: kSkip}, "pntxtb": {kind: kSkip},
	"fchars": {kind: kSkip}, "lchars": {kind: kSkip}, "mmathPr": {kind: kSkip},
	"background": {kind: kSkip}, "ftnsep": {kind: kSkip}, "ftnsepc": {kind: kSkip},
	"aftnsep": {kind: kSkip}, "aftnsepc": {kind: kSkip}, "ftncn": {kind: kSkip},
	"aftncn": {kind: kSkip}, "annotation": {kind: kSkip}, "atnid": {kind: kSkip},
	"atnauthor": {kind: kSkip}, "panose": {kind: kSkip}, "falt": {kind: kSkip},
	"bkmkstart": {kind: kSkip}, "bkmkend": {kind: kSkip}, "blipuid": {kind: kSkip},
	"passwordhash": {kind: kSkip}, "protusertbl": {kind: kSkip}, "wgrffmtfilter": {kind: kSkip},
	"mhtmltag": {kind: kSkip}, "htmlbase": {kind: kSkip}, "operator": {kind: kSkip},
	"hlinkbase": {kind: kSkip}, "doccomm0": {kind: kSkip}, "nextfile": {kind: kSkip},
	"private": {kind: kSkip}, "ud": {kind: kSkip}, "fontemb": {kind: kSkip}, "fontfile": {kind: kSkip},
}

// word1 acts on a control word.
func (p *rtfParser) word1(w rtfWord, param int64, hasParam bool) {
	switch w.kind {
	case kIgnore:
	case kTransparent:
		if p.st.target == tgtFonts || p.st.target == tgtDrop {
			p.skipGroup()
		}
	case kSkip, kFldinst:
		p.skipGroup()
	case kChar:
		p.emit(w.s)
	case kPar, kTab, kCell, kRow:
		p.brk(w.kind)
	case kUnicode:
		p.emitUnicode(param)
		p.skip = int(p.st.uc)
	case kUC:
		p.st.uc = uint8(min(max(param, 0), rtfMaxUC))
	case kBin:
		p.skipBin(param)
	case kFont:
		if p.st.target == tgtFonts {
			if _, ok := p.fonts[int32(param)]; ok || len(p.fonts) < rtfMaxFonts {
				p.curFont = int32(param)
				if !ok {
					p.fonts[p.curFont] = rtfFont{charset: -1}
				}
			}
			return
		}
		p.st.font = int32(param)
	case kDeff:
		p.deff = int32(param)
		p.st.font = p.deff
	case kAnsicpg:
		if hasParam && param > 0 && param < 1<<20 {
			p.docCP = int(param)
		}
	case kCharsetDoc:
		p.docCP = w.n
	case kFcharset, kCpg:
		if p.st.target != tgtFonts {
			return
		}
		f, ok := p.fonts[p.curFont]
		if !ok {
			return
		}
		if w.kind == kFcharset {
			f.charset = int32(param)
		} else if param > 0 && param < 1<<20 {
			f.cpg = int32(param)
		}
		p.fonts[p.curFont] = f
	case kHidden:
		p.st.hidden = !hasParam || param != 0
	case kDeleted:
		p.st.hidden = !hasParam || param != 0
	case kPlain:
		p.st.hidden = false
		p.st.font = p.deff
	case kFromHTML:
		if !hasParam || param != 0 {
			p.fromHTML = true
		}
	case kHTMLRTF:
		p.st.htmlrtf = !hasParam || param != 0
	case kHTMLTag:
		if !p.fromHTML || p.st.target != tgtBody {
			p.skipGroup()
			return
		}
		p.st.target = tgtHTMLTag
	case kFonttbl:
		p.st.target = tgtFonts
	case kInfo:
		p.st.target = tgtDrop
	case kInfoField:
		if p.st.target != tgtDrop {
			// A \title outside \info (a table's title) is not the
			// document's.
			p.skipGroup()
			return
		}
		p.flush()
		if p.info[w.n].Len() > 0 {
			// The first is the document's: LibreOffice writes the
			// last editor as a second \author.
			p.skipGroup()
			return
		}
		p.flush()
		p.st.target, p.st.field = tgtInfo, uint8(w.n)
	case kInfoTime:
		if p.st.target != tgtDrop {
			p.skipGroup()
			return
		}
		p.st.target, p.st.field = tgtTime, uint8(w.n)
	case kTimePart:
		if p.st.target != tgtTime {
			return
		}
		t := &p.times[p.st.field]
		v := int32(min(max(param, -1), 1<<20))
		switch w.n {
		case 0:
			t.yr = v
		case 1:
			t.mo = v
		case 2:
			t.dy = v
		case 3:
			t.hr = v
		case 4:
			t.min = v
		case 5:
			t.sec = v
		}
	case kNotes, kHeads:
		if p.st.target != tgtBody {
			// A note's header, a header in a skipped part: left out.
			p.skipGroup()
			return
		}
		p.flush()
		if w.kind == kNotes {
			p.st.target = tgtNotes
			p.notes.newline()
		} else {
			p.st.target = tgtHeads
			p.heads.newline()
		}
	}
}

// rtfWriter lays out the text of one part: spaces before a line break
// dropped, at most one blank line in a row, tabs kept between cells but
// not at the end of a row.
type rtfWriter struct {
	s                      textSink
	spaces, tabs, newlines int
	started                bool
}

func (w *rtfWriter) text(s string) {
	for s != "" {
		if s[0] == ' ' {
			w.spaces++
			s = s[1:]
			continue
		}
		j := strings.IndexByte(s, ' ')
		if j < 0 {
			j = len(s)
		}
		w.flushBreaks()
		w.s.writeString(s[:j])
		s = s[j:]
	}
}

func (w *rtfWriter) flushBreaks() {
	if !w.started {
		w.started = true
		w.spaces, w.tabs, w.newlines = 0, 0, 0
		return
	}
	if w.newlines > 0 {
		w.spaces = 0 // a line's indent is layout
	}
	for ; w.newlines > 0; w.newlines-- {
		w.s.writeByte('\n')
	}
	for ; w.tabs > 0; w.tabs-- {
		w.s.writeByte('\t')
	}
	for ; w.spaces > 0; w.spaces-- {
		w.s.writeByte(' ')
	}
}

func (w *rtfWriter) newline() {
	w.spaces, w.tabs = 0, 0
	w.newlines = min(w.newlines+1, 2)
}

func (w *rtfWriter) tab() {
	w.spaces = 0
	w.tabs++
}

func (w *rtfWriter) String() string { return w.s.String() }

// rtfCharsets map \fcharsetN to a code page; the others (1 default, 2
// symbol) take the document's.
var rtfCharsets = map[int32]int{
	0: 1252, 77: 10000, 78: 932, 79: 949, 80: 936, 81: 950, 128: 932, 129: 949, 130: 949,
	134: 936, 136: 950, 161: 1253, 162: 1254, 163: 1258, 177: 1255, 178: 1256, 186: 1257,
	204: 1251, 222: 874, 238: 1250, 254: 437, 255: 850,
}

// rtfEncoding returns the decoder of a Windows code page: nil for UTF-8,
// which needs none, windows-1252 for one this package does not know.
func rtfEncoding(cp int) encoding.Encoding {
	if cp == 65001 {
		return nil
	}
	if e := codepageEncoding(cp); e != nil {
		return e
	}
	return charmap.Windows1252
}

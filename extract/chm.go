package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// CHM, Microsoft Compiled HTML Help: an ITSF container (a header, a
// directory of PMGL chunks listing every member by name, section, offset
// and length), whose section 0 is stored as it is and whose section 1,
// MSCompressed, is one LZX stream (decoded below) reset at the intervals its
// control data gives, with a reset table of where each reset starts in the
// compressed stream. No Go reader of CHM is kept up, so it is read here.
//
// The help file is one document: its HTML topics become its text, in the
// order of its table of contents (the .hhc sitemap) and then the
// directory's, a topic a paragraph, each read as the HTML extractor reads a
// page. Children would make every topic of a manual a document of its own,
// detected and extracted again, and found apart from the manual they
// belong to; text keeps the manual whole and is cheaper. The title is the
// #SYSTEM file's. Decompression is counted against MaxDecompressed, and
// stops once the text budget is spent.

const typeCHM = "application/vnd.ms-htmlhelp"

func init() {
	register(&format{name: "chm", types: []string{typeCHM}, extract: extractCHM})
}

// chmEntry is a member of the directory.
type chmEntry struct {
	name           string
	section        uint64
	offset, length uint64
}

type chmFile struct {
	ctx     context.Context
	data    []byte
	bud     *budget
	content uint64 // where section 0 starts
	entries map[string]chmEntry
	names   []string // in directory order
	lzx     *chmLZX  // section 1, opened on first use
	read    int64    // bytes decompressed, against MaxDecompressed
}

// chmEntriesMax bounds the directory: a large help file has tens of
// thousands of members.
const chmEntriesMax = 1 << 20

func extractCHM(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	f, err := openCHM(ctx, in.Data, b)
	if err != nil {
		return nil, err
	}
	res := &Result{Meta: map[string]string{}}
	if sys, err := f.member("/#SYSTEM", smallPartMax); err == nil {
		res.Title = cutUTF8(chmSystemTitle(sys), metaFieldMax)
	}
	// A compressed section that cannot be opened fails the document: every
	// topic is in it.
	if _, ok := f.entries[strings.ToLower(chmContent)]; ok {
		if f.lzx, err = f.openLZX(); err != nil {
			return nil, err
		}
	}
	topics, err := f.topics()
	if err != nil {
		return nil, err
	}
	if len(topics) == 0 {
		return nil, fmt.Errorf("%w: a CHM file without HTML topics", ErrCorrupt)
	}
	var out strings.Builder
	title := ""
	for _, name := range topics {
		if b.full() {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Markup is larger than its text, seldom four times so: past that
		// a topic could not fit in what is left of the budget.
		limit := uint64(smallPartMax)
		if left := b.left(); left >= 0 {
			limit = min(limit, uint64(4*left+xmlTokenSlack))
		}
		raw, err := f.member(name, limit)
		if err != nil {
			var le *LimitError
			if errors.As(err, &le) || ctx.Err() != nil {
				return nil, err
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		markup, _, err := decodeText(raw, "")
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		h, err := htmlText(ctx, markup, b)
		if err != nil {
			return nil, err
		}
		if title == "" {
			title = h.title
		}
		if h.text == "" {
			continue
		}
		if out.Len() > 0 {
			if b.take(2) < 2 {
				break
			}
			out.WriteString("\n\n")
		}
		out.WriteString(h.text)
	}
	res.Text = out.String()
	if res.Title == "" {
		res.Title = title
	}
	res.Meta["topics"] = fmt.Sprint(len(topics))
	return res, nil
}

// openCHM reads the ITSF header and the directory.
func openCHM(ctx context.Context, data []byte, b *budget) (*chmFile, error) {
	le := binary.LittleEndian
	if len(data) < 0x58 || string(data[:4]) != "ITSF" {
		return nil, fmt.Errorf("%w: no ITSF header", ErrCorrupt)
	}
	version := le.Uint32(data[4:])
	dirOff, dirLen := le.Uint64(data[0x48:]), le.Uint64(data[0x50:])
	content := dirOff + dirLen
	if version >= 3 && len(data) >= 0x60 {
		content = le.Uint64(data[0x58:])
	}
	if dirOff > uint64(len(data)) || dirLen > uint64(len(data))-dirOff || dirLen < 0x54 {
		return nil, fmt.Errorf("%w: a CHM directory outside the file", ErrCorrupt)
	}
	dir := data[dirOff : dirOff+dirLen]
	if string(dir[:4]) != "ITSP" {
		return nil, fmt.Errorf("%w: no ITSP directory header", ErrCorrupt)
	}
	hdrLen, chunkSize, nChunks := uint64(le.Uint32(dir[8:])), uint64(le.Uint32(dir[0x10:])), uint64(le.Uint32(dir[0x2C:]))
	if hdrLen > uint64(len(dir)) || chunkSize < 0x14 || chunkSize > 1<<20 || nChunks > (uint64(len(dir))-hdrLen)/chunkSize {
		return nil, fmt.Errorf("%w: a CHM directory of %d chunks of %d bytes in %d", ErrCorrupt, nChunks, chunkSize, len(dir))
	}
	f := &chmFile{ctx: ctx, data: data, bud: b, content: content, entries: map[string]chmEntry{}}
	// Every listing chunk in turn, rather than following their links,
	// which may loop.
	for i := uint64(0); i < nChunks; i++ {
		chunk := dir[hdrLen+i*chunkSize : hdrLen+(i+1)*chunkSize]
		if string(chunk[:4]) != "PMGL" {
			continue // an index chunk (PMGI)
		}
		free := uint64(le.Uint32(chunk[4:]))
		if free > chunkSize-0x14 {
			return nil, fmt.Errorf("%w: a CHM directory chunk with %d bytes free of %d", ErrCorrupt, free, chunkSize)
		}
		p := chunk[0x14 : chunkSize-free]
		for len(p) > 0 {
			var e chmEntry
			var ok bool
			var n uint64
			if n, p, ok = chmEncint(p); !ok || n > uint64(len(p)) {
				return nil, fmt.Errorf("%w: a CHM directory entry cut short", ErrCorrupt)
			}
			e.name, p = string(p[:n]), p[n:]
			if e.section, p, ok = chmEncint(p); !ok {
				return nil, fmt.Errorf("%w: a CHM directory entry cut short", ErrCorrupt)
			}
			if e.offset, p, ok = chmEncint(p); !ok {
				return nil, fmt.Errorf("%w: a CHM directory entry cut short", ErrCorrupt)
			}
			if e.length, p, ok = chmEncint(p); !ok {
				return nil, fmt.Errorf("%w: a CHM directory entry cut short", ErrCorrupt)
			}
			if len(f.names) >= chmEntriesMax {
				return nil, fmt.Errorf("%w: a CHM directory of more than %d entries", ErrCorrupt, chmEntriesMax)
			}
			key := strings.ToLower(e.name)
			if _, dup := f.entries[key]; !dup {
				f.entries[key] = e
				f.names = append(f.names, e.name)
			}
		}
	}
	if len(f.entries) == 0 {
		return nil, fmt.Errorf("%w: an empty CHM directory", ErrCorrupt)
	}
	return f, nil
}

// chmEncint reads a directory integer: big-endian, 7 bits a byte, the high
// bit set on every byte but the last.
func chmEncint(b []byte) (v uint64, rest []byte, ok bool) {
	for i := 0; i < len(b) && i < 9; i++ {
		v = v<<7 | uint64(b[i]&0x7F)
		if b[i]&0x80 == 0 {
			return v, b[i+1:], true
		}
	}
	return 0, nil, false
}

// member returns the content of the named member, at most limit bytes of
// it.
func (f *chmFile) member(name string, limit uint64) ([]byte, error) {
	e, ok := f.entries[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("%w: %s is missing", ErrCorrupt, name)
	}
	n := min(e.length, limit)
	// What members are read counts against the decompression limit too:
	// a directory may list one large member many times over.
	f.read += int64(n)
	if max := f.bud.lim.MaxDecompressed; max >= 0 && f.read > max {
		return nil, &LimitError{Limit: "decompressed size", Max: max, Got: f.read}
	}
	switch e.section {
	case 0:
		if f.content > uint64(len(f.data)) || e.offset > uint64(len(f.data))-f.content || n > uint64(len(f.data))-f.content-e.offset {
			return nil, fmt.Errorf("%w: %s lies outside the file", ErrCorrupt, name)
		}
		start := f.content + e.offset
		return f.data[start : start+n], nil
	case 1:
		if f.lzx == nil {
			z, err := f.openLZX()
			if err != nil {
				return nil, err
			}
			f.lzx = z
		}
		return f.lzx.read(f, e.offset, n)
	}
	return nil, fmt.Errorf("%w: %s is in section %d, which CHM files do not have", ErrCorrupt, name, e.section)
}

// topics lists the HTML topics: those of the table of contents in its
// order, then the rest in the directory's.
func (f *chmFile) topics() ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		key := strings.ToLower(name)
		if !seen[key] && isCHMTopic(key) {
			if _, ok := f.entries[key]; ok {
				seen[key] = true
				out = append(out, name)
			}
		}
	}
	for _, name := range f.names {
		if !strings.HasSuffix(strings.ToLower(name), ".hhc") {
			continue
		}
		toc, err := f.member(name, smallPartMax)
		if err != nil {
			var le *LimitError
			if errors.As(err, &le) {
				return nil, err
			}
			continue
		}
		for _, m := range chmLocal.FindAllSubmatch(toc, -1) {
			local := string(m[1])
			if i := strings.IndexAny(local, "#?"); i >= 0 {
				local = local[:i]
			}
			if strings.Contains(local, "::") {
				continue // a topic of another help file
			}
			add(path.Join(path.Dir(name), local))
		}
		break
	}
	for _, name := range f.names {
		add(name)
	}
	return out, nil
}

// chmLocal finds the topics of a sitemap: <param name="Local" value="...">.
var chmLocal = regexp.MustCompile(`(?i)<param\s+name\s*=\s*"Local"\s+value\s*=\s*"([^"]+)"`)

func isCHMTopic(name string) bool {
	if strings.HasPrefix(name, "::") || strings.HasPrefix(name, "/#") || strings.HasPrefix(name, "/$") {
		return false
	}
	switch path.Ext(name) {
	case ".htm", ".html", ".xhtml":
		return true
	}
	return false
}

// chmSystemTitle reads the title from the #SYSTEM file: a version, then
// records of a 16-bit code and length; code 3 is the title.
func chmSystemTitle(sys []byte) string {
	le := binary.LittleEndian
	if len(sys) < 4 {
		return ""
	}
	p := sys[4:]
	for len(p) >= 4 {
		code, n := le.Uint16(p), int(le.Uint16(p[2:]))
		p = p[4:]
		if n > len(p) {
			return ""
		}
		if code == 3 {
			t := p[:n]
			if i := bytes.IndexByte(t, 0); i >= 0 {
				t = t[:i]
			}
			s, _, err := decodeText(t, "")
			if err != nil {
				return ""
			}
			return strings.TrimSpace(s)
		}
		p = p[n:]
	}
	return ""
}

// ---- Section 1: MSCompressed

const (
	chmContent    = "::DataSpace/Storage/MSCompressed/Content"
	chmControl    = "::DataSpace/Storage/MSCompressed/ControlData"
	chmResetTable = "::DataSpace/Storage/MSCompressed/Transform/{7FC28940-9D31-11D0-9B27-00A0C91E9C7C}/InstanceData/ResetTable"
	chmBlockLen   = 0x8000 // an LZX frame
)

// chmLZX is the compressed section: its stream, the reset table and the
// last group of frames decompressed (members are mostly read in order).
type chmLZX struct {
	stream    []byte
	windowLog uint
	resets    []uint64       // the compressed offset of each reset group
	groupLen  uint64         // uncompressed bytes between resets
	total     uint64         // the section's uncompressed length
	groups    map[int][]byte // decompressed groups, a few kept
	order     []int          // of groups, oldest first
	failed    map[int]error  // groups that could not be decompressed
}

// chmGroupsCached bounds the groups kept: topics read in the order of the
// table of contents jump about the section.
const chmGroupsCached = 32

func (f *chmFile) openLZX() (*chmLZX, error) {
	le := binary.LittleEndian
	stream, err := f.member(chmContent, uint64(len(f.data)))
	if err != nil {
		return nil, err
	}
	ctl, err := f.member(chmControl, 1024)
	if err != nil {
		return nil, err
	}
	if len(ctl) < 24 || string(ctl[4:8]) != "LZXC" {
		return nil, fmt.Errorf("%w: CHM compression control data is not LZX's", ErrCorrupt)
	}
	version, resetInterval, windowSize := le.Uint32(ctl[8:]), uint64(le.Uint32(ctl[12:])), uint64(le.Uint32(ctl[16:]))
	if version == 2 {
		// In units of frames.
		resetInterval *= chmBlockLen
		windowSize *= chmBlockLen
	}
	windowLog := uint(0)
	for w := uint(15); w <= 21; w++ {
		if windowSize == 1<<w {
			windowLog = w
		}
	}
	if windowLog == 0 || resetInterval == 0 || resetInterval%chmBlockLen != 0 {
		return nil, fmt.Errorf("%w: CHM LZX window of %d bytes, reset every %d", ErrCorrupt, windowSize, resetInterval)
	}
	rt, err := f.member(chmResetTable, smallPartMax)
	if err != nil {
		return nil, err
	}
	if len(rt) < 0x28 {
		return nil, fmt.Errorf("%w: CHM reset table cut short", ErrCorrupt)
	}
	n, entrySize, hdrLen := uint64(le.Uint32(rt[4:])), uint64(le.Uint32(rt[8:])), uint64(le.Uint32(rt[12:]))
	total, blockLen := le.Uint64(rt[0x10:]), le.Uint64(rt[0x20:])
	if entrySize != 8 || blockLen != chmBlockLen || hdrLen > uint64(len(rt)) || n > (uint64(len(rt))-hdrLen)/8 || n == 0 {
		return nil, fmt.Errorf("%w: a CHM reset table of %d entries of %d bytes", ErrCorrupt, n, entrySize)
	}
	if total > n*chmBlockLen {
		return nil, fmt.Errorf("%w: a CHM section of %d bytes in %d frames", ErrCorrupt, total, n)
	}
	per := resetInterval / chmBlockLen // frames a group
	z := &chmLZX{stream: stream, windowLog: windowLog, groupLen: resetInterval, total: total, groups: map[int][]byte{}, failed: map[int]error{}}
	for i := uint64(0); i < n; i += per {
		off := le.Uint64(rt[hdrLen+8*i:])
		if off > uint64(len(stream)) || len(z.resets) > 0 && off < z.resets[len(z.resets)-1] {
			return nil, fmt.Errorf("%w: a CHM reset table entry out of order or past the stream", ErrCorrupt)
		}
		z.resets = append(z.resets, off)
	}
	return z, nil
}

// read returns n bytes of the section from offset off, decompressing the
// groups of frames they lie in.
func (z *chmLZX) read(f *chmFile, off, n uint64) ([]byte, error) {
	if off > z.total || n > z.total-off {
		return nil, fmt.Errorf("%w: a CHM member past the end of its section", ErrCorrupt)
	}
	out := make([]byte, 0, min(n, 1<<20))
	for n > 0 {
		g := off / z.groupLen
		buf, ok := z.groups[int(g)]
		if !ok {
			var err error
			if buf, err = z.decode(f, int(g)); err != nil {
				return nil, err
			}
		}
		start := off - g*z.groupLen
		if start >= uint64(len(buf)) {
			return nil, fmt.Errorf("%w: a CHM member past its decompressed data", ErrCorrupt)
		}
		k := min(n, uint64(len(buf))-start)
		out = append(out, buf[start:start+k]...)
		off, n = off+k, n-k
	}
	return out, nil
}

// decode decompresses group g, and keeps it.
func (z *chmLZX) decode(f *chmFile, g int) ([]byte, error) {
	if g >= len(z.resets) {
		return nil, fmt.Errorf("%w: a CHM reset group past the reset table", ErrCorrupt)
	}
	if err := z.failed[g]; err != nil {
		return nil, err
	}
	end := uint64(len(z.stream))
	if g+1 < len(z.resets) {
		end = z.resets[g+1]
	}
	want := min(z.groupLen, z.total-uint64(g)*z.groupLen)
	f.read += int64(want)
	if max := f.bud.lim.MaxDecompressed; max >= 0 && f.read > max {
		return nil, &LimitError{Limit: "decompressed size", Max: max, Got: f.read}
	}
	if err := f.ctx.Err(); err != nil {
		return nil, err
	}
	var reuse []byte
	if len(z.order) >= chmGroupsCached {
		oldest := z.order[0]
		reuse = z.groups[oldest][:0]
		delete(z.groups, oldest)
		z.order = z.order[1:]
	}
	buf, err := lzxDecode(z.stream[z.resets[g]:end], z.windowLog, int(want), reuse)
	if err != nil {
		err = fmt.Errorf("%w: CHM section 1, frames from %d: %v", ErrCorrupt, uint64(g)*z.groupLen/chmBlockLen, err)
		z.failed[g] = err // not decoded again for the next member in it
		return nil, err
	}
	z.groups[g] = buf
	z.order = append(z.order, g)
	return buf, nil
}

// ---- LZX
//
// The LZX decoder of CHM's section 1, after Microsoft's LZX format (the
// CAB flavour, before LZX DELTA): a bitstream of 16-bit little-endian
// words read from their high bit, in blocks (verbatim, aligned offset,
// uncompressed) each with Huffman trees whose code lengths are sent as
// differences from the previous block's, through a pretree. Output comes
// in frames of 32 KiB, after each of which the bitstream is realigned to
// 16 bits; matches refer back up to the window size, with three repeated
// offsets. Each reset group is decoded afresh into one buffer (the window
// need not wrap: a group is decoded from its start), its length known.

const (
	lzxMinMatch       = 2
	lzxNumChars       = 256
	lzxPretreeSize    = 20
	lzxLengthSize     = 249
	lzxAlignedSize    = 8
	lzxMaxCodeLen     = 16
	lzxBlockVerbatim  = 1
	lzxBlockAligned   = 2
	lzxBlockPlain     = 3
	lzxFrameLen       = 0x8000
	lzxIntelMaxFrames = 32768
)

// lzxPositionSlots is the number of position slots of each window size
// (2^15 to 2^21).
var lzxPositionSlots = map[uint]int{15: 30, 16: 32, 17: 34, 18: 36, 19: 38, 20: 42, 21: 50}

var lzxExtraBits, lzxPositionBase = func() ([51]uint8, [51]uint32) {
	var extra [51]uint8
	var base [51]uint32
	for i := range extra {
		if i >= 4 {
			extra[i] = uint8(min((i-2)/2, 17))
		}
		if i > 0 {
			base[i] = base[i-1] + 1<<extra[i-1]
		}
	}
	return extra, base
}()

// lzxBits reads the bitstream.
type lzxBits struct {
	in   []byte
	pos  int
	buf  uint64 // bits left-aligned
	n    uint   // bits in buf
	over int    // words read past the end (as zeros)
}

func (r *lzxBits) fill(n uint) {
	for r.n < n {
		var w uint64
		if r.pos+1 < len(r.in) {
			w = uint64(r.in[r.pos]) | uint64(r.in[r.pos+1])<<8
		} else {
			r.over++
		}
		r.pos += 2
		r.buf |= w << (48 - r.n)
		r.n += 16
	}
}

func (r *lzxBits) peek(n uint) uint32 {
	r.fill(n)
	return uint32(r.buf >> (64 - n))
}

func (r *lzxBits) skip(n uint) {
	r.buf <<= n
	r.n -= n
}

func (r *lzxBits) bits(n uint) uint32 {
	if n == 0 {
		return 0
	}
	v := r.peek(n)
	r.skip(n)
	return v
}

// align drops the bits left of the current 16-bit word.
func (r *lzxBits) align() {
	r.skip(r.n % 16)
}

// lzxTree is a canonical Huffman code, decoded a bit at a time by length
// (as zlib's puff does): no table to build, so a block of a few bytes
// costs little however many trees it sends.
type lzxTree struct {
	count [lzxMaxCodeLen + 1]uint16
	sym   []uint16
}

func (t *lzxTree) build(lens []uint8) error {
	t.count = [lzxMaxCodeLen + 1]uint16{}
	for _, l := range lens {
		t.count[l]++
	}
	t.count[0] = 0
	left := 1
	for l := 1; l <= lzxMaxCodeLen; l++ {
		left = left<<1 - int(t.count[l])
		if left < 0 {
			return errors.New("an over-subscribed Huffman code")
		}
	}
	var offs [lzxMaxCodeLen + 2]uint16
	for l := 1; l <= lzxMaxCodeLen; l++ {
		offs[l+1] = offs[l] + t.count[l]
	}
	t.sym = t.sym[:0]
	t.sym = append(t.sym, make([]uint16, offs[lzxMaxCodeLen+1])...)
	for s, l := range lens {
		if l != 0 {
			t.sym[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	return nil
}

func (t *lzxTree) decode(r *lzxBits) (int, error) {
	v := r.peek(lzxMaxCodeLen)
	code, first, index := 0, 0, 0
	for l := uint(1); l <= lzxMaxCodeLen; l++ {
		code |= int(v>>(lzxMaxCodeLen-l)) & 1
		count := int(t.count[l])
		if code-first < count {
			r.skip(l)
			return int(t.sym[index+code-first]), nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, errors.New("a Huffman code that is not in its tree")
}

// lzxState is the decoder between blocks.
type lzxState struct {
	r                   lzxBits
	mainLens, lenLens   []uint8
	main, length, align lzxTree
	pre                 lzxTree
	r0, r1, r2          uint32
}

// readLengths reads code lengths first..last-1 of lens through a pretree,
// as differences from their previous values.
func (s *lzxState) readLengths(lens []uint8, first, last int) error {
	var pl [lzxPretreeSize]uint8
	for i := range pl {
		pl[i] = uint8(s.r.bits(4))
	}
	if err := s.pre.build(pl[:]); err != nil {
		return err
	}
	for x := first; x < last; {
		z, err := s.pre.decode(&s.r)
		if err != nil {
			return err
		}
		switch {
		case z == 17, z == 18:
			var run int
			if z == 17 {
				run = int(s.r.bits(4)) + 4
			} else {
				run = int(s.r.bits(5)) + 20
			}
			for ; run > 0 && x < last; run-- {
				lens[x] = 0
				x++
			}
		case z == 19:
			run := int(s.r.bits(1)) + 4
			z, err = s.pre.decode(&s.r)
			if err != nil {
				return err
			}
			if z > 16 {
				return errors.New("a bad code length run")
			}
			v := (int(lens[x]) - z + 17) % 17
			for ; run > 0 && x < last; run-- {
				lens[x] = uint8(v)
				x++
			}
		default:
			lens[x] = uint8((int(lens[x]) - z + 17) % 17)
			x++
		}
	}
	return nil
}

// lzxDecode decodes one reset group of in into want bytes appended to out.
func lzxDecode(in []byte, windowLog uint, want int, out []byte) ([]byte, error) {
	slots, ok := lzxPositionSlots[windowLog]
	if !ok {
		return nil, fmt.Errorf("an LZX window of 2^%d bytes", windowLog)
	}
	window := 1 << windowLog
	mainSize := lzxNumChars + 8*slots
	s := &lzxState{r: lzxBits{in: in}, mainLens: make([]uint8, mainSize), lenLens: make([]uint8, lzxLengthSize), r0: 1, r1: 1, r2: 1}
	r := &s.r
	base := len(out)
	out = slices.Grow(out, want)
	// The header: whether call instructions (E8) were translated.
	intel := r.bits(1) == 1
	var intelSize uint32
	if intel {
		intelSize = r.bits(16)<<16 | r.bits(16)
	}
	blockType, remaining := 0, 0
	nextFrame := base + lzxFrameLen
	for len(out)-base < want {
		if r.over > 2 {
			return nil, errors.New("the stream ends early")
		}
		if remaining == 0 {
			blockType = int(r.bits(3))
			remaining = int(r.bits(16))<<8 | int(r.bits(8))
			if remaining == 0 {
				return nil, errors.New("an empty block")
			}
			switch blockType {
			case lzxBlockAligned, lzxBlockVerbatim:
				if blockType == lzxBlockAligned {
					var al [lzxAlignedSize]uint8
					for i := range al {
						al[i] = uint8(r.bits(3))
					}
					if err := s.align.build(al[:]); err != nil {
						return nil, err
					}
				}
				if err := s.readLengths(s.mainLens, 0, lzxNumChars); err != nil {
					return nil, err
				}
				if err := s.readLengths(s.mainLens, lzxNumChars, mainSize); err != nil {
					return nil, err
				}
				if err := s.main.build(s.mainLens); err != nil {
					return nil, err
				}
				if err := s.readLengths(s.lenLens, 0, lzxLengthSize); err != nil {
					return nil, err
				}
				if err := s.length.build(s.lenLens); err != nil {
					return nil, err
				}
			case lzxBlockPlain:
				// Aligned to 16 bits (a whole word of padding if already
				// aligned), then R0-R2 and the bytes as they are.
				consumed := r.pos*8 - int(r.n)
				p := (consumed/16 + 1) * 2
				r.buf, r.n = 0, 0
				if p < 0 || p+12 > len(in) {
					return nil, errors.New("an uncompressed block cut short")
				}
				s.r0, s.r1, s.r2 = binary.LittleEndian.Uint32(in[p:]), binary.LittleEndian.Uint32(in[p+4:]), binary.LittleEndian.Uint32(in[p+8:])
				r.pos = p + 12
			default:
				return nil, fmt.Errorf("a block of type %d", blockType)
			}
		}
		// Decode up to the block's end or the frame's.
		run := min(remaining, nextFrame-len(out), want-(len(out)-base))
		if blockType == lzxBlockPlain {
			if r.pos+run > len(in) {
				return nil, errors.New("an uncompressed block cut short")
			}
			out = append(out, in[r.pos:r.pos+run]...)
			r.pos += run
			remaining -= run
			if remaining == 0 && r.pos%2 == 1 {
				r.pos++ // padding to a word
			}
		} else {
			produced, err := s.decodeRun(&out, base, run, window, blockType == lzxBlockAligned)
			if err != nil {
				return nil, err
			}
			remaining -= produced
			if remaining < 0 {
				return nil, errors.New("a match past the end of its block")
			}
		}
		if len(out) >= nextFrame {
			// The end of a frame: the bitstream starts afresh on a word.
			if intel && (nextFrame-base)/lzxFrameLen <= lzxIntelMaxFrames {
				lzxUndoE8(out[nextFrame-lzxFrameLen:nextFrame], nextFrame-lzxFrameLen-base, intelSize)
			}
			nextFrame += lzxFrameLen
			r.align()
		}
	}
	if len(out)-base > want {
		out = out[:base+want]
	}
	if intel && len(out) < nextFrame && len(out) > nextFrame-lzxFrameLen {
		lzxUndoE8(out[nextFrame-lzxFrameLen:], nextFrame-lzxFrameLen-base, intelSize)
	}
	return out, nil
}

// decodeRun decodes symbols until at least run bytes are produced (a
// match may run past), and returns how many were.
func (s *lzxState) decodeRun(out *[]byte, base, run, window int, aligned bool) (int, error) {
	r := &s.r
	o := *out
	start := len(o)
	for len(o)-start < run {
		if r.over > 2 {
			return 0, errors.New("the stream ends early")
		}
		m, err := s.main.decode(r)
		if err != nil {
			return 0, err
		}
		if m < lzxNumChars {
			o = append(o, byte(m))
			continue
		}
		m -= lzxNumChars
		length := m & 7
		if length == 7 {
			l, err := s.length.decode(r)
			if err != nil {
				return 0, err
			}
			length += l
		}
		length += lzxMinMatch
		slot := m >> 3
		var offset uint32
		switch {
		case slot == 0:
			offset = s.r0
		case slot == 1:
			offset = s.r1
			s.r1 = s.r0
			s.r0 = offset
		case slot == 2:
			offset = s.r2
			s.r2 = s.r0
			s.r0 = offset
		default:
			extra := uint(lzxExtraBits[slot])
			offset = lzxPositionBase[slot] - 2
			switch {
			case aligned && extra > 3:
				offset += r.bits(extra-3) << 3
				a, err := s.align.decode(r)
				if err != nil {
					return 0, err
				}
				offset += uint32(a)
			case aligned && extra == 3:
				a, err := s.align.decode(r)
				if err != nil {
					return 0, err
				}
				offset += uint32(a)
			case extra > 0:
				offset += r.bits(extra)
			default:
				offset = 1
			}
			s.r2, s.r1, s.r0 = s.r1, s.r0, offset
		}
		from := len(o) - int(offset)
		if offset == 0 || int(offset) > window || from < base {
			return 0, fmt.Errorf("a match %d bytes back, before the start of the data", offset)
		}
		for i := 0; i < length; i++ {
			o = append(o, o[from+i])
		}
	}
	*out = o
	return len(o) - start, nil
}

// lzxUndoE8 undoes the translation of x86 CALL targets (E8 followed by an
// absolute address) in a frame at offset pos of the output.
func lzxUndoE8(frame []byte, pos int, size uint32) {
	if len(frame) <= 10 || size == 0 {
		return
	}
	for i := 0; i < len(frame)-10; i++ {
		if frame[i] != 0xE8 {
			continue
		}
		cur := int32(pos + i)
		abs := int32(binary.LittleEndian.Uint32(frame[i+1:]))
		if abs >= -cur && abs < int32(size) {
			rel := abs - cur
			if abs < 0 {
				rel = abs + int32(size)
			}
			binary.LittleEndian.PutUint32(frame[i+1:], uint32(rel))
		}
		i += 4
	}
}

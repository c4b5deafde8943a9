package extract

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// Compound File Binary (CFB, "OLE2") containers: Word, Excel and PowerPoint
// 97–2003 documents, Outlook messages, Publisher and Visio files, and the
// wrapper of encrypted OOXML documents are all one of these, a little FAT
// file system in a file ([MS-CFB]). This reader is written for hostile
// input rather than taken from mscfb: nothing it is told is trusted (a
// sector chain is followed no further than the sectors its stream needs or
// the file holds, a directory tree is walked once per entry), a stream is a
// slice of the document whenever its sectors follow one another (as writers
// lay them out), and nothing it reads is larger than the document itself.
// The format readers (doc.go, xls.go, ppt.go, msg.go) share it.

// CFB media types this package names, by what the container holds.
const (
	typeDOC           = "application/msword"
	typeXLS           = "application/vnd.ms-excel"
	typePPT           = "application/vnd.ms-powerpoint"
	typeOutlookMSG    = "application/vnd.ms-outlook"
	typePublisher     = "application/vnd.ms-publisher"
	typeVisio         = "application/vnd.visio"
	typeWorks         = "application/vnd.ms-works"
	typeHWP           = "application/x-hwp"
	typeMSI           = "application/x-ms-installer"
	cfbEncryptedOOXML = "encrypted OOXML" // not a media type: detect.go names it by the file's name
)

// cfbKindNames name the CFB kinds in failure reasons.
var cfbKindNames = map[string]string{
	typeDOC:        "Microsoft Word 97–2003 document",
	typeXLS:        "Microsoft Excel 97–2003 workbook",
	typePPT:        "Microsoft PowerPoint 97–2003 presentation",
	typeOutlookMSG: "Microsoft Outlook message",
	typePublisher:  "Microsoft Publisher document",
	typeVisio:      "Microsoft Visio drawing",
	typeWorks:      "Microsoft Works document",
	typeHWP:        "Hangul (HWP) document",
	typeMSI:        "Windows Installer package",
	typeOLE:        "OLE compound document",
}

const (
	cfbEndOfChain = 0xFFFFFFFE
	cfbNoStream   = 0xFFFFFFFF
	cfbMaxRegSect = 0xFFFFFFFA
)

// cfbEntry is one stream or storage of a container.
type cfbEntry struct {
	name    string
	storage bool // a storage (folder); streams hold data
	parent  int  // index in cfbReader.entries of the storage holding it; -1 for the root
	start   uint32
	size    int64
	clsid   [16]byte
}

// cfbReader reads the streams of a CFB container held in memory.
type cfbReader struct {
	data     []byte
	secShift uint
	secSize  int
	nSect    uint32 // sectors the file holds
	difat    []uint32
	entries  []cfbEntry // entries[0] is the root storage
	miniFAT  []uint32   // the sectors holding the mini FAT, in order
	miniOK   bool
	mini     []byte // the mini stream (the root's stream), read on first use
	cutoff   int64
}

func cfbCorrupt(format string, args ...any) error {
	return fmt.Errorf("%w: CFB container: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// openCFB reads a container's header and directory.
func openCFB(data []byte) (*cfbReader, error) {
	if len(data) < 512 || !bytes.HasPrefix(data, cfbMagic) {
		return nil, cfbCorrupt("no CFB header")
	}
	le := binary.LittleEndian
	shift := uint(le.Uint16(data[30:]))
	if shift != 9 && shift != 12 {
		return nil, cfbCorrupt("sector size 2^%d", shift)
	}
	r := &cfbReader{data: data, secShift: shift, secSize: 1 << shift, cutoff: int64(le.Uint32(data[56:]))}
	if r.cutoff != 4096 {
		r.cutoff = 4096 // the only value the format allows
	}
	// Sector n starts at (n+1) << shift; a last sector cut short still
	// counts, its missing bytes fail the read that needs them.
	r.nSect = uint32((len(data) - 1) >> shift)
	// The DIFAT lists the sectors of the FAT: 109 in the header, the
	// rest in a chain of DIFAT sectors.
	nFAT := le.Uint32(data[44:])
	if nFAT > r.nSect {
		return nil, cfbCorrupt("%d FAT sectors in a file of %d", nFAT, r.nSect)
	}
	r.difat = make([]uint32, 0, min(int(nFAT), 109))
	for i := 0; i < 109 && len(r.difat) < int(nFAT); i++ {
		r.difat = append(r.difat, le.Uint32(data[76+4*i:]))
	}
	per := r.secSize/4 - 1
	sec := le.Uint32(data[68:])
	for steps := uint32(0); len(r.difat) < int(nFAT) && sec <= cfbMaxRegSect; steps++ {
		if steps > r.nSect {
			return nil, cfbCorrupt("DIFAT chain loops")
		}
		b, ok := r.sector(sec)
		if !ok {
			return nil, cfbCorrupt("DIFAT sector %d outside the file", sec)
		}
		for i := 0; i < per && len(r.difat) < int(nFAT); i++ {
			r.difat = append(r.difat, le.Uint32(b[4*i:]))
		}
		sec = le.Uint32(b[4*per:])
	}
	dir, err := r.chain(le.Uint32(data[48:]), -1)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	if err := r.readDirectory(dir); err != nil {
		return nil, err
	}
	return r, nil
}

// sector returns sector n, or false when the file does not hold it whole.
func (r *cfbReader) sector(n uint32) ([]byte, bool) {
	if n >= r.nSect {
		return nil, false
	}
	off := (int(n) + 1) << r.secShift
	if off+r.secSize > len(r.data) {
		return nil, false
	}
	return r.data[off : off+r.secSize], true
}

// next returns the sector after n in its chain, from the FAT.
func (r *cfbReader) next(n uint32) (uint32, error) {
	per := uint32(r.secSize / 4)
	i := n / per
	if int64(i) >= int64(len(r.difat)) {
		return 0, cfbCorrupt("sector %d beyond the FAT", n)
	}
	b, ok := r.sector(r.difat[i])
	if !ok {
		return 0, cfbCorrupt("FAT sector %d outside the file", r.difat[i])
	}
	return binary.LittleEndian.Uint32(b[4*(n%per):]), nil
}

// chain returns the bytes of the regular sector chain starting at start:
// size bytes, or when size is negative the whole chain. The chain's own
// word is never trusted: it is followed no further than size needs, or
// than the file has sectors. Contiguous sectors are returned as a slice of
// the document, which the caller must not modify.
func (r *cfbReader) chain(start uint32, size int64) ([]byte, error) {
	if size > int64(len(r.data)) {
		return nil, cfbCorrupt("a stream of %d bytes in a file of %d", size, len(r.data))
	}
	if size == 0 {
		return nil, nil
	}
	var need uint32 // sectors to read; 0: the whole chain
	if size > 0 {
		need = uint32((size + int64(r.secSize) - 1) >> r.secShift)
	}
	// First pass: count the sectors and see whether they are contiguous.
	n, contiguous := uint32(0), true
	for sec := start; ; {
		if sec == cfbEndOfChain && need == 0 {
			break
		}
		if sec >= r.nSect {
			return nil, cfbCorrupt("sector %d outside the file", sec)
		}
		if sec != start+n {
			contiguous = false
		}
		n++
		if n == need {
			break
		}
		if n > r.nSect {
			return nil, cfbCorrupt("sector chain loops")
		}
		var err error
		if sec, err = r.next(sec); err != nil {
			return nil, err
		}
	}
	if size < 0 {
		size = int64(n) << r.secShift
	}
	if size == 0 {
		return nil, nil
	}
	if contiguous {
		off := (int64(start) + 1) << r.secShift
		if off+size > int64(len(r.data)) {
			return nil, cfbCorrupt("stream runs past the end of the file")
		}
		return r.data[off : off+size], nil
	}
	out := make([]byte, 0, size)
	for sec := start; int64(len(out)) < size; {
		off := (int64(sec) + 1) << r.secShift
		end := min(off+int64(r.secSize), int64(len(r.data)), off+size-int64(len(out)))
		if off >= end {
			return nil, cfbCorrupt("stream runs past the end of the file")
		}
		out = append(out, r.data[off:end]...)
		if int64(len(out)) == size {
			break
		}
		var err error
		if sec, err = r.next(sec); err != nil {
			return nil, err
		}
		if sec >= r.nSect {
			return nil, cfbCorrupt("sector %d outside the file", sec)
		}
	}
	return out, nil
}

// readDirectory reads the directory entries and walks their tree from the
// root, each entry at most once.
func (r *cfbReader) readDirectory(dir []byte) error {
	le := binary.LittleEndian
	n := len(dir) / 128
	if n == 0 || dir[66] != 5 {
		return cfbCorrupt("no root entry")
	}
	raw := func(i uint32) []byte { return dir[int(i)*128 : int(i)*128+128] }
	seen := make([]bool, n)
	rootRaw := raw(0)
	r.entries = append(r.entries, cfbEntry{name: "Root Entry", storage: true, parent: -1,
		start: le.Uint32(rootRaw[116:]), size: r.entrySize(rootRaw)})
	copy(r.entries[0].clsid[:], rootRaw[80:96])
	seen[0] = true
	type item struct {
		id     uint32
		parent int
	}
	stack := []item{{le.Uint32(rootRaw[76:]), 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.id == cfbNoStream || int64(it.id) >= int64(n) || seen[it.id] {
			continue // a free link, or one the tree already reached: skip it
		}
		seen[it.id] = true
		e := raw(it.id)
		typ := e[66]
		if typ != 1 && typ != 2 {
			continue
		}
		nameLen := int(le.Uint16(e[64:]))
		nameLen = min(max(nameLen/2-1, 0), 31)
		u := make([]uint16, nameLen)
		for i := range u {
			u[i] = le.Uint16(e[2*i:])
		}
		ent := cfbEntry{name: string(utf16.Decode(u)), storage: typ == 1, parent: it.parent,
			start: le.Uint32(e[116:]), size: r.entrySize(e)}
		copy(ent.clsid[:], e[80:96])
		idx := len(r.entries)
		r.entries = append(r.entries, ent)
		stack = append(stack, item{le.Uint32(e[68:]), it.parent}, item{le.Uint32(e[72:]), it.parent})
		if ent.storage {
			stack = append(stack, item{le.Uint32(e[76:]), idx})
		}
	}
	return nil
}

func (r *cfbReader) entrySize(e []byte) int64 {
	if r.secShift == 9 {
		return int64(binary.LittleEndian.Uint32(e[120:])) // version 3 keeps junk in the high half
	}
	return int64(min(binary.LittleEndian.Uint64(e[120:]), 1<<62))
}

// find returns the index of the stream or storage name (compared without
// case, as the format does) in the storage parent (0: the root), or -1.
func (r *cfbReader) find(parent int, name string) int {
	for i := range r.entries {
		if r.entries[i].parent == parent && strings.EqualFold(r.entries[i].name, name) {
			return i
		}
	}
	return -1
}

// has reports whether the root holds a stream or storage named name.
func (r *cfbReader) has(name string) bool { return r.find(0, name) >= 0 }

// stream returns the stream name of the root, or nil and false when there
// is none.
func (r *cfbReader) stream(name string) ([]byte, bool, error) {
	i := r.find(0, name)
	if i < 0 || r.entries[i].storage {
		return nil, false, nil
	}
	b, err := r.read(i)
	return b, true, err
}

// read returns the data of entry i: a slice of the document when its
// sectors are contiguous, which the caller must not modify.
func (r *cfbReader) read(i int) ([]byte, error) {
	e := &r.entries[i]
	if e.storage && i != 0 {
		return nil, cfbCorrupt("%s is a storage, not a stream", e.name)
	}
	if e.size > int64(len(r.data)) {
		return nil, cfbCorrupt("stream %s declares %d bytes in a file of %d", e.name, e.size, len(r.data))
	}
	if i == 0 || e.size >= r.cutoff {
		b, err := r.chain(e.start, e.size)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", e.name, err)
		}
		return b, nil
	}
	return r.readMini(e)
}

// readMini reads a stream smaller than the cutoff from the mini stream, in
// 64-byte sectors chained by the mini FAT.
func (r *cfbReader) readMini(e *cfbEntry) ([]byte, error) {
	if e.size == 0 {
		return nil, nil
	}
	if !r.miniOK {
		r.miniOK = true
		mini, err := r.read(0)
		if err != nil {
			return nil, fmt.Errorf("mini stream: %w", err)
		}
		r.mini = mini
		le := binary.LittleEndian
		nMini := min(le.Uint32(r.data[64:]), r.nSect)
		for sec, i := le.Uint32(r.data[60:]), uint32(0); i < nMini && sec <= cfbMaxRegSect; i++ {
			r.miniFAT = append(r.miniFAT, sec)
			if sec, err = r.next(sec); err != nil {
				return nil, fmt.Errorf("mini FAT: %w", err)
			}
		}
	}
	out := make([]byte, 0, e.size)
	per := uint32(r.secSize / 4)
	for sec := e.start; int64(len(out)) < e.size; {
		off := int64(sec) * 64
		if off >= int64(len(r.mini)) {
			return nil, cfbCorrupt("stream %s: mini sector %d outside the mini stream", e.name, sec)
		}
		end := min(off+64, int64(len(r.mini)), off+e.size-int64(len(out)))
		out = append(out, r.mini[off:end]...)
		if int64(len(out)) == e.size {
			break
		}
		if int64(sec/per) >= int64(len(r.miniFAT)) {
			return nil, cfbCorrupt("stream %s: mini sector %d beyond the mini FAT", e.name, sec)
		}
		b, ok := r.sector(r.miniFAT[sec/per])
		if !ok {
			return nil, cfbCorrupt("mini FAT sector outside the file")
		}
		sec = binary.LittleEndian.Uint32(b[4*(sec%per):])
	}
	return out, nil
}

// kind names what a container holds by its streams: one of the media
// types above, cfbEncryptedOOXML, or typeOLE when it is none of them.
func (r *cfbReader) kind() string {
	switch {
	case r.has("EncryptedPackage"):
		return cfbEncryptedOOXML
	case r.has("WordDocument"):
		return typeDOC
	case r.has("Workbook"), r.has("Book"):
		return typeXLS
	case r.has("PowerPoint Document"):
		return typePPT
	case r.has("__properties_version1.0"), r.has("__nameid_version1.0"):
		return typeOutlookMSG
	case r.has("Quill"):
		return typePublisher
	case r.has("VisioDocument"):
		return typeVisio
	case r.has("MatOST"), r.has("WksSSWorkBook"), r.has("MN0"):
		// MN0 holds the document of Works 3 and 4 for Windows (a word
		// processor document, spreadsheet or database).
		return typeWorks
	case r.has("FileHeader") && (r.has("\x05HwpSummaryInformation") || r.has("BodyText") || r.has("ViewText")):
		// HWP 5; a distribution document keeps its text in ViewText.
		return typeHWP
	}
	for _, e := range r.entries[1:] {
		if e.parent == 0 && strings.HasPrefix(e.name, "__substg1.0_") {
			return typeOutlookMSG
		}
	}
	return typeOLE
}

// cfbKind names the container data by its streams ("" when it is not a
// readable CFB container).
func cfbKind(data []byte) string {
	r, err := openCFB(data)
	if err != nil {
		return ""
	}
	return r.kind()
}

// ---- Property sets ([MS-OLEPS]): the SummaryInformation stream.

// cfbSummary is what the SummaryInformation property set says of a
// document.
type cfbSummary struct {
	title, subject, author, keywords, comments, lastAuthor, app string
	created, saved                                              time.Time
	pages, words                                                int
}

// summary reads the container's "\x05SummaryInformation" stream; a missing
// or damaged one gives an empty summary, never an error: metadata is not
// worth failing a document for.
func (r *cfbReader) summary() cfbSummary {
	b, ok, err := r.stream("\x05SummaryInformation")
	if !ok || err != nil {
		return cfbSummary{}
	}
	return summaryOf(b)
}

// summaryOf reads a property set stream written as SummaryInformation is
// (HWP's HwpSummaryInformation too).
func summaryOf(b []byte) cfbSummary {
	var s cfbSummary
	props := readPropertySet(b)
	str := func(id uint32) string {
		v, _ := props[id].(string)
		return strings.TrimSpace(strings.TrimRight(v, "\x00"))
	}
	num := func(id uint32) int { v, _ := props[id].(int); return v }
	tm := func(id uint32) time.Time { v, _ := props[id].(time.Time); return v }
	s.title, s.subject, s.author, s.keywords, s.comments = str(2), str(3), str(4), str(5), str(6)
	s.lastAuthor, s.app = str(8), str(18)
	s.created, s.saved = tm(12), tm(13)
	s.pages, s.words = num(14), num(15)
	return s
}

// apply copies the summary into res.
func (s cfbSummary) apply(res *Result) {
	res.Title, res.Author, res.Created = s.title, s.author, s.created
	if res.Meta == nil {
		res.Meta = map[string]string{}
	}
	set := func(k, v string) {
		if v != "" {
			res.Meta[k] = v
		}
	}
	set("subject", s.subject)
	set("keywords", s.keywords)
	set("comments", s.comments)
	set("last_author", s.lastAuthor)
	set("application", s.app)
	if !s.saved.IsZero() {
		res.Meta["modified"] = s.saved.Format(time.RFC3339)
	}
	if s.pages > 0 {
		res.Meta["pages"] = fmt.Sprint(s.pages)
	}
	if s.words > 0 {
		res.Meta["words"] = fmt.Sprint(s.words)
	}
}

// readPropertySet reads the first property set of a property set stream:
// strings, integers and times by property id. Anything out of bounds is
// left out.
func readPropertySet(b []byte) map[uint32]any {
	le := binary.LittleEndian
	if len(b) < 48 || le.Uint16(b) != 0xFFFE || le.Uint32(b[24:]) == 0 {
		return nil
	}
	base := int64(le.Uint32(b[44:]))
	if base+8 > int64(len(b)) {
		return nil
	}
	ps := b[base:]
	if size := int64(le.Uint32(ps)); size < int64(len(ps)) {
		ps = ps[:max(size, 8)]
	}
	count := int(min(le.Uint32(ps[4:]), uint32((len(ps)-8)/8)))
	type prop struct{ id, off uint32 }
	props := make([]prop, count)
	codepage := 1252
	for i := range props {
		props[i] = prop{le.Uint32(ps[8+8*i:]), le.Uint32(ps[12+8*i:])}
		if props[i].id == 1 && int64(props[i].off)+6 <= int64(len(ps)) && le.Uint16(ps[props[i].off:]) == 2 {
			codepage = int(le.Uint16(ps[props[i].off+4:]))
		}
	}
	out := make(map[uint32]any, count)
	for _, p := range props {
		if p.id < 2 || int64(p.off)+8 > int64(len(ps)) {
			continue
		}
		v := ps[p.off:]
		switch le.Uint16(v) {
		case 2: // VT_I2
			out[p.id] = int(int16(le.Uint16(v[4:])))
		case 3: // VT_I4
			out[p.id] = int(int32(le.Uint32(v[4:])))
		case 0x1E: // VT_LPSTR, in the set's code page
			n := int64(le.Uint32(v[4:]))
			if 8+n > int64(len(v)) {
				continue
			}
			out[p.id] = decodeCodepage(v[8:8+n], codepage)
		case 0x1F: // VT_LPWSTR
			n := int64(le.Uint32(v[4:])) * 2
			if 8+n > int64(len(v)) {
				continue
			}
			out[p.id] = decodeUTF16LE(v[8 : 8+n])
		case 0x40: // VT_FILETIME
			if len(v) < 12 {
				continue
			}
			if ft := le.Uint64(v[4:]); ft != 0 {
				out[p.id] = filetime(ft)
			}
		}
	}
	return out
}

// filetime converts a Windows FILETIME (100 ns since 1601) to UTC.
func filetime(ft uint64) time.Time {
	const secsTo1970 = 11644473600
	if ft > 1<<62 {
		return time.Time{}
	}
	return time.Unix(int64(ft/1e7)-secsTo1970, int64(ft%1e7)*100).UTC()
}

// decodeUTF16LE decodes little-endian UTF-16, unpaired surrogates as U+FFFD,
// an odd last byte dropped.
func decodeUTF16LE(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) / 2)
	appendUTF16LE(&sb, b)
	return sb.String()
}

// appendUTF16LE writes little-endian UTF-16 to sb as UTF-8.
func appendUTF16LE(sb *strings.Builder, b []byte) {
	for i := 0; i+1 < len(b); i += 2 {
		c := rune(b[i]) | rune(b[i+1])<<8
		switch {
		case c < 0x80:
			sb.WriteByte(byte(c))
		case c >= 0xD800 && c < 0xDC00 && i+3 < len(b):
			c2 := rune(b[i+2]) | rune(b[i+3])<<8
			if c2 >= 0xDC00 && c2 < 0xE000 {
				sb.WriteRune(utf16.DecodeRune(c, c2))
				i += 2
			} else {
				sb.WriteRune(0xFFFD)
			}
		default:
			sb.WriteRune(c) // a lone surrogate becomes U+FFFD
		}
	}
}

// codepageEncoding returns the encoding of a Windows code page number, nil
// for one this package does not know.
func codepageEncoding(cp int) encoding.Encoding {
	switch cp {
	case 874:
		return charmap.Windows874
	case 932:
		return japanese.ShiftJIS
	case 936:
		return simplifiedchinese.GBK
	case 949:
		return korean.EUCKR
	case 950:
		return traditionalchinese.Big5
	case 1200:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case 1250:
		return charmap.Windows1250
	case 1251:
		return charmap.Windows1251
	case 1252:
		return charmap.Windows1252
	case 1253:
		return charmap.Windows1253
	case 1254:
		return charmap.Windows1254
	case 1255:
		return charmap.Windows1255
	case 1256:
		return charmap.Windows1256
	case 1257:
		return charmap.Windows1257
	case 1258:
		return charmap.Windows1258
	case 10000:
		return charmap.Macintosh
	case 28591:
		return charmap.ISO8859_1
	case 65001:
		return unicode.UTF8
	case 437:
		return charmap.CodePage437
	case 850:
		return charmap.CodePage850
	case 852:
		return charmap.CodePage852
	case 855:
		return charmap.CodePage855
	case 858:
		return charmap.CodePage858
	case 860:
		return charmap.CodePage860
	case 862:
		return charmap.CodePage862
	case 863:
		return charmap.CodePage863
	case 865:
		return charmap.CodePage865
	case 866:
		return charmap.CodePage866
	case 10007:
		return charmap.MacintoshCyrillic
	case 20866:
		return charmap.KOI8R
	case 21866:
		return charmap.KOI8U
	case 28592:
		return charmap.ISO8859_2
	case 28595:
		return charmap.ISO8859_5
	case 28597:
		return charmap.ISO8859_7
	case 28599:
		return charmap.ISO8859_9
	case 28605:
		return charmap.ISO8859_15
	case 54936:
		return simplifiedchinese.GB18030
	}
	return nil
}

// decodeCodepage decodes text in a Windows code page (windows-1252 when
// unknown) to valid UTF-8.
func decodeCodepage(b []byte, cp int) string {
	enc := codepageEncoding(cp)
	if enc == nil {
		enc = charmap.Windows1252
	}
	s, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(s), "\uFFFD")
}

// cp1252 maps windows-1252 bytes to runes; the five bytes it leaves
// undefined map to the C1 controls of the same value, as Word reads them.
var cp1252 = func() (t [256]rune) {
	for i := range t {
		t[i] = rune(i)
	}
	hi := []rune("€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ")
	copy(t[0x80:], hi)
	return t
}()

package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html/charset"
)

// Outlook messages (.msg, [MS-OXMSG]) are CFB containers (cfb.go) of MAPI
// properties: each variable-length property is a stream named
// __substg1.0_IIIITTTT (its ID and type in hex), the fixed-length ones sit
// in the __properties_version1.0 stream, and recipients and attachments are
// storages of their own. A message reads like an email (email.go): the
// same metadata, its richest body as text (HTML, else the compressed RTF,
// which may itself wrap HTML, else plain text), its attachments as
// children within the same limits. An attached message (attach method 5,
// a storage rather than a file) is read as text after the body, its
// headers first, and its own attachments become children of the outer
// message: a person searching a forwarded thread finds it in one document.

func init() {
	register(&format{name: "msg", types: []string{typeOutlookMSG}, extract: extractMSG})
}

// MAPI property IDs read.
const (
	pidSubject           = 0x0037
	pidClientSubmitTime  = 0x0039
	pidSentReprName      = 0x0042
	pidSentReprEmail     = 0x0065
	pidTransportHeaders  = 0x007D
	pidSenderName        = 0x0C1A
	pidSenderEmail       = 0x0C1F
	pidRecipientType     = 0x0C15
	pidDisplayBcc        = 0x0E02
	pidDisplayCc         = 0x0E03
	pidDisplayTo         = 0x0E04
	pidDeliveryTime      = 0x0E06
	pidBody              = 0x1000
	pidRTFCompressed     = 0x1009
	pidHTML              = 0x1013
	pidInternetMessageID = 0x1035
	pidDisplayName       = 0x3001
	pidEmailAddress      = 0x3003
	pidAttachData        = 0x3701
	pidAttachFilename    = 0x3704
	pidAttachMethod      = 0x3705
	pidAttachLongName    = 0x3707
	pidAttachMime        = 0x370E
	pidSMTPAddress       = 0x39FE
	pidInternetCPID      = 0x3FDE
	pidMessageCodepage   = 0x3FFD
	pidSenderSMTP        = 0x5D01
)

// MAPI property types.
const (
	ptLong    = 0x0003
	ptString8 = 0x001E
	ptUnicode = 0x001F
	ptSystime = 0x0040
	ptBinary  = 0x0102
	ptObject  = 0x000D
)

// Attach methods.
const (
	attachEmbeddedMsg = 5
	attachOLE         = 6
)

// msgMaxDepth bounds how deep attached messages are read.
const msgMaxDepth = 4

func extractMSG(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	r, err := openCFB(in.Data)
	if err != nil {
		return nil, err
	}
	m := &msgReader{ctx: ctx, r: r, b: b, kids: map[int][]int{}}
	for i := 1; i < len(r.entries); i++ {
		p := r.entries[i].parent
		m.kids[p] = append(m.kids[p], i)
	}
	root := m.props(0, 32, 0)
	if len(root.streams) == 0 && len(root.fixed) == 0 {
		return nil, fmt.Errorf("%w: an Outlook message without properties", ErrCorrupt)
	}
	res := &Result{Meta: map[string]string{}}
	msg := m.message(root)
	for k, v := range msg.meta {
		res.Meta[k] = v
	}
	res.Title = msg.meta["subject"]
	res.Author = msg.author
	res.Created = msg.date
	body, err := m.body(root, res)
	if err != nil {
		return nil, err
	}
	parts := []string{body}
	if err := m.attachments(root, 0, res, &parts); err != nil {
		return nil, err
	}
	res.Text = joinParts(b, parts...)
	return res, nil
}

type msgReader struct {
	ctx  context.Context
	r    *cfbReader
	b    *budget
	kids map[int][]int // entries by the storage holding them
	// children counts the attachments met, against MaxChildren.
	children int
}

// msgProps are the properties of one storage: a message, a recipient or
// an attachment.
type msgProps struct {
	storage int
	streams map[uint32]int // __substg1.0_ streams by tag (ID << 16 | type)
	fixed   mapiFixed      // fixed-length values by ID
	cp      int            // the code page of its 8-bit strings
}

// props reads the properties of a storage; hdr is the size of its
// property stream's header (32 for a message, 24 for an attached one, 8
// for a recipient or an attachment).
func (m *msgReader) props(storage, hdr, cp int) *msgProps {
	p := &msgProps{storage: storage, streams: map[uint32]int{}, fixed: mapiFixed{}, cp: cp}
	for _, i := range m.kids[storage] {
		e := &m.r.entries[i]
		switch {
		case strings.HasPrefix(e.name, "__substg1.0_") && len(e.name) == 20:
			tag, err := strconv.ParseUint(e.name[12:], 16, 32)
			if err == nil {
				p.streams[uint32(tag)] = i
			}
		case e.name == "__properties_version1.0" && !e.storage:
			data, err := m.r.read(i)
			if err != nil || len(data) < hdr {
				continue
			}
			for rest := data[hdr:]; len(rest) >= 16; rest = rest[16:] {
				typ := binary.LittleEndian.Uint16(rest)
				id := binary.LittleEndian.Uint16(rest[2:])
				if typ == ptLong || typ == ptSystime || typ == 0x000B || typ == 0x0014 {
					p.fixed[id] = [8]byte(rest[8:16])
				}
			}
		}
	}
	if p.cp == 0 {
		for _, id := range []uint16{pidMessageCodepage, pidInternetCPID} {
			if v, ok := p.long(id); ok && v > 0 && codepageEncoding(int(v)) != nil && v != 1200 {
				p.cp = int(v)
				break
			}
		}
		if p.cp == 0 {
			p.cp = 1252
		}
	}
	return p
}

func (p *msgProps) long(id uint16) (int32, bool)     { return p.fixed.long(id) }
func (p *msgProps) time(id uint16) (time.Time, bool) { return p.fixed.time(id) }

// mapiFixed holds the fixed-length property values of a .msg storage or
// a TNEF property list, 8 bytes each, by property ID.
type mapiFixed map[uint16][8]byte

func (f mapiFixed) long(id uint16) (int32, bool) {
	v, ok := f[id]
	return int32(binary.LittleEndian.Uint32(v[:])), ok
}

// time reads a FILETIME, refusing dates before 1980 and past 9999, which
// are unset or garbage rather than real.
func (f mapiFixed) time(id uint16) (time.Time, bool) {
	v, ok := f[id]
	if !ok {
		return time.Time{}, false
	}
	t := filetime(binary.LittleEndian.Uint64(v[:]))
	if t.IsZero() || t.Year() < 1980 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}

// stream returns the data of a property stream, nil when there is none or
// it cannot be read.
func (m *msgReader) stream(p *msgProps, id, typ uint16) []byte {
	i, ok := p.streams[uint32(id)<<16|uint32(typ)]
	if !ok {
		return nil
	}
	data, err := m.r.read(i)
	if err != nil {
		return nil
	}
	return data
}

// msgStringMax bounds a string property read as metadata.
const msgStringMax = 64 << 10

// str returns a string property, Unicode or 8-bit, without its NULs.
func (m *msgReader) str(p *msgProps, id uint16) string {
	return mapiString(msgSource{m, p}, id)
}

// mapiProps are a message's MAPI properties wherever they are kept: the
// streams of a .msg (msgSource), a TNEF stream's attMAPIProps (tnef.go).
type mapiProps interface {
	// value returns a variable-length property of type typ, nil when
	// there is none.
	value(id, typ uint16) []byte
	long(id uint16) (int32, bool)
	// codepage is the code page of the 8-bit strings.
	codepage() int
}

// msgSource is the properties of one storage of a .msg.
type msgSource struct {
	m *msgReader
	p *msgProps
}

func (s msgSource) value(id, typ uint16) []byte  { return s.m.stream(s.p, id, typ) }
func (s msgSource) long(id uint16) (int32, bool) { return s.p.long(id) }
func (s msgSource) codepage() int                { return s.p.cp }

// mapiString returns a string property, Unicode or 8-bit, without its
// NULs.
func mapiString(p mapiProps, id uint16) string { return mapiText(p, id, msgStringMax) }

// mapiText returns a string property of at most n characters (n < 0: all
// of it), without its NULs.
func mapiText(p mapiProps, id uint16, n int64) string {
	cut := func(b []byte, size int64) []byte {
		if n >= 0 && int64(len(b)) > n*size {
			return b[:n*size]
		}
		return b
	}
	if b := p.value(id, ptUnicode); b != nil {
		return strings.TrimRight(decodeUTF16LE(cut(b, 2)), "\x00")
	}
	if b := p.value(id, ptString8); b != nil {
		return strings.TrimRight(decodeCodepage(cut(b, 1), p.codepage()), "\x00")
	}
	return ""
}

// msgMessage is what a message's properties say of it.
type msgMessage struct {
	meta   map[string]string
	author string
	date   time.Time
}

func (m *msgReader) message(p *msgProps) msgMessage {
	msg := msgMessage{meta: map[string]string{}}
	set := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			msg.meta[k] = v
		}
	}
	set("subject", m.str(p, pidSubject))
	name := m.str(p, pidSenderName)
	addr := m.str(p, pidSenderSMTP)
	if addr == "" {
		if a := m.str(p, pidSenderEmail); strings.Contains(a, "@") {
			addr = a
		}
	}
	if name == "" && addr == "" {
		name = m.str(p, pidSentReprName)
		if a := m.str(p, pidSentReprEmail); strings.Contains(a, "@") {
			addr = a
		}
	}
	set("from", formatAddress(name, addr))
	msg.author = strings.TrimSpace(name)
	if msg.author == "" {
		msg.author = addr
	}
	to, cc := m.recipients(p)
	if to == "" {
		to = m.str(p, pidDisplayTo)
	}
	if cc == "" {
		cc = m.str(p, pidDisplayCc)
	}
	set("to", to)
	set("cc", cc)
	if t, ok := p.time(pidClientSubmitTime); ok {
		msg.date = t
	} else if t, ok := p.time(pidDeliveryTime); ok {
		msg.date = t
	}
	if !msg.date.IsZero() {
		msg.meta["date"] = msg.date.Format(time.RFC1123Z)
	}
	id := m.str(p, pidInternetMessageID)
	if id == "" {
		id = headerValue(m.str(p, pidTransportHeaders), "message-id")
	}
	set("message-id", id)
	return msg
}

// formatAddress writes a mailbox as a header does.
func formatAddress(name, addr string) string {
	name, addr = strings.TrimSpace(name), strings.TrimSpace(addr)
	switch {
	case addr == "" || name == addr:
		return name
	case name == "":
		return addr
	}
	return name + " <" + addr + ">"
}

// headerValue returns a field of an RFC 5322 header block.
func headerValue(header, field string) string {
	for _, line := range strings.Split(normalizeNewlines(header), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), field) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// recipients lists a message's To and Cc recipients from its recipient
// storages.
func (m *msgReader) recipients(p *msgProps) (to, cc string) {
	var tos, ccs []string
	for _, i := range m.sortedKids(p.storage, "__recip_version1.0_#") {
		rp := m.props(i, 8, p.cp)
		addr := m.str(rp, pidSMTPAddress)
		if addr == "" {
			if a := m.str(rp, pidEmailAddress); strings.Contains(a, "@") {
				addr = a
			}
		}
		a := formatAddress(m.str(rp, pidDisplayName), addr)
		if a == "" {
			continue
		}
		switch typ, _ := rp.long(pidRecipientType); typ & 0xF {
		case 2:
			ccs = append(ccs, a)
		case 3: // Bcc: not in the headers recipients saw
		default:
			tos = append(tos, a)
		}
	}
	return strings.Join(tos, ", "), strings.Join(ccs, ", ")
}

// msgMaxKids bounds the recipients or attachments of one storage read.
const msgMaxKids = 10000

// sortedKids returns the storages under storage whose names start with
// prefix, in name order (the order they were written).
func (m *msgReader) sortedKids(storage int, prefix string) []int {
	var out []int
	for _, i := range m.kids[storage] {
		if e := &m.r.entries[i]; e.storage && strings.HasPrefix(e.name, prefix) {
			out = append(out, i)
			if len(out) == msgMaxKids {
				break
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return m.r.entries[out[a]].name < m.r.entries[out[b]].name })
	return out
}

// body returns a message's richest body as text.
func (m *msgReader) body(p *msgProps, res *Result) (string, error) {
	return mapiBody(m.ctx, m.b, msgSource{m, p}, res)
}

// mapiBody returns a message's richest body as text: HTML, else RTF, else
// plain text. res, when not nil, takes the language of an HTML body and a
// warning for an unreadable RTF one.
func mapiBody(ctx context.Context, b *budget, p mapiProps, res *Result) (string, error) {
	html := p.value(pidHTML, ptBinary)
	var htmlStr string
	if html != nil {
		_, declared, certain := charset.DetermineEncoding(head(html, 1024), "")
		if !certain {
			declared = ""
			if cpid, ok := p.long(pidInternetCPID); ok {
				declared = "windows-" + strconv.Itoa(int(cpid))
				if cpid == 65001 {
					declared = "utf-8"
				}
			}
		}
		s, _, err := decodeText(html, declared)
		if err != nil {
			return "", err
		}
		htmlStr = s
	} else {
		htmlStr = mapiText(p, pidHTML, -1)
	}
	if strings.TrimSpace(htmlStr) != "" {
		h, err := htmlText(ctx, htmlStr, b)
		if err != nil {
			return "", err
		}
		if h.lang != "" && res != nil {
			res.Meta["lang"] = h.lang
		}
		return h.text, nil
	}
	if comp := p.value(pidRTFCompressed, ptBinary); comp != nil {
		rtf, err := decompressRTF(comp, b)
		if err == nil && isRTF(rtf) {
			doc, err := readRTF(ctx, bytes.TrimLeft(rtf, " \t\r\n"), b)
			if err != nil {
				return "", err
			}
			if doc.text != "" || mapiString(p, pidBody) == "" {
				return doc.text, nil
			}
		} else if res != nil {
			msg := "not RTF"
			if err != nil {
				msg = err.Error()
			}
			res.Warnings = append(res.Warnings, "compressed RTF body unreadable, plain text kept: "+msg)
		}
	}
	// The plain body is read as far as the budget goes, one character
	// more to know it was cut.
	n := b.left()
	if n >= 0 {
		n++
	}
	return b.clip(strings.TrimSpace(normalizeNewlines(mapiText(p, pidBody, n)))), nil
}

// attachments collects a message's attachments as children, and the text
// of attached messages into parts.
func (m *msgReader) attachments(p *msgProps, depth int, res *Result, parts *[]string) error {
	lim := m.b.lim
	for n, i := range m.sortedKids(p.storage, "__attach_version1.0_#") {
		if err := m.ctx.Err(); err != nil {
			return err
		}
		ap := m.props(i, 8, p.cp)
		method, _ := ap.long(pidAttachMethod)
		name := m.str(ap, pidAttachLongName)
		if name == "" {
			name = m.str(ap, pidAttachFilename)
		}
		if name == "" {
			name = m.str(ap, pidDisplayName)
		}
		if name == "" {
			name = "attachment-" + strconv.Itoa(n+1)
		}
		if method == attachEmbeddedMsg || method == attachOLE {
			sub := -1
			for _, k := range m.kids[i] {
				if e := &m.r.entries[k]; e.storage && strings.EqualFold(e.name, "__substg1.0_3701000D") {
					sub = k
				}
			}
			if sub < 0 || method == attachOLE {
				res.Warnings = append(res.Warnings, fmt.Sprintf("attachment %q left out: an embedded OLE object", name))
				continue
			}
			if depth+1 >= msgMaxDepth {
				res.Warnings = append(res.Warnings, fmt.Sprintf("attached message %q left out: nested deeper than %d", name, msgMaxDepth))
				continue
			}
			if m.b.full() {
				continue
			}
			sp := m.props(sub, 24, 0)
			if err := m.attached(sp, depth+1, res, parts); err != nil {
				return err
			}
			continue
		}
		data := m.stream(ap, pidAttachData, ptBinary)
		if data == nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("attachment %q left out: no data", name))
			continue
		}
		m.children++
		if lim.MaxChildren > 0 && m.children > lim.MaxChildren {
			return &LimitError{Limit: "children", Max: int64(lim.MaxChildren), Got: int64(m.children)}
		}
		if lim.MaxBytes > 0 && int64(len(data)) > lim.MaxBytes {
			res.Warnings = append(res.Warnings, fmt.Sprintf("attachment %q left out: %d bytes exceed the bytes limit of %d", name, len(data), lim.MaxBytes))
			continue
		}
		typ := strings.ToLower(strings.TrimSpace(m.str(ap, pidAttachMime)))
		if typ == "" {
			typ = typeOctetStream
		}
		res.Children = append(res.Children, Child{Name: name, Type: typ, Data: bytes.Clone(data)})
	}
	return nil
}

// attached writes an attached message as text: its headers, then its
// body; its own attachments join the outer message's.
func (m *msgReader) attached(p *msgProps, depth int, res *Result, parts *[]string) error {
	msg := m.message(p)
	var head strings.Builder
	for _, k := range []string{"from", "to", "cc", "subject", "date"} {
		if v := msg.meta[k]; v != "" {
			head.WriteString(strings.ToUpper(k[:1]) + k[1:] + ": " + v + "\n")
		}
	}
	text := m.b.clip(strings.TrimSpace(head.String()))
	body, err := m.body(p, nil)
	if err != nil {
		return err
	}
	*parts = append(*parts, joinParts(m.b, text, body))
	return m.attachments(p, depth, res, parts)
}

// Compressed RTF ([MS-OXRTFCP]): a 16-byte header (compressed size, raw
// size, "LZFu" or "MELA", CRC), then LZ77 runs over a 4 KiB dictionary
// that starts with a fixed RTF prefix.
const (
	lzfuCompressed   = 0x75465A4C // "LZFu"
	lzfuUncompressed = 0x414C454D // "MELA"
	lzfuPrefix       = "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"
)

var errLZFu = errors.New("compressed RTF")

// decompressRTF returns the RTF of a PR_RTF_COMPRESSED value. The sizes
// it declares are not trusted: the output stops at the end of the input's
// runs, and at Limits.MaxDecompressed (the document then truncated).
func decompressRTF(data []byte, b *budget) ([]byte, error) {
	if len(data) < 16 {
		return nil, fmt.Errorf("%w: header cut short", errLZFu)
	}
	le := binary.LittleEndian
	raw := int64(le.Uint32(data[4:]))
	kind := le.Uint32(data[8:])
	in := data[16:]
	if c := int64(le.Uint32(data[0:])) - 12; c >= 0 && c < int64(len(in)) {
		in = in[:c]
	}
	maxOut := b.lim.MaxDecompressed
	if maxOut < 0 {
		maxOut = 1 << 62
	}
	switch kind {
	case lzfuUncompressed:
		out := in[:min(int64(len(in)), raw, maxOut)]
		if int64(len(out)) == maxOut {
			b.markTruncated()
		}
		return out, nil
	case lzfuCompressed:
	default:
		return nil, fmt.Errorf("%w: unknown kind %#x", errLZFu, kind)
	}
	var dict [4096]byte
	copy(dict[:], lzfuPrefix)
	w := len(lzfuPrefix)
	limit := min(raw, maxOut)
	// Every input byte yields at most 17/2 bytes of output.
	out := make([]byte, 0, min(limit, int64(len(in))*9))
	for i := 0; i < len(in); {
		ctl := in[i]
		i++
		for bit := 0; bit < 8; bit++ {
			if int64(len(out)) >= limit {
				if limit == maxOut && raw > maxOut {
					b.markTruncated()
				}
				return out, nil
			}
			if ctl&(1<<bit) == 0 {
				if i >= len(in) {
					return out, nil
				}
				c := in[i]
				i++
				out = append(out, c)
				dict[w] = c
				w = (w + 1) & 4095
				continue
			}
			if i+1 >= len(in) {
				return out, nil
			}
			ref := int(in[i])<<8 | int(in[i+1])
			i += 2
			off, n := ref>>4, ref&0xF+2
			if off == w {
				return out, nil // the end marker
			}
			for k := 0; k < n && int64(len(out)) < limit; k++ {
				c := dict[(off+k)&4095]
				out = append(out, c)
				dict[w] = c
				w = (w + 1) & 4095
			}
		}
	}
	return out, nil
}

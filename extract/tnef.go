package extract

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TNEF ([MS-OXTNEF]) is how Outlook and Exchange send a rich-text message
// over SMTP: the MIME message carries a plain body and one attachment,
// winmail.dat, holding the rest (the formatted body, the attachments, MAPI
// properties). A mail client that does not read TNEF shows an opaque
// winmail.dat, so an archive of such mail hides its attachments there.
//
// The stream is a signature, a legacy key, then attributes one after the
// other: a level (message or attachment), an ID (its type in the high
// word), a length, the data and a checksum of it. The message's attributes
// come first, the legacy ones (attSubject, attBody…) then attMAPIProps,
// the message's MAPI properties; then each attachment, from its
// attAttachRendData, with its data (attAttachData) and its own MAPI
// properties (attAttachment). The message reads like an Outlook .msg
// (msg.go): its richest body (HTML, else the compressed RTF, else plain
// text, by the same code), its sender, subject and date as metadata, its
// attachments as children. An attached message (a PT_OBJECT) is left out
// with a warning.
//
// Every length is checked against what is left of the input before it is
// used, and values are slices of the input, never copies: a hostile length
// costs nothing. A checksum that does not match is a warning: the data is
// read all the same, as Outlook's readers do.

func init() {
	register(&format{name: "tnef", types: []string{typeTNEF, "application/ms-tnef"}, extract: extractTNEF})
}

const typeTNEF = "application/vnd.ms-tnef"

// tnefSignature starts every TNEF stream, little-endian.
const tnefSignature = 0x223E9F78

// isTNEF reports whether data starts with the TNEF signature.
func isTNEF(data []byte) bool {
	return len(data) >= 6 && binary.LittleEndian.Uint32(data) == tnefSignature
}

// Attribute levels.
const (
	tnefLevelMessage    = 1
	tnefLevelAttachment = 2
)

// Attribute IDs read, by their low word: the high word is the type of the
// data, which the ID already implies.
const (
	attFrom           = 0x8000 // 0x00008000, a TRP structure
	attSubject        = 0x8004 // 0x00018004
	attDateSent       = 0x8005 // 0x00038005, a DTR structure
	attMessageClass   = 0x8008 // 0x00078008
	attBody           = 0x800C // 0x0002800C
	attAttachData     = 0x800F // 0x0006800F
	attAttachTitle    = 0x8010 // 0x00018010
	attAttachRendData = 0x9002 // 0x00069002
	attMAPIProps      = 0x9003 // 0x00069003
	attAttachment     = 0x9005 // 0x00069005
	attOemCodepage    = 0x9007 // 0x00069007
)

// tnefWanted are the MAPI properties kept from the property lists; the
// others are read past.
var tnefWanted = map[uint16]bool{
	pidSubject: true, pidClientSubmitTime: true, pidSentReprName: true, pidSentReprEmail: true,
	pidSenderName: true, pidSenderEmail: true, pidSenderSMTP: true, pidDisplayTo: true, pidDisplayCc: true,
	pidDeliveryTime: true, pidBody: true, pidRTFCompressed: true, pidHTML: true, pidInternetMessageID: true,
	pidDisplayName: true, pidAttachData: true, pidAttachFilename: true, pidAttachMethod: true,
	pidAttachLongName: true, pidAttachMime: true, pidInternetCPID: true, pidMessageCodepage: true,
}

// tnefProps are the MAPI properties kept of a message or an attachment.
type tnefProps struct {
	vals  map[uint32][]byte // variable-length values by tag (ID << 16 | type)
	fixed mapiFixed         // fixed-length values by ID
	cp    int
}

func newTNEFProps(cp int) *tnefProps {
	return &tnefProps{vals: map[uint32][]byte{}, fixed: mapiFixed{}, cp: cp}
}

func (p *tnefProps) value(id, typ uint16) []byte { return p.vals[uint32(id)<<16|uint32(typ)] }
func (p *tnefProps) codepage() int               { return p.cp }

func (p *tnefProps) long(id uint16) (int32, bool)     { return p.fixed.long(id) }
func (p *tnefProps) time(id uint16) (time.Time, bool) { return p.fixed.time(id) }

// add keeps the properties of a list that are wanted, the first value of
// each; the message's code page, when it names one, becomes theirs.
func (p *tnefProps) add(data []byte) error {
	err := readMAPIProps(data, func(prop *mapiProp) {
		if prop.named != nil || !tnefWanted[prop.id] || len(prop.values) == 0 || prop.typ&mapiMultiple != 0 {
			return
		}
		v := prop.values[0]
		if mapiFixedSize(prop.typ) > 0 {
			if _, dup := p.fixed[prop.id]; !dup {
				var f [8]byte
				copy(f[:], v)
				p.fixed[prop.id] = f
			}
			return
		}
		tag := uint32(prop.id)<<16 | uint32(prop.typ)
		if _, dup := p.vals[tag]; !dup {
			p.vals[tag] = v
		}
	})
	for _, id := range []uint16{pidMessageCodepage, pidInternetCPID} {
		if v, ok := p.long(id); ok && v > 0 && v != 1200 && codepageEncoding(int(v)) != nil {
			p.cp = int(v)
			break
		}
	}
	return err
}

// MAPI property lists ([MS-OXTNEF] 2.1.3.4): a count, then each property's
// type and ID, its name when the ID is a named one's (0x8000 and up), and
// its value: fixed-size values as they are, padded to 4 bytes;
// variable-length ones (strings, binaries, objects) as a count of values,
// then each value's length and bytes, padded to 4 bytes. A multi-valued
// property (type | 0x1000) is a count, then its values either way.

const (
	mapiMultiple = 0x1000
	// mapiValuesKept bounds the values of one multi-valued property kept
	// for the reader; the others are read past.
	mapiValuesKept = 16
)

// mapiProp is one property of a list.
type mapiProp struct {
	typ, id uint16
	named   *mapiName
	// count is how many values the property has; values holds the first
	// mapiValuesKept of them, fixed-size ones without their padding.
	count  int
	values [][]byte
}

// mapiName names a named property: a property set and a number (kind 0)
// or a string (kind 1).
type mapiName struct {
	guid [16]byte
	kind uint32
	lid  uint32
	name string
}

// mapiFixedSize returns the size of a fixed-size value of type typ, 0 for
// a variable-length type and -1 for a type unknown.
func mapiFixedSize(typ uint16) int {
	switch typ &^ mapiMultiple {
	case 0x0002, 0x000B: // PT_I2, PT_BOOLEAN
		return 2
	case ptLong, 0x0004, 0x000A: // PT_LONG, PT_FLOAT, PT_ERROR
		return 4
	case 0x0005, 0x0006, 0x0007, 0x0014, ptSystime: // PT_DOUBLE, PT_CURRENCY, PT_APPTIME, PT_I8, PT_SYSTIME
		return 8
	case 0x0048: // PT_CLSID
		return 16
	case ptString8, ptUnicode, ptBinary, ptObject:
		return 0
	}
	return -1
}

// pad4 rounds n up to a multiple of 4.
func pad4(n int) int { return (n + 3) &^ 3 }

// readMAPIProps calls visit with each property of a list, in order. A list
// cut short or holding a type it does not know ends with an error, the
// properties before it visited.
func readMAPIProps(data []byte, visit func(*mapiProp)) error {
	le := binary.LittleEndian
	r := data
	// take returns the next n bytes and skips them, their padding too.
	take := func(n, padded int) ([]byte, bool) {
		if n < 0 || n > len(r) {
			return nil, false
		}
		b := r[:n]
		r = r[min(padded, len(r)):]
		return b, true
	}
	u32 := func() (int, bool) {
		b, ok := take(4, 4)
		if !ok {
			return 0, false
		}
		return int(le.Uint32(b)), true
	}
	count, ok := u32()
	if !ok {
		return fmt.Errorf("%w: a property list without its count", ErrCorrupt)
	}
	for i := 0; i < count; i++ {
		short := func(what string) error {
			return fmt.Errorf("%w: property %d of %d cut short (%s)", ErrCorrupt, i+1, count, what)
		}
		tag, ok := take(4, 4)
		if !ok {
			return short("tag")
		}
		p := &mapiProp{typ: le.Uint16(tag), id: le.Uint16(tag[2:])}
		if p.id >= 0x8000 {
			b, ok := take(20, 20)
			if !ok {
				return short("name")
			}
			n := &mapiName{kind: le.Uint32(b[16:])}
			copy(n.guid[:], b)
			switch n.kind {
			case 0:
				lid, ok := u32()
				if !ok {
					return short("name")
				}
				n.lid = uint32(lid)
			case 1:
				size, ok := u32()
				if !ok {
					return short("name")
				}
				s, ok := take(size, pad4(size))
				if !ok {
					return short("name")
				}
				n.name = strings.TrimRight(decodeUTF16LE(head(s, 2*metaFieldMax)), "\x00")
			default:
				return fmt.Errorf("%w: property %d of %d: a name of unknown kind %d", ErrCorrupt, i+1, count, n.kind)
			}
			p.named = n
		}
		size := mapiFixedSize(p.typ)
		if size < 0 {
			return fmt.Errorf("%w: property %d of %d: unknown type %#04x", ErrCorrupt, i+1, count, p.typ)
		}
		p.count = 1
		if size == 0 || p.typ&mapiMultiple != 0 {
			if p.count, ok = u32(); !ok {
				return short("count")
			}
			// Every value takes 4 bytes at least: a count larger than
			// that is a lie, refused before the loop.
			if p.count < 0 || p.count > len(r)/4 {
				return short("count")
			}
		}
		for k := 0; k < p.count; k++ {
			var v []byte
			if size > 0 {
				if v, ok = take(size, pad4(size)); !ok {
					return short("value")
				}
			} else {
				n, ok := u32()
				if !ok {
					return short("value")
				}
				if v, ok = take(n, pad4(n)); !ok {
					return short("value")
				}
			}
			if len(p.values) < mapiValuesKept {
				p.values = append(p.values, v)
			}
		}
		visit(p)
	}
	return nil
}

// tnefReader reads one TNEF stream.
type tnefReader struct {
	ctx context.Context
	b   *budget
	res *Result
	cp  int // the OEM code page of the legacy attributes

	subject, class string
	from           [2]string // name, address
	sent           time.Time
	body           []byte // attBody, in the OEM code page
	props          *tnefProps

	att      *tnefAttachment // the attachment being read
	atts     int             // attachments met
	leftOut  []string        // the first names of the attachments over the children limit
	leftOutN int             // and how many they are
	badSums  int
	propErrs []string
}

// tnefAttachment is what one attachment's attributes say.
type tnefAttachment struct {
	title string
	data  []byte
	props *tnefProps
}

func extractTNEF(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	if !isTNEF(in.Data) {
		return nil, fmt.Errorf("%w: no TNEF signature", ErrCorrupt)
	}
	t := &tnefReader{ctx: ctx, b: b, res: &Result{Meta: map[string]string{}}, cp: 1252}
	t.props = newTNEFProps(t.cp)
	le := binary.LittleEndian
	rest := in.Data[6:]
	attrs := 0
	for len(rest) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(rest) < 11 {
			t.res.Warnings = append(t.res.Warnings, fmt.Sprintf("TNEF stream cut short: %d bytes after the last attribute", len(rest)))
			break
		}
		level, id, n := rest[0], le.Uint32(rest[1:]), le.Uint32(rest[5:])
		if uint64(n) > uint64(len(rest)-11) {
			t.res.Warnings = append(t.res.Warnings, fmt.Sprintf("TNEF stream cut short: attribute %#08x declares %d bytes, %d are left", id, n, len(rest)-11))
			break
		}
		data := rest[9 : 9+n]
		if sum := le.Uint16(rest[9+n:]); sum != tnefChecksum(data) {
			t.badSums++
		}
		rest = rest[11+n:]
		attrs++
		if err := t.attribute(level, uint16(id), data); err != nil {
			return nil, err
		}
	}
	if attrs == 0 {
		return nil, fmt.Errorf("%w: a TNEF stream without attributes", ErrCorrupt)
	}
	if err := t.finishAttachment(); err != nil {
		return nil, err
	}
	return t.result()
}

// tnefChecksum is the sum of the bytes, modulo 65536.
func tnefChecksum(data []byte) uint16 {
	var sum uint16
	for _, c := range data {
		sum += uint16(c)
	}
	return sum
}

// attribute takes in one attribute.
func (t *tnefReader) attribute(level byte, id uint16, data []byte) error {
	if level == tnefLevelAttachment || id == attAttachRendData {
		return t.attachmentAttribute(id, data)
	}
	switch id {
	case attOemCodepage:
		if len(data) >= 4 {
			if cp := int(binary.LittleEndian.Uint32(data)); codepageEncoding(cp) != nil && cp != 1200 {
				t.cp = cp
				t.props.cp = cp
			}
		}
	case attSubject:
		t.subject = t.legacyString(data)
	case attMessageClass:
		t.class = t.legacyString(data)
	case attFrom:
		t.from = t.trp(data)
	case attDateSent:
		t.sent = dtrTime(data)
	case attBody:
		t.body = data
	case attMAPIProps:
		if err := t.props.add(data); err != nil {
			t.propErrs = append(t.propErrs, "message properties: "+err.Error())
		}
	}
	return nil
}

func (t *tnefReader) attachmentAttribute(id uint16, data []byte) error {
	if id == attAttachRendData || t.att == nil {
		if err := t.finishAttachment(); err != nil {
			return err
		}
		t.att = &tnefAttachment{props: newTNEFProps(t.props.cp)}
	}
	switch id {
	case attAttachTitle:
		t.att.title = t.legacyString(data)
	case attAttachData:
		t.att.data = data
	case attAttachment:
		if err := t.att.props.add(data); err != nil {
			t.propErrs = append(t.propErrs, fmt.Sprintf("attachment %d's properties: %v", t.atts+1, err))
		}
	}
	return nil
}

// finishAttachment makes the attachment read a child, within the limits.
func (t *tnefReader) finishAttachment() error {
	a := t.att
	if a == nil {
		return nil
	}
	t.att = nil
	t.atts++
	if err := t.ctx.Err(); err != nil {
		return err
	}
	name := mapiString(a.props, pidAttachLongName)
	for _, alt := range []func() string{
		func() string { return a.title },
		func() string { return mapiString(a.props, pidAttachFilename) },
		func() string { return mapiString(a.props, pidDisplayName) },
	} {
		if strings.TrimSpace(name) == "" {
			name = alt()
		}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "attachment-" + strconv.Itoa(t.atts)
	}
	method, _ := a.props.long(pidAttachMethod)
	if method == attachEmbeddedMsg || method == attachOLE || a.props.value(pidAttachData, ptObject) != nil {
		what := "an attached message"
		if method == attachOLE {
			what = "an embedded OLE object"
		}
		t.res.Warnings = append(t.res.Warnings, fmt.Sprintf("attachment %q left out: %s", name, what))
		return nil
	}
	data := a.data
	if data == nil {
		data = a.props.value(pidAttachData, ptBinary)
	}
	if len(data) == 0 {
		t.res.Warnings = append(t.res.Warnings, fmt.Sprintf("attachment %q left out: no data", name))
		return nil
	}
	lim := t.b.lim
	if lim.MaxChildren >= 0 && len(t.res.Children) >= lim.MaxChildren {
		if len(t.leftOut) < warningNamesMax {
			t.leftOut = append(t.leftOut, name)
		}
		t.leftOutN++
		return nil
	}
	typ := strings.ToLower(strings.TrimSpace(mapiString(a.props, pidAttachMime)))
	if typ == "" {
		typ = typeOctetStream
	}
	// The data is a slice of the stream, which the pipeline holds anyway.
	t.res.Children = append(t.res.Children, Child{Name: name, Type: typ, Data: data})
	return nil
}

// legacyString decodes a legacy string attribute, in the OEM code page.
func (t *tnefReader) legacyString(data []byte) string {
	return strings.TrimSpace(strings.TrimRight(decodeCodepage(head(data, metaFieldMax), t.cp), "\x00"))
}

// trp reads attFrom's TRP structure: its ID, total size, the size of the
// display name and of the address, then the name (NUL-terminated, padded
// to 2 bytes) and the address ("SMTP:ada@example.com").
func (t *tnefReader) trp(data []byte) [2]string {
	if len(data) < 8 {
		return [2]string{}
	}
	le := binary.LittleEndian
	nameLen, addrLen := int(le.Uint16(data[4:])), int(le.Uint16(data[6:]))
	rest := data[8:]
	name := rest[:min(nameLen, len(rest))]
	rest = rest[min(nameLen, len(rest)):]
	addr := t.legacyString(rest[:min(addrLen, len(rest))])
	if typ, a, ok := strings.Cut(addr, ":"); ok && !strings.Contains(typ, "@") {
		if strings.EqualFold(typ, "SMTP") || strings.Contains(a, "@") {
			addr = a
		} else {
			addr = "" // an Exchange (EX:/O=…) address says nothing to a reader
		}
	}
	return [2]string{t.legacyString(name), strings.TrimSpace(addr)}
}

// dtrTime reads a DTR structure: year, month, day, hour, minute, second
// and day of the week, 2 bytes each.
func dtrTime(data []byte) time.Time {
	if len(data) < 12 {
		return time.Time{}
	}
	le := binary.LittleEndian
	f := func(i int) int { return int(le.Uint16(data[2*i:])) }
	y, mo, d, h, mi, s := f(0), f(1), f(2), f(3), f(4), f(5)
	if y < 1980 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
}

func (t *tnefReader) result() (*Result, error) {
	res, p := t.res, t.props
	// The legacy body is the plain text when the properties have none.
	if len(t.body) > 0 && p.value(pidBody, ptUnicode) == nil && p.value(pidBody, ptString8) == nil {
		p.vals[uint32(pidBody)<<16|ptString8] = t.body
	}
	set := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			res.Meta[k] = v
		}
	}
	subject := mapiString(p, pidSubject)
	if strings.TrimSpace(subject) == "" {
		subject = t.subject
	}
	set("subject", subject)
	name, addr := t.from[0], t.from[1]
	if n := mapiString(p, pidSenderName); n != "" {
		name = n
	}
	if a := mapiString(p, pidSenderSMTP); a != "" {
		addr = a
	} else if a := mapiString(p, pidSenderEmail); strings.Contains(a, "@") {
		addr = a
	}
	if name == "" && addr == "" {
		name = mapiString(p, pidSentReprName)
		if a := mapiString(p, pidSentReprEmail); strings.Contains(a, "@") {
			addr = a
		}
	}
	set("from", formatAddress(name, addr))
	set("to", mapiString(p, pidDisplayTo))
	set("cc", mapiString(p, pidDisplayCc))
	set("message-id", mapiString(p, pidInternetMessageID))
	set("message-class", t.class)
	res.Title = res.Meta["subject"]
	res.Author = strings.TrimSpace(name)
	if res.Author == "" {
		res.Author = strings.TrimSpace(addr)
	}
	res.Created = t.sent
	if res.Created.IsZero() {
		if d, ok := p.time(pidClientSubmitTime); ok {
			res.Created = d
		} else if d, ok := p.time(pidDeliveryTime); ok {
			res.Created = d
		}
	}
	if !res.Created.IsZero() {
		res.Meta["date"] = res.Created.Format(time.RFC1123Z)
	}
	body, err := mapiBody(t.ctx, t.b, p, res)
	if err != nil {
		return nil, err
	}
	res.Text = body
	if t.badSums > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d TNEF attributes fail their checksum; read all the same", t.badSums))
	}
	res.Warnings = append(res.Warnings, t.propErrs...)
	if t.leftOutN > 0 {
		res.Meta["attachments_left_out"] = strconv.Itoa(t.leftOutN)
		names := nameList(t.leftOut)
		if more := t.leftOutN - len(t.leftOut); more > 0 {
			names += fmt.Sprintf(" and %d more", more)
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d attachments left out: the message holds more than the children limit of %d (%s)",
			t.leftOutN, t.b.lim.MaxChildren, names))
	}
	return res, nil
}

//go:build ignore

// gen writes the TNEF streams (Outlook's winmail.dat) the TNEF tests read,
// byte by byte from [MS-OXTNEF], since no free tool writes one (see
// README.md). Run it from this directory with `go run gen.go`; the output
// is the same on every run.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/quirehq/quire/internal/testdocs"
)

// sent is every message's date: the UDHR's fiftieth anniversary.
var sent = time.Date(1998, 12, 10, 15, 30, 0, 0, time.UTC)

func main() {
	hoover := read("text/sotu-1932-hoover.txt")
	odt := read("office/udhr-fra.odt")
	write("winmail.dat", legacyMessage(hoover, odt))
	write("rtf-body.tnef", rtfMessage())
	write("winmail-attached.eml", emailWithTNEF(forwardedMessage()))
}

func read(name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(name)))
	check(err)
	return b
}

func write(name string, data []byte) { check(os.WriteFile(name, data, 0o644)) }

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// legacyMessage is (a): a message in the legacy attributes only (subject,
// sender, date, plain body), with two attachments, a text file and an
// OpenDocument text, each with its MIME type in its MAPI properties.
func legacyMessage(txt, odt []byte) []byte {
	s := newStream()
	s.messageHeader()
	s.attr(levelMessage, attFrom, trp("Eleanor Roosevelt", "SMTP:eleanor@example.org"))
	s.attr(levelMessage, attSubject, cstr("Papers for the drafting committee"))
	s.attr(levelMessage, attDateSent, dtr(sent))
	s.attr(levelMessage, attBody, []byte("Dear colleagues,\r\n\r\nPlease find attached the address of 1932 and the French text of the Declaration, for Friday's session.\r\n\r\nEleanor"))
	s.attachment("sotu-1932.txt", txt, props(
		str8(pidAttachMime, "text/plain"),
		long(pidAttachMethod, 1),
	))
	s.attachment("udhr-fra.odt", odt, props(
		str8(pidAttachMime, "application/vnd.oasis.opendocument.text"),
		long(pidAttachMethod, 1),
	))
	return s.Bytes()
}

// rtfMessage is (b): a message whose subject, sender, date and body are in
// attMAPIProps only, the body as compressed RTF; among the properties a
// named one, a multi-valued one and 2-byte values padded to 4. Its
// attachment has an 8.3 title and a long file name in its properties; a
// second one has its data only in PR_ATTACH_DATA_BIN.
func rtfMessage() []byte {
	rtf := `{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\froman Times New Roman;}}` +
		`\f0\fs24 Article 1.\par All human beings are born free and equal in dignity and rights, ` +
		`caf\'e9 society included.\par}`
	s := newStream()
	s.messageHeader()
	s.attr(levelMessage, attMAPIProps, props(
		uni(pidSubject, "Article 1, in rich text"),
		uni(pidSenderName, "René Cassin"),
		uni(pidSenderSMTP, "rene.cassin@example.org"),
		systime(pidClientSubmitTime, sent),
		long(pidImportance, 2),
		short(pidSensitivity, 0),
		boolean(pidRTFInSync, true),
		named(mvUnicode(0x8000, "UDHR", "Article 1"), psPublicStrings, "Keywords"),
		namedID(boolean(0x8001, true), psetidCommon, 0x8582), // PidLidUseTnef
		bin(pidRTFCompressed, testdocs.CompressedRTF([]byte(rtf))),
	))
	article := []byte("Everyone is entitled to all the rights and freedoms set forth in this Declaration.\r\n")
	s.attachment("ARTICL~2.TXT", article, props(
		uni(pidAttachLongName, "article 2 of the declaration.txt"),
		str8(pidAttachFilename, "ARTICL~2.TXT"),
		uni(pidAttachMime, "text/plain"),
		long(pidAttachMethod, 1),
	))
	s.attachment("ARTICL~3.TXT", nil, props(
		uni(pidAttachLongName, "article 3 of the declaration.txt"),
		long(pidAttachMethod, 1),
		bin(pidAttachDataBin, []byte("Everyone has the right to life, liberty and security of person.\r\n")),
	))
	return s.Bytes()
}

// forwardedMessage is the winmail.dat of (c): a short message with one
// attachment of its own.
func forwardedMessage() []byte {
	s := newStream()
	s.messageHeader()
	s.attr(levelMessage, attFrom, trp("Charles Malik", "SMTP:malik@example.org"))
	s.attr(levelMessage, attSubject, cstr("Agenda of the third session"))
	s.attr(levelMessage, attDateSent, dtr(sent))
	s.attr(levelMessage, attBody, []byte("The agenda of the third session is attached.\r\n"))
	s.attachment("agenda.txt", []byte("Agenda of the third session: the vote on the Universal Declaration of Human Rights, Palais de Chaillot, Paris.\r\n"),
		props(str8(pidAttachMime, "text/plain"), long(pidAttachMethod, 1)))
	return s.Bytes()
}

// emailWithTNEF is (c): an email as Outlook sends it over SMTP, a plain
// body and the TNEF stream as winmail.dat, base64.
func emailWithTNEF(tnef []byte) []byte {
	var b strings.Builder
	b.WriteString("From: Charles Malik <malik@example.org>\r\n" +
		"To: Commission on Human Rights <commission@example.org>\r\n" +
		"Subject: Agenda of the third session\r\n" +
		"Date: Thu, 10 Dec 1998 15:30:00 +0000\r\n" +
		"Message-ID: <tnef-1998@example.org>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"=_tnef\"\r\n\r\n" +
		"--=_tnef\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
		"The agenda of the third session is attached.\r\n\r\n" +
		"--=_tnef\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=\"winmail.dat\"\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(tnef)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--=_tnef--\r\n")
	return []byte(b.String())
}

// TNEF attributes ([MS-OXTNEF] 2.1.3.3): the ID's high word is the type
// of the data.
const (
	levelMessage    = 1
	levelAttachment = 2

	attFrom           = 0x00008000
	attSubject        = 0x00018004
	attDateSent       = 0x00038005
	attMessageClass   = 0x00078008
	attBody           = 0x0002800C
	attAttachData     = 0x0006800F
	attAttachTitle    = 0x00018010
	attAttachRendData = 0x00069002
	attMAPIProps      = 0x00069003
	attAttachment     = 0x00069005
	attTnefVersion    = 0x00089006
	attOemCodepage    = 0x00069007
)

type stream struct{ bytes.Buffer }

func newStream() *stream {
	s := &stream{}
	s.Write(le32(0x223E9F78))
	s.Write(le16(0x0001)) // the legacy key
	return s
}

// attr writes one attribute: level, ID, length, data, checksum.
func (s *stream) attr(level byte, id uint32, data []byte) {
	s.WriteByte(level)
	s.Write(le32(id))
	s.Write(le32(uint32(len(data))))
	s.Write(data)
	var sum uint16
	for _, c := range data {
		sum += uint16(c)
	}
	s.Write(le16(sum))
}

// messageHeader writes the attributes every stream starts with.
func (s *stream) messageHeader() {
	s.attr(levelMessage, attTnefVersion, le32(0x00010000))
	s.attr(levelMessage, attOemCodepage, append(le32(1252), le32(0)...))
	s.attr(levelMessage, attMessageClass, cstr("IPM.Microsoft Mail.Note"))
}

// attachment writes an attachment: its rendering data, title, data (when
// not nil) and MAPI properties.
func (s *stream) attachment(title string, data, mapi []byte) {
	// RENDDATA: a file (1), no position, no size, no flags.
	rend := append(append(le16(1), le32(0xFFFFFFFF)...), append(append(le16(0), le16(0)...), le32(0)...)...)
	s.attr(levelAttachment, attAttachRendData, rend)
	s.attr(levelAttachment, attAttachTitle, cstr(title))
	if data != nil {
		s.attr(levelAttachment, attAttachData, data)
	}
	s.attr(levelAttachment, attAttachment, mapi)
}

// trp is attFrom's TRP structure: one-off, total size, the name's size
// (with its NUL, padded to 2), the address's, then both and a closing TRP.
func trp(name, addr string) []byte {
	n := cstr(name)
	if len(n)%2 == 1 {
		n = append(n, 0)
	}
	a := cstr(addr)
	var b []byte
	b = append(b, le16(0x0004)...) // trpidOneOff
	b = append(b, le16(uint16(16+len(n)+len(a)))...)
	b = append(b, le16(uint16(len(n)))...)
	b = append(b, le16(uint16(len(a)))...)
	b = append(b, n...)
	b = append(b, a...)
	return append(b, make([]byte, 8)...)
}

// dtr is a DTR structure: year, month, day, hour, minute, second, weekday.
func dtr(t time.Time) []byte {
	var b []byte
	for _, v := range []int{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), int(t.Weekday())} {
		b = append(b, le16(uint16(v))...)
	}
	return b
}

// MAPI properties ([MS-OXTNEF] 2.1.3.4).
const (
	pidSubject          = 0x0037
	pidSensitivity      = 0x0036
	pidImportance       = 0x0017
	pidClientSubmitTime = 0x0039
	pidSenderName       = 0x0C1A
	pidRTFInSync        = 0x0E1F
	pidRTFCompressed    = 0x1009
	pidAttachDataBin    = 0x3701
	pidAttachFilename   = 0x3704
	pidAttachMethod     = 0x3705
	pidAttachLongName   = 0x3707
	pidAttachMime       = 0x370E
	pidSenderSMTP       = 0x5D01

	ptI2      = 0x0002
	ptLong    = 0x0003
	ptBoolean = 0x000B
	ptString8 = 0x001E
	ptUnicode = 0x001F
	ptSystime = 0x0040
	ptBinary  = 0x0102
	mv        = 0x1000
)

var (
	psPublicStrings = guid(0x00020329, 0x0000, 0x0000, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46)
	psetidCommon    = guid(0x00062008, 0x0000, 0x0000, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46)
)

// guid writes a GUID as Windows stores it: its first three fields
// little-endian.
func guid(a uint32, b, c uint16, d ...byte) []byte {
	return append(append(append(le32(a), le16(b)...), le16(c)...), d...)
}

// prop is one encoded property: its tag, name and value(s).
type prop []byte

func props(ps ...prop) []byte {
	b := le32(uint32(len(ps)))
	for _, p := range ps {
		b = append(b, p...)
	}
	return b
}

func tag(id, typ uint16) []byte { return append(le16(typ), le16(id)...) }

// fixed is a fixed-size value, padded to 4 bytes.
func fixed(id, typ uint16, v []byte) prop { return append(tag(id, typ), pad(v)...) }

// variable is a variable-length property: a count of values, then each
// value's length, the value and its padding to 4 bytes.
func variable(id, typ uint16, vs ...[]byte) prop {
	b := append(tag(id, typ), le32(uint32(len(vs)))...)
	for _, v := range vs {
		b = append(b, le32(uint32(len(v)))...)
		b = append(b, pad(v)...)
	}
	return b
}

func long(id uint16, v uint32) prop  { return fixed(id, ptLong, le32(v)) }
func short(id uint16, v uint16) prop { return fixed(id, ptI2, le16(v)) }
func str8(id uint16, s string) prop  { return variable(id, ptString8, cstr(s)) }
func uni(id uint16, s string) prop   { return variable(id, ptUnicode, utf16z(s)) }
func bin(id uint16, b []byte) prop   { return variable(id, ptBinary, b) }
func systime(id uint16, t time.Time) prop {
	ft := uint64(t.Unix()+11644473600) * 1e7
	return fixed(id, ptSystime, binary.LittleEndian.AppendUint64(nil, ft))
}

func boolean(id uint16, v bool) prop {
	if v {
		return fixed(id, ptBoolean, le16(1))
	}
	return fixed(id, ptBoolean, le16(0))
}

func mvUnicode(id uint16, ss ...string) prop {
	var vs [][]byte
	for _, s := range ss {
		vs = append(vs, utf16z(s))
	}
	return variable(id, ptUnicode|mv, vs...)
}

// named inserts a string name (kind 1) after the tag of p: the property
// set, the kind, the name's size and the name in UTF-16, padded.
func named(p prop, set []byte, name string) prop {
	n := utf16z(name)
	b := append([]byte(nil), p[:4]...)
	b = append(b, set...)
	b = append(b, le32(1)...)
	b = append(b, le32(uint32(len(n)))...)
	b = append(b, pad(n)...)
	return append(b, p[4:]...)
}

// namedID inserts a numeric name (kind 0) after the tag of p.
func namedID(p prop, set []byte, lid uint32) prop {
	b := append([]byte(nil), p[:4]...)
	b = append(b, set...)
	b = append(b, le32(0)...)
	b = append(b, le32(lid)...)
	return append(b, p[4:]...)
}

func pad(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func cstr(s string) []byte { return append([]byte(s), 0) }

func utf16z(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s + "\x00")) {
		b = append(b, le16(u)...)
	}
	return b
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

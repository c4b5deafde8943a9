package extract

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/require"
)

// The committed TNEF streams are written by testdata/formats/tnef/gen.go;
// these helpers write the small and hostile ones the tests need.

// tnefAttr encodes one attribute; a checksum of -1 is the right one.
func tnefAttr(level byte, id uint32, data []byte, checksum int) []byte {
	b := []byte{level}
	b = binary.LittleEndian.AppendUint32(b, id)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	sum := uint16(checksum)
	if checksum < 0 {
		sum = tnefChecksum(data)
	}
	return binary.LittleEndian.AppendUint16(b, sum)
}

func tnefStream(attrs ...[]byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, tnefSignature)
	b = binary.LittleEndian.AppendUint16(b, 1)
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func padded(b []byte) []byte {
	out := append([]byte(nil), b...)
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	return out
}

func utf16z(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s + "\x00")) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// mapiList encodes a property list of already encoded properties.
func mapiList(props ...[]byte) []byte {
	b := le32(uint32(len(props)))
	for _, p := range props {
		b = append(b, p...)
	}
	return b
}

func mapiTag(id, typ uint16) []byte {
	return binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, typ), id)
}

// mapiVar encodes a variable-length property: a count, then each value's
// length, bytes and padding.
func mapiVar(id, typ uint16, vals ...[]byte) []byte {
	b := append(mapiTag(id, typ), le32(uint32(len(vals)))...)
	for _, v := range vals {
		b = append(b, le32(uint32(len(v)))...)
		b = append(b, padded(v)...)
	}
	return b
}

func tnefFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "formats", "tnef", name))
	require.NoError(t, err)
	return data
}

func extractTNEFBytes(t *testing.T, lim Limits, data []byte) (*Result, error) {
	t.Helper()
	x := New(Config{Limits: lim})
	t.Cleanup(func() { _ = x.Close() })
	return x.Extract(context.Background(), &Input{Name: "winmail.dat", Data: data})
}

// TestMAPIProps decodes a property list written by hand: a 2-byte value
// padded to 4, a named property with a string name holding several
// values, a named property with a numeric name, a binary of odd length,
// each followed by one more property that only reads right if the one
// before was read to its last padding byte.
func TestMAPIProps(t *testing.T) {
	t.Parallel()
	publicStrings := []byte{0x29, 0x03, 0x02, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46}
	var list []byte
	list = append(list, le32(5)...)
	// PR_SENSITIVITY, PT_I2: 2 bytes and 2 of padding.
	list = append(list, mapiTag(0x0036, 0x0002)...)
	list = append(list, 0x02, 0x00, 0xEE, 0xEE)
	// Keywords in PS_PUBLIC_STRINGS, PT_MV_UNICODE: the set, kind 1, the
	// name's size, the name padded, then two values.
	list = append(list, mapiTag(0x8000, 0x101F)...)
	list = append(list, publicStrings...)
	list = append(list, le32(1)...)
	name := utf16z("Keywords") // 18 bytes, padded to 20
	list = append(list, le32(uint32(len(name)))...)
	list = append(list, padded(name)...)
	list = append(list, le32(2)...)
	for _, v := range []string{"UDHR", "Article 1"} {
		u := utf16z(v)
		list = append(list, le32(uint32(len(u)))...)
		list = append(list, padded(u)...)
	}
	// PidLidUseTnef in PSETID_Common, PT_BOOLEAN: kind 0, the number.
	list = append(list, mapiTag(0x8001, 0x000B)...)
	list = append(list, 0x08, 0x20, 0x06, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46)
	list = append(list, le32(0)...)
	list = append(list, le32(0x8582)...)
	list = append(list, 0x01, 0x00, 0x00, 0x00)
	// PR_RTF_COMPRESSED, PT_BINARY of 5 bytes, padded to 8.
	list = append(list, mapiVar(0x1009, 0x0102, []byte("abcde"))...)
	// PR_SUBJECT, PT_STRING8.
	list = append(list, mapiVar(0x0037, 0x001E, []byte("Hello\x00"))...)

	var got []*mapiProp
	require.NoError(t, readMAPIProps(list, func(p *mapiProp) { got = append(got, p) }))
	require.Len(t, got, 5)

	require.Equal(t, uint16(0x0036), got[0].id)
	require.Equal(t, [][]byte{{0x02, 0x00}}, got[0].values)

	kw := got[1]
	require.Equal(t, uint16(0x101F), kw.typ)
	require.NotNil(t, kw.named)
	require.Equal(t, uint32(1), kw.named.kind)
	require.Equal(t, "Keywords", kw.named.name)
	require.Equal(t, publicStrings, kw.named.guid[:])
	require.Equal(t, 2, kw.count)
	require.Equal(t, "UDHR\x00", decodeUTF16LE(kw.values[0]))
	require.Equal(t, "Article 1\x00", decodeUTF16LE(kw.values[1]))

	flag := got[2]
	require.Equal(t, uint32(0), flag.named.kind)
	require.Equal(t, uint32(0x8582), flag.named.lid)
	require.Equal(t, [][]byte{{0x01, 0x00}}, flag.values)

	require.Equal(t, [][]byte{[]byte("abcde")}, got[3].values)
	require.Equal(t, uint16(0x0037), got[4].id)
	require.Equal(t, [][]byte{[]byte("Hello\x00")}, got[4].values)

	// Cut anywhere, the list ends with an error, never a panic, and the
	// properties before the cut are read; only the last value's padding
	// may be missing.
	for i := range len(list) - 2 {
		n := 0
		err := readMAPIProps(list[:i], func(*mapiProp) { n++ })
		require.Error(t, err, "cut at %d", i)
		require.ErrorIs(t, err, ErrCorrupt)
		require.Less(t, n, 5)
	}
	// A count of values no input could hold is refused before the loop.
	lie := append(le32(1), append(mapiTag(0x1000, 0x101F), le32(0x7FFFFFFF)...)...)
	require.ErrorIs(t, readMAPIProps(lie, func(*mapiProp) {}), ErrCorrupt)
}

func TestTNEF(t *testing.T) {
	t.Parallel()
	t.Run("Legacy", func(t *testing.T) {
		t.Parallel()
		res, err := extractTNEFBytes(t, Limits{}, tnefFile(t, "winmail.dat"))
		require.NoError(t, err)
		require.Equal(t, typeTNEF, res.Type)
		require.Equal(t, "Papers for the drafting committee", res.Title)
		require.Equal(t, "Eleanor Roosevelt", res.Author)
		require.Equal(t, time.Date(1998, 12, 10, 15, 30, 0, 0, time.UTC), res.Created)
		require.Equal(t, "Eleanor Roosevelt <eleanor@example.org>", res.Meta["from"])
		require.Equal(t, "IPM.Microsoft Mail.Note", res.Meta["message-class"])
		require.Contains(t, res.Text, "Please find attached the address of 1932")
		require.Empty(t, res.Warnings)
		require.Len(t, res.Children, 2)
		hoover, err := os.ReadFile(filepath.Join("..", "testdata", "text", "sotu-1932-hoover.txt"))
		require.NoError(t, err)
		odt, err := os.ReadFile(filepath.Join("..", "testdata", "office", "udhr-fra.odt"))
		require.NoError(t, err)
		require.Equal(t, Child{Name: "sotu-1932.txt", Type: "text/plain", Data: hoover}, res.Children[0])
		require.Equal(t, Child{Name: "udhr-fra.odt", Type: typeODT, Data: odt}, res.Children[1])
	})
	t.Run("RTF", func(t *testing.T) {
		t.Parallel()
		res, err := extractTNEFBytes(t, Limits{}, tnefFile(t, "rtf-body.tnef"))
		require.NoError(t, err)
		require.Equal(t, "Article 1, in rich text", res.Title)
		require.Equal(t, "René Cassin", res.Author)
		require.Equal(t, "René Cassin <rene.cassin@example.org>", res.Meta["from"])
		require.Equal(t, time.Date(1998, 12, 10, 15, 30, 0, 0, time.UTC), res.Created)
		require.Contains(t, res.Text, "All human beings are born free and equal in dignity and rights, café society included.")
		require.NotContains(t, res.Text, "Times New Roman")
		require.Len(t, res.Children, 2)
		require.Equal(t, "article 2 of the declaration.txt", res.Children[0].Name)
		require.Equal(t, "text/plain", res.Children[0].Type)
		require.Equal(t, "article 3 of the declaration.txt", res.Children[1].Name)
		require.Equal(t, typeOctetStream, res.Children[1].Type)
		require.Equal(t, "Everyone has the right to life, liberty and security of person.\r\n", string(res.Children[1].Data))
	})
	t.Run("InEmail", func(t *testing.T) {
		t.Parallel()
		// The pipeline processes an attachment as a document of its own,
		// its type detected again: winmail.dat is TNEF whatever the
		// email declared, and its attachments are the email's
		// grandchildren.
		x := New(Config{})
		t.Cleanup(func() { _ = x.Close() })
		res, err := x.Extract(context.Background(), &Input{Name: "winmail-attached.eml", Data: tnefFile(t, "winmail-attached.eml")})
		require.NoError(t, err)
		require.Equal(t, typeEmail, res.Type)
		require.Len(t, res.Children, 1)
		kid := res.Children[0]
		require.Equal(t, "winmail.dat", kid.Name)
		require.Equal(t, typeTNEF, Detect(kid.Name, kid.Data))
		require.Equal(t, typeTNEF, Detect("", kid.Data))
		inner, err := x.Extract(context.Background(), &Input{Name: kid.Name, Data: kid.Data})
		require.NoError(t, err)
		require.Equal(t, typeTNEF, inner.Type)
		require.Equal(t, "Agenda of the third session", inner.Title)
		require.Len(t, inner.Children, 1)
		require.Equal(t, "agenda.txt", inner.Children[0].Name)
		require.Contains(t, string(inner.Children[0].Data), "Palais de Chaillot")
	})
}

func TestTNEFDetect(t *testing.T) {
	t.Parallel()
	data := tnefFile(t, "rtf-body.tnef")
	for _, name := range []string{"", "winmail.dat", "message.tnef", "report.txt", "x.pdf"} {
		require.Equal(t, typeTNEF, Detect(name, data), name)
	}
}

func TestTNEFHostile(t *testing.T) {
	t.Parallel()
	subject := tnefAttr(tnefLevelMessage, 0x00018004, []byte("Subject\x00"), -1)
	body := tnefAttr(tnefLevelMessage, 0x0002800C, []byte("The body."), -1)
	rend := tnefAttr(tnefLevelAttachment, 0x00069002, make([]byte, 14), -1)
	attach := func(title, data string) []byte {
		b := append([]byte(nil), rend...)
		b = append(b, tnefAttr(tnefLevelAttachment, 0x00018010, []byte(title+"\x00"), -1)...)
		return append(b, tnefAttr(tnefLevelAttachment, 0x0006800F, []byte(data), -1)...)
	}

	t.Run("Signature", func(t *testing.T) {
		t.Parallel()
		_, err := extractTNEF(context.Background(), nil, &Input{Data: []byte("not TNEF at all")}, newBudget(Limits{}.WithDefaults()))
		require.ErrorIs(t, err, ErrCorrupt)
		_, err = extractTNEFBytes(t, Limits{}, tnefStream())
		require.ErrorIs(t, err, ErrCorrupt, "no attributes")
	})
	t.Run("Checksum", func(t *testing.T) {
		t.Parallel()
		res, err := extractTNEFBytes(t, Limits{}, tnefStream(subject, tnefAttr(tnefLevelMessage, 0x0002800C, []byte("The body."), 1)))
		require.NoError(t, err)
		require.Contains(t, res.Text, "The body.")
		require.Equal(t, []string{"1 TNEF attributes fail their checksum; read all the same"}, res.Warnings)
	})
	t.Run("Length", func(t *testing.T) {
		t.Parallel()
		// An attribute that declares 4 GiB: refused from what is left,
		// never allocated; the attributes before it are kept.
		huge := []byte{tnefLevelAttachment}
		huge = binary.LittleEndian.AppendUint32(huge, 0x0006800F)
		huge = binary.LittleEndian.AppendUint32(huge, 0xFFFFFFFF)
		huge = append(huge, "short"...)
		res, err := extractTNEFBytes(t, Limits{}, tnefStream(subject, body, huge))
		require.NoError(t, err)
		require.Equal(t, "Subject", res.Title)
		require.Contains(t, res.Text, "The body.")
		require.Len(t, res.Warnings, 1)
		require.Contains(t, res.Warnings[0], "declares 4294967295 bytes")
	})
	t.Run("Properties", func(t *testing.T) {
		t.Parallel()
		// A property list whose second property is cut: the first is
		// read, and a warning says what was lost.
		list := mapiList(mapiVar(pidSubject, ptString8, []byte("From the properties\x00")), mapiTag(pidBody, ptString8))
		res, err := extractTNEFBytes(t, Limits{}, tnefStream(subject, tnefAttr(tnefLevelMessage, 0x00069003, list, -1)))
		require.NoError(t, err)
		require.Equal(t, "From the properties", res.Title)
		require.Len(t, res.Warnings, 1)
		require.Contains(t, res.Warnings[0], "message properties")
	})
	t.Run("Children", func(t *testing.T) {
		t.Parallel()
		attrs := [][]byte{subject, body}
		for i := range 8 {
			attrs = append(attrs, attach("a"+strings.Repeat("x", i)+".txt", "data"))
		}
		res, err := extractTNEFBytes(t, Limits{MaxChildren: 3}, tnefStream(attrs...))
		require.NoError(t, err)
		require.Len(t, res.Children, 3)
		require.Equal(t, "5", res.Meta["attachments_left_out"])
		require.Len(t, res.Warnings, 1)
		require.Contains(t, res.Warnings[0], "5 attachments left out")
	})
	t.Run("Embedded", func(t *testing.T) {
		t.Parallel()
		// An attached message is a PT_OBJECT: left out, with a warning.
		obj := append(make([]byte, 16), tnefStream(subject)...)
		props := mapiList(
			mapiVar(pidAttachLongName, ptUnicode, utf16z("forwarded message")),
			mapiVar(pidAttachData, ptObject, obj),
			append(mapiTag(pidAttachMethod, ptLong), le32(attachEmbeddedMsg)...),
		)
		res, err := extractTNEFBytes(t, Limits{}, tnefStream(subject, body, rend,
			tnefAttr(tnefLevelAttachment, 0x00069005, props, -1), attach("kept.txt", "kept")))
		require.NoError(t, err)
		require.Len(t, res.Children, 1)
		require.Equal(t, "kept.txt", res.Children[0].Name)
		require.Equal(t, []string{`attachment "forwarded message" left out: an attached message`}, res.Warnings)
	})
	t.Run("Text", func(t *testing.T) {
		t.Parallel()
		res, err := extractTNEFBytes(t, Limits{MaxText: 100}, tnefStream(subject,
			tnefAttr(tnefLevelMessage, 0x0002800C, []byte(strings.Repeat("word ", 1000)), -1)))
		require.NoError(t, err)
		require.True(t, res.Truncated)
		require.LessOrEqual(t, len(res.Text), 100)
	})
}

func FuzzTNEF(f *testing.F) {
	for _, name := range []string{"winmail.dat", "rtf-body.tnef"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "formats", "tnef", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(tnefStream(tnefAttr(tnefLevelMessage, 0x00069003, mapiList(mapiVar(0x8000, 0x101F, []byte("x"))), -1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, typeTNEF, data)
		checkExtract(t, "", data)
	})
}

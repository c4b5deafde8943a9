package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/quirehq/quire/internal/testdocs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
)

// ---- Outlook messages built from properties.

// msgProp is a MAPI property: its tag (ID << 16 | type) and value, a
// string (PT_UNICODE, or PT_STRING8 in the code page cp), []byte, int32 or
// time.Time.
type msgProp struct {
	tag   uint32
	value any
	cp    int // PT_STRING8: the code page, windows-1252 when 0
}

func uni(id uint16, s string) msgProp { return msgProp{tag: uint32(id)<<16 | ptUnicode, value: s} }
func ansi(id uint16, s string, cp int) msgProp {
	return msgProp{tag: uint32(id)<<16 | ptString8, value: s, cp: cp}
}
func bin(id uint16, b []byte) msgProp { return msgProp{tag: uint32(id)<<16 | ptBinary, value: b} }
func long(id uint16, v int32) msgProp { return msgProp{tag: uint32(id)<<16 | ptLong, value: v} }
func systime(id uint16, t time.Time) msgProp {
	return msgProp{tag: uint32(id)<<16 | ptSystime, value: t}
}

// msgSpec is a message to write.
type msgSpec struct {
	props   []msgProp
	recips  [][]msgProp
	attachs []msgAttach
}

type msgAttach struct {
	props    []msgProp
	embedded *msgSpec // attach method 5
}

// nodes returns the streams and storages of a message; hdr is its
// property stream's header size.
func (m *msgSpec) nodes(hdr int) []*testdocs.CFBNode {
	out, propStream := propNodes(m.props, hdr)
	binary.LittleEndian.PutUint32(propStream[8:], uint32(len(m.recips)))
	binary.LittleEndian.PutUint32(propStream[12:], uint32(len(m.attachs)))
	binary.LittleEndian.PutUint32(propStream[16:], uint32(len(m.recips)))
	binary.LittleEndian.PutUint32(propStream[20:], uint32(len(m.attachs)))
	for i, r := range m.recips {
		kids, _ := propNodes(r, 8)
		out = append(out, testdocs.CFBStorage(sprintf8("__recip_version1.0_#", i), kids...))
	}
	for i, a := range m.attachs {
		props := a.props
		if a.embedded != nil {
			props = append(props, long(pidAttachMethod, attachEmbeddedMsg))
		}
		kids, _ := propNodes(props, 8)
		if a.embedded != nil {
			kids = append(kids, testdocs.CFBStorage("__substg1.0_3701000D", a.embedded.nodes(24)...))
		}
		out = append(out, testdocs.CFBStorage(sprintf8("__attach_version1.0_#", i), kids...))
	}
	return out
}

func sprintf8(prefix string, i int) string {
	const hex = "0123456789ABCDEF"
	b := []byte(prefix + "00000000")
	for k := len(b) - 1; i > 0; k-- {
		b[k] = hex[i%16]
		i /= 16
	}
	return string(b)
}

// propNodes writes properties as __substg1.0_ streams and a property
// stream, which it returns too.
func propNodes(props []msgProp, hdr int) ([]*testdocs.CFBNode, []byte) {
	le := binary.LittleEndian
	ps := make([]byte, hdr)
	var out []*testdocs.CFBNode
	for _, p := range props {
		e := make([]byte, 16)
		le.PutUint16(e, uint16(p.tag))
		le.PutUint16(e[2:], uint16(p.tag>>16))
		le.PutUint32(e[4:], 6) // readable, writable
		var data []byte
		switch v := p.value.(type) {
		case string:
			if uint16(p.tag) == ptUnicode {
				for _, c := range utf16.Encode([]rune(v)) {
					data = le.AppendUint16(data, c)
				}
				data = append(data, 0, 0)
			} else {
				enc := charmap.Windows1252
				if p.cp == 1251 {
					enc = charmap.Windows1251
				}
				b, err := enc.NewEncoder().Bytes([]byte(v))
				if err != nil {
					panic(err)
				}
				data = append(b, 0)
			}
			le.PutUint32(e[8:], uint32(len(data)))
		case []byte:
			data = v
			le.PutUint32(e[8:], uint32(len(data)))
		case int32:
			le.PutUint32(e[8:], uint32(v))
		case time.Time:
			le.PutUint64(e[8:], uint64(v.Unix()+11644473600)*1e7+uint64(v.Nanosecond()/100))
		}
		ps = append(ps, e...)
		if data != nil {
			out = append(out, testdocs.CFBStream(sprintf8("__substg1.0_", int(p.tag)), data))
		}
	}
	return append(out, testdocs.CFBStream("__properties_version1.0", ps)), ps
}

func (m *msgSpec) bytes() []byte {
	kids := m.nodes(32)
	kids = append(kids, testdocs.CFBStorage("__nameid_version1.0",
		testdocs.CFBStream("__substg1.0_00020102", nil), testdocs.CFBStream("__substg1.0_00030102", nil), testdocs.CFBStream("__substg1.0_00040102", nil)))
	return testdocs.CFB(testdocs.CFBStorage("Root Entry", kids...))
}

// The committed messages, each made by its generator.
var sent = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func msgHTMLMessage() []byte {
	return (&msgSpec{
		props: []msgProp{
			uni(0x001A, "IPM.Note"),
			uni(pidSubject, "Quarterly numbers"),
			uni(pidSenderName, "Grace Hopper"),
			uni(pidSenderEmail, "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=GRACE"),
			uni(pidSenderSMTP, "grace@example.com"),
			uni(pidDisplayTo, "Ada Lovelace; Alan Turing"),
			uni(pidDisplayCc, "Charles Babbage"),
			uni(pidInternetMessageID, "<q3-numbers@example.com>"),
			systime(pidClientSubmitTime, sent),
			systime(pidDeliveryTime, sent.Add(time.Minute)),
			long(pidInternetCPID, 65001),
			uni(pidBody, "Dear team, the plain text alternative."),
			bin(pidHTML, []byte(`<html lang="en"><head><meta charset="utf-8"><title>Q3</title></head><body><p>Dear team,</p><p>The numbers for the third quarter are in: revenue grew by 12%.</p><table><tr><td>North</td><td>€1,200</td></tr></table></body></html>`)),
		},
		recips: [][]msgProp{
			{uni(pidDisplayName, "Ada Lovelace"), uni(pidSMTPAddress, "ada@example.com"), long(pidRecipientType, 1)},
			{uni(pidDisplayName, "Alan Turing"), uni(pidEmailAddress, "alan@example.com"), long(pidRecipientType, 1)},
			{uni(pidDisplayName, "Charles Babbage"), uni(pidSMTPAddress, "charles@example.com"), long(pidRecipientType, 2)},
			{uni(pidDisplayName, "Secret Watcher"), uni(pidSMTPAddress, "bcc@example.com"), long(pidRecipientType, 3)},
		},
		attachs: []msgAttach{
			{props: []msgProp{uni(pidAttachLongName, "numbers.csv"), uni(pidAttachFilename, "NUMBERS.CSV"),
				uni(pidAttachMime, "text/csv"), long(pidAttachMethod, 1), bin(pidAttachData, []byte("region,sales\nNorth,1200\n"))}},
			{props: []msgProp{uni(pidAttachFilename, "LOGO.PNG"), long(pidAttachMethod, 1),
				bin(pidAttachData, storedPNG(40, 41))}},
		},
	}).bytes()
}

// storedPNG is a real PNG of w×h pixels of one colour, its image data in
// stored (uncompressed) deflate blocks: the same bytes from every Go
// version, as a committed fixture needs, and large enough (over 4 KiB for
// 40×41) to live in sectors of its own.
func storedPNG(w, h int) []byte {
	pixels := bytes.Repeat(append([]byte{0}, bytes.Repeat([]byte{0x1e, 0x3c, 0x78}, w)...), h) // filter 0 a row
	raw := pixels
	var z bytes.Buffer
	z.Write([]byte{0x78, 0x01})
	for len(raw) > 0 || z.Len() == 2 {
		n := min(len(raw), 0xffff)
		final := byte(0)
		if n == len(raw) {
			final = 1
		}
		z.WriteByte(final)
		z.Write(binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, uint16(n)), ^uint16(n)))
		z.Write(raw[:n])
		raw = raw[n:]
	}
	a, b := uint32(1), uint32(0) // Adler-32
	for _, c := range pixels {
		a = (a + uint32(c)) % 65521
		b = (b + a) % 65521
	}
	z.Write(binary.BigEndian.AppendUint32(nil, b<<16|a))
	var png bytes.Buffer
	png.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		png.Write(binary.BigEndian.AppendUint32(nil, uint32(len(data))))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		png.WriteString(typ)
		png.Write(data)
		png.Write(binary.BigEndian.AppendUint32(nil, crc.Sum32()))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(w)), uint32(h))
	chunk("IHDR", append(ihdr, 8, 2, 0, 0, 0)) // 8-bit RGB
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return png.Bytes()
}

func msgRTFMessage() []byte {
	rtf := []byte(`{\rtf1\ansi\ansicpg1251\deff0{\fonttbl{\f0\fswiss\fcharset204 Arial;}}` +
		`{\*\generator Microsoft Exchange Server;}\pard\f0 \'c4\'ee\'e1\'f0\'fb\'e9 \'e4\'e5\'ed\'fc, team!\par ` +
		`The meeting moves to Thursday\emdash room 4.\par ` +
		`\trowd\cellx1000\cellx2000\intbl Day\cell Room\cell\row}`)
	return (&msgSpec{
		props: []msgProp{
			ansi(pidSubject, "Встреча в четверг", 1251),
			ansi(pidSenderName, "Иван Петров", 1251),
			ansi(pidSenderEmail, "ivan@example.ru", 1251),
			ansi(pidDisplayTo, "Team", 1251),
			long(pidMessageCodepage, 1251),
			systime(pidClientSubmitTime, sent),
			ansi(pidTransportHeaders, "Received: by example.ru\r\nMessage-ID: <thursday@example.ru>\r\nSubject: x\r\n", 1251),
			ansi(pidBody, "Plain text fallback", 1251),
			bin(pidRTFCompressed, testdocs.CompressedRTF(rtf)),
		},
	}).bytes()
}

func msgForwardMessage() []byte {
	inner := &msgSpec{
		props: []msgProp{
			uni(pidSubject, "Original report"),
			uni(pidSenderName, "Alan Turing"),
			uni(pidSenderSMTP, "alan@example.com"),
			uni(pidDisplayTo, "Grace Hopper"),
			systime(pidClientSubmitTime, sent.Add(-24*time.Hour)),
			uni(pidBody, "The inner message's body, attached to the outer one."),
		},
		attachs: []msgAttach{
			{props: []msgProp{uni(pidAttachLongName, "inner-notes.txt"), uni(pidAttachMime, "text/plain"),
				bin(pidAttachData, []byte("Notes attached to the inner message."))}},
		},
	}
	rtf := []byte(`{\rtf1\ansi\ansicpg1252\fromhtml1 \deff0{\fonttbl{\f0\fswiss Arial;}}` +
		`{\*\htmltag19 <html>}{\*\htmltag50 <body>}\htmlrtf {\htmlrtf0 ` +
		`{\*\htmltag64 <p>}Please see the report below, caf\'e9 included.{\*\htmltag72 </p>}\htmlrtf \par \htmlrtf0 ` +
		`{\*\htmltag58 </body>}{\*\htmltag27 </html>}}}`)
	return (&msgSpec{
		props: []msgProp{
			uni(pidSubject, "Fw: Original report"),
			uni(pidSenderName, "Grace Hopper"),
			uni(pidSenderSMTP, "grace@example.com"),
			uni(pidDisplayTo, "Ada Lovelace"),
			systime(pidDeliveryTime, sent),
			bin(pidRTFCompressed, testdocs.CompressedRTF(rtf)),
		},
		attachs: []msgAttach{{props: []msgProp{uni(pidDisplayName, "Original report")}, embedded: inner}},
	}).bytes()
}

// committedMSG are the files of testdata/formats/msg, by their generators.
var committedMSG = []struct {
	name string
	gen  func() []byte
}{
	{"html-body.msg", msgHTMLMessage},
	{"rtf-body-cp1251.msg", msgRTFMessage},
	{"forwarded.msg", msgForwardMessage},
}

// TestMSGCommitted checks that the committed messages are what their
// generators make; QUIRE_UPDATE_TESTDATA=1 writes them.
func TestMSGCommitted(t *testing.T) {
	t.Parallel()
	for _, c := range committedMSG {
		path := filepath.Join("..", "testdata", "formats", "msg", c.name)
		if os.Getenv("QUIRE_UPDATE_TESTDATA") == "1" {
			require.NoError(t, os.WriteFile(path, c.gen(), 0o644))
		}
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, c.gen(), data, "%s differs from its generator: QUIRE_UPDATE_TESTDATA=1 go test ./extract -run TestMSGCommitted", c.name)
		require.Less(t, len(data), 50<<10)
	}
}

func TestMSG(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		file     string
		title    string
		author   string
		created  time.Time
		meta     map[string]string
		want     []string
		wantNot  []string
		children []string // names
	}{
		{
			name: "HTML body", file: "html-body.msg", title: "Quarterly numbers", author: "Grace Hopper", created: sent,
			meta: map[string]string{
				"from": "Grace Hopper <grace@example.com>", "to": "Ada Lovelace <ada@example.com>, Alan Turing <alan@example.com>",
				"cc": "Charles Babbage <charles@example.com>", "subject": "Quarterly numbers",
				"date": "Mon, 06 May 2024 07:08:09 +0000", "message-id": "<q3-numbers@example.com>", "lang": "en",
			},
			want:     []string{"Dear team,\nThe numbers for the third quarter are in: revenue grew by 12%.\nNorth\t€1,200"},
			wantNot:  []string{"plain text alternative", "Secret Watcher", "region,sales", "Q3"},
			children: []string{"numbers.csv", "LOGO.PNG"},
		},
		{
			name: "compressed RTF body in cp1251", file: "rtf-body-cp1251.msg", title: "Встреча в четверг", author: "Иван Петров", created: sent,
			meta:    map[string]string{"from": "Иван Петров <ivan@example.ru>", "to": "Team", "message-id": "<thursday@example.ru>"},
			want:    []string{"Добрый день, team!\nThe meeting moves to Thursday—room 4.\nDay\tRoom"},
			wantNot: []string{"Plain text fallback", "Exchange"},
		},
		{
			name: "forwarded message", file: "forwarded.msg", title: "Fw: Original report", author: "Grace Hopper", created: sent,
			meta: map[string]string{"from": "Grace Hopper <grace@example.com>", "to": "Ada Lovelace"},
			want: []string{
				"Please see the report below, café included.\n\nFrom: Alan Turing <alan@example.com>\nTo: Grace Hopper\nSubject: Original report\nDate: Sun, 05 May 2024 07:08:09 +0000\n\nThe inner message's body, attached to the outer one.",
			},
			children: []string{"inner-notes.txt"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustExtract(t, "formats/msg/"+tt.file)
			assert.Equal(t, typeOutlookMSG, res.Type)
			assert.Equal(t, tt.title, res.Title)
			assert.Equal(t, tt.author, res.Author)
			assert.True(t, tt.created.Equal(res.Created), "created %v", res.Created)
			for k, v := range tt.meta {
				assert.Equal(t, v, res.Meta[k], k)
			}
			for _, w := range tt.want {
				assert.Contains(t, res.Text, w)
			}
			for _, w := range tt.wantNot {
				assert.NotContains(t, res.Text, w)
			}
			var names []string
			for _, c := range res.Children {
				names = append(names, c.Name)
			}
			assert.Equal(t, tt.children, names)
			assert.Empty(t, res.Warnings)
		})
	}
}

func TestMSGChildren(t *testing.T) {
	t.Parallel()
	res := mustExtract(t, "formats/msg/html-body.msg")
	require.Len(t, res.Children, 2)
	assert.Equal(t, Child{Name: "numbers.csv", Type: "text/csv", Data: []byte("region,sales\nNorth,1200\n")}, res.Children[0])
	assert.Equal(t, typeOctetStream, res.Children[1].Type)
	assert.Equal(t, storedPNG(40, 41), res.Children[1].Data, "a stream of its own sectors, past the mini stream")

	// The limits of email attachments.
	_, err := extractTestdata(t, Limits{MaxChildren: 1}, "formats/msg/html-body.msg")
	requireLimit(t, err, "children")
}

func TestMSGDetect(t *testing.T) {
	t.Parallel()
	for _, c := range committedMSG {
		assert.Equal(t, typeOutlookMSG, Detect("", c.gen()), c.name)
		assert.Equal(t, typeOutlookMSG, Detect("mail.bin", c.gen()), c.name)
	}
}

func TestMSGTruncated(t *testing.T) {
	t.Parallel()
	for _, c := range committedMSG {
		res, err := New(Config{Limits: Limits{MaxText: 20}}).Extract(context.Background(), &Input{Name: c.name, Data: c.gen()})
		require.NoError(t, err, c.name)
		assert.True(t, res.Truncated, c.name)
		assert.LessOrEqual(t, len(res.Text), 20, c.name)
		assert.NotEmpty(t, res.Text, c.name)
	}
}

func TestDecompressRTF(t *testing.T) {
	t.Parallel()
	b := newBudget(Limits{}.WithDefaults())
	// The examples of [MS-OXRTFCP] section 4.
	spec1 := []byte{0x2d, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46, 0x75, 0xf1, 0xc5, 0xc7, 0xa7,
		0x03, 0x00, 0x0a, 0x00, 0x72, 0x63, 0x70, 0x67, 0x31, 0x32, 0x35, 0x42, 0x32, 0x0a, 0xf3, 0x20,
		0x68, 0x65, 0x6c, 0x09, 0x00, 0x20, 0x62, 0x77, 0x05, 0xb0, 0x6c, 0x64, 0x7d, 0x0a, 0x80, 0x0f, 0xa0}
	out, err := decompressRTF(spec1, b)
	require.NoError(t, err)
	assert.Equal(t, "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n", string(out))
	spec2 := []byte{0x1a, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46, 0x75, 0xe2, 0xd4, 0x4b, 0x51,
		0x41, 0x00, 0x04, 0x20, 0x57, 0x58, 0x59, 0x5a, 0x0d, 0x6e, 0x7d, 0x01, 0x0e, 0xb0}
	out, err = decompressRTF(spec2, b)
	require.NoError(t, err)
	assert.Equal(t, "{\\rtf1 WXYZWXYZWXYZWXYZWXYZ}", string(out))

	rtf := []byte(`{\rtf1 literal runs only}`)
	out, err = decompressRTF(testdocs.CompressedRTF(rtf), b)
	require.NoError(t, err)
	assert.Equal(t, rtf, out)
	mela := append([]byte{0, 0, 0, 0, byte(len(rtf)), 0, 0, 0, 'M', 'E', 'L', 'A', 0, 0, 0, 0}, rtf...)
	binary.LittleEndian.PutUint32(mela, uint32(len(mela)-4))
	out, err = decompressRTF(mela, b)
	require.NoError(t, err)
	assert.Equal(t, rtf, out)

	// Lying sizes: a raw size of 4 GiB yields what the runs hold; a bomb
	// of back-references stops at MaxDecompressed.
	lie := testdocs.CompressedRTF(rtf)
	binary.LittleEndian.PutUint32(lie[4:], 0xFFFFFFFF)
	binary.LittleEndian.PutUint32(lie[0:], 0xFFFFFFFF)
	out, err = decompressRTF(lie, b)
	require.NoError(t, err)
	assert.Equal(t, rtf, out)
	var bomb []byte
	for w := len(lzfuPrefix); len(bomb) < 2_000_000; {
		bomb = append(bomb, 0xFF)
		for range 8 {
			off := (w + 100) & 4095
			bomb = append(bomb, byte(off>>4), byte(off<<4|0xF))
			w = (w + 17) & 4095
		}
	}
	small := newBudget(Limits{MaxDecompressed: 1 << 20, MaxText: 1 << 20})
	out, err = decompressRTF(testdocs.LZFuHeader(bomb, 0x7FFFFFFF), small)
	require.NoError(t, err)
	assert.Equal(t, 1<<20, len(out))
	assert.True(t, small.full())
	_, err = decompressRTF([]byte("short"), b)
	assert.Error(t, err)
}

// TestMSGHostile feeds damaged messages: each fails as corrupt or reads
// what it can, quickly.
func TestMSGHostile(t *testing.T) {
	t.Parallel()
	good := msgHTMLMessage()
	le := binary.LittleEndian
	mutate := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	dirOff := 512 * (1 + int(le.Uint32(good[48:])))
	tests := map[string][]byte{
		"truncated":   good[:len(good)/2],
		"header only": good[:512],
		"lying stream sizes": mutate(func(b []byte) {
			for i := 1; i < 20; i++ {
				le.PutUint32(b[dirOff+128*i+120:], 0x7FFFFFF0)
			}
		}),
		"FAT loop": mutate(func(b []byte) {
			for i := 0; i < 128; i++ {
				le.PutUint32(b[512+4*i:], uint32(i))
			}
		}),
		"mini FAT loop": mutate(func(b []byte) {
			mf := 512 * (1 + int(le.Uint32(b[60:])))
			for i := 0; i < 128; i++ {
				le.PutUint32(b[mf+4*i:], uint32(i))
			}
		}),
		"directory cycle": mutate(func(b []byte) {
			for i := 1; i < 20; i++ {
				le.PutUint32(b[dirOff+128*i+72:], 1)
			}
		}),
		"property stream garbage": mutate(func(b []byte) { copy(b[len(b)-2048:], bytes.Repeat([]byte{0xFF}, 2048)) }),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res, err := New(Config{Limits: Limits{MaxText: 1 << 20}}).Extract(context.Background(), &Input{Name: "a.msg", Data: data, Type: typeOutlookMSG})
			checkOutcome(t, data, res, err)
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

func FuzzMSG(f *testing.F) {
	for _, c := range committedMSG {
		f.Add(c.gen())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, typeOutlookMSG, data)
	})
}

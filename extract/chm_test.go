package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCHMMembers: every topic decompresses to the bytes that went in,
// across frames and reset groups.
func TestCHMMembers(t *testing.T) {
	t.Parallel()
	f, err := openCHM(context.Background(), testdataFile(t, "formats/chm/udhr.chm"), newBudget(Limits{}.WithDefaults()))
	require.NoError(t, err)
	for _, l := range []string{"eng", "fra", "deu_1996", "rus", "jpn", "cmn_hans", "arb"} {
		got, err := f.member("/udhr-"+l+".html", 1<<30)
		require.NoError(t, err, l)
		require.Equal(t, string(testdataFile(t, "html/udhr-"+l+".html")), string(got), l)
	}
}

func TestCHMFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, title string
		passages    []string // in order
	}{
		{file: "udhr.chm", title: "Universal Declaration of Human Rights",
			passages: []string{
				// The table of contents' order: the start page first...
				"Quire test help\nThis help file holds the Universal Declaration of Human Rights in seven languages.",
				"\n\nUniversal Declaration of Human Rights\nPreamble\nWhereas recognition of the inherent dignity",
				"Article 30\nNothing in this Declaration",
				"Déclaration universelle des droits de l’homme",
				"Allgemeine Erklärung der Menschenrechte",
				"Всеобщая декларация прав человека",
				"世界人権宣言",
				"世界人权宣言",
				// ...then the topics it leaves out, in the directory's.
				"الإعلان العالمي لحقوق الإنسان",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			name := "formats/chm/" + tt.file
			require.Equal(t, typeCHM, Detect("", testdataFile(t, name)))
			res := mustExtract(t, name)
			require.Equal(t, typeCHM, res.Type)
			require.Equal(t, tt.title, res.Title)
			require.Equal(t, "8", res.Meta["topics"])
			rest := res.Text
			for _, p := range tt.passages {
				i := strings.Index(rest, p)
				require.GreaterOrEqual(t, i, 0, "%q not found (in order)", p)
				rest = rest[i+len(p):]
			}
			require.NotContains(t, res.Text, "<param", "the table of contents is not a topic")
			require.Empty(t, res.Warnings)
		})
	}
}

// chmPatched returns the test file with n bytes at offset off of a member
// of section 0 replaced.
func chmPatched(t testing.TB, member string, off int, b []byte) []byte {
	t.Helper()
	data := append([]byte{}, testdataFile(t, "formats/chm/udhr.chm")...)
	f, err := openCHM(context.Background(), data, newBudget(Limits{}.WithDefaults()))
	require.NoError(t, err)
	e := f.entries[strings.ToLower(member)]
	require.Equal(t, uint64(0), e.section)
	copy(data[f.content+e.offset+uint64(off):], b)
	return data
}

func TestCHMHostile(t *testing.T) {
	t.Parallel()
	u64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	// Frames 2 and 3, the second reset group (the reset table lists
	// frames; a group is two of them).
	garbled := chmPatched(t, chmContent, 0x5000, []byte(strings.Repeat("\xff\x00\x13", 300)))
	dir := append([]byte{}, testdataFile(t, "formats/chm/udhr.chm")...)
	dirOff := binary.LittleEndian.Uint64(dir[0x48:])
	copy(dir[dirOff+0x2C:], u32(0xFFFFFFFF)) // four billion directory chunks
	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		corrupt bool
		limit   string
		check   func(t *testing.T, res *Result)
	}{
		{name: "reset table entry past the stream", data: chmPatched(t, chmResetTable, 0x28+16, u64(1<<40)), corrupt: true},
		{name: "reset table of four billion entries", data: chmPatched(t, chmResetTable, 4, u32(0xFFFFFFFF)), corrupt: true},
		{name: "section longer than its frames", data: chmPatched(t, chmResetTable, 0x10, u64(1<<50)), corrupt: true},
		{name: "window of 2^30 bytes", data: chmPatched(t, chmControl, 16, u32(1<<15)), corrupt: true},
		{name: "directory of four billion chunks", data: dir, corrupt: true},
		{name: "garbled LZX data", data: garbled,
			// The topics in the damaged group fail alone.
			check: func(t *testing.T, res *Result) {
				require.NotEmpty(t, res.Warnings)
				require.Contains(t, res.Text, "Quire test help")
				require.Contains(t, res.Text, "Allgemeine Erklärung der Menschenrechte")
				require.NotContains(t, res.Text, "世界人権宣言")
			}},
		{name: "decompression limit", data: testdataFile(t, "formats/chm/udhr.chm"), lim: Limits{MaxDecompressed: 70000}, limit: "decompressed size"},
		{name: "text limit", data: testdataFile(t, "formats/chm/udhr.chm"), lim: Limits{MaxText: 3000},
			check: func(t *testing.T, res *Result) {
				require.True(t, res.Truncated)
				require.LessOrEqual(t, len(res.Text), 3000)
				require.Contains(t, res.Text, "Quire test help")
			}},
		{name: "ITSF header alone", data: []byte("ITSF\x03\x00\x00\x00\x60\x00\x00\x00"), corrupt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res, err := New(Config{Limits: tt.lim}).Extract(context.Background(), &Input{Data: tt.data, Type: typeCHM})
			require.Less(t, time.Since(start), 2*time.Second)
			switch {
			case tt.limit != "":
				requireLimit(t, err, tt.limit)
			case tt.corrupt:
				require.ErrorIs(t, err, ErrCorrupt)
			default:
				require.NoError(t, err)
				tt.check(t, res)
			}
		})
	}
}

func FuzzCHM(f *testing.F) {
	addSeeds(f, "formats/chm/udhr.chm")
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, typeCHM, data) })
}

// FuzzLZX feeds the decoder arbitrary streams: it ends with an error or
// with exactly the bytes asked for.
func FuzzLZX(f *testing.F) {
	f.Add([]byte{0x0d, 0x10, 0xd0, 0xa3, 0x43, 0x00, 0x33, 0x23, 0x65, 0x55}, uint8(16), uint16(100))
	f.Add([]byte{0x00, 0x30, 0x00, 0x00, 0x00, 0x00}, uint8(15), uint16(10))
	f.Fuzz(func(t *testing.T, in []byte, windowLog uint8, want uint16) {
		out, err := lzxDecode(in, uint(windowLog), int(want), nil)
		if err == nil && len(out) != int(want) {
			t.Fatalf("%d bytes, want %d", len(out), want)
		}
	})
}

// lzxBitWriter writes an LZX bitstream: 16-bit little-endian words, each
// filled from its high bit.
type lzxBitWriter struct {
	out  []byte
	word uint16
	n    uint
}

func (w *lzxBitWriter) bits(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.word = w.word<<1 | uint16(v>>uint(i)&1)
		if w.n++; w.n == 16 {
			w.out = binary.LittleEndian.AppendUint16(w.out, w.word)
			w.word, w.n = 0, 0
		}
	}
}

// TestLZXUndoE8 decodes an uncompressed block whose stream says x86 CALL
// targets were translated: every E8 followed by an absolute address in
// range is given back its relative one, counted from the stream's start
// across frames; addresses out of range and the last 10 bytes of a frame
// are left alone.
func TestLZXUndoE8(t *testing.T) {
	t.Parallel()
	const size = 1_000_000 // the translation size the header gives
	data := make([]byte, lzxFrameLen+100)
	for i := range data {
		data[i] = byte(i%200 + 1) // no stray E8 (0xE8 = 232)
	}
	call := func(at int, abs int32) { data[at] = 0xE8; binary.LittleEndian.PutUint32(data[at+1:], uint32(abs)) }
	call(20, 120)                         // forward: 100 bytes on
	call(40, -10)                         // negative: wraps by size
	call(60, size+5)                      // beyond the size: kept
	call(lzxFrameLen-8, 7)                // in the frame's last 10 bytes: kept
	call(lzxFrameLen+20, lzxFrameLen+120) // second frame: positions go on
	want := bytes.Clone(data)
	binary.LittleEndian.PutUint32(want[21:], 100)
	binary.LittleEndian.PutUint32(want[41:], uint32(int32(-10)+size))
	binary.LittleEndian.PutUint32(want[lzxFrameLen+21:], 100)

	stream := func(translated bool) []byte {
		var w lzxBitWriter
		if translated {
			w.bits(1, 1)
			w.bits(size>>16, 16)
			w.bits(size&0xFFFF, 16)
		} else {
			w.bits(0, 1)
		}
		w.bits(lzxBlockPlain, 3)
		w.bits(uint32(len(data))>>8, 16)
		w.bits(uint32(len(data))&0xFF, 8)
		w.bits(0, 16-w.n) // to the next word (a whole one if aligned)
		in := w.out
		for range 3 { // R0, R1, R2
			in = binary.LittleEndian.AppendUint32(in, 1)
		}
		return append(in, data...)
	}
	out, err := lzxDecode(stream(true), 16, len(data), nil)
	require.NoError(t, err)
	require.Equal(t, want, out)

	// Without the header's flag the bytes come out as they are.
	out, err = lzxDecode(stream(false), 16, len(data), nil)
	require.NoError(t, err)
	require.Equal(t, data, out)
}

package extract

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOneNote: OneNote files of each kind are named, and refused with a
// reason that says what they are.
func TestOneNote(t *testing.T) {
	t.Parallel()
	header := func(guid []byte) []byte {
		// The header of [MS-ONESTORE] 2.3.1: guidFileType, guidFile,
		// guidLegacyFileVersion, guidFileFormat, then the rest.
		b := append([]byte{}, guid...)
		b = append(b, make([]byte, 32)...)
		b = append(b, guidBytes(0x109ADD3F, 0x911B, 0x49F5, [8]byte{0xA5, 0xD0, 0x17, 0x91, 0xED, 0xC8, 0xAE, 0xD8})...)
		return append(b, make([]byte, 1024-len(b))...)
	}
	tests := []struct {
		name, want string
		data       []byte
	}{
		{name: "section", data: header(oneNoteSection), want: "OneNote section (.one): Microsoft OneNote notebooks (MS-ONESTORE) are not supported"},
		{name: "table of contents", data: header(oneNoteTOC), want: "OneNote table of contents (.onetoc2)"},
		{name: "packaged", data: header(oneNotePackage), want: "OneNote section in the FSSHTTPB packaging"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, typeOneNote, Detect("notes.bin", tt.data))
			_, err := New(Config{}).Extract(context.Background(), &Input{Name: "notes.bin", Data: tt.data})
			require.ErrorIs(t, err, ErrUnsupported)
			require.ErrorContains(t, err, tt.want)
		})
	}
	// Declared OneNote by the pipeline, but not one.
	_, err := New(Config{}).Extract(context.Background(), &Input{Data: []byte("not a notebook"), Type: typeOneNote})
	require.ErrorIs(t, err, ErrCorrupt)
}

func FuzzOneNote(f *testing.F) {
	f.Add(append(append([]byte{}, oneNoteSection...), make([]byte, 64)...))
	f.Add([]byte("ITSF"))
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, typeOneNote, data) })
}

package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mediaFiles are the files of testdata/formats/media (see its README) and
// what each must yield.
var mediaFiles = []struct {
	file, typ     string
	title, author string
	meta          map[string]string
	passages      []string // in order
}{
	{file: "song.mp3", typ: typeMP3, title: "Quire Test Song", author: "The Quire Singers",
		meta: map[string]string{"album": "Sounds of Search", "genre": "Folk", "track": "3/12", "codec": "mp3",
			"sample_rate": "22050", "channels": "1", "bitrate": "32000", "date": "2024"},
		// COMM and USLT frames in UTF-16; the ID3v1 tag's comment too.
		passages: []string{"Quire Test Song\nThe Quire Singers\nSounds of Search\n2024\nFolk\nRecorded for the media reader",
			"v1 comment", "\n\nFirst line of the chorus\nsecond line of the chorus"}},
	{file: "utf8-v24.mp3", typ: typeMP3, title: "Чайка — Песня о море", author: "V1 Only Artist",
		meta:     map[string]string{"date": "2023-05-17"},
		passages: []string{"Чайка — Песня о море\nV1 Only Artist\n2023-05-17", "Над морем чайка летит"}},
	{file: "v1-only.mp3", typ: typeMP3, title: "Old Style Tag", author: "Legacy Band",
		meta:     map[string]string{"album": "Nineties", "genre": "Rock", "date": "1997", "track": "7"},
		passages: []string{"Old Style Tag\nLegacy Band\nNineties\n1997\nRock\nOnly version one"}},
	{file: "song.m4a", typ: typeM4A, title: "Quire Test M4A", author: "The Quire Singers",
		meta: map[string]string{"format": "MPEG-4 Audio (M4A)", "codec": "aac", "duration": "1.000"},
		passages: []string{"Quire Test M4A\nThe Quire Singers\nSounds of Search\n2024\nFolk\nRecorded for the media reader",
			"First line of the chorus\nsecond line of the chorus"}},
	{file: "song.flac", typ: typeFLAC, title: "Quire Test FLAC", author: "The Quire Singers",
		meta:     map[string]string{"format": "FLAC", "sample_rate": "22050", "duration": "1.000", "channels": "1"},
		passages: []string{"Quire Test FLAC\nThe Quire Singers", "Recorded for the media reader", "second line of the chorus"}},
	{file: "song.ogg", typ: typeOggAudio, title: "Quire Test Vorbis", author: "The Quire Singers",
		meta:     map[string]string{"format": "Ogg Vorbis", "codec": "vorbis", "duration": "1.000"},
		passages: []string{"Quire Test Vorbis\nThe Quire Singers\nSounds of Search", "First line of the chorus"}},
	{file: "song.opus", typ: typeOpus, title: "Quire Test Opus", author: "The Quire Singers",
		meta:     map[string]string{"format": "Ogg Opus", "codec": "opus", "duration": "1.000"},
		passages: []string{"Quire Test Opus\nThe Quire Singers\nSounds of Search\n2024\nFolk"}},
	{file: "tone.wav", typ: typeWAV, title: "Quire Test WAV", author: "The Quire Singers",
		meta:     map[string]string{"format": "WAV", "codec": "pcm", "sample_rate": "8000", "duration": "1.000"},
		passages: []string{"Quire Test WAV\nThe Quire Singers\nSounds of Search\n2024\nFolk\nRecorded for the media reader"}},
	{file: "song.wma", typ: typeASF, title: "Quire Test WMA", author: "The Quire Singers",
		meta:     map[string]string{"format": "WMA (ASF)", "codec": "wmav2", "album": "Sounds of Search", "genre": "Folk"},
		passages: []string{"Quire Test WMA\nThe Quire Singers\nSounds of Search\nFolk\nRecorded for the media reader"}},
	{file: "tone.aiff", typ: typeAIFF, title: "Quire Test AIFF", author: "The Quire Singers",
		meta:     map[string]string{"format": "AIFF", "sample_rate": "8000", "duration": "1.000"},
		passages: []string{"Quire Test AIFF\nThe Quire Singers\nRecorded for the media reader\nQuire"}},
	{file: "clip.flv", typ: typeFLV, title: "Quire Test FLV Clip", author: "The Quire Singers",
		meta:     map[string]string{"format": "FLV", "codec": "flv1, adpcm", "dimensions": "32x24", "duration": "1.115"},
		passages: []string{"Quire Test FLV Clip\nThe Quire Singers\nSounds of Search\n2024\nFolk\nRecorded for the media reader"}},
	{file: "song.mid", typ: typeMIDI, title: "Quire Test MIDI",
		meta: map[string]string{"format": "MIDI", "duration": "2.000"},
		// The text event, the copyright; the lyrics' syllables joined, "/"
		// a line break.
		passages: []string{"Quire Test MIDI\nRecorded for the media reader\nQuire test data\n\nFirst line of the chorus\nsecond line"}},
	{file: "clip.mp4", typ: typeMP4, title: "Quire Test MP4 Clip", author: "The Quire Singers",
		meta:     map[string]string{"format": "MPEG-4", "codec": "mpeg4, aac", "duration": "1.000", "dimensions": "32x24"},
		passages: []string{"Quire Test MP4 Clip\nThe Quire Singers\nSounds of Search"}},
	{file: "clip.mov", typ: typeMOV, title: "Quire Test QuickTime Clip", author: "The Quire Singers",
		meta:     map[string]string{"format": "QuickTime", "codec": "mpeg4, aac", "duration": "1.000", "dimensions": "32x24"},
		passages: []string{"Quire Test QuickTime Clip\nThe Quire Singers\nSounds of Search", "Recorded for the media reader"}},
	{file: "clip.webm", typ: typeWebM, title: "Quire Test WebM Clip", author: "The Quire Singers",
		meta:     map[string]string{"format": "WebM", "codec": "vp8, opus", "duration": "1.008", "dimensions": "32x24"},
		passages: []string{"Quire Test WebM Clip\nThe Quire Singers\nSounds of Search\n2024\nFolk\nRecorded for the media reader"}},
	{file: "clip.mkv", typ: typeMKV, title: "Quire Test Matroska Clip", author: "The Quire Singers",
		meta:     map[string]string{"format": "Matroska", "codec": "mpeg4, flac", "duration": "1.000", "dimensions": "32x24"},
		passages: []string{"Quire Test Matroska Clip\nThe Quire Singers", "Recorded for the media reader"}},
	{file: "clip.avi", typ: typeAVI, title: "Quire Test AVI Clip", author: "The Quire Singers",
		meta:     map[string]string{"format": "AVI", "duration": "1.000", "dimensions": "32x24"},
		passages: []string{"Quire Test AVI Clip\nThe Quire Singers\nSounds of Search\n2024\nFolk\nRecorded for the media reader"}},
}

func TestMediaFiles(t *testing.T) {
	t.Parallel()
	for _, tt := range mediaFiles {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			name := "formats/media/" + tt.file
			// By content alone: a name says nothing of an upload's type.
			require.Equal(t, tt.typ, Detect("", testdataFile(t, name)))
			res := mustExtract(t, name)
			require.Equal(t, tt.typ, res.Type)
			require.Equal(t, tt.title, res.Title)
			require.Equal(t, tt.author, res.Author)
			for k, v := range tt.meta {
				require.Equal(t, v, res.Meta[k], "Meta[%q]", k)
			}
			if strings.HasPrefix(tt.file, "song.") || strings.HasPrefix(tt.file, "clip.") || tt.file == "tone.wav" {
				require.NotEmpty(t, res.Meta["duration"])
			}
			rest := res.Text
			for _, p := range tt.passages {
				i := strings.Index(rest, p)
				require.GreaterOrEqual(t, i, 0, "%q not found (in order) in %q", p, res.Text)
				rest = rest[i+len(p):]
			}
			require.Empty(t, res.Warnings)
		})
	}
}

// TestMediaHostile feeds the media reader damaged and hostile files: each
// ends quickly, with an error of the package's kinds or a result, and
// within bounds.
func TestMediaHostile(t *testing.T) {
	t.Parallel()
	song := testdataFile(t, "formats/media/song.mp3")
	flac := testdataFile(t, "formats/media/song.flac")
	mp4 := testdataFile(t, "formats/media/clip.mp4")

	// An ID3v2.3 tag of a hundred thousand TXXX frames, which the tag
	// library would name one by one counting up (quadratic).
	var frames bytes.Buffer
	for range 100000 {
		frames.WriteString("TXXX\x00\x00\x00\x02\x00\x00\x00x")
	}
	n := frames.Len()
	dupFrames := append([]byte{'I', 'D', '3', 3, 0, 0, byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}, frames.Bytes()...)

	// A FLAC stream info block that declares 16 MiB.
	hugeFLAC := append([]byte("fLaC\x80\xff\xff\xff"), make([]byte, 64)...)
	// A FLAC picture block declaring 4 GiB of picture data (the library
	// would allocate it); it is no text, and skipped.
	picture := append([]byte{}, flac[:4+4+34]...)
	picture[4] &^= 0x80
	picture = append(picture, 6, 0, 0, 32)
	picture = append(picture, binary.BigEndian.AppendUint32(make([]byte, 28), 0xFFFFFFFF)...)
	picture[4+4+34] |= 0x80

	// MP4 boxes claiming 64-bit sizes far past the end, and a deep nest.
	bigBox := append(append([]byte{}, mp4[:32]...), []byte("\x00\x00\x00\x01moov\xff\xff\xff\xff\xff\xff\xff\xff")...)
	var deep []byte
	for range 10000 {
		deep = append(deep, "\x00\x00\x00\x00moov"...)
	}
	deep = append([]byte("\x00\x00\x00\x14ftypisom\x00\x00\x00\x00isom"), deep...)

	// Matroska: an element of unknown size nested 100,000 deep.
	mkv := append([]byte{}, ebmlMagic...)
	mkv = append(mkv, 0x87, 0x42, 0x82, 0x84, 'w', 'e', 'b', 'm')
	for range 100000 {
		mkv = append(mkv, 0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
	}
	// An Ogg page whose segments run past the end.
	ogg := []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\xff\xff")

	// FLV metadata nested 100,000 objects deep.
	flv := []byte("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00\x12\x0f\xff\xff\x00\x00\x00\x00\x00\x00\x00\x02\x00\x0aonMetaData")
	for range 100000 {
		flv = append(flv, 0x03, 0x00, 0x01, 'x')
	}
	// An ASF header whose objects claim sizes past its end, and one of
	// none.
	asf := append(append([]byte{}, asfHeader...), binary.LittleEndian.AppendUint64(nil, 1<<60)...)
	asf = append(asf, 0, 0, 0, 0, 1, 2)
	asf = append(asf, asfContentDesc...)
	asf = append(asf, binary.LittleEndian.AppendUint64(nil, 1<<62)...)
	asf = append(asf, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 'a', 0)
	asf = append(asf, asfFileProperties...)
	asf = append(asf, make([]byte, 8)...)

	tests := []struct {
		name    string
		data    []byte
		typ     string // as the pipeline passes it; empty: detected
		corrupt bool
	}{
		{name: "duplicate ID3 frames", data: append(dupFrames, song[len(song)-2000:]...)},
		{name: "ID3 size past the end", data: append([]byte("ID3\x03\x00\x00\x7f\x7f\x7f\x7fTIT2\x00\x00\x00\x05\x00\x00\x00abcd"), 0)},
		{name: "ID3 frame size past the tag", data: []byte("ID3\x04\x00\x00\x00\x00\x00\x20TIT2\x7f\x7f\x7f\x7f\x00\x00\x00abcdefghijklmnopqrstuv")},
		{name: "MP3 noise", data: bytes.Repeat([]byte{0xFF, 0xFB, 0x90}, 1000)},
		{name: "FLAC block past the end", data: hugeFLAC, corrupt: true},
		{name: "FLAC picture of 4 GiB", data: picture},
		{name: "Ogg page cut short", data: ogg, corrupt: true},
		{name: "MP4 64-bit size past the end", data: bigBox},
		{name: "MP4 nested 10,000 deep", data: deep},
		{name: "Matroska nested 100,000 deep", data: mkv},
		{name: "FLV metadata nested 100,000 deep", data: flv},
		{name: "ASF objects past the end", data: asf},
		{name: "AIFF chunk past the end", data: []byte("FORM\xff\xff\xff\xffAIFFCOMM\xff\xff\xff\xff\x00\x01")},
		{name: "MIDI event lengths past the end", data: []byte("MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x60MTrk\xff\xff\xff\xff\x00\xff\x05\x8f\xff\xff\x7fabc")},
		{name: "MIDI header past the end", data: []byte("MThd\xff\xff\xff\xf0\x00\x01\x00\x01\x00\x60"), corrupt: true},
		{name: "RIFF of another form", data: []byte("RIFF\x04\x00\x00\x00CDXA"), typ: typeAVI, corrupt: true},
		{name: "AVI chunk past the end", data: []byte("RIFF\xff\xff\xff\xffAVI LIST\xff\xff\xff\xffhdrlavih\xff\xff\xff\xff")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			x := New(Config{Limits: Limits{MaxText: 4 << 10}})
			res, err := x.Extract(context.Background(), &Input{Name: "hostile", Data: tt.data, Type: tt.typ})
			require.Less(t, time.Since(start), 2*time.Second)
			if tt.corrupt {
				require.ErrorIs(t, err, ErrCorrupt)
				return
			}
			if err != nil {
				require.ErrorIs(t, err, ErrCorrupt)
				return
			}
			require.LessOrEqual(t, len(res.Text), 4<<10)
		})
	}
}

// TestMediaTextBudget: lyrics past the text limit are cut there, and the
// document marked truncated.
func TestMediaTextBudget(t *testing.T) {
	t.Parallel()
	lyrics := strings.Repeat("la ", 10000)
	payload := append([]byte("\x03eng\x00"), lyrics...)
	frame := append(append([]byte("USLT"), synchsafeBytes(len(payload))...), 0, 0)
	frame = append(frame, payload...)
	data := append(append([]byte{'I', 'D', '3', 4, 0, 0}, synchsafeBytes(len(frame))...), frame...)
	data = append(data, testdataFile(t, "formats/media/v1-only.mp3")...)
	x := New(Config{Limits: Limits{MaxText: 1000}})
	res, err := x.Extract(context.Background(), &Input{Data: data})
	require.NoError(t, err)
	require.True(t, res.Truncated)
	require.LessOrEqual(t, len(res.Text), 1000)
	require.Contains(t, res.Text, "la la")
}

func FuzzMedia(f *testing.F) {
	ents, err := os.ReadDir(filepath.Join("..", "testdata", "formats", "media"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		if ext := filepath.Ext(e.Name()); ext != ".go" && ext != ".md" {
			addSeeds(f, "formats/media/"+e.Name())
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, "", data)
		checkExtract(t, typeMP3, data)
	})
}

//go:build ignore

// gen writes the audio and video files the media tests read (see
// README.md). It needs ffmpeg (Debian's package), so it runs on a
// developer's machine and its outputs are committed: run it from this
// directory with `go run gen.go` (or `go run gen.go NAME...` for some of
// them). ffmpeg encodes one second of a sine tone
// and of a test pattern and writes each container's own tags; the ID3v2
// tags of the MP3 files are written here, because ffmpeg writes comments
// and lyrics as TXXX frames, not as the COMM and USLT frames that taggers
// write.
package main

import (
	"bytes"
	"encoding/binary"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"unicode/utf16"
)

// Common tags; each file adds its own title so that the tests can tell
// them apart.
var tags = []string{
	"artist=The Quire Singers",
	"album=Sounds of Search",
	"date=2024",
	"genre=Folk",
	"comment=Recorded for the media reader",
}

func main() {
	tmp, err := os.MkdirTemp("", "quire-media")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	tone := []string{"-f", "lavfi", "-i", "sine=frequency=440:duration=1:sample_rate=22050"}
	pattern := []string{"-f", "lavfi", "-i", "testsrc=size=32x24:rate=5:duration=1"}

	// Bare MPEG audio, for the hand-made ID3 tags below.
	raw := filepath.Join(tmp, "raw.mp3")
	ffmpeg(append(tone, "-ac", "1", "-b:a", "32k", "-id3v2_version", "0", "-write_id3v1", "0", "-write_xing", "0", raw)...)
	audio, err := os.ReadFile(raw)
	if err != nil {
		log.Fatal(err)
	}
	// song.mp3: ID3v2.3 with text frames in ISO-8859-1 and UTF-16, a
	// comment and lyrics in COMM and USLT, and an ID3v1 tag at the end.
	var v23 bytes.Buffer
	v23.Write(id3Frame(3, "TIT2", latin1("Quire Test Song")))
	v23.Write(id3Frame(3, "TPE1", utf16BOM("The Quire Singers")))
	v23.Write(id3Frame(3, "TALB", latin1("Sounds of Search")))
	v23.Write(id3Frame(3, "TYER", latin1("2024")))
	v23.Write(id3Frame(3, "TCON", latin1("(80)"))) // ID3v1 genre 80: Folk
	v23.Write(id3Frame(3, "TRCK", latin1("3/12")))
	v23.Write(id3Frame(3, "COMM", langText(1, "eng", "", "Recorded for the media reader")))
	v23.Write(id3Frame(3, "USLT", langText(1, "eng", "", "First line of the chorus\nsecond line of the chorus")))
	v23.Write(id3Frame(3, "APIC", append([]byte("\x00image/png\x00\x03cover\x00"), bytes.Repeat([]byte{0x89}, 64)...)))
	write("song.mp3", id3Tag(3, v23.Bytes(), 32), audio, id3v1("Quire Test Song", "The Quire Singers", "Sounds of Search", "2024", "v1 comment", 80))

	// utf8-v24.mp3: ID3v2.4, UTF-8 text with non-Latin letters, the
	// artist only in the ID3v1 tag.
	var v24 bytes.Buffer
	v24.Write(id3Frame(4, "TIT2", utf8Text("Чайка — Песня о море")))
	v24.Write(id3Frame(4, "TDRC", utf8Text("2023-05-17")))
	v24.Write(id3Frame(4, "USLT", langText(3, "rus", "", "Над морем чайка летит")))
	write("utf8-v24.mp3", id3Tag(4, v24.Bytes(), 0), audio, id3v1("", "V1 Only Artist", "", "", "", 255))

	// v1-only.mp3: nothing but an ID3v1.1 tag.
	write("v1-only.mp3", audio, id3v1("Old Style Tag", "Legacy Band", "Nineties", "1997", "Only version one", 17))

	// song.mid: a Standard MIDI File of two tracks written here: the
	// sequence's name, copyright and a text event in the first, with the
	// tempo; lyrics, syllable by syllable, over a few notes in the second.
	write("song.mid", midi())

	meta := func(title string, extra ...string) []string {
		var args []string
		for _, t := range append([]string{"title=" + title}, append(tags, extra...)...) {
			args = append(args, "-metadata", t)
		}
		return args
	}
	lyrics := "lyrics=First line of the chorus\nsecond line of the chorus"
	out := func(name string, args ...string) {
		if wanted(name) {
			ffmpeg(append(append([]string{}, args...), name)...)
		}
	}
	out("song.m4a", append(append(tone, "-c:a", "aac", "-b:a", "24k", "-ac", "1"), meta("Quire Test M4A", lyrics)...)...)
	out("song.flac", append(append(tone, "-ac", "1", "-sample_fmt", "s16"), meta("Quire Test FLAC", lyrics)...)...)
	out("song.ogg", append(append(tone, "-c:a", "libvorbis", "-q:a", "0", "-ac", "1"), meta("Quire Test Vorbis", lyrics)...)...)
	out("song.opus", append(append(tone, "-c:a", "libopus", "-b:a", "16k", "-ac", "1"), meta("Quire Test Opus")...)...)
	out("tone.wav", append(append(tone, "-ac", "1", "-ar", "8000", "-c:a", "pcm_u8"), meta("Quire Test WAV")...)...)
	out("song.wma", append(append(tone, "-c:a", "wmav2", "-b:a", "32k", "-ac", "1"), meta("Quire Test WMA")...)...)
	out("tone.aiff", append(append(tone, "-ac", "1", "-ar", "8000", "-c:a", "pcm_s8"), meta("Quire Test AIFF", "author=The Quire Singers", "copyright=Quire")...)...)
	video := append(append([]string{}, pattern...), tone...)
	out("clip.mp4", append(append(video, "-c:v", "mpeg4", "-q:v", "31", "-c:a", "aac", "-b:a", "16k", "-ac", "1", "-shortest"), meta("Quire Test MP4 Clip")...)...)
	out("clip.mov", append(append(video, "-c:v", "mpeg4", "-q:v", "31", "-c:a", "aac", "-b:a", "16k", "-ac", "1", "-shortest"), meta("Quire Test QuickTime Clip")...)...)
	out("clip.webm", append(append(video, "-c:v", "libvpx", "-b:v", "20k", "-c:a", "libopus", "-b:a", "16k", "-ac", "1", "-shortest"), meta("Quire Test WebM Clip")...)...)
	out("clip.mkv", append(append(video, "-c:v", "mpeg4", "-q:v", "31", "-c:a", "flac", "-ac", "1", "-shortest"), meta("Quire Test Matroska Clip")...)...)
	out("clip.flv", append(append(video, "-c:v", "flv", "-q:v", "31", "-c:a", "adpcm_swf", "-ar", "11025", "-ac", "1", "-shortest"), meta("Quire Test FLV Clip")...)...)
	out("clip.avi", append(append(video, "-c:v", "mpeg4", "-q:v", "31", "-c:a", "pcm_u8", "-ar", "8000", "-ac", "1", "-shortest"), meta("Quire Test AVI Clip")...)...)
}

func ffmpeg(args ...string) {
	cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y", "-fflags", "+bitexact", "-flags", "+bitexact"}, args...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("ffmpeg %v: %v", args, err)
	}
}

// wanted reports whether name is to be written: every file, or those
// named on the command line (Matroska and Ogg files differ from run to
// run in their random stream IDs, so a new file need not rewrite them).
func wanted(name string) bool {
	if len(os.Args) < 2 {
		return true
	}
	for _, a := range os.Args[1:] {
		if a == name {
			return true
		}
	}
	return false
}

func write(name string, parts ...[]byte) {
	if !wanted(name) {
		return
	}
	if err := os.WriteFile(name, bytes.Join(parts, nil), 0o644); err != nil {
		log.Fatal(err)
	}
}

// id3Tag is an ID3v2 header over frames, with padding after them.
func id3Tag(version byte, frames []byte, padding int) []byte {
	n := len(frames) + padding
	h := []byte{'I', 'D', '3', version, 0, 0, byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
	return append(append(h, frames...), make([]byte, padding)...)
}

func id3Frame(version byte, id string, payload []byte) []byte {
	n := len(payload)
	size := binary.BigEndian.AppendUint32(nil, uint32(n))
	if version == 4 {
		size = []byte{byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
	}
	return append(append(append([]byte(id), size...), 0, 0), payload...)
}

func latin1(s string) []byte { return append([]byte{0}, s...) }

func utf8Text(s string) []byte { return append([]byte{3}, s...) }

func utf16BOM(s string) []byte {
	b := []byte{1, 0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// langText is a COMM or USLT payload: encoding, language, a description
// and the text, in UTF-16 with a BOM (1) or UTF-8 (3).
func langText(enc byte, lang, desc, text string) []byte {
	b := append([]byte{enc}, lang...)
	str := func(s string, term bool) {
		if enc == 3 {
			b = append(b, s...)
			if term {
				b = append(b, 0)
			}
			return
		}
		b = append(b, 0xFF, 0xFE)
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		if term {
			b = append(b, 0, 0)
		}
	}
	str(desc, true)
	str(text, false)
	return b
}

// id3v1 is an ID3v1.1 tag (a track number in the comment's last bytes).
func id3v1(title, artist, album, year, comment string, genre byte) []byte {
	b := make([]byte, 128)
	copy(b, "TAG")
	copy(b[3:33], title)
	copy(b[33:63], artist)
	copy(b[63:93], album)
	copy(b[93:97], year)
	copy(b[97:125], comment)
	b[126] = 7
	b[127] = genre
	return b
}

// midi writes a format 1 Standard MIDI File, 96 ticks a quarter note, four
// quarter notes at 120 beats a minute: two seconds.
func midi() []byte {
	vlq := func(v int) []byte {
		b := []byte{byte(v & 0x7F)}
		for v >>= 7; v > 0; v >>= 7 {
			b = append([]byte{byte(v&0x7F | 0x80)}, b...)
		}
		return b
	}
	meta := func(delta int, typ byte, data string) []byte {
		return append(append(append(vlq(delta), 0xFF, typ), vlq(len(data))...), data...)
	}
	chunk := func(id string, body []byte) []byte {
		return append(append([]byte(id), binary.BigEndian.AppendUint32(nil, uint32(len(body)))...), body...)
	}
	var t0 []byte
	t0 = append(t0, meta(0, 0x03, "Quire Test MIDI")...)
	t0 = append(t0, meta(0, 0x02, "Quire test data")...)
	t0 = append(t0, meta(0, 0x01, "Recorded for the media reader")...)
	t0 = append(t0, meta(0, 0x51, "\x07\xa1\x20")...) // 500,000 µs a quarter note
	t0 = append(t0, meta(384, 0x2F, "")...)
	var t1 []byte
	t1 = append(t1, meta(0, 0x03, "Melody")...)
	notes := []struct{ syllable string }{{"First "}, {"line "}, {"of "}, {"the "}, {"cho"}, {"rus/"}, {"second "}, {"line"}}
	for i, n := range notes {
		t1 = append(t1, meta(0, 0x05, n.syllable)...)
		t1 = append(t1, 0x00, 0x90, byte(60+i), 0x40) // note on
		t1 = append(t1, 0x30, 0x80, byte(60+i), 0x40) // note off after 48 ticks
	}
	t1 = append(t1, meta(0, 0x2F, "")...)
	out := chunk("MThd", []byte{0, 1, 0, 2, 0, 96})
	out = append(out, chunk("MTrk", t0)...)
	return append(out, chunk("MTrk", t1)...)
}

package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dhowden/tag"
)

// Audio and video hold no text, but their metadata (title, artist, album,
// comments, lyrics) is what a search should find: a media file ends done,
// its text made of its tags, one a line, and its facts (duration, format,
// codecs) in Result.Meta. Tags are read with github.com/dhowden/tag where it
// reads them (ID3v1 and v2 of MP3, the iTunes atoms of MP4); what it lacks
// is read here: durations (MPEG frame headers, an MP4 movie header, FLAC's
// stream info, an Ogg stream's last granule position), Vorbis comments
// (whose picture blocks the library allocates from their declared size),
// and Matroska/WebM, RIFF (AVI, WAV), AIFF, ASF (WMA, WMV), FLV and MIDI
// altogether. Every structure is read
// from the document's bytes, never allocated from a size it declares, and
// every walk is bounded by the document's length and a fixed depth.

// MIME types of audio and video, as mimetype names them where it does.
const (
	typeMP3       = "audio/mpeg"
	typeFLAC      = "audio/flac"
	typeOggAudio  = "audio/ogg"
	typeOpus      = "audio/opus"
	typeOggVideo  = "video/ogg"
	typeOgg       = "application/ogg"
	typeM4A       = "audio/x-m4a"
	typeMP4Audio  = "audio/mp4"
	typeMP4       = "video/mp4"
	typeMOV       = "video/quicktime"
	type3GPP      = "video/3gpp"
	typeWebM      = "video/webm"
	typeWebMAudio = "audio/webm"
	typeMKV       = "video/x-matroska"
	typeMKA       = "audio/x-matroska"
	typeAVI       = "video/x-msvideo"
	typeWAV       = "audio/wav"
	typeXWAV      = "audio/x-wav"
	typeAIFF      = "audio/aiff"
	typeXAIFF     = "audio/x-aiff"
	typeASF       = "video/x-ms-asf"
	typeWMA       = "audio/x-ms-wma"
	typeWMV       = "video/x-ms-wmv"
	typeFLV       = "video/x-flv"
	typeMIDI      = "audio/midi"
	typeXMIDI     = "audio/x-midi"
)

func init() {
	register(&format{
		name: "media",
		types: []string{typeMP3, typeFLAC, typeOggAudio, typeOpus, typeOggVideo, typeOgg, typeM4A,
			typeMP4Audio, typeMP4, typeMOV, type3GPP, typeWebM, typeWebMAudio, typeMKV, typeMKA,
			typeAVI, typeWAV, typeXWAV, typeAIFF, typeXAIFF, typeASF, typeWMA, typeWMV, typeFLV, typeMIDI, typeXMIDI},
		extract: extractMedia,
	})
}

// mediaInfo is what a media file says of itself.
type mediaInfo struct {
	format string // the container and codec as people name them: "MP3", "MPEG-4"
	tags   mediaTags
	// duration is zero when unknown.
	duration   time.Duration
	codecs     []string
	sampleRate int
	channels   int
	bitrate    int // bits per second, for MP3
	width      int
	height     int
	warnings   []string
}

// mediaTags are the fields that become the document's text, in this order.
type mediaTags struct {
	title, artist, albumArtist, album, composer, date, genre, track, comment, lyrics string
	// more are further text fields (a description, a copyright), each
	// kept on a line of its own.
	more []string
}

// set fills the field named by a tag key (Vorbis comments, Matroska tags,
// RIFF INFO chunks, all mapped to lower-case Vorbis names first) unless it
// is set already: the first value wins.
func (t *mediaTags) set(key, value string) {
	value = strings.TrimSpace(strings.ToValidUTF8(value, "\uFFFD"))
	value = strings.TrimRight(value, "\x00")
	if value == "" {
		return
	}
	first := func(f *string) {
		if *f == "" {
			*f = value
		}
	}
	switch key {
	case "title":
		first(&t.title)
	case "artist", "performer":
		first(&t.artist)
	case "albumartist", "album_artist", "album artist":
		first(&t.albumArtist)
	case "album":
		first(&t.album)
	case "composer":
		first(&t.composer)
	case "date", "year", "date_released", "date_recorded", "creation_time":
		first(&t.date)
	case "genre":
		first(&t.genre)
	case "tracknumber", "track", "part_number":
		first(&t.track)
	case "comment", "description", "comments":
		if t.comment == "" {
			t.comment = value
		} else if t.comment != value && len(t.more) < mediaMoreMax {
			t.more = append(t.more, value)
		}
	case "lyrics", "unsyncedlyrics", "unsynced lyrics", "uslt":
		first(&t.lyrics)
	case "subject", "copyright", "keywords", "synopsis", "summary", "publisher", "label", "organization", "conductor", "lyricist":
		if len(t.more) < mediaMoreMax {
			t.more = append(t.more, value)
		}
	}
}

// empty reports that no field was found.
func (t *mediaTags) empty() bool {
	return t.title == "" && t.artist == "" && t.albumArtist == "" && t.album == "" && t.composer == "" &&
		t.date == "" && t.genre == "" && t.track == "" && t.comment == "" && t.lyrics == "" && len(t.more) == 0
}

// mediaMoreMax bounds the further text fields kept: tags are a few lines.
const mediaMoreMax = 64

func extractMedia(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	data := in.Data
	var (
		info *mediaInfo
		err  error
	)
	switch {
	case bytes.HasPrefix(data, []byte("fLaC")):
		info, err = flacInfo(data)
	case bytes.HasPrefix(data, []byte("OggS")):
		info, err = oggInfo(data)
	case bytes.HasPrefix(data, ebmlMagic):
		info, err = matroskaInfo(ctx, data)
	case len(data) >= 12 && string(data[:4]) == "RIFF":
		info, err = riffInfo(ctx, data)
	case len(data) >= 12 && string(data[:4]) == "FORM" && (string(data[8:12]) == "AIFF" || string(data[8:12]) == "AIFC"):
		info, err = aiffInfo(ctx, data)
	case bytes.HasPrefix(data, asfHeader):
		info, err = asfInfo(ctx, data)
	case bytes.HasPrefix(data, []byte("FLV\x01")):
		info, err = flvInfo(ctx, data)
	case bytes.HasPrefix(data, []byte("MThd")):
		info, err = midiInfo(ctx, data)
	case isMP4(data):
		info, err = mp4Info(ctx, data)
	case bytes.HasPrefix(data, []byte("ID3")) || in.Type == typeMP3:
		info, err = mp3Info(data)
	default:
		return nil, fmt.Errorf("%w: no audio or video container this reader knows (MP3, MP4, FLAC, Ogg, Matroska, RIFF, AIFF, ASF, FLV, MIDI) for %s", ErrCorrupt, in.Type)
	}
	if err != nil {
		return nil, err
	}
	return info.result(b), nil
}

// result turns what was read into the document: its tags as text, one a
// line, and its facts as metadata.
func (m *mediaInfo) result(b *budget) *Result {
	t := &m.tags
	res := &Result{Meta: map[string]string{}, Warnings: m.warnings}
	res.Title = cutUTF8(t.title, metaFieldMax)
	res.Author = cutUTF8(cmpOr(t.artist, t.albumArtist, t.composer), metaFieldMax)
	w := textSink{bud: b}
	fields := []string{t.title, t.artist, t.albumArtist, t.album, t.composer, t.date, t.genre, t.comment}
	if t.albumArtist == t.artist {
		fields[2] = ""
	}
	for _, v := range append(fields, t.more...) {
		if v == "" {
			continue
		}
		if w.Len() > 0 && !w.writeByte('\n') {
			break
		}
		if !w.writeString(v) {
			break
		}
	}
	if t.lyrics != "" {
		if w.Len() > 0 {
			w.writeString("\n\n")
		}
		w.writeString(normalizeNewlines(t.lyrics))
	}
	res.Text = w.String()
	meta := func(k, v string) {
		if v != "" {
			res.Meta[k] = cutUTF8(v, metaFieldMax)
		}
	}
	meta("format", m.format)
	meta("artist", t.artist)
	meta("album_artist", t.albumArtist)
	meta("album", t.album)
	meta("composer", t.composer)
	meta("date", t.date)
	meta("genre", t.genre)
	meta("track", t.track)
	meta("codec", strings.Join(m.codecs, ", "))
	if m.duration > 0 {
		// Seconds, as a number a program reads, and as a person does.
		meta("duration", strconv.FormatFloat(m.duration.Seconds(), 'f', 3, 64))
		meta("duration_text", m.duration.Round(time.Millisecond).String())
	}
	if m.sampleRate > 0 {
		meta("sample_rate", strconv.Itoa(m.sampleRate))
	}
	if m.channels > 0 {
		meta("channels", strconv.Itoa(m.channels))
	}
	if m.bitrate > 0 {
		meta("bitrate", strconv.Itoa(m.bitrate))
	}
	if m.width > 0 && m.height > 0 {
		meta("dimensions", fmt.Sprintf("%dx%d", m.width, m.height))
	}
	return res
}

func cmpOr(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// addCodec records a codec once.
func (m *mediaInfo) addCodec(c string) {
	c = strings.TrimSpace(strings.ToValidUTF8(strings.TrimRight(c, "\x00"), ""))
	if c == "" || len(m.codecs) >= 16 {
		return
	}
	for _, have := range m.codecs {
		if have == c {
			return
		}
	}
	m.codecs = append(m.codecs, c)
}

// seconds converts a count of units at rate per second into a duration,
// zero when it would not fit or makes no sense.
func seconds(units uint64, rate uint64) time.Duration {
	if rate == 0 || units == 0 {
		return 0
	}
	s := float64(units) / float64(rate)
	if s > 1e7 { // longer than 16 weeks: a damaged header, not a recording
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

// fromTagLib copies what github.com/dhowden/tag read.
func (t *mediaTags) fromTagLib(md tag.Metadata) {
	t.set("title", md.Title())
	t.set("artist", md.Artist())
	t.set("albumartist", md.AlbumArtist())
	t.set("album", md.Album())
	t.set("composer", md.Composer())
	if y := md.Year(); y > 0 {
		t.set("date", strconv.Itoa(y))
	}
	t.set("genre", md.Genre())
	if n, total := md.Track(); n > 0 {
		if total > 0 {
			t.set("track", fmt.Sprintf("%d/%d", n, total))
		} else {
			t.set("track", strconv.Itoa(n))
		}
	}
	t.set("comment", md.Comment())
	t.set("lyrics", md.Lyrics())
}

// ---- MP3: ID3 tags and MPEG audio frames

// id3FramesMax bounds the ID3v2 frames handed to the tag library, which
// names repeated frames by counting up from the first (quadratic in their
// number): real tags have a few dozen.
const id3FramesMax = 256

func mp3Info(data []byte) (*mediaInfo, error) {
	m := &mediaInfo{format: "MP3"}
	audioStart := 0
	var tlen uint64
	if bytes.HasPrefix(data, []byte("ID3")) {
		tagData, end, err := id3v2Clean(data)
		if err != nil {
			return nil, err
		}
		audioStart = end
		if tagData != nil {
			md, err := tag.ReadID3v2Tags(bytes.NewReader(tagData))
			if err != nil {
				m.warnings = append(m.warnings, fmt.Sprintf("ID3v2 tag: %v", err))
			} else {
				// A full recording date, where the library keeps the year.
				for _, k := range []string{"TDRC", "TDRL", "TDOR"} {
					if v, ok := md.Raw()[k].(string); ok {
						m.tags.set("date", v)
					}
				}
				m.tags.fromTagLib(md)
				if v, ok := md.Raw()["TLEN"].(string); ok {
					tlen, _ = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
				}
				m.id3Extra(md.Raw())
			}
		}
	}
	audioEnd := len(data)
	if len(data) >= 128 && string(data[len(data)-128:len(data)-125]) == "TAG" {
		audioEnd -= 128
		if md, err := tag.ReadID3v1Tags(bytes.NewReader(data[len(data)-128:])); err == nil {
			m.tags.fromTagLib(md) // fills only what ID3v2 left empty
		}
	}
	if audioEnd < audioStart {
		audioEnd = audioStart
	}
	if !m.mpegAudio(data[audioStart:audioEnd]) && tlen == 0 && m.tags.empty() {
		return nil, fmt.Errorf("%w: no ID3 tag and no MPEG audio frame", ErrCorrupt)
	}
	if m.duration == 0 && tlen > 0 {
		m.duration = seconds(tlen, 1000)
	}
	return m, nil
}

// id3Extra keeps the text frames the library has no method for: further
// comments, a subtitle, a description (TXXX).
func (m *mediaInfo) id3Extra(raw map[string]any) {
	for _, k := range []string{"TIT3", "TIT1", "TPUB", "TCOP", "TEXT", "TOPE", "TPE3", "TT3", "TT1"} {
		if v, ok := raw[k].(string); ok {
			m.tags.set("subject", v)
		}
	}
	// Map order is random; the text should not be.
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c, ok := raw[k].(*tag.Comm)
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(k, "COMM_") || strings.HasPrefix(k, "COM_"):
			m.tags.set("comment", c.Text)
		case strings.HasPrefix(k, "TXXX") || strings.HasPrefix(k, "TXX"):
			// ffmpeg and others write comments and lyrics as user text
			// frames named after them.
			m.tags.set(strings.ToLower(c.Description), c.Text)
		}
	}
}

// id3v2Clean returns a copy of the ID3v2 tag at the start of data that the
// tag library can read within bounds: unsynchronisation undone, the
// extended header dropped, only its text, comment and lyrics frames kept
// (pictures are not text), at most id3FramesMax of them, compressed and
// encrypted frames left out. end is where the tag ends in data. A nil tag
// means none worth reading.
func id3v2Clean(data []byte) (tagData []byte, end int, err error) {
	if len(data) < 10 {
		return nil, 0, fmt.Errorf("%w: an ID3v2 header cut short", ErrCorrupt)
	}
	ver, flags := data[3], data[5]
	size, ok := synchsafe(data[6:10])
	if !ok || ver < 2 || ver > 4 {
		return nil, 0, fmt.Errorf("%w: an ID3v2 header of version %d, or with a bad size", ErrCorrupt, ver)
	}
	end = 10 + size
	if flags&0x10 != 0 && ver == 4 {
		end += 10 // a footer
	}
	if end > len(data) {
		end = len(data) // a cut tag: read what there is
	}
	body := data[10:min(10+size, len(data))]
	if flags&0x80 != 0 {
		body = unsynchronise(body)
	}
	if flags&0x40 != 0 && ver >= 3 && len(body) >= 4 {
		// The extended header: its size excludes itself in v2.3, includes
		// it (synchsafe) in v2.4.
		var n int
		if ver == 3 {
			n = 4 + int(binary.BigEndian.Uint32(body))
		} else {
			n, _ = synchsafe(body[:4])
		}
		if n < 0 || n > len(body) {
			return nil, end, nil
		}
		body = body[n:]
	}
	var out bytes.Buffer
	out.Write([]byte{'I', 'D', '3', ver, 0, 0, 0, 0, 0, 0})
	kept := 0
	for kept < id3FramesMax {
		hdr := 10
		if ver == 2 {
			hdr = 6
		}
		if len(body) < hdr || body[0] == 0 {
			break
		}
		var (
			id    string
			fsize int
			fflag [2]byte
		)
		switch ver {
		case 2:
			id, fsize = string(body[:3]), int(body[3])<<16|int(body[4])<<8|int(body[5])
		case 3:
			id, fsize = string(body[:4]), int(binary.BigEndian.Uint32(body[4:8]))
			fflag = [2]byte{body[8], body[9]}
		case 4:
			id = string(body[:4])
			fsize, ok = synchsafe(body[4:8])
			if !ok {
				// Some v2.4 writers store plain sizes.
				fsize = int(binary.BigEndian.Uint32(body[4:8]))
			}
			fflag = [2]byte{body[8], body[9]}
		}
		if !validFrameID(id) || fsize < 0 || fsize > len(body)-hdr {
			break
		}
		payload := body[hdr : hdr+fsize]
		body = body[hdr+fsize:]
		if !id3TextFrame(id) {
			continue
		}
		switch ver {
		case 3:
			if fflag[1]&0xC0 != 0 { // compressed or encrypted
				continue
			}
			if fflag[1]&0x20 != 0 && len(payload) > 0 { // grouping identity
				payload = payload[1:]
			}
		case 4:
			if fflag[1]&0x0C != 0 { // compressed or encrypted
				continue
			}
			if fflag[1]&0x40 != 0 && len(payload) > 0 { // grouping identity
				payload = payload[1:]
			}
			if fflag[1]&0x01 != 0 && len(payload) >= 4 { // data length indicator
				payload = payload[4:]
			}
			if fflag[1]&0x02 != 0 {
				payload = unsynchronise(payload)
			}
		}
		if len(payload) == 0 {
			continue
		}
		out.WriteString(id)
		n := len(payload)
		switch ver {
		case 2:
			out.Write([]byte{byte(n >> 16), byte(n >> 8), byte(n)})
		case 3:
			out.Write(binary.BigEndian.AppendUint32(nil, uint32(n)))
			out.Write([]byte{0, 0})
		case 4:
			out.Write(synchsafeBytes(n))
			out.Write([]byte{0, 0})
		}
		out.Write(payload)
		kept++
	}
	if kept == 0 {
		return nil, end, nil
	}
	tagData = out.Bytes()
	copy(tagData[6:10], synchsafeBytes(len(tagData)-10))
	return tagData, end, nil
}

// id3TextFrame reports the frames whose content is text: text frames
// (T...), comments and unsynchronised lyrics.
func id3TextFrame(id string) bool {
	switch id {
	case "COMM", "COM", "USLT", "ULT":
		return true
	}
	return id[0] == 'T'
}

func validFrameID(id string) bool {
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// synchsafe decodes a 28-bit integer stored 7 bits a byte.
func synchsafe(b []byte) (int, bool) {
	n := 0
	for _, c := range b[:4] {
		if c&0x80 != 0 {
			return 0, false
		}
		n = n<<7 | int(c)
	}
	return n, true
}

func synchsafeBytes(n int) []byte {
	return []byte{byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
}

// unsynchronise undoes ID3 unsynchronisation: a zero byte after 0xFF was
// inserted by the writer.
func unsynchronise(b []byte) []byte {
	if !bytes.Contains(b, []byte{0xFF, 0}) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		out = append(out, b[i])
		if b[i] == 0xFF && i+1 < len(b) && b[i+1] == 0 {
			i++
		}
	}
	return out
}

// mpegHeader is an MPEG audio frame header.
type mpegHeader struct {
	version    int // 1, 2, or 25 for MPEG 2.5
	layer      int // 1, 2, 3
	bitrate    int // bits per second
	sampleRate int
	padding    int
	channels   int
}

var (
	mpegBitrates = [2][3][16]int{ // [MPEG-1, MPEG-2/2.5][layer-1][index], kbit/s
		{
			{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0},
			{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0},
			{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
		},
		{
			{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0},
			{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
			{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
		},
	}
	mpegSampleRates = map[int][3]int{1: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 25: {11025, 12000, 8000}}
)

func parseMPEGHeader(b []byte) (mpegHeader, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return mpegHeader{}, false
	}
	var h mpegHeader
	switch b[1] >> 3 & 3 {
	case 0:
		h.version = 25
	case 2:
		h.version = 2
	case 3:
		h.version = 1
	default:
		return h, false
	}
	h.layer = 4 - int(b[1]>>1&3)
	br, sr := int(b[2]>>4), int(b[2]>>2&3)
	if h.layer == 4 || br == 0 || br == 15 || sr == 3 {
		return h, false // reserved, or free format (no frame length to go by)
	}
	row := 0
	if h.version != 1 {
		row = 1
	}
	h.bitrate = mpegBitrates[row][h.layer-1][br] * 1000
	h.sampleRate = mpegSampleRates[h.version][sr]
	h.padding = int(b[2] >> 1 & 1)
	h.channels = 2
	if b[3]>>6 == 3 {
		h.channels = 1
	}
	return h, true
}

// samples is the number of samples a frame holds.
func (h mpegHeader) samples() int {
	switch {
	case h.layer == 1:
		return 384
	case h.layer == 3 && h.version != 1:
		return 576
	}
	return 1152
}

// length is the frame's length in bytes.
func (h mpegHeader) length() int {
	if h.layer == 1 {
		return (12*h.bitrate/h.sampleRate + h.padding) * 4
	}
	return h.samples()/8*h.bitrate/h.sampleRate + h.padding
}

// mpegAudio finds the first MPEG audio frame of audio (one whose successor
// is a frame too, against a stray sync pattern), and from it the stream's
// format and duration: a Xing, Info or VBRI header's frame count for
// variable bit rates, the length at the first frame's bit rate otherwise.
func (m *mediaInfo) mpegAudio(audio []byte) bool {
	const scanMax = 128 << 10 // junk or padding before the first frame
	for i := 0; i+4 <= len(audio) && i < scanMax; i++ {
		if audio[i] != 0xFF {
			continue
		}
		h, ok := parseMPEGHeader(audio[i:])
		if !ok {
			continue
		}
		n := h.length()
		if n < 4 {
			continue
		}
		if next := i + n; next+4 <= len(audio) {
			if h2, ok := parseMPEGHeader(audio[next:]); !ok || h2.version != h.version || h2.layer != h.layer {
				continue
			}
		}
		frame := audio[i:min(i+n, len(audio))]
		m.format = fmt.Sprintf("MPEG-%s Layer %s", map[int]string{1: "1", 2: "2", 25: "2.5"}[h.version],
			[]string{"", "I", "II", "III"}[h.layer])
		m.addCodec(map[int]string{1: "mp1", 2: "mp2", 3: "mp3"}[h.layer])
		m.sampleRate, m.channels, m.bitrate = h.sampleRate, h.channels, h.bitrate
		if frames, ok := vbrFrames(frame, h); ok {
			m.duration = seconds(uint64(frames)*uint64(h.samples()), uint64(h.sampleRate))
			if m.duration > 0 {
				m.bitrate = int(float64(len(audio)-i) * 8 / m.duration.Seconds())
			}
		} else {
			m.duration = seconds(uint64(len(audio)-i)*8, uint64(h.bitrate))
		}
		return true
	}
	return false
}

// vbrFrames reads the frame count of a Xing/Info or VBRI header in the
// first frame.
func vbrFrames(frame []byte, h mpegHeader) (uint32, bool) {
	side := 32 // side information of MPEG-1 stereo
	switch {
	case h.version == 1 && h.channels == 1:
		side = 17
	case h.version != 1 && h.channels == 2:
		side = 17
	case h.version != 1:
		side = 9
	}
	if off := 4 + side; len(frame) >= off+12 {
		tag := string(frame[off : off+4])
		if (tag == "Xing" || tag == "Info") && frame[off+7]&1 != 0 {
			return binary.BigEndian.Uint32(frame[off+8:]), true
		}
	}
	if len(frame) >= 36+18 && string(frame[36:40]) == "VBRI" {
		return binary.BigEndian.Uint32(frame[36+14:]), true
	}
	return 0, false
}

// ---- FLAC and Vorbis comments

func flacInfo(data []byte) (*mediaInfo, error) {
	m := &mediaInfo{format: "FLAC"}
	m.addCodec("flac")
	if err := m.flacBlocks(data[4:]); err != nil {
		return nil, err
	}
	return m, nil
}

// flacBlocks reads FLAC metadata blocks: STREAMINFO and VORBIS_COMMENT.
func (m *mediaInfo) flacBlocks(b []byte) error {
	for first := true; len(b) >= 4; first = false {
		last, typ := b[0]&0x80 != 0, b[0]&0x7F
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if n > len(b)-4 {
			if first {
				return fmt.Errorf("%w: a FLAC metadata block of %d bytes in %d", ErrCorrupt, n, len(b)-4)
			}
			m.warnings = append(m.warnings, "FLAC metadata cut short")
			return nil
		}
		block := b[4 : 4+n]
		b = b[4+n:]
		switch typ {
		case 0:
			m.flacStreamInfo(block)
		case 4:
			if err := m.tags.vorbisComments(block); err != nil {
				m.warnings = append(m.warnings, fmt.Sprintf("FLAC Vorbis comments: %v", err))
			}
		}
		if first && typ != 0 {
			return fmt.Errorf("%w: a FLAC stream whose first metadata block is not STREAMINFO", ErrCorrupt)
		}
		if last {
			break
		}
	}
	return nil
}

func (m *mediaInfo) flacStreamInfo(b []byte) {
	if len(b) < 18 {
		return
	}
	x := binary.BigEndian.Uint64(b[10:18])
	rate := x >> 44
	m.sampleRate = int(rate)
	m.channels = int(x>>41&7) + 1
	m.duration = seconds(x&(1<<36-1), rate)
}

// vorbisComments reads a Vorbis comment header (Ogg Vorbis and Opus, FLAC):
// a vendor string and KEY=value pairs, lengths little-endian.
func (t *mediaTags) vorbisComments(b []byte) error {
	str := func() (string, bool) {
		if len(b) < 4 {
			return "", false
		}
		n := binary.LittleEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return "", false
		}
		s := string(b[4 : 4+n])
		b = b[4+n:]
		return s, true
	}
	if _, ok := str(); !ok {
		return fmt.Errorf("vendor string cut short")
	}
	if len(b) < 4 {
		return fmt.Errorf("comment count cut short")
	}
	count := binary.LittleEndian.Uint32(b)
	b = b[4:]
	for i := uint32(0); i < count; i++ {
		c, ok := str()
		if !ok {
			return fmt.Errorf("comment %d of %d cut short", i+1, count)
		}
		k, v, ok := strings.Cut(c, "=")
		if !ok {
			continue
		}
		t.set(strings.ToLower(k), v)
	}
	return nil
}

// ---- Ogg

// oggPacketMax bounds an Ogg header packet gathered from pages: a comment
// header with cover art may be large, but never larger than this.
const oggPacketMax = 16 << 20

func oggInfo(data []byte) (*mediaInfo, error) {
	m := &mediaInfo{format: "Ogg"}
	var (
		serial  uint32
		packets [][]byte
		cur     []byte
		codec   string
		rate    uint64
		preSkip uint64
	)
	// The first stream's headers: an identification packet, then comments.
	for off, pages := 0, 0; off < len(data) && len(packets) < 3 && pages < 4096; pages++ {
		p, ok := oggPage(data[off:])
		if !ok {
			if pages == 0 {
				return nil, fmt.Errorf("%w: an Ogg page cut short", ErrCorrupt)
			}
			break
		}
		off += p.size
		if pages == 0 {
			serial = p.serial
		} else if p.serial != serial {
			continue
		}
		for _, seg := range p.segments {
			if len(cur)+len(seg.data) > oggPacketMax {
				return nil, fmt.Errorf("%w: an Ogg header packet over %d MiB", ErrCorrupt, oggPacketMax>>20)
			}
			cur = append(cur, seg.data...)
			if seg.end {
				packets = append(packets, cur)
				cur = nil
			}
		}
	}
	if len(packets) == 0 {
		return nil, fmt.Errorf("%w: an Ogg stream without a complete header packet", ErrCorrupt)
	}
	id := packets[0]
	var comments []byte
	second := func() []byte {
		if len(packets) > 1 {
			return packets[1]
		}
		return nil
	}
	switch {
	case bytes.HasPrefix(id, []byte("\x01vorbis")) && len(id) >= 16:
		codec, m.format = "vorbis", "Ogg Vorbis"
		m.channels = int(id[11])
		rate = uint64(binary.LittleEndian.Uint32(id[12:]))
		if c := second(); bytes.HasPrefix(c, []byte("\x03vorbis")) {
			comments = c[7:]
		}
	case bytes.HasPrefix(id, []byte("OpusHead")) && len(id) >= 19:
		codec, m.format = "opus", "Ogg Opus"
		m.channels = int(id[9])
		preSkip = uint64(binary.LittleEndian.Uint16(id[10:]))
		rate = 48000 // Opus granule positions count 48 kHz samples
		m.sampleRate = int(binary.LittleEndian.Uint32(id[12:]))
		if c := second(); bytes.HasPrefix(c, []byte("OpusTags")) {
			comments = c[8:]
		}
	case bytes.HasPrefix(id, []byte("\x7fFLAC")) && len(id) >= 13+4+34:
		codec, m.format = "flac", "Ogg FLAC"
		m.flacStreamInfo(id[13+4:])
		rate = uint64(m.sampleRate)
		if c := second(); len(c) >= 4 && c[0]&0x7F == 4 {
			comments = c[4:]
		}
	case bytes.HasPrefix(id, []byte("Speex   ")) && len(id) >= 80:
		codec, m.format = "speex", "Ogg Speex"
		rate = uint64(binary.LittleEndian.Uint32(id[36:]))
		m.channels = int(binary.LittleEndian.Uint32(id[48:]))
		comments = second()
	case bytes.HasPrefix(id, []byte("\x80theora")):
		codec, m.format = "theora", "Ogg Theora"
		if c := second(); bytes.HasPrefix(c, []byte("\x81theora")) {
			comments = c[7:]
		}
	default:
		m.warnings = append(m.warnings, "an Ogg stream of a codec this reader does not know")
	}
	m.addCodec(codec)
	if m.sampleRate == 0 {
		m.sampleRate = int(rate)
	}
	if comments != nil {
		if err := m.tags.vorbisComments(comments); err != nil {
			m.warnings = append(m.warnings, fmt.Sprintf("Vorbis comments: %v", err))
		}
	}
	if rate > 0 && codec != "theora" {
		if g, ok := oggLastGranule(data, serial); ok && g > preSkip {
			m.duration = seconds(g-preSkip, rate)
		}
	}
	return m, nil
}

type oggSegment struct {
	data []byte
	end  bool // the last segment of a packet
}

type oggPageInfo struct {
	serial   uint32
	granule  uint64
	size     int
	segments []oggSegment
}

// oggPage parses the page at the start of b. Lacing values of 255 continue
// a packet; a smaller one ends it.
func oggPage(b []byte) (oggPageInfo, bool) {
	if len(b) < 27 || string(b[:4]) != "OggS" || b[4] != 0 {
		return oggPageInfo{}, false
	}
	n := int(b[26])
	if len(b) < 27+n {
		return oggPageInfo{}, false
	}
	p := oggPageInfo{serial: binary.LittleEndian.Uint32(b[14:]), granule: binary.LittleEndian.Uint64(b[6:])}
	lacing := b[27 : 27+n]
	off := 27 + n
	var seg []byte
	start := off
	for _, l := range lacing {
		off += int(l)
		if off > len(b) {
			return oggPageInfo{}, false
		}
		if l < 255 {
			seg = b[start:off]
			p.segments = append(p.segments, oggSegment{data: seg, end: true})
			start = off
		}
	}
	if start < off {
		p.segments = append(p.segments, oggSegment{data: b[start:off]})
	}
	p.size = off
	return p, true
}

// oggLastGranule finds the granule position of the stream's last page,
// searching back from the end of the file.
func oggLastGranule(data []byte, serial uint32) (uint64, bool) {
	const window = 256 << 10
	lo := max(len(data)-window, 0)
	for i := len(data) - 27; i >= lo; i-- {
		if data[i] != 'O' || string(data[i:i+4]) != "OggS" {
			continue
		}
		if binary.LittleEndian.Uint32(data[i+14:]) != serial {
			continue
		}
		g := binary.LittleEndian.Uint64(data[i+6:])
		if g == math.MaxUint64 { // no packet ends on this page
			continue
		}
		return g, true
	}
	return 0, false
}

// ---- MP4, QuickTime

func isMP4(data []byte) bool {
	return len(data) >= 12 && (string(data[4:8]) == "ftyp" ||
		// QuickTime files without ftyp start with another top-level atom.
		string(data[4:8]) == "moov" || string(data[4:8]) == "mdat" || string(data[4:8]) == "wide" || string(data[4:8]) == "free")
}

// mp4BoxesMax bounds the boxes walked: a real file has hundreds.
const mp4BoxesMax = 100000

func mp4Info(ctx context.Context, data []byte) (*mediaInfo, error) {
	m := &mediaInfo{format: "MPEG-4"}
	if string(data[4:8]) == "ftyp" && len(data) >= 12 {
		brand := strings.TrimSpace(string(data[8:12]))
		switch brand {
		case "qt":
			m.format = "QuickTime"
		case "M4A", "M4B", "M4P":
			m.format = "MPEG-4 Audio (" + brand + ")"
		default:
			if strings.HasPrefix(brand, "3g") {
				m.format = "3GPP"
			}
		}
	} else {
		m.format = "QuickTime"
	}
	w := mp4Walk{ctx: ctx, m: m}
	if err := w.boxes(data, 0, ""); err != nil {
		return nil, err
	}
	if !w.moov {
		return nil, fmt.Errorf("%w: an MP4/QuickTime file without a movie box (moov)", ErrCorrupt)
	}
	// The iTunes metadata (moov/udta/meta/ilst), through the tag library.
	// A QuickTime file's user data holds its tags directly (read above),
	// which the library takes for damaged iTunes atoms.
	if !w.ilst {
		return m, nil
	}
	if md, err := tag.ReadAtoms(bytes.NewReader(data)); err == nil {
		m.tags.fromTagLib(md)
		if d, ok := md.Raw()["desc"].(string); ok {
			m.tags.set("description", d)
		}
	} else {
		m.warnings = append(m.warnings, fmt.Sprintf("MP4 metadata: %v", err))
	}
	return m, nil
}

type mp4Walk struct {
	ctx   context.Context
	m     *mediaInfo
	n     int
	moov  bool
	ilst  bool   // the movie has iTunes metadata
	track string // the handler type of the track being walked: vide, soun
}

// boxes walks the boxes of b, descending into the containers that lead to
// the movie header, track handlers and sample descriptions, and QuickTime's
// user data.
func (w *mp4Walk) boxes(b []byte, depth int, parent string) error {
	if depth > 8 {
		return nil
	}
	for len(b) >= 8 {
		if w.n++; w.n > mp4BoxesMax {
			return fmt.Errorf("%w: more than %d MP4 boxes", ErrCorrupt, mp4BoxesMax)
		}
		if w.n%4096 == 0 {
			if err := w.ctx.Err(); err != nil {
				return err
			}
		}
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b)) // to the end of the file
		case 1:
			if len(b) < 16 {
				return nil
			}
			size, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size < hdr {
			return nil // damaged: what was read stands
		}
		if size > uint64(len(b)) {
			size = uint64(len(b)) // cut short: read what there is
		}
		body := b[hdr:size]
		b = b[size:]
		switch typ {
		case "moov":
			w.moov = true
			fallthrough
		case "mdia", "minf", "stbl", "udta":
			if err := w.boxes(body, depth+1, typ); err != nil {
				return err
			}
		case "trak":
			w.track = ""
			if err := w.boxes(body, depth+1, typ); err != nil {
				return err
			}
		case "meta":
			if parent == "udta" && bytes.Contains(body, []byte("ilst")) {
				w.ilst = true
			}
		case "mvhd":
			w.mvhd(body)
		case "tkhd":
			w.tkhd(body)
		case "hdlr":
			if parent == "mdia" && len(body) >= 12 {
				w.track = string(body[8:12])
			}
		case "stsd":
			if len(body) >= 16 && binary.BigEndian.Uint32(body[4:]) > 0 {
				w.m.addCodec(mp4Codec(string(body[12:16])))
			}
		default:
			// QuickTime user data: ©nam, ©ART... as a 16-bit length, a
			// language code and the text.
			if parent == "udta" && len(typ) == 4 && typ[0] == 0xA9 && len(body) >= 4 {
				if n := int(binary.BigEndian.Uint16(body)); n > 0 && n <= len(body)-4 {
					w.m.tags.set(qtUserData[typ[1:]], string(body[4:4+n]))
				}
			}
		}
	}
	return nil
}

// qtUserData names QuickTime's user data atoms (after the ©).
var qtUserData = map[string]string{
	"nam": "title", "ART": "artist", "aut": "artist", "alb": "album", "day": "date", "gen": "genre",
	"cmt": "comment", "des": "description", "inf": "description", "cpy": "copyright", "wrt": "composer",
	"lyr": "lyrics",
}

// mp4Codec names a sample description's format.
func mp4Codec(fourcc string) string {
	switch fourcc {
	case "mp4a":
		return "aac"
	case "avc1", "avc3":
		return "h264"
	case "hvc1", "hev1":
		return "hevc"
	case "mp4v":
		return "mpeg4"
	}
	return strings.TrimSpace(fourcc)
}

// mvhd reads the movie's time scale and duration.
func (w *mp4Walk) mvhd(b []byte) {
	if len(b) < 20 {
		return
	}
	if b[0] == 1 {
		if len(b) >= 32 {
			w.m.duration = seconds(binary.BigEndian.Uint64(b[24:]), uint64(binary.BigEndian.Uint32(b[20:])))
		}
		return
	}
	w.m.duration = seconds(uint64(binary.BigEndian.Uint32(b[16:])), uint64(binary.BigEndian.Uint32(b[12:])))
}

// tkhd reads a track's dimensions (16.16 fixed point), kept for the first
// track that has them: the video.
func (w *mp4Walk) tkhd(b []byte) {
	off := 76
	if len(b) > 0 && b[0] == 1 {
		off = 88
	}
	if len(b) < off+8 || w.m.width > 0 {
		return
	}
	w.m.width = int(binary.BigEndian.Uint32(b[off:]) >> 16)
	w.m.height = int(binary.BigEndian.Uint32(b[off+4:]) >> 16)
}

// ---- Matroska, WebM

var ebmlMagic = []byte{0x1A, 0x45, 0xDF, 0xA3}

// EBML element IDs read (with their length marker, as the spec writes
// them).
const (
	ebmlDocType        = 0x4282
	mkvSegment         = 0x18538067
	mkvInfo            = 0x1549A966
	mkvTimestampScale  = 0x2AD7B1
	mkvDuration        = 0x4489
	mkvTitle           = 0x7BA9
	mkvTracks          = 0x1654AE6B
	mkvTrackEntry      = 0xAE
	mkvCodecID         = 0x86
	mkvVideo           = 0xE0
	mkvPixelWidth      = 0xB0
	mkvPixelHeight     = 0xBA
	mkvAudio           = 0xE1
	mkvSamplingFreq    = 0xB5
	mkvChannels        = 0x9F
	mkvTags            = 0x1254C367
	mkvTag             = 0x7373
	mkvTargets         = 0x63C0
	mkvTagTrackUID     = 0x63C5
	mkvSimpleTag       = 0x67C8
	mkvTagName         = 0x45A3
	mkvTagString       = 0x4487
	mkvCluster         = 0x1F43B675
	ebmlUnknownSize    = -1
	mkvElementsMax     = 1 << 20
	ebmlMaxDepth       = 10
	ebmlValueSizeLimit = 1 << 20 // a string or number element this large is damage
)

// ebmlVint reads a variable-length integer: the number of leading zero bits
// of the first byte gives its length. As an ID the marker bit is kept; as a
// size it is dropped, and all ones means "unknown".
func ebmlVint(b []byte, keepMarker bool) (v int64, n int, ok bool) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0, false
	}
	n = 1
	for mask := byte(0x80); b[0]&mask == 0; mask >>= 1 {
		n++
	}
	if n > 8 || len(b) < n || keepMarker && n > 4 {
		return 0, 0, false
	}
	x := uint64(b[0])
	if !keepMarker {
		x &= uint64(0xFF >> n)
	}
	allOnes := x == uint64(0xFF>>n)
	for i := 1; i < n; i++ {
		x = x<<8 | uint64(b[i])
		allOnes = allOnes && b[i] == 0xFF
	}
	if !keepMarker && allOnes {
		return ebmlUnknownSize, n, true
	}
	if x > math.MaxInt64 {
		return 0, 0, false
	}
	return int64(x), n, true
}

type mkvWalk struct {
	ctx      context.Context
	m        *mediaInfo
	n        int
	scale    uint64
	duration float64
	docType  string
	// tagTrack is set while walking a tag that targets one track (whose
	// fields describe the track, not the work).
	tagTrack bool
	tagName  string
}

func matroskaInfo(ctx context.Context, data []byte) (*mediaInfo, error) {
	m := &mediaInfo{format: "Matroska"}
	w := &mkvWalk{ctx: ctx, m: m, scale: 1000000}
	if err := w.elements(data, 0); err != nil {
		return nil, err
	}
	if w.docType == "" {
		return nil, fmt.Errorf("%w: an EBML file without a document type", ErrCorrupt)
	}
	if w.docType == "webm" {
		m.format = "WebM"
	}
	if w.duration > 0 && w.duration < 1e18 {
		m.duration = time.Duration(w.duration * float64(w.scale))
		if m.duration < 0 {
			m.duration = 0
		}
	}
	return m, nil
}

// elements walks the EBML elements of b.
func (w *mkvWalk) elements(b []byte, depth int) error {
	if depth > ebmlMaxDepth {
		return nil
	}
	for len(b) > 0 {
		if w.n++; w.n > mkvElementsMax {
			return fmt.Errorf("%w: more than %d Matroska elements", ErrCorrupt, mkvElementsMax)
		}
		if w.n%4096 == 0 {
			if err := w.ctx.Err(); err != nil {
				return err
			}
		}
		id, n, ok := ebmlVint(b, true)
		if !ok {
			return nil // damaged or padding: what was read stands
		}
		size, m, ok := ebmlVint(b[n:], false)
		if !ok {
			return nil
		}
		b = b[n+m:]
		if size == ebmlUnknownSize || size > int64(len(b)) {
			// An unknown size (live streams) or one cut short: the element
			// runs to the end of its parent. A cluster of unknown size
			// leaves nothing more to find.
			if id == mkvCluster {
				return nil
			}
			size = int64(len(b))
		}
		body := b[:size]
		b = b[size:]
		switch id {
		case 0x1A45DFA3, mkvSegment, mkvInfo, mkvTracks, mkvTrackEntry, mkvVideo, mkvAudio, mkvTags:
			if err := w.elements(body, depth+1); err != nil {
				return err
			}
		case mkvTag:
			w.tagTrack = false
			if err := w.elements(body, depth+1); err != nil {
				return err
			}
		case mkvTargets:
			if err := w.elements(body, depth+1); err != nil {
				return err
			}
		case mkvTagTrackUID:
			w.tagTrack = ebmlUint(body) != 0
		case mkvSimpleTag:
			w.tagName = ""
			if err := w.elements(body, depth+1); err != nil {
				return err
			}
		case mkvTagName:
			w.tagName = strings.ToLower(ebmlString(body))
		case mkvTagString:
			if !w.tagTrack {
				w.m.tags.set(w.tagName, ebmlString(body))
			}
		case ebmlDocType:
			w.docType = ebmlString(body)
		case mkvTimestampScale:
			if s := ebmlUint(body); s > 0 {
				w.scale = s
			}
		case mkvDuration:
			w.duration = ebmlFloat(body)
		case mkvTitle:
			w.m.tags.set("title", ebmlString(body))
		case mkvCodecID:
			w.m.addCodec(mkvCodec(ebmlString(body)))
		case mkvPixelWidth:
			if w.m.width == 0 {
				w.m.width = int(min(ebmlUint(body), 1<<20))
			}
		case mkvPixelHeight:
			if w.m.height == 0 {
				w.m.height = int(min(ebmlUint(body), 1<<20))
			}
		case mkvSamplingFreq:
			if w.m.sampleRate == 0 {
				if f := ebmlFloat(body); f > 0 && f < 1e7 {
					w.m.sampleRate = int(f)
				}
			}
		case mkvChannels:
			if w.m.channels == 0 {
				w.m.channels = int(min(ebmlUint(body), 1024))
			}
		}
	}
	return nil
}

// mkvCodec names a Matroska codec ID: "V_VP9" -> "vp9", "A_OPUS" -> "opus".
func mkvCodec(id string) string {
	if len(id) > 2 && id[1] == '_' {
		id = id[2:]
	}
	switch id {
	case "MPEG4/ISO/AVC":
		return "h264"
	case "MPEGH/ISO/HEVC":
		return "hevc"
	case "MPEG4/ISO/ASP", "MPEG4/ISO/SP", "MPEG4/ISO/AP":
		return "mpeg4"
	}
	return strings.ToLower(id)
}

func ebmlUint(b []byte) uint64 {
	if len(b) > 8 {
		return 0
	}
	var x uint64
	for _, c := range b {
		x = x<<8 | uint64(c)
	}
	return x
}

func ebmlFloat(b []byte) float64 {
	var f float64
	switch len(b) {
	case 4:
		f = float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
	case 8:
		f = math.Float64frombits(binary.BigEndian.Uint64(b))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func ebmlString(b []byte) string {
	b = head(b, metaFieldMax*4)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(b)
}

// ---- RIFF: AVI, WAV

func riffInfo(ctx context.Context, data []byte) (*mediaInfo, error) {
	form := string(data[8:12])
	m := &mediaInfo{}
	w := &riffWalk{ctx: ctx, m: m}
	switch form {
	case "AVI ":
		m.format = "AVI"
	case "WAVE":
		m.format = "WAV"
	default:
		return nil, fmt.Errorf("%w: a RIFF file of form %q, neither AVI nor WAV", ErrCorrupt, form)
	}
	if err := w.chunks(data[12:], 0); err != nil {
		return nil, err
	}
	switch {
	case form == "AVI " && w.usPerFrame > 0 && w.frames > 0:
		m.duration = seconds(uint64(w.frames)*uint64(w.usPerFrame), 1000000)
	case form == "WAVE" && w.byteRate > 0 && w.dataSize > 0:
		m.duration = seconds(w.dataSize, uint64(w.byteRate))
	}
	return m, nil
}

type riffWalk struct {
	ctx        context.Context
	m          *mediaInfo
	n          int
	usPerFrame uint32
	frames     uint32
	byteRate   uint32
	dataSize   uint64
	stream     string // the type of the stream whose header was last read: vids, auds
}

// riffInfoTags maps RIFF INFO chunks onto tag names.
var riffInfoTags = map[string]string{
	"INAM": "title", "IART": "artist", "IPRD": "album", "ICMT": "comment", "ICRD": "date",
	"IGNR": "genre", "ICOP": "copyright", "ISBJ": "subject", "IKEY": "keywords", "ITRK": "track",
	"IPRT": "track", "ICMS": "composer", "IMUS": "composer",
}

func (w *riffWalk) chunks(b []byte, depth int) error {
	if depth > 6 {
		return nil
	}
	for len(b) >= 8 {
		if w.n++; w.n > mp4BoxesMax {
			return fmt.Errorf("%w: more than %d RIFF chunks", ErrCorrupt, mp4BoxesMax)
		}
		if w.n%4096 == 0 {
			if err := w.ctx.Err(); err != nil {
				return err
			}
		}
		id := string(b[:4])
		size := uint64(binary.LittleEndian.Uint32(b[4:]))
		b = b[8:]
		declared := size
		if size > uint64(len(b)) {
			size = uint64(len(b))
		}
		body := b[:size]
		b = b[size:]
		if size%2 == 1 && len(b) > 0 {
			b = b[1:] // chunks are padded to an even length
		}
		switch id {
		case "LIST":
			if len(body) < 4 {
				continue
			}
			switch string(body[:4]) {
			case "hdrl", "strl", "INFO":
				if err := w.chunks(body[4:], depth+1); err != nil {
					return err
				}
			}
		case "avih":
			if len(body) >= 40 {
				w.usPerFrame = binary.LittleEndian.Uint32(body)
				w.frames = binary.LittleEndian.Uint32(body[16:])
				w.m.width = int(binary.LittleEndian.Uint32(body[32:]))
				w.m.height = int(binary.LittleEndian.Uint32(body[36:]))
			}
		case "strh":
			if len(body) >= 8 {
				w.stream = string(body[:4])
				if w.stream == "vids" {
					w.m.addCodec(strings.ToLower(string(body[4:8])))
				}
			}
		case "strf":
			if w.stream == "auds" && len(body) >= 2 {
				w.m.addCodec(waveFormat(binary.LittleEndian.Uint16(body)))
			}
		case "fmt ":
			if len(body) >= 12 {
				w.m.addCodec(waveFormat(binary.LittleEndian.Uint16(body)))
				w.m.channels = int(binary.LittleEndian.Uint16(body[2:]))
				w.m.sampleRate = int(binary.LittleEndian.Uint32(body[4:]))
				w.byteRate = binary.LittleEndian.Uint32(body[8:])
			}
		case "data":
			w.dataSize = declared // the data may be cut; its header says how long it plays
			if declared == 0xFFFFFFFF || declared > uint64(len(body))+uint64(len(b)) {
				w.dataSize = uint64(len(body))
			}
		case "id3 ", "ID3 ":
			if tagData, _, err := id3v2Clean(body); err == nil && tagData != nil {
				if md, err := tag.ReadID3v2Tags(bytes.NewReader(tagData)); err == nil {
					w.m.tags.fromTagLib(md)
				}
			}
		default:
			if key := riffInfoTags[id]; key != "" {
				w.m.tags.set(key, decodeRIFFText(body))
			}
		}
	}
	return nil
}

// decodeRIFFText reads an INFO string: NUL-terminated, UTF-8 from modern
// writers, a Windows code page from older ones.
func decodeRIFFText(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	b = head(b, metaFieldMax*4)
	if utf8.Valid(b) {
		return string(b)
	}
	s, _, err := decodeText(b, "windows-1252")
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return s
}

// waveFormat names a WAVE format tag.
func waveFormat(t uint16) string {
	switch t {
	case 1:
		return "pcm"
	case 2:
		return "adpcm"
	case 3:
		return "pcm_float"
	case 6:
		return "alaw"
	case 7:
		return "mulaw"
	case 0x55:
		return "mp3"
	case 0xFF, 0x1610:
		return "aac"
	case 0x2000:
		return "ac3"
	case 0xFFFE:
		return "pcm" // WAVE_FORMAT_EXTENSIBLE: its subformat is nearly always PCM
	}
	return fmt.Sprintf("0x%04x", t)
}

// ---- AIFF

func aiffInfo(ctx context.Context, data []byte) (*mediaInfo, error) {
	m := &mediaInfo{format: "AIFF"}
	if string(data[8:12]) == "AIFC" {
		m.format = "AIFF-C"
	}
	b := data[12:]
	for n := 0; len(b) >= 8; n++ {
		if n > mp4BoxesMax {
			return nil, fmt.Errorf("%w: more than %d AIFF chunks", ErrCorrupt, mp4BoxesMax)
		}
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		id, size := string(b[:4]), uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
		size = min(size, uint64(len(b)))
		body := b[:size]
		b = b[size:]
		if size%2 == 1 && len(b) > 0 {
			b = b[1:]
		}
		switch id {
		case "COMM":
			if len(body) >= 18 {
				m.channels = int(binary.BigEndian.Uint16(body))
				frames := binary.BigEndian.Uint32(body[2:])
				rate := extended80(body[8:18])
				if rate > 0 && rate < 1e7 {
					m.sampleRate = int(rate)
					m.duration = time.Duration(float64(frames) / rate * float64(time.Second))
				}
			}
			if len(body) >= 22 && m.format == "AIFF-C" {
				m.addCodec(strings.ToLower(string(body[18:22])))
			} else {
				m.addCodec("pcm")
			}
		case "NAME":
			m.tags.set("title", decodeRIFFText(body))
		case "AUTH":
			m.tags.set("artist", decodeRIFFText(body))
		case "(c) ":
			m.tags.set("copyright", decodeRIFFText(body))
		case "ANNO":
			m.tags.set("comment", decodeRIFFText(body))
		case "ID3 ", "id3 ":
			if tagData, _, err := id3v2Clean(body); err == nil && tagData != nil {
				if md, err := tag.ReadID3v2Tags(bytes.NewReader(tagData)); err == nil {
					m.tags.fromTagLib(md)
				}
			}
		}
	}
	return m, nil
}

// extended80 decodes an IEEE 754 80-bit extended number (AIFF's sample
// rate).
func extended80(b []byte) float64 {
	exp := int(binary.BigEndian.Uint16(b) & 0x7FFF)
	mant := binary.BigEndian.Uint64(b[2:])
	if exp == 0 && mant == 0 || exp == 0x7FFF {
		return 0
	}
	v := math.Ldexp(float64(mant), exp-16383-63)
	if b[0]&0x80 != 0 {
		v = -v
	}
	return v
}

// ---- ASF: WMA, WMV

// ASF object GUIDs, in their byte order.
var (
	asfHeader         = guidBytes(0x75B22630, 0x668E, 0x11CF, [8]byte{0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C})
	asfFileProperties = guidBytes(0x8CABDCA1, 0xA947, 0x11CF, [8]byte{0x8E, 0xE4, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65})
	asfContentDesc    = guidBytes(0x75B22633, 0x668E, 0x11CF, [8]byte{0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C})
	asfExtContentDesc = guidBytes(0xD2D0A440, 0xE307, 0x11D2, [8]byte{0x97, 0xF0, 0x00, 0xA0, 0xC9, 0x5E, 0xA8, 0x50})
	asfStreamProps    = guidBytes(0xB7DC0791, 0xA9B7, 0x11CF, [8]byte{0x8E, 0xE6, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65})
	asfAudioStream    = guidBytes(0xF8699E40, 0x5B4D, 0x11CF, [8]byte{0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B})
	asfVideoStream    = guidBytes(0xBC19EFC0, 0x5B4D, 0x11CF, [8]byte{0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B})
)

// asfTags maps the Extended Content Description's attribute names.
var asfTags = map[string]string{
	"WM/AlbumTitle": "album", "WM/AlbumArtist": "albumartist", "WM/Composer": "composer", "WM/Genre": "genre",
	"WM/Year": "date", "WM/TrackNumber": "track", "WM/Lyrics": "lyrics", "WM/SubTitle": "subject",
	"WM/Publisher": "publisher", "Title": "title", "Author": "artist", "Description": "description",
}

func asfInfo(ctx context.Context, data []byte) (*mediaInfo, error) {
	le := binary.LittleEndian
	if len(data) < 30 {
		return nil, fmt.Errorf("%w: an ASF header cut short", ErrCorrupt)
	}
	m := &mediaInfo{format: "ASF"}
	size := min(le.Uint64(data[16:]), uint64(len(data)))
	if size < 30 {
		return nil, fmt.Errorf("%w: an ASF header of %d bytes", ErrCorrupt, size)
	}
	b := data[30:size]
	audio, video := false, false
	for n := 0; len(b) >= 24; n++ {
		if n > mp4BoxesMax {
			return nil, fmt.Errorf("%w: more than %d ASF objects", ErrCorrupt, mp4BoxesMax)
		}
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		id, osize := b[:16], le.Uint64(b[16:])
		if osize < 24 {
			break // damaged: what was read stands
		}
		osize = min(osize, uint64(len(b)))
		body := b[24:osize]
		b = b[osize:]
		switch {
		case bytes.Equal(id, asfFileProperties):
			if len(body) >= 64 {
				play, preroll := le.Uint64(body[40:]), le.Uint64(body[56:])
				if d := seconds(play, 10000000); d > 0 {
					m.duration = max(d-time.Duration(min(preroll, 1<<40))*time.Millisecond, 0)
				}
			}
		case bytes.Equal(id, asfContentDesc):
			if len(body) < 10 {
				continue
			}
			p := body[10:]
			for i, key := range []string{"title", "artist", "copyright", "description", "rating"} {
				n := int(le.Uint16(body[2*i:]))
				if n > len(p) {
					break
				}
				if key != "rating" {
					m.tags.set(key, utf16LE(p[:n]))
				}
				p = p[n:]
			}
		case bytes.Equal(id, asfExtContentDesc):
			m.asfExtended(body)
		case bytes.Equal(id, asfStreamProps):
			if len(body) < 54 {
				continue
			}
			specific := body[54:]
			switch {
			case bytes.Equal(body[:16], asfAudioStream):
				audio = true
				if len(specific) >= 8 {
					m.addCodec(asfAudioCodec(le.Uint16(specific)))
					m.channels = int(le.Uint16(specific[2:]))
					m.sampleRate = int(le.Uint32(specific[4:]))
				}
			case bytes.Equal(body[:16], asfVideoStream):
				video = true
				if len(specific) >= 8 && m.width == 0 {
					m.width, m.height = int(le.Uint32(specific)), int(le.Uint32(specific[4:]))
				}
				if len(specific) >= 11+20 {
					m.addCodec(strings.ToLower(string(specific[11+16 : 11+20])))
				}
			}
		}
	}
	switch {
	case video:
		m.format = "WMV (ASF)"
	case audio:
		m.format = "WMA (ASF)"
	}
	return m, nil
}

// asfExtended reads the Extended Content Description: named attributes,
// the text ones (type 0) kept.
func (m *mediaInfo) asfExtended(b []byte) {
	le := binary.LittleEndian
	if len(b) < 2 {
		return
	}
	count := int(le.Uint16(b))
	b = b[2:]
	for i := 0; i < count && len(b) >= 2; i++ {
		n := int(le.Uint16(b))
		if len(b) < 2+n+4 {
			return
		}
		name := utf16LE(b[2 : 2+n])
		typ, vn := le.Uint16(b[2+n:]), int(le.Uint16(b[4+n:]))
		b = b[6+n:]
		if vn > len(b) {
			return
		}
		if key := asfTags[name]; key != "" && typ == 0 {
			m.tags.set(key, utf16LE(b[:vn]))
		}
		b = b[vn:]
	}
}

// asfAudioCodec names a WAVEFORMATEX format tag of Windows Media.
func asfAudioCodec(t uint16) string {
	switch t {
	case 0x160:
		return "wmav1"
	case 0x161:
		return "wmav2"
	case 0x162:
		return "wmapro"
	case 0x163:
		return "wmalossless"
	case 0x0A:
		return "wmavoice"
	}
	return waveFormat(t)
}

// utf16LE decodes little-endian UTF-16 up to a NUL.
func utf16LE(b []byte) string {
	b = head(b, metaFieldMax*8)
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// ---- FLV

func flvInfo(ctx context.Context, data []byte) (*mediaInfo, error) {
	if len(data) < 9 {
		return nil, fmt.Errorf("%w: an FLV header cut short", ErrCorrupt)
	}
	m := &mediaInfo{format: "FLV"}
	off := uint64(binary.BigEndian.Uint32(data[5:])) + 4 // the header, then the first tag size
	// The metadata is in a script tag at the start; a few tags are read.
	for n := 0; n < 64 && off+11 <= uint64(len(data)); n++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		typ := data[off]
		size := uint64(data[off+1])<<16 | uint64(data[off+2])<<8 | uint64(data[off+3])
		body := data[off+11 : min(off+11+size, uint64(len(data)))]
		off += 11 + size + 4
		if typ != 18 {
			continue
		}
		// "onMetaData", then an ECMA array or object of properties.
		name, rest, ok := amfString(body)
		if !ok || name != "onMetaData" || len(rest) == 0 {
			continue
		}
		a := amfReader{b: rest, m: m}
		a.value("", 0)
		break
	}
	return m, nil
}

// amfString reads an AMF0 string value (type 2).
func amfString(b []byte) (string, []byte, bool) {
	if len(b) < 3 || b[0] != 2 {
		return "", nil, false
	}
	n := int(binary.BigEndian.Uint16(b[1:]))
	if n > len(b)-3 {
		return "", nil, false
	}
	return string(b[3 : 3+n]), b[3+n:], true
}

// amfReader reads AMF0 values, keeping the metadata properties it knows.
type amfReader struct {
	b []byte
	m *mediaInfo
	n int // values read, bounded
}

// value reads one value named key (empty inside arrays); it returns false
// where the data ends or is damaged.
func (a *amfReader) value(key string, depth int) bool {
	if a.n++; len(a.b) == 0 || depth > 16 || a.n > 100000 {
		return false
	}
	typ := a.b[0]
	a.b = a.b[1:]
	be := binary.BigEndian
	switch typ {
	case 0: // number
		if len(a.b) < 8 {
			return false
		}
		v := math.Float64frombits(be.Uint64(a.b))
		a.b = a.b[8:]
		a.number(key, v)
	case 1: // Boolean
		if len(a.b) < 1 {
			return false
		}
		a.b = a.b[1:]
	case 2, 12: // string, long string
		n, w := 0, 2
		if typ == 12 {
			w = 4
		}
		if len(a.b) < w {
			return false
		}
		if w == 2 {
			n = int(be.Uint16(a.b))
		} else {
			n = int(min(be.Uint32(a.b), uint32(len(a.b))))
		}
		if n > len(a.b)-w {
			return false
		}
		s := a.b[w : w+n]
		a.b = a.b[w+n:]
		if key != "" {
			a.m.tags.set(strings.ToLower(key), strings.ToValidUTF8(string(head(s, metaFieldMax*4)), "\uFFFD"))
		}
	case 3, 8: // object, ECMA array: named properties to an empty name and 9
		if typ == 8 {
			if len(a.b) < 4 {
				return false
			}
			a.b = a.b[4:] // a count, often wrong: the end marker decides
		}
		for {
			if len(a.b) < 3 {
				return false
			}
			n := int(be.Uint16(a.b))
			if n == 0 && a.b[2] == 9 {
				a.b = a.b[3:]
				return true
			}
			if n > len(a.b)-2 {
				return false
			}
			name := string(a.b[2 : 2+n])
			a.b = a.b[2+n:]
			if !a.value(name, depth+1) {
				return false
			}
		}
	case 5, 6: // null, undefined
	case 10: // strict array
		if len(a.b) < 4 {
			return false
		}
		count := be.Uint32(a.b)
		a.b = a.b[4:]
		for i := uint32(0); i < count; i++ {
			if !a.value("", depth+1) {
				return false
			}
		}
	case 11: // date
		if len(a.b) < 10 {
			return false
		}
		a.b = a.b[10:]
	default:
		return false
	}
	return true
}

func (a *amfReader) number(key string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e9 {
		return
	}
	switch key {
	case "duration":
		a.m.duration = time.Duration(v * float64(time.Second))
	case "width":
		a.m.width = int(v)
	case "height":
		a.m.height = int(v)
	case "audiosamplerate":
		a.m.sampleRate = int(v)
	case "videocodecid":
		a.m.addCodec(map[int]string{2: "flv1", 3: "screen", 4: "vp6", 5: "vp6a", 6: "screen2", 7: "h264"}[int(v)])
	case "audiocodecid":
		a.m.addCodec(map[int]string{0: "pcm", 1: "adpcm", 2: "mp3", 3: "pcm", 4: "nellymoser", 5: "nellymoser", 6: "nellymoser", 10: "aac", 11: "speex"}[int(v)])
	}
}

// ---- MIDI

// midiEventsMax bounds the events walked: a large song has tens of
// thousands.
const midiEventsMax = 1 << 22

// midiInfo reads a Standard MIDI File's text: the sequence's name (the
// first track's name), text events, lyrics joined into lines, copyright;
// and its duration, from the ticks of its longest track and the tempo
// changes.
func midiInfo(ctx context.Context, data []byte) (*mediaInfo, error) {
	be := binary.BigEndian
	if len(data) < 14 || be.Uint32(data[4:]) < 6 {
		return nil, fmt.Errorf("%w: a MIDI header cut short", ErrCorrupt)
	}
	m := &mediaInfo{format: "MIDI"}
	division := be.Uint16(data[12:])
	hl := uint64(be.Uint32(data[4:]))
	if hl > uint64(len(data))-8 {
		return nil, fmt.Errorf("%w: a MIDI header of %d bytes in %d", ErrCorrupt, hl, len(data))
	}
	b := data[8+hl:]
	type tempo struct{ tick, usPerQuarter uint64 }
	var (
		tempos  []tempo
		endTick uint64
		lyrics  strings.Builder
		events  int
	)
	for track := 0; len(b) >= 8; track++ {
		id, size := string(b[:4]), uint64(be.Uint32(b[4:]))
		b = b[8:]
		size = min(size, uint64(len(b)))
		body := b[:size]
		b = b[size:]
		if id != "MTrk" {
			continue
		}
		var tick uint64
		var status byte
		for len(body) > 0 {
			if events++; events > midiEventsMax {
				return nil, fmt.Errorf("%w: more than %d MIDI events", ErrCorrupt, midiEventsMax)
			}
			if events%65536 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			delta, n := midiVLQ(body)
			if n == 0 {
				break
			}
			tick += delta
			body = body[n:]
			if len(body) == 0 {
				break
			}
			if body[0] >= 0x80 {
				status, body = body[0], body[1:]
			}
			switch {
			case status == 0xFF:
				if len(body) < 1 {
					break
				}
				typ := body[0]
				l, n := midiVLQ(body[1:])
				if n == 0 || l > uint64(len(body)-1-n) {
					body = nil
					break
				}
				v := body[1+n : 1+n+int(l)]
				body = body[1+n+int(l):]
				status = 0 // meta events do not set a running status
				switch typ {
				case 0x01:
					m.tags.set("comment", decodeRIFFText(v))
				case 0x02:
					m.tags.set("copyright", decodeRIFFText(v))
				case 0x03:
					if track == 0 || m.tags.title == "" {
						m.tags.set("title", decodeRIFFText(v))
					}
				case 0x05:
					if lyrics.Len() < metaFieldMax*64 {
						lyrics.WriteString(decodeRIFFText(v))
					}
				case 0x51:
					if len(v) == 3 && len(tempos) < 1<<16 {
						tempos = append(tempos, tempo{tick, uint64(v[0])<<16 | uint64(v[1])<<8 | uint64(v[2])})
					}
				}
			case status == 0xF0 || status == 0xF7:
				l, n := midiVLQ(body)
				if n == 0 || l > uint64(len(body)-n) {
					body = nil
					break
				}
				body = body[n+int(l):]
				status = 0
			case status >= 0x80:
				k := 2
				if status&0xF0 == 0xC0 || status&0xF0 == 0xD0 {
					k = 1
				}
				body = body[min(k, len(body)):]
			default:
				body = nil // data without a status: damage
			}
		}
		endTick = max(endTick, tick)
	}
	if l := lyrics.String(); l != "" {
		// Lyric events are syllables; writers mark lines with "/", "\\",
		// or a carriage return.
		l = strings.NewReplacer("\r\n", "\n", "\r", "\n", "/", "\n", "\\", "\n\n").Replace(l)
		m.tags.set("lyrics", l)
	}
	// The duration, where ticks count quarter notes (not SMPTE frames).
	if division > 0 && division&0x8000 == 0 && endTick > 0 {
		sort.SliceStable(tempos, func(i, j int) bool { return tempos[i].tick < tempos[j].tick })
		var us float64
		last, rate := uint64(0), uint64(500000) // 120 beats a minute until told
		for _, t := range tempos {
			if t.tick > endTick {
				break
			}
			us += float64(t.tick-last) * float64(rate) / float64(division)
			last, rate = t.tick, t.usPerQuarter
		}
		us += float64(endTick-last) * float64(rate) / float64(division)
		if us > 0 && us < 1e13 {
			m.duration = time.Duration(us * float64(time.Microsecond))
		}
	}
	return m, nil
}

// midiVLQ reads a variable-length quantity: 7 bits a byte, high bit set on
// all but the last, at most four bytes.
func midiVLQ(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 4; i++ {
		v = v<<7 | uint64(b[i]&0x7F)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

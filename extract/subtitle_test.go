package extract

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSubtitleFormats(t *testing.T) {
	t.Parallel()
	checkFormatCases(t, []formatCase{
		{file: "text/tour.srt", typ: typeSubRip,
			has: []string{
				"Welcome to the Quire tour.\nEvery document ends done, or with a reason a person can act on.\nArchives become child documents & nothing is lost.",
			},
			hasNot: []string{"-->", "00:00", "<i>", "font", `\an8`, "&amp;"},
			meta:   map[string]string{"cues": "3"}},
		{file: "text/tour.vtt", typ: typeVTT, title: "Quire tour",
			has: []string{
				"Welcome to the Quire tour.\nEvery document ends done, or with a reason a person can act on.\nKaraoke timing <tags> are dropped & entities decoded.",
			},
			hasNot: []string{"-->", "00:0", "align:start", "Narrator", "yellow", "editors", "fred", "intro", "WEBVTT"},
			meta:   map[string]string{"cues": "3"}},
	})
}

func TestSubtitleSyntax(t *testing.T) {
	t.Parallel()
	x := New(Config{})
	tests := []struct {
		name, typ, data, want string
	}{
		{"SubRip with a BOM and cp1252", typeSubRip,
			"\xef\xbb\xbf1\r\n00:00:01,000 --> 00:00:02,000\r\nCaf\xe9 cr\xe8me, d\xe9j\xe0 servi \xe0 l'\xe9t\xe9 pr\xe9c\xe9dent.\r\n", "Café crème, déjà servi à l'été précédent."},
		{"SubRip cue holding an empty line", typeSubRip,
			"1\n00:00:01,000 --> 00:00:02,000\nfirst part\n\nsecond part\n\n2\n00:00:03,000 --> 00:00:04,000\nnext\n", "first part\nsecond part\nnext"},
		{"SubRip with dots and no numbers", typeSubRip,
			"00:00:01.000 --> 00:00:02.000\nNo number\n", "No number"},
		{"literal angle brackets", typeSubRip,
			"1\n00:00:01,000 --> 00:00:02,000\n3 < 5 and 7 > 2\n", "3 < 5 and 7 > 2"},
		{"VTT without cue text", typeVTT, "WEBVTT\n\n00:01.000 --> 00:02.000\n\n", ""},
		{"VTT block that is no cue", typeVTT, "WEBVTT\n\njust a line\n\n00:01.000 --> 00:02.000\n<ruby>漢<rt>kan</rt></ruby>字\n", "漢kan字"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := x.Extract(context.Background(), &Input{Name: "x", Data: []byte(tt.data), Type: tt.typ})
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.Text)
		})
	}
}

func TestSubtitleTruncated(t *testing.T) {
	t.Parallel()
	cue := func(i int, s string) (string, string) {
		return fmt.Sprintf("%02d:%02d:%02d,000", i/3600%100, i/60%60, i%60), s
	}
	checkTruncated(t, []truncationCase{
		{name: "long.srt", first: "Paragraph 0 of", doc: func(n int) []byte {
			return []byte(longParagraphs(n, func(i int, s string) string {
				at, text := cue(i, s)
				return fmt.Sprintf("%d\r\n%s --> %s\r\n<i>%s</i>\r\n\r\n", i+1, at, at, text)
			}))
		}},
		{name: "long.vtt", first: "Paragraph 0 of", doc: func(n int) []byte {
			return []byte("WEBVTT\n\n" + longParagraphs(n, func(i int, s string) string {
				at, text := cue(i, s)
				return fmt.Sprintf("%s --> %s line:0\n<v A>%s\n\n", at, at, text)
			}))
		}},
		{name: "one cue.srt", first: "Paragraph 0 of", doc: func(n int) []byte {
			return []byte("1\n00:00:01,000 --> 00:00:02,000\n" + longParagraphs(n, func(_ int, s string) string { return s + "\n" }))
		}},
	})
}

func FuzzSubtitle(f *testing.F) {
	addSeeds(f, "formats/text/tour.srt", "formats/text/tour.vtt")
	f.Add([]byte("WEBVTT\n\nNOTE\n\n1\n00:01.000 --> 00:02.000\n<c.a><v b>x</v></c>&amp;"))
	f.Add([]byte("1\n00:00:01,000 --> \n{\\an8\n<i"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, typeSubRip, data)
		checkExtract(t, typeVTT, data)
	})
}

// Calendars, address books and subtitles are told from their content, as
// mimetype writes them and as they are found in the wild.
func TestDetectCalendarAndSubtitles(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ file, typ string }{
		{"team.ics", typeCalendar}, {"contacts.vcf", typeVCard}, {"tour.srt", typeSubRip}, {"tour.vtt", typeVTT},
		{"greeting.php", "text/x-php"}, {"sotu_words.py", "text/x-python"}, {"backup.sh", "text/x-shellscript"},
	} {
		data := testdataFile(t, "formats/text/"+tt.file)
		assert.Equal(t, tt.typ, Detect("", data), "%s, unnamed", tt.file)
		assert.Equal(t, tt.typ, Detect("notes.txt", data), "%s named .txt", tt.file)
	}
	for _, tt := range []struct{ data, typ string }{
		{"\xef\xbb\xbfBEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", typeCalendar},
		{"\r\nbegin:vcard\r\nFN:A\r\nend:vcard\r\n", typeVCard},
		{"\xef\xbb\xbf1\r\n00:00:01,000 --> 00:00:02,000\r\nHi\r\n", typeSubRip},
		{"12\n00:10:01,000 --> 00:10:02,000\nA cue from the middle of a file\n", typeSubRip},
		{"\xef\xbb\xbfWEBVTT\n\n00:01.000 --> 00:02.000\nHi\n", typeVTT},
		{"1\nnot a timing line\n", typeText},
	} {
		assert.Equal(t, tt.typ, Detect("", []byte(tt.data)), "%q", tt.data)
	}
}

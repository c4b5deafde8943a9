package extract

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCalendarFormats(t *testing.T) {
	t.Parallel()
	checkFormatCases(t, []formatCase{
		{file: "text/team.ics", typ: typeCalendar, title: "Quire team calendar",
			has: []string{
				"Quarterly planning, spring edition\n2025-03-12 09:30 Europe/Paris – 2025-03-12 11:00 Europe/Paris\nRoom 4; Main building, Lyon\n" +
					"Agenda:\n1. Review of the archive formats\n2. Budget for the legacy Office readers\nBring the benchmark figures.",
				"\n\nRelease day for the Tika-class extractors\n2025-04-01 – 2025-04-02\nCafés, croissants and a démonstration of flat ODF and SVG text.",
				"\n\nWrite the subtitle fuzz target\n2025-04-10 17:00 UTC",
			},
			hasNot: []string{"Reminder that must not be read", "iVBORw0KGgo", "UID", "quire.example", "CET", "GREGORIAN", "\\"},
			meta:   map[string]string{"entries": "3"}},
		{file: "text/contacts.vcf", typ: typeVCard,
			has: []string{
				"Ada Lovelace\nAnalytical Engines Ltd., Research\nChief Programmer\n+44 20 7946 0000\nada@quire.example\n" +
					"12 St James's Square, London, SW1Y 4JH, United Kingdom\nWrote the first published algorithm, notes on the Analytical Engine.",
				"\n\nGrace Hopper\nHarvard Computation Lab\nFound the first actual bug\nin a relay — a moth.",
			},
			hasNot: []string{"Lovelace;Ada", "Countess", "iVBORw0KGgo", "=E2", "VERSION"},
			meta:   map[string]string{"cards": "2"}},
	})
}

func TestCalendarSyntax(t *testing.T) {
	t.Parallel()
	x := New(Config{})
	tests := []struct {
		name, typ, data string
		want            string
	}{
		{"lf line ends and a tab fold", typeCalendar,
			"BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:Fol\n\tded\nEND:VEVENT\nEND:VCALENDAR\n", "Folded"},
		{"a fold inside a character", typeCalendar,
			"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:caf\xc3\r\n \xa9 au lait\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "café au lait"},
		{"a quoted colon in a parameter", typeCalendar,
			"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nLOCATION;ALTREP=\"http://a.example/x:y\":Hall B\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "Hall B"},
		{"lower-case names, no END", typeCalendar,
			"begin:vcalendar\nbegin:vevent\nsummary:Open to the end\ndescription:Line\\none", "Open to the end\nLine\none"},
		{"a time zone's UTC", typeCalendar,
			"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250102T030405Z\nSUMMARY:S\nEND:VEVENT\nEND:VCALENDAR\n", "S\n2025-01-02 03:04 UTC"},
		{"an unreadable date is kept", typeCalendar,
			"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:tomorrow\nEND:VEVENT\nEND:VCALENDAR\n", "tomorrow"},
		{"a vCard group and a name without FN", typeVCard,
			"BEGIN:VCARD\nVERSION:2.1\nN:Turing;Alan;Mathison;Dr.;OBE\nitem1.EMAIL:alan@example.org\nEND:VCARD\n", "Dr. Alan Mathison Turing OBE\nalan@example.org"},
		{"latin-1 vCard", typeVCard,
			"BEGIN:VCARD\r\nFN:Ren\xe9e Fran\xe7oise Ch\xe2telet du Vergier de la Roche\r\nEND:VCARD\r\n", "Renée Françoise Châtelet du Vergier de la Roche"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := x.Extract(context.Background(), &Input{Name: "x", Data: []byte(tt.data), Type: tt.typ})
			require.NoError(t, err)
			assert.Contains(t, res.Text, tt.want)
		})
	}
}

func TestCalendarTruncated(t *testing.T) {
	t.Parallel()
	checkTruncated(t, []truncationCase{
		{name: "events.ics", first: "Paragraph 0 of", doc: func(n int) []byte {
			return []byte("BEGIN:VCALENDAR\r\n" + longParagraphs(n, func(_ int, s string) string {
				return "BEGIN:VEVENT\r\nSUMMARY:" + s + "\r\nDTSTART:20250101T090000Z\r\nEND:VEVENT\r\n"
			}) + "END:VCALENDAR\r\n")
		}},
		{name: "one description.ics", first: "Paragraph 0 of", doc: func(n int) []byte {
			// One value folded over many lines.
			return []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDESCRIPTION:" + longParagraphs(n, func(_ int, s string) string {
				return s + "\r\n  "
			}) + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
		}},
		{name: "cards.vcf", first: "Paragraph 0 of", doc: func(n int) []byte {
			return []byte(longParagraphs(n, func(_ int, s string) string {
				return "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + s + "\r\nEND:VCARD\r\n"
			}))
		}},
	})
}

func FuzzCalendar(f *testing.F) {
	addSeeds(f, "formats/text/team.ics", "formats/text/contacts.vcf")
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY;X=\"a:b\":c\\\nEND:VEVENT"))
	f.Add([]byte("BEGIN:VCARD\nNOTE;ENCODING=QUOTED-PRINTABLE:=\n=\n=C3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, typeCalendar, data)
		checkExtract(t, typeVCard, data)
	})
}

// Every calendar property a reader reads survives a fold at any byte.
func TestCalendarFoldAnywhere(t *testing.T) {
	t.Parallel()
	const summary = "Réunion d’équipe: budget, calendrier; et café"
	line := "SUMMARY:" + strings.NewReplacer(",", "\\,", ";", "\\;").Replace(summary)
	x := New(Config{})
	for i := 1; i < len(line); i++ {
		doc := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n" + line[:i] + "\r\n " + line[i:] + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		res, err := x.Extract(context.Background(), &Input{Name: "x.ics", Data: []byte(doc), Type: typeCalendar})
		require.NoError(t, err)
		if i >= len("SUMMARY") {
			assert.Equal(t, summary, res.Text, "folded at %d", i)
		}
	}
}

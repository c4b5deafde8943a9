package extract

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// legacyFile returns a file of testdata/formats/legacy.
func legacyFile(t testing.TB, name string) []byte {
	t.Helper()
	return testdataFile(t, "formats/legacy/"+name)
}

// extractLegacy extracts a file of testdata/formats/legacy with lim.
func extractLegacy(t testing.TB, lim Limits, name string, data []byte) (*Result, error) {
	t.Helper()
	return New(Config{Limits: lim}).Extract(context.Background(), &Input{Name: name, Data: data})
}

func TestDOC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		title    string
		author   string
		created  time.Time
		lines    []string // whole lines of the text
		passages []string // anywhere in the text
		absent   []string
		suffix   string
	}{
		{
			name:    "udhr.doc",
			title:   "Universal Declaration of Human Rights",
			author:  "United Nations General Assembly",
			created: adopted,
			lines: []string{
				"Universal Declaration of Human Rights",
				"All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience and should act towards one another in a spirit of brotherhood.",
				"Article 30",
				// Table rows on lines, cells separated by tabs.
				"Language\tTitle\tArticle 1",
				"French\tDéclaration universelle des droits de l’homme\tArticle premier",
				"Chinese, Mandarin (Simplified)\t世界人权宣言\t第一条",
				// A field's result is text, its instruction is not.
				"Source: the udhr package\tMIT licence",
			},
			absent: []string{"HYPERLINK"},
			// The footnote follows the body.
			suffix: "\n\nAdopted and proclaimed by General Assembly resolution 217 A (III) of 10 December 1948.",
		},
		{
			name:    "features.doc",
			title:   "Quire legacy Word fixture",
			author:  "Quire testdata",
			created: time.Date(2024, 3, 5, 10, 20, 30, 0, time.UTC),
			lines: []string{
				"Legacy Word features",
				"The body mentions a footnote and an endnote in one sentence.",
				"A reviewed paragraph ends here.",
				"Visit the Quire site for more.",
				// A non-breaking hyphen is a hyphen, a soft one is dropped.
				"Non-breaking hyphen and softhyphen and a tab:\tafter the tab.",
				// A line break inside a paragraph.
				"First line",
				"second line of the same paragraph.",
				"Accents: déjà vu, naïve café, “quotes” — and 世界人权宣言.",
				"Name\tCount\tNote",
				"Apples\t12\tred",
				"Second page after a page break.",
				// Headers and footers, their fields' results kept.
				"Header: Quire legacy fixture",
				"Footer: page 2",
				"Footnote: the first note.",
				"Endnote: the last note.",
				"Comment: reviewed by QA.",
				"Text box: boxed words.",
			},
			absent: []string{"HYPERLINK", "example.com", "PAGE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustExtract(t, "formats/legacy/"+tt.name)
			assert.Equal(t, typeDOC, res.Type)
			assert.Equal(t, tt.title, res.Title)
			assert.Equal(t, tt.author, res.Author)
			assert.True(t, tt.created.Equal(res.Created), res.Created)
			assert.NotEmpty(t, res.Meta["modified"])
			lines := strings.Split(res.Text, "\n")
			for _, l := range tt.lines {
				assert.Contains(t, lines, l)
			}
			for _, p := range tt.passages {
				assert.Contains(t, res.Text, p)
			}
			for _, a := range tt.absent {
				assert.NotContains(t, res.Text, a)
			}
			if tt.suffix != "" {
				assert.True(t, strings.HasSuffix(res.Text, tt.suffix), "text ends %q", res.Text[max(len(res.Text)-200, 0):])
			}
			assert.False(t, res.Truncated)
		})
	}
}

// The stories come in their order: body, headers and footers, footnotes,
// endnotes, comments, text boxes.
func TestDOCStoryOrder(t *testing.T) {
	t.Parallel()
	res := mustExtract(t, "formats/legacy/features.doc")
	order := []string{"Legacy Word features", "Header: Quire legacy fixture", "Footnote: the first note.", "Endnote: the last note.", "Comment: reviewed by QA.", "Text box: boxed words."}
	last := -1
	for _, s := range order {
		i := strings.Index(res.Text, s)
		require.Greater(t, i, last, s)
		last = i
	}
}

func TestDOCEncrypted(t *testing.T) {
	t.Parallel()
	_, err := extractTestdata(t, Limits{}, "formats/legacy/encrypted.doc")
	require.ErrorIs(t, err, ErrEncrypted)
	assert.Contains(t, err.Error(), "Word")
}

func TestDOCCorrupt(t *testing.T) {
	t.Parallel()
	data := legacyFile(t, "udhr.doc")
	for _, n := range []int{100, 600, 4096, len(data) / 2, len(data) - 700} {
		_, err := extractLegacy(t, Limits{}, "udhr.doc", data[:n])
		require.Error(t, err, n)
		assert.True(t, classified(err), "%d: %v", n, err)
	}
}

// The text limit cuts a document's text, every story included.
func TestDOCTruncated(t *testing.T) {
	t.Parallel()
	res, err := extractLegacy(t, Limits{MaxText: 1000}, "udhr.doc", legacyFile(t, "udhr.doc"))
	require.NoError(t, err)
	assert.True(t, res.Truncated)
	assert.LessOrEqual(t, len(res.Text), 1000)
	assert.True(t, strings.HasPrefix(res.Text, "Universal Declaration of Human Rights\nPreamble\n"))
	assert.NotContains(t, res.Text, "Adopted and proclaimed")
}

// Word's characters: fields (nested too) keep their result, control
// characters become text layout.
func TestDOCCharacters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"field", "a \x13HYPERLINK \"x\"\x14link\x15 b\r", "a link b"},
		{"nested field", "\x13IF \x13PAGE\x142\x15 = 2\x14yes\x15\r", "yes"},
		{"field without result", "x\x13PAGE\x15y\r", "xy"},
		{"unclosed field", "x\x13PAGE \x14", "x"},
		{"cells and rows", "a\x07b\x07\x07c\x07d\x07\x07", "a\tb\nc\td"},
		{"breaks", "one\vtwo\fthree\rfour", "one\ntwo\nthree\nfour"},
		{"hyphens", "non\x1Ebreaking soft\x1Fhyphen", "non-breaking softhyphen"},
		{"marks", "note\x02 picture\x01 ref\x05", "note picture ref"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := docWriter{w: lineWriter{b: textSink{}}}
			for _, c := range tt.in {
				w.char(c)
			}
			w.flush()
			assert.Equal(t, tt.want, w.w.String())
		})
	}
}

// FuzzDOC feeds mutations of the Word files to the Word reader.
//
//	go test ./extract/ -run '^$' -fuzz FuzzDOC -fuzztime 30s
func FuzzDOC(f *testing.F) {
	addSeeds(f, "formats/legacy/features.doc", "formats/legacy/udhr.doc", "formats/legacy/encrypted.doc")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, typeDOC, data)
	})
}

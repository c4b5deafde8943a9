package extract

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPPT(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		title  string
		pages  []string // each page's text, whole
		absent []string
	}{
		{
			// The same slides as office/udhr.pptx, in its order.
			name:  "udhr.ppt",
			title: "Universal Declaration of Human Rights: Article 1",
			pages: []string{
				"Universal Declaration of Human Rights\nWhereas recognition of the inherent dignity and of the equal and inalienable rights of all members of the human family is the foundation of freedom, justice and peace in the world,",
				"Article premier\nTous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués de raison et de conscience et doivent agir les uns envers les autres dans un esprit de fraternité.",
				"Статья 1\nВсе люди рождаются свободными и равными в своем достоинстве и правах. Они наделены разумом и совестью и должны поступать в отношении друг друга в духе братства.",
				"第一条\n人人生而自由,在尊严和权利上一律平等。他们赋有理性和良心,并应以兄弟关系的精神相对待。",
			},
			// The master's prompt text is not slide text.
			absent: []string{"Click to edit"},
		},
		{
			// Speaker notes follow their slide's text.
			name:  "slides.ppt",
			title: "Quire legacy PowerPoint fixture",
			pages: []string{
				"Slide one: the opening\nFirst point of slide one\nSecond point with naïve café\n\nNotes of slide one: speak slowly.",
				"Slide two: 世界人权宣言\nA free text box on slide two",
				"Slide three: the end\n\nNotes of slide three: thank the audience.",
			},
			absent: []string{"Click to edit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustExtract(t, "formats/legacy/"+tt.name)
			assert.Equal(t, typePPT, res.Type)
			assert.Equal(t, tt.title, res.Title)
			require.Len(t, res.Pages, len(tt.pages))
			for i, p := range res.Pages {
				assert.Equal(t, i+1, p.Number)
				assert.Equal(t, tt.pages[i], p.Text)
			}
			assert.Equal(t, len(tt.pages)-1, strings.Count(res.Text, "\f"))
			for _, a := range tt.absent {
				assert.NotContains(t, res.Text, a)
			}
		})
	}
}

func TestPPTMetadata(t *testing.T) {
	t.Parallel()
	res := mustExtract(t, "formats/legacy/slides.ppt")
	assert.Equal(t, "Quire testdata", res.Author)
	assert.True(t, time.Date(2024, 3, 5, 10, 20, 30, 0, time.UTC).Equal(res.Created), res.Created)
	assert.Equal(t, "3", res.Meta["slides"])
}

// An encrypted presentation says so in its Current User stream, whose
// header token LibreOffice cannot write: the test marks a file itself.
func TestPPTEncrypted(t *testing.T) {
	t.Parallel()
	data := bytes.Clone(legacyFile(t, "slides.ppt"))
	plain := []byte{0x5F, 0xC0, 0x91, 0xE3}
	require.Equal(t, 1, bytes.Count(data, plain))
	i := bytes.Index(data, plain)
	copy(data[i:], []byte{0xDF, 0xC4, 0xD1, 0xF3})
	_, err := extractLegacy(t, Limits{}, "secret.ppt", data)
	require.ErrorIs(t, err, ErrEncrypted)
}

func TestPPTCorrupt(t *testing.T) {
	t.Parallel()
	data := legacyFile(t, "slides.ppt")
	for _, n := range []int{100, 600, 4096, len(data) / 2, len(data) - 600} {
		res, err := extractLegacy(t, Limits{}, "slides.ppt", data[:n])
		if err == nil {
			// What is left of a slide list may still be read.
			assert.NotNil(t, res)
			continue
		}
		assert.True(t, classified(err), "%d: %v", n, err)
	}
}

func TestPPTLimits(t *testing.T) {
	t.Parallel()
	_, err := extractLegacy(t, Limits{MaxPages: 3}, "udhr.ppt", legacyFile(t, "udhr.ppt"))
	requireLimit(t, err, "pages")
	res, err := extractLegacy(t, Limits{MaxText: 100}, "udhr.ppt", legacyFile(t, "udhr.ppt"))
	require.NoError(t, err)
	assert.True(t, res.Truncated)
	assert.LessOrEqual(t, len(res.Text), 100+len(res.Pages))
	require.Len(t, res.Pages, 4)
	assert.True(t, strings.HasPrefix(res.Pages[0].Text, "Universal Declaration of Human Rights\nWhereas"))
}

// FuzzPPT feeds mutations of the PowerPoint files to the PowerPoint reader.
//
//	go test ./extract/ -run '^$' -fuzz FuzzPPT -fuzztime 30s
func FuzzPPT(f *testing.F) {
	addSeeds(f, "formats/legacy/slides.ppt", "formats/legacy/udhr.ppt")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, typePPT, data)
	})
}

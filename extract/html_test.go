package extract

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
)

// Every translation extracts its own Article 1, its title and language.
func TestHTMLUDHR(t *testing.T) {
	cases := []struct {
		code, title, lang, heading, article1 string
	}{
		{"eng", "English", "en", "Universal Declaration of Human Rights",
			"All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience and should act towards one another in a spirit of brotherhood."},
		{"fra", "French", "fr", "Déclaration universelle des droits de l’homme",
			"Tous les êtres humains naissent libres et égaux en dignité et en droits."},
		{"deu_1996", "German, Standard (1996)", "de-1996", "Die Allgemeine Erklärung der Menschenrechte",
			"Alle Menschen sind frei und gleich an Würde und Rechten geboren."},
		{"rus", "Russian", "ru", "Всеобщая декларация прав человека",
			"Все люди рождаются свободными и равными в своем достоинстве и правах."},
		{"cmn_hans", "Chinese, Mandarin (Simplified)", "zh", "世界人权宣言",
			"人人生而自由,在尊严和权利上一律平等。"},
		{"arb", "Arabic, Standard", "ar", "الإعلان العالمي لحقوق الإنسان",
			"يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق."},
		{"jpn", "Japanese", "ja", "『世界人権宣言』",
			"すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。"},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			res := mustExtract(t, "html/udhr-"+c.code+".html")
			assert.Equal(t, typeHTML, res.Type)
			assert.Equal(t, c.title, res.Title)
			assert.Equal(t, c.lang, res.Meta["lang"])
			lines := strings.Split(res.Text, "\n")
			// The h1 opens the text; the title element is not body text.
			assert.Equal(t, c.heading, lines[0])
			assert.NotEqual(t, c.title, lines[0])
			assert.Contains(t, res.Text, c.article1)
			// Thirty articles, each heading and paragraph on its own line.
			assert.Greater(t, len(lines), 60)
			for _, l := range lines {
				assert.Equal(t, strings.TrimSpace(l), l)
				assert.NotEmpty(t, l)
			}
		})
	}
}

// Only what a browser shows is text: scripts, styles, noscript and
// template content are not; blocks break lines and cells are separated.
func TestHTMLVisibleText(t *testing.T) {
	page := `<!DOCTYPE html><html lang="en-GB"><head><title> Sorting
  mail </title><style>p { color: red }</style>
<script>var hidden = "script text";</script></head>
<body><noscript>Enable JavaScript</noscript><template><p>template text</p></template>
<h1>Re:   Sorting</h1><p>First <b>bold</b> words,<br>then a second line.</p>
<div>Block<div>nested block</div></div>
<table><tr><th>year</th><th>president</th></tr><tr><td>1790</td><td>George <i>Washington</i></td></tr></table>
<ul><li>one</li><li>two</li></ul><pre>  kept
    as is</pre>A&amp;B &lt;c&gt; &eacute;t&eacute;</body></html>`
	x := New(Config{})
	res, err := x.Extract(context.Background(), &Input{Name: "p.html", Data: []byte(page)})
	require.NoError(t, err)
	assert.Equal(t, "Sorting mail", res.Title)
	assert.Equal(t, "en-GB", res.Meta["lang"])
	assert.Equal(t, strings.Join([]string{
		"Re: Sorting",
		"First bold words,",
		"then a second line.",
		"Block",
		"nested block",
		"year\tpresident",
		"1790\tGeorge Washington",
		"one",
		"two",
		"  kept",
		"    as is",
		"A&B <c> été",
	}, "\n"), res.Text)
}

// Comments inside words (a spam trick) vanish without splitting the word.
func TestHTMLCommentsInsideWords(t *testing.T) {
	x := New(Config{})
	res, err := x.Extract(context.Background(), &Input{Name: "s.html", Data: []byte(`<html>A<!--mom and dad-->ccept C<!--x-->redit C<!--y-->ards</html>`)})
	require.NoError(t, err)
	assert.Equal(t, "Accept Credit Cards", res.Text)
}

// A page in a legacy charset is decoded by its meta declaration.
func TestHTMLDeclaredCharset(t *testing.T) {
	page := testdataFile(t, "html/udhr-rus.html")
	page = bytes.Replace(page, []byte("<head>"), []byte(`<head><meta charset="windows-1251">`), 1)
	cp1251, err := charmap.Windows1251.NewEncoder().Bytes(page)
	require.NoError(t, err)
	x := New(Config{})
	res, err := x.Extract(context.Background(), &Input{Name: "rus.html", Data: cp1251})
	require.NoError(t, err)
	assert.Contains(t, res.Text, "Все люди рождаются свободными и равными в своем достоинстве и правах.")
	assert.Equal(t, "windows-1251", res.Meta["charset"])
}

// Large and deeply nested pages extract in time linear in their size.
func TestHTMLHostile(t *testing.T) {
	x := New(Config{Limits: Limits{Timeout: 30 * time.Second}})
	line := bytes.Repeat([]byte("freedom of speech and belief "), 10<<20/29)
	page := append(append([]byte("<html><body><p>"), line...), "</p></body></html>"...)
	start := time.Now()
	res, err := x.Extract(context.Background(), &Input{Name: "long.html", Data: page})
	require.NoError(t, err)
	assert.Greater(t, len(res.Text), 9<<20)
	assert.Less(t, time.Since(start), 10*time.Second, "a 10 MB line")

	nested := append(bytes.Repeat([]byte("<div><b><i>"), 200_000), "deep"...)
	start = time.Now()
	res, err = x.Extract(context.Background(), &Input{Name: "deep.html", Data: nested})
	require.NoError(t, err)
	assert.Equal(t, "deep", res.Text)
	assert.Less(t, time.Since(start), 10*time.Second, "200,000 nested elements")
}

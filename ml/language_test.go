package ml_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/quirehq/quire/ml"
)

// corpora returns the directory of the real corpora installed by
// scripts/corpora.sh, and skips the test when there is none.
func corpora(t testing.TB, corpus string) string {
	t.Helper()
	dir := os.Getenv("QUIRE_TEST_CORPORA")
	if dir == "" {
		if os.Getenv("QUIRE_TEST_REQUIRE_CORPORA") == "1" {
			t.Fatal("QUIRE_TEST_REQUIRE_CORPORA=1 but QUIRE_TEST_CORPORA is not set: run scripts/corpora.sh DIR and set it to DIR")
		}
		t.Skip("QUIRE_TEST_CORPORA not set: run scripts/corpora.sh DIR and set it to DIR")
	}
	root := filepath.Join(dir, corpus)
	_, err := os.Stat(filepath.Join(root, ".complete"))
	require.NoError(t, err, "corpus %s is not installed in %s: run scripts/corpora.sh %s", corpus, dir, dir)
	return root
}

// udhrDoc is one UDHR translation: its language and the text of its
// paragraphs (not its title and headings, which are short and often
// English or Latin).
type udhrDoc struct {
	file, iso3, text string
}

var udhrLang = regexp.MustCompile(`data-iso6393="([a-z]{3})"`)

func readUDHR(t testing.TB, path string) udhrDoc {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	m := udhrLang.FindSubmatch(b)
	require.NotNil(t, m, "%s has no data-iso6393", path)
	root, err := html.Parse(strings.NewReader(string(b)))
	require.NoError(t, err)
	var paras []string
	var walk func(n *html.Node, inP bool)
	var cur strings.Builder
	walk = func(n *html.Node, inP bool) {
		if n.Type == html.ElementNode && n.Data == "p" {
			cur.Reset()
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c, true)
			}
			paras = append(paras, strings.Join(strings.Fields(cur.String()), " "))
			return
		}
		if n.Type == html.TextNode && inP {
			cur.WriteString(n.Data)
			cur.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inP)
		}
	}
	walk(root, false)
	return udhrDoc{file: filepath.Base(path), iso3: string(m[1]), text: strings.Join(paras, " ")}
}

// snippets cuts text into up to n consecutive pieces of at most size
// characters, each ending at a space, so that no word is cut.
func snippets(text string, size, n int) []string {
	var out []string
	for len(out) < n && utf8.RuneCountInString(text) >= size {
		cut, runes := 0, 0
		for i := range text {
			if runes == size {
				break
			}
			runes++
			cut = i
		}
		piece := text[:cut]
		if sp := strings.LastIndexByte(piece, ' '); sp > 0 {
			piece = piece[:sp]
		}
		out = append(out, piece)
		text = strings.TrimLeft(text[len(piece):], " ")
	}
	return out
}

// TestLanguageUDHR measures language identification on the UDHR
// translations in the 75 languages known, on pieces of 200 characters.
func TestLanguageUDHR(t *testing.T) {
	root := corpora(t, "udhr")
	files, err := filepath.Glob(filepath.Join(root, "*.html"))
	require.NoError(t, err)
	id, err := ml.NewLanguageIdentifier(nil)
	require.NoError(t, err)
	var total, correct, docs int
	langs := map[string]bool{}
	wrong := map[string]int{}
	for _, f := range files {
		d := readUDHR(t, f)
		want := ml.ISO639_3(d.iso3)
		if want == "" {
			continue
		}
		docs++
		langs[want] = true
		for _, s := range snippets(d.text, 200, 10) {
			total++
			got, _ := id.Identify(s)
			if got == want {
				correct++
			} else {
				wrong[d.file+" "+d.iso3+"->"+got]++
			}
		}
	}
	require.NotZero(t, total)
	acc := float64(correct) / float64(total)
	t.Logf("UDHR language identification at 200 characters: %d/%d = %.4f over %d translations in %d languages", correct, total, acc, docs, len(langs))
	for k, n := range wrong {
		if n >= 5 {
			t.Logf("mostly wrong: %s (%d of 10)", k, n)
		}
	}
	require.GreaterOrEqual(t, acc, 0.92, "DESIGN.md's goal")
}

// TestLanguageCommittedUDHR identifies, among all 75 languages,
// pieces of the seven UDHR translations committed in testdata/html.
func TestLanguageCommittedUDHR(t *testing.T) {
	t.Parallel()
	id, err := ml.NewLanguageIdentifier(nil)
	require.NoError(t, err)
	want := map[string]string{"eng": "en", "fra": "fr", "deu_1996": "de", "rus": "ru", "cmn_hans": "zh", "arb": "ar", "jpn": "ja"}
	total, correct := 0, 0
	for name, lang := range want {
		d := readUDHR(t, filepath.Join("..", "testdata", "html", "udhr-"+name+".html"))
		pieces := snippets(d.text, 200, 5)
		require.Len(t, pieces, 5, name)
		for _, p := range pieces {
			got, conf := id.Identify(p)
			total++
			if got == lang {
				correct++
			} else {
				t.Logf("%s: %q identified as %q (%.2f)", name, p, got, conf)
			}
		}
	}
	require.GreaterOrEqual(t, correct, total-2, "%d of %d right", correct, total)
}

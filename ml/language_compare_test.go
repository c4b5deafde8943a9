package ml_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pemistahl/lingua-go"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
)

// The identifier Quire used before, kept to compare with: lingua-go 1.4.0
// in low-accuracy mode (trigrams only) over its 75 languages. It is a
// test dependency only; its models (124 MB) are not linked into quire.
var linguaDetector = sync.OnceValue(func() lingua.LanguageDetector {
	return lingua.NewLanguageDetectorBuilder().FromAllLanguages().WithLowAccuracyMode().WithPreloadedLanguageModels().Build()
})

type linguaIdentifier struct{ det lingua.LanguageDetector }

func (l linguaIdentifier) Identify(text string) (string, float64) {
	vals := l.det.ComputeLanguageConfidenceValues(text)
	if len(vals) == 0 || vals[0].Value() <= 0 {
		return "", 0
	}
	return strings.ToLower(vals[0].Language().IsoCode639_1().String()), vals[0].Value()
}

// comparedIdentifiers are the identifiers of the comparison, each reading
// all of the pieces it is given.
func comparedIdentifiers(t testing.TB) []comparedIdentifier {
	t.Helper()
	ours, err := ml.NewLanguageIdentifier(&ml.LanguageOpts{MaxChars: ml.MaxCharsLimit})
	require.NoError(t, err)
	return []comparedIdentifier{
		{"ngram", "Quire's NgramIdentifier", ours},
		{"lingua", "lingua-go 1.4.0, low accuracy", linguaIdentifier{linguaDetector()}},
	}
}

type comparedIdentifier struct {
	short, name string
	id          ml.LanguageIdentifier
}

// udhrPiece is a piece of a UDHR translation and its language.
type udhrPiece struct{ lang, text string }

// udhrPieces cuts the translations of the languages known into up to 10
// pieces of at most size characters.
func udhrPieces(t testing.TB, files []string, size int) []udhrPiece {
	t.Helper()
	var out []udhrPiece
	for _, f := range files {
		d := readUDHR(t, f)
		want := ml.ISO639_3(d.iso3)
		if want == "" {
			continue
		}
		for _, s := range snippets(d.text, size, 10) {
			out = append(out, udhrPiece{want, s})
		}
	}
	return out
}

// TestLanguageUDHRTable measures Quire's identifier and lingua-go on the
// same UDHR pieces of 50, 200 and 1,000 characters: accuracy and wall time
// per call, one call at a time. docs/ml.md records its table.
func TestLanguageUDHRTable(t *testing.T) {
	root := corpora(t, "udhr")
	files, err := filepath.Glob(filepath.Join(root, "*.html"))
	require.NoError(t, err)
	ids := comparedIdentifiers(t)
	var table strings.Builder
	table.WriteString("| characters | pieces | identifier | right | accuracy | µs per call |\n|---|---|---|---|---|---|\n")
	for _, size := range []int{50, 200, 1000} {
		pieces := udhrPieces(t, files, size)
		require.NotEmpty(t, pieces)
		for _, c := range ids {
			right := 0
			start := time.Now()
			for _, p := range pieces {
				if got, _ := c.id.Identify(p.text); got == p.lang {
					right++
				}
			}
			per := time.Since(start) / time.Duration(len(pieces))
			fmt.Fprintf(&table, "| %d | %d | %s | %d | %.2f%% | %.1f |\n", size, len(pieces), c.name, right, 100*float64(right)/float64(len(pieces)), float64(per.Nanoseconds())/1000)
		}
	}
	t.Log("\n" + table.String())
}

// BenchmarkLanguage identifies pieces of the UDHR translations committed
// in testdata/html (English, French, German, Russian, Chinese, Arabic,
// Japanese) of 50, 200 and 1,000 characters, with Quire's identifier and
// with lingua-go.
func BenchmarkLanguage(b *testing.B) {
	ids := comparedIdentifiers(b)
	for _, size := range []int{50, 200, 1000} {
		var pieces []string
		for _, name := range []string{"eng", "fra", "deu_1996", "rus", "cmn_hans", "arb", "jpn"} {
			d := readUDHR(b, filepath.Join("..", "testdata", "html", "udhr-"+name+".html"))
			pieces = append(pieces, snippets(d.text, size, 3)...)
		}
		for _, c := range ids {
			b.Run(fmt.Sprintf("%s/%d", c.short, size), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					c.id.Identify(pieces[i%len(pieces)])
					i++
				}
			})
		}
	}
}

// TestLanguageCodes checks the codes known against lingua's.
func TestLanguageCodes(t *testing.T) {
	t.Parallel()
	var codes []string
	for _, l := range lingua.AllLanguages() {
		iso1 := strings.ToLower(l.IsoCode639_1().String())
		require.Equal(t, iso1, ml.ISO639_3(l.IsoCode639_3().String()), l.String())
		codes = append(codes, iso1)
	}
	_, err := ml.NewLanguageIdentifier(&ml.LanguageOpts{Languages: codes})
	require.NoError(t, err)
	require.Empty(t, ml.ISO639_3("yid"))
	require.Equal(t, "zh", ml.ISO639_3("cmn"))
}

func TestNewLanguageIdentifierErrors(t *testing.T) {
	t.Parallel()
	for _, opts := range []*ml.LanguageOpts{
		{Languages: []string{"en", "xx"}},
		{Languages: []string{"en"}},
		{MaxChars: ml.MaxCharsLimit + 1},
		{MaxChars: -1},
	} {
		_, err := ml.NewLanguageIdentifier(opts)
		require.Error(t, err, "%+v", opts)
	}
	id, err := ml.NewLanguageIdentifier(&ml.LanguageOpts{Languages: []string{"en", "de"}, Preload: true, MaxChars: 40})
	require.NoError(t, err)
	lang, conf := id.Identify("Alle Menschen sind frei und gleich an Würde und Rechten geboren. All human beings are born free and equal.")
	require.Equal(t, "de", lang, "only the first 40 characters are read")
	require.Greater(t, conf, 0.5)
}

package ml_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
)

// testLanguages restricts identification to a few languages.
var testLanguages = sync.OnceValues(func() (*ml.NgramIdentifier, error) {
	return ml.NewLanguageIdentifier(&ml.LanguageOpts{Languages: []string{"en", "de", "fr"}})
})

func newAnalyzer(t testing.TB) *ml.Analyzer {
	t.Helper()
	lang, err := testLanguages()
	require.NoError(t, err)
	a, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Language: lang})
	require.NoError(t, err)
	return a
}

// byVersion indexes results by model version.
func byVersion(res []*ml.Result) map[string]*ml.Result {
	out := map[string]*ml.Result{}
	for _, r := range res {
		out[r.ModelVersion] = r
	}
	return out
}

const letterText = `Dear Anna,

Thank you for your letter from Berlin. The conference on 12 March 2026 went well: Dr. Miller
presented the budget of EUR 12,500 and everyone agreed. Please send the invoice to
accounts@example.org or call +49 30 1234567. The payment goes to DE89 3704 0044 0532 0130 00.

The conference budget was the main topic. The next conference will be in Paris, and the budget
for it is still open. More at https://example.org/conference.

Kind regards,
Peter Schmidt`

func TestAnalyzer(t *testing.T) {
	t.Parallel()
	a := newAnalyzer(t)
	m := trainSmall(t, "1")
	require.NoError(t, a.Load(ml.LoadedModel{ID: "01MODEL", Model: m}))
	doc := &ml.Document{Title: "Invoice 2026-03", Author: "Peter Schmidt", Text: letterText}
	res, err := a.AnalyzeDocument(context.Background(), doc)
	require.NoError(t, err)
	got := byVersion(res)
	require.Len(t, got, 3)

	lang := got[ml.LanguageModelVersion]
	require.NotNil(t, lang)
	require.Equal(t, "en", lang.Language)
	require.Equal(t, "language:en", lang.Classifications[0].Label)
	require.Greater(t, lang.Classifications[0].Confidence, 0.5)

	text := got[ml.TextModelVersion]
	require.NotNil(t, text)
	kinds := map[string][]string{}
	for _, e := range text.Entities {
		kinds[e.Kind] = append(kinds[e.Kind], e.Value)
		if e.Kind == ml.EntityPerson || e.Kind == ml.EntityPlace || e.Kind == ml.EntityURL {
			require.Equal(t, e.Value, letterText[e.Start:e.End])
		}
	}
	require.Equal(t, []string{"2026-03-12"}, kinds[ml.EntityDate])
	require.Equal(t, []string{"EUR 12500"}, kinds[ml.EntityMoney])
	require.Equal(t, []string{"accounts@example.org"}, kinds[ml.EntityEmail])
	require.Equal(t, []string{"+49301234567"}, kinds[ml.EntityPhone])
	require.Equal(t, []string{"DE89370400440532013000"}, kinds[ml.EntityIBAN])
	require.Equal(t, []string{"https://example.org/conference"}, kinds[ml.EntityURL])
	require.Equal(t, []string{"Berlin", "Paris"}, kinds[ml.EntityPlace])
	require.Equal(t, []string{"Miller", "Peter Schmidt"}, kinds[ml.EntityPerson])
	require.NotEmpty(t, kinds[ml.EntityKeyword])
	require.Contains(t, kinds[ml.EntityKeyword][:3], "conference")
	require.NotEmpty(t, text.Summary)
	require.Contains(t, letterText, strings.Split(text.Summary, ". ")[0])

	cls := got["01MODEL"]
	require.NotNil(t, cls)
	require.Len(t, cls.Classifications, 1)
	require.True(t, strings.HasPrefix(cls.Classifications[0].Label, "doctype:"))
}

// TestAnalyzerHotReload swaps model versions while documents are being
// analysed: every result must come whole from one version, and the last
// version loaded is the one used afterwards. Run it with -race.
func TestAnalyzerHotReload(t *testing.T) {
	t.Parallel()
	a := newAnalyzer(t)
	// Two versions of one model whose label sets differ, so that a result
	// mixing them would show.
	v1 := trainSmall(t, "1", "contract", "invoice")
	v2 := trainSmall(t, "2", "invoice", "letter")
	labels := map[string][]string{"01V1": {"doctype:contract", "doctype:invoice", "doctype:unsure"},
		"01V2": {"doctype:invoice", "doctype:letter", "doctype:unsure"}}
	require.NoError(t, a.Load(ml.LoadedModel{ID: "01V1", Model: v1}))

	ctx := context.Background()
	var stop atomic.Bool
	var analysed atomic.Int64
	seen := [2]atomic.Int64{}
	var wg sync.WaitGroup
	docs := generate(21, 5, 0.3, "contract", "invoice", "letter")
	for w := range 4 {
		wg.Go(func() {
			for i := w; !stop.Load() || analysed.Load() < 200; i++ {
				d := docs[i%len(docs)]
				res, err := a.AnalyzeDocument(ctx, &ml.Document{Text: d.Text})
				if !assertNoErr(t, err) {
					return
				}
				var cls []*ml.Result
				for _, r := range res {
					if r.ModelVersion == "01V1" || r.ModelVersion == "01V2" {
						cls = append(cls, r)
					}
				}
				if len(cls) != 1 {
					t.Errorf("got %d classifier results, want 1", len(cls))
					return
				}
				if !assertContains(t, labels[cls[0].ModelVersion], cls[0].Classifications[0].Label) {
					return
				}
				seen[map[string]int{"01V1": 0, "01V2": 1}[cls[0].ModelVersion]].Add(1)
				analysed.Add(1)
			}
		})
	}
	// Swap back and forth until both versions have served documents.
	for i := 0; seen[0].Load() == 0 || seen[1].Load() == 0 || i < 50; i++ {
		if i%2 == 0 {
			require.NoError(t, a.Load(ml.LoadedModel{ID: "01V2", Model: v2}))
		} else {
			require.NoError(t, a.Load(ml.LoadedModel{ID: "01V1", Model: v1}))
		}
	}
	require.NoError(t, a.Load(ml.LoadedModel{ID: "01V2", Model: v2}))
	stop.Store(true)
	wg.Wait()

	res, err := a.AnalyzeDocument(ctx, &ml.Document{Text: docs[0].Text})
	require.NoError(t, err)
	require.NotNil(t, byVersion(res)["01V2"])
	require.Nil(t, byVersion(res)["01V1"])
	t.Logf("analysed %d documents: %d with v1, %d with v2", analysed.Load(), seen[0].Load(), seen[1].Load())
}

func assertNoErr(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

func assertContains(t *testing.T, list []string, s string) bool {
	t.Helper()
	for _, l := range list {
		if l == s {
			return true
		}
	}
	t.Errorf("%q is not one of %q", s, list)
	return false
}

func TestAnalyzerLoadRefusesTwoOfOneName(t *testing.T) {
	t.Parallel()
	a := newAnalyzer(t)
	m1, m2 := trainSmall(t, "1"), trainSmall(t, "2")
	require.ErrorContains(t, a.Load(ml.LoadedModel{Model: m1}, ml.LoadedModel{Model: m2}), `both named "doctype"`)
	require.Empty(t, a.Models())
}

// TestAnalyzerMaxEntities checks that a document full of entities records
// only the first MaxEntities of them, and its keywords still.
func TestAnalyzerMaxEntities(t *testing.T) {
	t.Parallel()
	lang, err := testLanguages()
	require.NoError(t, err)
	a, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Language: lang, MaxEntities: 50})
	require.NoError(t, err)
	var b strings.Builder
	for i := range 400 {
		fmt.Fprintf(&b, "Write to member%d@example.org about the meeting.\n", i)
	}
	res, err := a.AnalyzeDocument(context.Background(), &ml.Document{Text: b.String()})
	require.NoError(t, err)
	var emails, keywords []string
	for _, e := range byVersion(res)[ml.TextModelVersion].Entities {
		switch e.Kind {
		case ml.EntityEmail:
			emails = append(emails, e.Value)
		case ml.EntityKeyword:
			keywords = append(keywords, e.Value)
		}
	}
	require.Len(t, emails, 50)
	require.Equal(t, "member0@example.org", emails[0])
	require.Equal(t, "member49@example.org", emails[49])
	require.NotEmpty(t, keywords)
}

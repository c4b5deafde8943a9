package pipeline

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func TestTagRuleMatch(t *testing.T) {
	t.Parallel()
	const text = "Rechnung Nr. 2026-117\nACME Corporation GmbH\nAmount  due: 120 EUR, Ärger inbegriffen.\nINV-4711"
	tests := []struct {
		name          string
		kind          store.MatchKind
		match         string
		caseSensitive bool
		want          bool
	}{
		{"AnyOneWord", store.MatchAny, "invoice rechnung", false, true},
		{"AnyNone", store.MatchAny, "invoice bill", false, false},
		{"AnyWholeWordsOnly", store.MatchAny, "Rech", false, false},
		{"AnyQuotedPhraseAnySpace", store.MatchAny, `"amount due:"`, false, true},
		{"AnyPhraseNotWords", store.MatchAny, `"due amount"`, false, false},
		{"AnyBeyondASCII", store.MatchAny, "ärger", false, true},
		{"AnyCaseSensitive", store.MatchAny, "rechnung", true, false},
		{"AnyCaseSensitiveHit", store.MatchAny, "Rechnung", true, true},
		{"AllEvery", store.MatchAll, "rechnung acme eur", false, true},
		{"AllOneMissing", store.MatchAll, "rechnung acme usd", false, false},
		{"ExactPhrase", store.MatchExact, "acme corporation", false, true},
		{"ExactNotSplit", store.MatchExact, "corporation acme", false, false},
		{"ExactSpecialCharacters", store.MatchExact, "Nr. 2026-117", false, true},
		{"ExactPartOfWord", store.MatchExact, "corp", false, false},
		{"ExactCaseSensitive", store.MatchExact, "acme corporation", true, false},
		{"Regex", store.MatchRegex, `INV-\d{4}`, false, true},
		{"RegexCaseInsensitive", store.MatchRegex, `inv-\d{4}`, false, true},
		{"RegexCaseSensitive", store.MatchRegex, `inv-\d{4}`, true, false},
		{"RegexMiss", store.MatchRegex, `INV-\d{5}`, false, false},
		{"FuzzyTypo", store.MatchFuzzy, "ACME Corporatoin", false, true},
		{"FuzzyPunctuationIgnored", store.MatchFuzzy, "A.C.M.E. Corporation!", false, true},
		{"FuzzyTooFar", store.MatchFuzzy, "Apex Cooperation", false, false},
		{"FuzzyCaseSensitive", store.MatchFuzzy, "acme corporation", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := compileTagRule(store.Tag{Name: "t", Match: tt.kind, MatchText: tt.match, CaseSensitive: tt.caseSensitive})
			require.NoError(t, err)
			require.Equal(t, tt.want, r.match(text))
		})
	}
}

func TestTagRuleRefused(t *testing.T) {
	t.Parallel()
	for _, tag := range []store.Tag{
		{Name: "none", Match: store.MatchNone},
		{Name: "auto", Match: store.MatchAuto},
		{Name: "bad regex", Match: store.MatchRegex, MatchText: "a("},
		{Name: "only quotes", Match: store.MatchAny, MatchText: `"" `},
		{Name: "only punctuation", Match: store.MatchFuzzy, MatchText: "!?"},
	} {
		_, err := compileTagRule(tag)
		require.Error(t, err, tag.Name)
	}
}

func TestSplitMatch(t *testing.T) {
	t.Parallel()
	// paperless-ngx's own example.
	require.Equal(t, []string{"some", "random", "words", `with\s+quotes`, "and", "spaces"},
		splitMatch(`  some random  words "with   quotes  " and   spaces`))
	require.Equal(t, []string{`a\.b`, `\(x`}, splitMatch(`a.b (x`), "quoted for the regular expression")
	require.Equal(t, []string{`"open`, "quote"}, splitMatch(`"open quote`), "an unclosed quote is a character")
}

func TestPartialRatio(t *testing.T) {
	t.Parallel()
	r := func(a, b string) float64 { return partialRatio([]rune(a), []rune(b)) }
	require.InDelta(t, 100, r("acme", "the acme corporation"), 0.001)
	require.InDelta(t, 100, r("the acme corporation", "acme"), 0.001, "the shorter one is looked for")
	require.InDelta(t, 100, r("this is a test", "this is a test!"), 0.001)
	// The best window, "wuzzy fuzzy", shares "uzzy uzzy": 2·9/22.
	require.InDelta(t, 100.0*18/22, r("fuzzy wuzzy", "wuzzy fuzzy was a bear"), 0.001)
	// Cut off by the end: "abc" scores 2·3/(4+3), above any full window.
	require.InDelta(t, 100.0*6/7, r("abcd", "xxabc"), 0.001)
	require.Zero(t, r("", "abc"))
	long := strings.Repeat("lorem ipsum dolor sit amet ", 40000) + "acme corporation"
	require.InDelta(t, 100, r("acme corporation", long), 0.001, "found at the end of a megabyte")
}

package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q       string
		tsquery string
		fts5    string
	}{
		{"acme", `('acme')`, `("acme")`},
		{"acme\u00a0corp\u2003-\u00a0x", `('acme') & ('corp') & ('x')`, `("acme" AND "corp" AND "x")`},
		{"  acme   corp ", `('acme') & ('corp')`, `("acme" AND "corp")`},
		{`"thank you" letter`, `('thank you') & ('letter')`, `("thank you" AND "letter")`},
		{"a or b c", `('a' | 'b') & ('c')`, `(("a" OR "b") AND "c")`},
		{"a OR b OR c", `('a' | 'b' | 'c')`, `(("a" OR "b" OR "c"))`},
		{"invoice -acme", `('invoice') & !'acme'`, `("invoice") NOT "acme"`},
		{`x -"big corp"`, `('x') & !'big corp'`, `("x") NOT "big corp"`},
		{"or a", `('a')`, `("a")`},
		{"a or", `('a')`, `("a")`},
		{"a or -b", `('a') & !'b'`, `("a") NOT "b"`},
		{`invoi*`, `('invoi':*)`, `("invoi" *)`},
		{`invoi** -draft*`, `('invoi':*) & !'draft':*`, `("invoi" *) NOT "draft" *`},
		{`"invoi*"`, `('invoi*')`, `("invoi*")`},
		{`title:acme*`, `('title:acme':*)`, `("title:acme" *)`},
		{`it's a\b`, `('it''s') & ('a\\b')`, `("it's" AND "a\b")`},
		{`say "a ""b`, `('say') & ('a') & ('b')`, `("say" AND "a" AND "b")`},
		{`"unclosed phrase`, `('unclosed phrase')`, `("unclosed phrase")`},
		{"Größe", `('Größe')`, `("Größe")`},
	}
	for _, tt := range tests {
		q := parseQuery(tt.q)
		require.False(t, q.empty(), tt.q)
		require.Equal(t, tt.tsquery, q.tsquery(), tt.q)
		require.Equal(t, tt.fts5, q.fts5(), tt.q)
	}
	for _, q := range []string{"", "   ", "-acme", `"" * :`, "or", "- -", "-a -b", "***", "-invoi*"} {
		require.True(t, parseQuery(q).empty(), "%q", q)
	}
}

func TestLooseTsquery(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		q, loose string
		differs  bool
	}{
		{"acme corp", `('acme') & ('corp')`, false},
		{`"thank you" letter`, `(('thank' & 'you')) & ('letter')`, true},
		{`"thank you" OR thanks`, `(('thank' & 'you') | 'thanks')`, true},
		{`x -"big corp" -small`, `('x') & !'small'`, true},
		{`invoi* -draft*`, `('invoi':*) & !'draft':*`, false},
	} {
		loose, differs := parseQuery(tt.q).looseTsquery()
		require.Equal(t, tt.loose, loose, tt.q)
		require.Equal(t, tt.differs, differs, tt.q)
	}
}

func TestLooseFTS5(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		q, loose string
		differs  bool
	}{
		{"acme corp", `("acme" AND "corp")`, false},
		{`"thank you" letter`, `(("thank" AND "you") AND "letter")`, true},
		{`"thank you" OR thanks`, `((("thank" AND "you") OR "thanks"))`, true},
		{`x -"big corp" -small`, `("x") NOT "small"`, true},
		{`"a - b"`, `(("a" AND "b"))`, true},
		{`invoi* -draft*`, `("invoi" *) NOT "draft" *`, false},
	} {
		loose, differs := parseQuery(tt.q).looseFTS5()
		require.Equal(t, tt.loose, loose, tt.q)
		require.Equal(t, tt.differs, differs, tt.q)
	}
}

func TestParseSnippet(t *testing.T) {
	t.Parallel()
	require.Equal(t, []SnippetPart{{Text: "the "}, {Text: "contract", Match: true}, {Text: " ends"}},
		parseSnippet("the "+markStart+"contract"+markEnd+" ends"))
	require.Equal(t, []SnippetPart{{Text: "a b", Match: true}},
		parseSnippet(markStart+"a"+markEnd+markStart+" b"+markEnd), "adjacent matches join")
	require.Nil(t, parseSnippet(""))
}

func TestCountWords(t *testing.T) {
	t.Parallel()
	require.Equal(t, 0, countWords(" \n—!"))
	require.Equal(t, 5, countWords("Quarterly report: revenue grew 12%."))
	require.Equal(t, 3, countWords("Größe über naïve"))
}

func TestRedact(t *testing.T) {
	t.Parallel()
	require.Equal(t, "postgres://u:xxxxx@h/db", Redact("postgres://u:pw@h/db"))
	require.Equal(t, "postgres://h/db?password=xxxxx&sslmode=disable", Redact("postgres://h/db?password=pw&sslmode=disable"))
	require.Equal(t, "host=h password=xxxxx", Redact("host=h password=pw"))
	require.Equal(t, "sqlite:///tmp/q.db", Redact("sqlite:///tmp/q.db"))
}

func TestMatchSpans(t *testing.T) {
	t.Parallel()
	text := "The Invoice, invoicing and re-invoice; ÜBER über. Thank you!"
	marked := func(q string) []string {
		var out []string
		for _, s := range MatchSpans(text, q) {
			out = append(out, text[s[0]:s[1]])
		}
		return out
	}
	require.Equal(t, []string{"Invoice", "invoice"}, marked("invoice"))
	require.Equal(t, []string{"Invoice", "invoicing", "invoice"}, marked("invoi*"))
	require.Equal(t, []string{"ÜBER", "über"}, marked("über -invoice"))
	require.Equal(t, []string{"Thank", "you"}, marked(`"thank you"`))
	require.Nil(t, marked("-invoice"))
	require.Nil(t, marked(""))
}

func TestMakeSnippet(t *testing.T) {
	t.Parallel()
	words := func(n int, w string) string { return strings.TrimSpace(strings.Repeat(w+" ", n)) }
	m := func(q string) wordMatcher { return newWordMatcher(parseQuery(q)) }
	text := func(parts []SnippetPart) string { return (SearchHit{Snippet: parts}).SnippetText() }
	marked := func(parts []SnippetPart) []string {
		var out []string
		for _, p := range parts {
			if p.Match {
				out = append(out, p.Text)
			}
		}
		return out
	}

	// The match in the middle of its passage, the rest cut on both sides.
	long := words(100, "filler") + " the Contract ends, " + words(100, "filler")
	got := makeSnippet(long, m("contract"), false)
	require.Equal(t, []string{"Contract"}, marked(got))
	require.Equal(t, snippetWords, len(strings.Fields(strings.ReplaceAll(text(got), "…", " "))))
	require.True(t, strings.HasPrefix(text(got), "…filler"), text(got))
	require.True(t, strings.HasSuffix(text(got), "filler…"), text(got))
	before, _, _ := strings.Cut(text(got), "Contract")
	require.InDelta(t, snippetWords/2, len(strings.Fields(strings.ReplaceAll(before, "…", " "))), 2, text(got))

	// The passage with the most matches wins over the first one.
	many := "report " + words(60, "filler") + " revenue report, revenue up " + words(60, "filler")
	require.Equal(t, []string{"revenue", "report", "revenue"}, marked(makeSnippet(many, m("revenue report"), false)))

	// Prefixes and phrases mark their words; excluded words are not marked.
	require.Equal(t, []string{"Invoicing", "thank", "you"},
		marked(makeSnippet("Invoicing done, thank you. Paid.", m(`invoi* "thank you" -paid`), false)))

	// No match: the text's first words, and an ellipsis when text goes on.
	got = makeSnippet(words(50, "filler"), m("absent"), false)
	require.Empty(t, marked(got))
	require.Equal(t, words(snippetWords, "filler")+"…", text(got))
	require.Equal(t, "a short text…", text(makeSnippet("a short text", m("absent"), true)))
	require.Equal(t, "a short text", text(makeSnippet("a short text", m("absent"), false)))
	require.Nil(t, makeSnippet(" … ", m("absent"), false))
}

// BenchmarkMakeSnippet: a snippet of a short text (2 KB, the size of an
// email) and of the most a snippet reads (snippetChars).
func BenchmarkMakeSnippet(b *testing.B) {
	m := newWordMatcher(parseQuery("indemnity claus*"))
	for _, size := range []int{2_000, snippetChars} {
		text := strings.Repeat("Weather, report; lunch travel sports and more. ", size/48) + "The indemnity clause applies."
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				makeSnippet(text, m, false)
			}
		})
	}
}

package store

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseQuery holds any user input to be words, never syntax: its FTS5
// rendering is a valid expression that a real FTS5 table accepts, and its
// tsquery rendering has every value quoted, with only operators between.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"acme", `"thank you" letter`, "a or b -c", "invoi*", `"unclosed`, `a"b"c`, `'`, `\`, `x:*`,
		`!a & b | c <-> d`, "NEAR(a b)", "-", "*", "a OR", `"" * : ( ) ^`, "Größe*", "it's", `a\'b`,
	} {
		f.Add(s)
	}
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(f, err)
	f.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	_, err = db.Exec("CREATE VIRTUAL TABLE fts USING fts5 (text, tokenize = 'unicode61 remove_diacritics 0')")
	require.NoError(f, err)
	_, err = db.Exec("INSERT INTO fts (text) VALUES ('the invoice of acme'), ('a letter')")
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, s string) {
		q := parseQuery(s)
		if q.empty() {
			return
		}
		var n int
		require.NoError(t, db.QueryRow("SELECT count(*) FROM fts WHERE fts MATCH ?", q.fts5()).Scan(&n), "query %q as %s", s, q.fts5())
		// The loose query finds every text the query finds.
		loose, _ := q.looseFTS5()
		var missed int
		require.NoError(t, db.QueryRow("SELECT count(*) FROM fts WHERE fts MATCH ? AND rowid NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)",
			q.fts5(), loose).Scan(&missed), "query %q loosely as %s", s, loose)
		require.Zero(t, missed, "query %q loosely as %s", s, loose)
		checkTSQuery(t, q.tsquery())
	})
}

// checkTSQuery checks that outside its quoted values a tsquery holds only
// the operators the renderer writes, and that inside them every quote is
// doubled and every backslash escaped.
func checkTSQuery(t *testing.T, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if s[i] != '\'' {
			require.Contains(t, "()&|! :*", string(s[i]), "%s: %q outside a value", s, s[i])
			continue
		}
		closed := false
		for i++; i < len(s); i++ {
			switch {
			case s[i] == '\\':
				require.Less(t, i+1, len(s), s)
				require.Equal(t, byte('\\'), s[i+1], "%s: a lone backslash", s)
				i++
			case s[i] == '\'' && i+1 < len(s) && s[i+1] == '\'':
				i++
			case s[i] == '\'':
				closed = true
			}
			if closed {
				break
			}
		}
		require.True(t, closed, "%s: an unclosed value", s)
	}
	require.False(t, strings.HasPrefix(s, " "), s)
}

// FuzzMakeSnippet holds a snippet to be a piece of its text, whatever the
// text and query: its parts, the ellipses aside, are the text's bytes from
// one word to another, at most snippetWords words, and a part marked is a
// word the query looks for.
func FuzzMakeSnippet(f *testing.F) {
	for _, s := range [][2]string{
		{"The Contract ends, says the contract.", "contract"},
		{"Invoicing done, thank you. Paid.", `invoi* "thank you" -paid`},
		{"ÜBER über straße STRASSE İstanbul", "über stra* istanbul"},
		{"\xff\xfe broken \xc3 utf-8 words", "broken words"},
		{"", "a"}, {"… — …", "x"},
	} {
		f.Add(s[0], s[1], false)
	}
	f.Fuzz(func(t *testing.T, text, query string, more bool) {
		m := newWordMatcher(parseQuery(query))
		parts := makeSnippet(text, m, more)
		var b strings.Builder
		for i, p := range parts {
			require.NotEmpty(t, p.Text)
			s := p.Text
			if !p.Match {
				if i == 0 {
					s = strings.TrimPrefix(s, "…")
				}
				if i == len(parts)-1 {
					s = strings.TrimSuffix(s, "…")
				}
			} else {
				require.True(t, m.match(p.Text), "%q marked for %q", p.Text, query)
			}
			b.WriteString(s)
		}
		piece := b.String()
		require.Contains(t, text, piece)
		words := 0
		eachWord(piece, func(int, int) { words++ })
		require.LessOrEqual(t, words, snippetWords)
	})
}

package ml

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSplitAgreesWithTokens checks that the analyzer's words (split, read
// by number) and the public tokens (read by string) are the same words,
// and that keywords and entities found from either agree.
func TestSplitAgreesWithTokens(t *testing.T) {
	t.Parallel()
	var texts []string
	for _, f := range []string{"text/sotu-1932-hoover.txt", "text/udhr-fra.cp1252.txt", "ml/spamassassin/easy_ham/easy-ham-1-00016.eml"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(f)))
		require.NoError(t, err)
		texts = append(texts, string(b))
	}
	texts = append(texts, "", "   ", "Ünïcode Wörter, don't stop: e-mail 3.14 and Mr. John F. Kennedy in New York.")
	for _, lang := range []string{"en", "fr", "xx"} {
		tok := NewTokenizer(lang)
		for _, text := range texts {
			tw := tok.split(text)
			toks := tok.Tokens(text)
			require.Len(t, tw.words, len(toks))
			for i, tk := range toks {
				f := tw.form(i)
				require.Equal(t, Token{Text: f.text, Term: tw.terms[f.term], Start: int(tw.words[i].start),
					End: int(tw.words[i].end), Stop: f.stop}, tk)
				require.Equal(t, text[tk.Start:tk.End], tk.Text)
			}
			// Forms and terms are numbered once each.
			seenForm, seenTerm := map[string]bool{}, map[string]bool{}
			for _, f := range tw.forms {
				require.False(t, seenForm[f.text], "form %q twice", f.text)
				seenForm[f.text] = true
			}
			for _, term := range tw.terms {
				require.False(t, seenTerm[term], "term %q twice", term)
				seenTerm[term] = true
			}
			require.Equal(t, Keywords(toks, 10), keywords(tw, 10))
			require.Equal(t, entities(text, wordsOf(toks)), entities(text, tw))
		}
	}
}

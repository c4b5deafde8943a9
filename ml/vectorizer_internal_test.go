package ml

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTFIDFTerms checks that prediction's vectors, built without n-gram
// strings, are those training built from the strings.
func TestTFIDFTerms(t *testing.T) {
	t.Parallel()
	docs := []string{
		"the invoice is due the invoice total is due now",
		"dear friend thank you for the letter dear friend",
		"invoice due friend letter total now thank",
	}
	tok := NewTokenizer("en")
	for n := 1; n <= 3; n++ {
		var grams [][]string
		for _, d := range docs {
			grams = append(grams, ngrams(nil, tok.Terms(d), n))
		}
		terms, idf := fitVocabulary(grams, vocabularyParams{minDF: 1})
		vocab := map[string]int32{}
		for i, g := range terms {
			vocab[g] = int32(i)
		}
		for i, d := range docs {
			want := tfidf(grams[i], vocab, idf)
			got := tfidfTerms(tok.Terms(d), n, vocab, idf)
			require.Equal(t, want, got, "n=%d doc %d", n, i)
		}
		// A text of unknown words has no features.
		require.Empty(t, tfidfTerms(strings.Fields("zebra quantum"), n, vocab, idf).idx)
	}
}

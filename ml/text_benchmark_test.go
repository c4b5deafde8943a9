package ml

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// benchTexts are the texts of the text-analysis benchmarks: a 2.6 KB
// email as the pipeline sees it (headers and a plain body, committed
// SpamAssassin sample) and a 40 KB State of the Union address (Obama,
// 2010, from the installed corpus; without it, Hoover's 1932 address
// repeated to 40 KB).
var benchTexts = sync.OnceValue(func() []struct{ name, text string } {
	email, err := os.ReadFile(filepath.Join("..", "testdata", "ml", "spamassassin", "easy_ham", "easy-ham-1-00016.eml"))
	if err != nil {
		panic(err)
	}
	var sotu string
	if root := os.Getenv("QUIRE_TEST_CORPORA"); root != "" {
		if b, err := os.ReadFile(filepath.Join(root, "sotu", "2010_barack_obama_d.txt")); err == nil {
			sotu = string(b)
		}
	}
	if sotu == "" {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "text", "sotu-1932-hoover.txt"))
		if err != nil {
			panic(err)
		}
		sotu = strings.Repeat(string(b)+"\n\n", 40<<10/len(b)+1)[:40<<10]
	}
	return []struct{ name, text string }{{"email-2.6KB", string(email)}, {"sotu-40KB", sotu}}
})

func benchEachText(b *testing.B, fn func(b *testing.B, text string)) {
	for _, t := range benchTexts() {
		b.Run(t.name, func(b *testing.B) {
			b.SetBytes(int64(len(t.text)))
			b.ReportAllocs()
			fn(b, t.text)
		})
	}
}

func BenchmarkTokens(b *testing.B) {
	tok := NewTokenizer("en")
	benchEachText(b, func(b *testing.B, text string) {
		for b.Loop() {
			tok.Tokens(text)
		}
	})
}

// BenchmarkSplit measures the split of a text into words that the
// analyzer makes once for all its analyses.
func BenchmarkSplit(b *testing.B) {
	tok := NewTokenizer("en")
	benchEachText(b, func(b *testing.B, text string) {
		for b.Loop() {
			tok.split(text)
		}
	})
}

func BenchmarkEntities(b *testing.B) {
	benchEachText(b, func(b *testing.B, text string) {
		words := NewTokenizer("en").split(text)
		for b.Loop() {
			entities(text, words)
		}
	})
}

// BenchmarkKeywords measures keywords as the analyzer finds them, from the
// document's words.
func BenchmarkKeywords(b *testing.B) {
	benchEachText(b, func(b *testing.B, text string) {
		words := NewTokenizer("en").split(text)
		for b.Loop() {
			keywords(words, KeywordsMaxDefault)
		}
	})
}

// BenchmarkSummary measures a summary as the analyzer makes it, from the
// document's words.
func BenchmarkSummary(b *testing.B) {
	benchEachText(b, func(b *testing.B, text string) {
		words := NewTokenizer("en").split(text)
		for b.Loop() {
			summary(text, words, SummarySentencesDefault, SummaryMaxBytesDefault)
		}
	})
}

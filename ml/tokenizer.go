package ml

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/words"

	"github.com/quirehq/quire/ml/internal/lexicon"
)

// Token is one word of a text.
type Token struct {
	// Text is the word as written.
	Text string
	// Term is the word lower-cased and stemmed: what features count.
	Term string
	// Start and End are the word's byte offsets in the text.
	Start, End int
	// Stop reports a stop word of the language.
	Stop bool
}

// Tokenizer splits text into words for one language. The zero value is not
// usable; call NewTokenizer. A Tokenizer is safe for concurrent use.
type Tokenizer struct {
	lang string
	stop map[string]bool
	stem func(string) string
}

// maxTokenBytes bounds a word: longer "words" are base64 blobs, hashes or
// URLs run together, which only bloat a vocabulary.
const maxTokenBytes = 40

// NewTokenizer returns a tokenizer for a language (ISO 639-1, such as
// "en"). Languages without a stop list or a Snowball stemmer are still
// split into words, only without that step.
func NewTokenizer(lang string) *Tokenizer {
	return &Tokenizer{lang: lang, stop: lexicon.StopWords(lang), stem: lexicon.Stemmer(lang)}
}

// Language is the tokenizer's language.
func (t *Tokenizer) Language() string { return t.lang }

// Tokens returns the words of text: segments holding a letter or a digit,
// split at UAX #29 word boundaries, so that "don't", "3.14" and "e-mail"
// parts follow the Unicode rules rather than ASCII ones.
func (t *Tokenizer) Tokens(text string) []Token {
	var out []Token
	it := words.FromString(text)
	for it.Next() {
		w := it.Value()
		if len(w) > maxTokenBytes || !wordLike(w) {
			continue
		}
		lower := strings.ToLower(w)
		tok := Token{Text: w, Start: it.Start(), End: it.End(), Stop: t.stop[lower]}
		tok.Term = lower
		if t.stem != nil && !tok.Stop {
			tok.Term = t.stem(lower)
		}
		out = append(out, tok)
	}
	return out
}

// Terms returns the terms of the words of text that are not stop words.
func (t *Tokenizer) Terms(text string) []string {
	toks := t.Tokens(text)
	out := make([]string, 0, len(toks))
	for _, tok := range toks {
		if !tok.Stop {
			out = append(out, tok.Term)
		}
	}
	return out
}

// wordLike reports whether a segment holds a letter or a digit (UAX #29
// also yields spaces and punctuation as segments).
func wordLike(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
		i += n
	}
	return false
}

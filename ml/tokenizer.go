package ml

import (
	"strings"
	"sync"
	"sync/atomic"
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
	// stems caches stem results: most of a text's words are common ones,
	// and Snowball allocates on every call. It stops growing at
	// stemCacheMax entries, so that a stream of odd words cannot fill
	// memory.
	stems    sync.Map // string -> string
	numStems atomic.Int64
}

// stemCacheMax bounds a Tokenizer's stem cache.
const stemCacheMax = 200_000

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
	out := make([]Token, 0, len(text)/6)
	t.each(text, func(tok Token) { out = append(out, tok) })
	return out
}

// Terms returns the terms of the words of text that are not stop words.
func (t *Tokenizer) Terms(text string) []string {
	out := make([]string, 0, len(text)/8)
	t.each(text, func(tok Token) {
		if !tok.Stop {
			out = append(out, tok.Term)
		}
	})
	return out
}

// each calls fn with every word of text. A word's term and stop flag are
// found once per text for each way it is written: most of a text's words
// are repeats, and lower-casing, the stop list and the stem cache cost
// more than a lookup in a small map.
func (t *Tokenizer) each(text string, fn func(Token)) {
	type word struct {
		term string
		stop bool
	}
	seen := make(map[string]word, min(len(text)/16, 4096))
	it := words.FromString(text)
	for it.Next() {
		w := it.Value()
		if len(w) > maxTokenBytes || !wordLike(w) {
			continue
		}
		info, ok := seen[w]
		if !ok {
			lower := strings.ToLower(w)
			info = word{term: lower, stop: t.stop[lower]}
			if t.stem != nil && !info.stop {
				info.term = t.stemOf(lower)
			}
			seen[w] = info
		}
		fn(Token{Text: w, Term: info.term, Start: it.Start(), End: it.End(), Stop: info.stop})
	}
}

func (t *Tokenizer) stemOf(w string) string {
	if s, ok := t.stems.Load(w); ok {
		return s.(string)
	}
	s := t.stem(w)
	if t.numStems.Load() < stemCacheMax {
		// Clone: w may be a slice of a large document, which the cache
		// would otherwise keep alive.
		if _, loaded := t.stems.LoadOrStore(strings.Clone(w), s); !loaded {
			t.numStems.Add(1)
		}
	}
	return s
}

// wordLike reports whether a segment holds a letter or a digit (UAX #29
// also yields spaces and punctuation as segments).
func wordLike(s string) bool {
	if c := s[0]; c < utf8.RuneSelf {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			return true
		}
		if len(s) == 1 {
			return false
		}
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
		i += n
	}
	return false
}

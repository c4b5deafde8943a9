package ml

import (
	"hash/maphash"
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
	// memory. It is sharded maps rather than a sync.Map, whose lookups
	// in a cache of this size cost several times as much.
	stems    [stemShards]stemShard
	numStems atomic.Int64
}

// stemShards is the number of locks the stem cache is split under.
const stemShards = 16

type stemShard struct {
	mu sync.RWMutex
	m  map[string]string
}

var stemSeed = maphash.MakeSeed()

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
	// A word's term and stop flag are found once for each way it is
	// written: most of a text's words are repeats, and lower-casing (which
	// allocates for a capital), the stop list and the stem cache cost
	// more than a lookup in a map of the text's own words. The analyzer
	// reads a document's tokens once for all its analyses.
	seen := make(map[string]termStop, min(len(text)/16, 4096))
	t.each(text, func(w string, start, end int) {
		ts, ok := seen[w]
		if !ok {
			ts = t.termStop(w)
			seen[w] = ts
		}
		out = append(out, Token{Text: w, Term: ts.term, Start: start, End: end, Stop: ts.stop})
	})
	return out
}

// Terms returns the terms of the words of text that are not stop words.
func (t *Tokenizer) Terms(text string) []string {
	out := make([]string, 0, len(text)/8)
	t.each(text, func(w string, _, _ int) {
		if ts := t.termStop(w); !ts.stop {
			out = append(out, ts.term)
		}
	})
	return out
}

// termStop is a word's term and whether it is a stop word.
type termStop struct {
	term string
	stop bool
}

func (t *Tokenizer) termStop(w string) termStop {
	lower := strings.ToLower(w)
	ts := termStop{term: lower, stop: t.stop[lower]}
	if t.stem != nil && !ts.stop {
		ts.term = t.stemOf(lower)
	}
	return ts
}

// each calls fn with every word of text and its byte offsets.
func (t *Tokenizer) each(text string, fn func(w string, start, end int)) {
	it := words.FromString(text)
	for it.Next() {
		w := it.Value()
		if len(w) > maxTokenBytes || !wordLike(w) {
			continue
		}
		fn(w, it.Start(), it.End())
	}
}

func (t *Tokenizer) stemOf(w string) string {
	sh := &t.stems[maphash.String(stemSeed, w)%stemShards]
	sh.mu.RLock()
	s, ok := sh.m[w]
	sh.mu.RUnlock()
	if ok {
		return s
	}
	s = t.stem(w)
	if t.numStems.Load() < stemCacheMax {
		sh.mu.Lock()
		if sh.m == nil {
			sh.m = map[string]string{}
		}
		if _, ok := sh.m[w]; !ok {
			// Clone: w may be a slice of a large document, which the
			// cache would otherwise keep alive.
			sh.m[strings.Clone(w)] = s
			t.numStems.Add(1)
		}
		sh.mu.Unlock()
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

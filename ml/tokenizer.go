package ml

import (
	"hash/maphash"
	"math"
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
	tw := t.split(text)
	out := make([]Token, len(tw.words))
	for i, w := range tw.words {
		f := &tw.forms[w.form]
		out[i] = Token{Text: f.text, Term: tw.terms[f.term], Start: int(w.start), End: int(w.end), Stop: f.stop}
	}
	return out
}

// textWords is a text split into words once for every analysis of a
// document: each word's offsets and the number of its written form, each
// form's term and stop flag, numbered in order of first sight. The
// analyses count forms and terms by their numbers, in slices, where
// counting by string hashed every word again in each of them; and words
// hold no pointers, so the tens of thousands of a long text cost the
// collector nothing to scan.
type textWords struct {
	words []word
	forms []wordForm
	terms []string
}

// word is one word of a text.
type word struct {
	start, end int32 // byte offsets in the text
	form       int32 // index in textWords.forms
}

// wordForm is a word as written, and what it stands for.
type wordForm struct {
	text string
	term int32 // index in textWords.terms: lower-cased and stemmed
	stop bool
}

// split returns the words of text, as Tokens does. A text over 2 GiB is
// read to its first 2 GiB, the most a word's offsets hold.
func (t *Tokenizer) split(text string) *textWords {
	text = truncate(text, math.MaxInt32)
	// A form's term and stop flag are found once: most of a text's words
	// are repeats, and lower-casing (which allocates for a capital), the
	// stop list and the stem cache cost more than a lookup in a map of
	// the text's own words.
	n := newNumbering(len(text)/6, min(len(text)/16, 4096))
	t.each(text, func(w string, start, end int) { n.add(w, start, end, t.termStop) })
	return n.tw
}

// wordsOf numbers tokens made elsewhere as split numbers a text's words,
// forms by their text and terms by their term.
func wordsOf(toks []Token) *textWords {
	n := newNumbering(len(toks), 32+len(toks)/4)
	for _, tk := range toks {
		n.add(tk.Text, tk.Start, tk.End, func(string) termStop { return termStop{term: tk.Term, stop: tk.Stop} })
	}
	return n.tw
}

// numbering numbers a text's forms and terms in order of first sight.
type numbering struct {
	tw           *textWords
	forms, terms map[string]int32
}

// newNumbering sizes a numbering for about words words, distinct of them
// distinct.
func newNumbering(words, distinct int) *numbering {
	return &numbering{tw: &textWords{words: make([]word, 0, words)},
		forms: make(map[string]int32, distinct), terms: make(map[string]int32, distinct)}
}

// add appends the word w at [start, end); termStop gives the term and stop
// flag of a form not seen before.
func (n *numbering) add(w string, start, end int, termStop func(string) termStop) {
	tw := n.tw
	f, ok := n.forms[w]
	if !ok {
		ts := termStop(w)
		term, ok := n.terms[ts.term]
		if !ok {
			term = int32(len(tw.terms))
			tw.terms = append(tw.terms, ts.term)
			n.terms[ts.term] = term
		}
		f = int32(len(tw.forms))
		tw.forms = append(tw.forms, wordForm{text: w, term: term, stop: ts.stop})
		n.forms[w] = f
	}
	tw.words = append(tw.words, word{start: int32(start), end: int32(end), form: f})
}

// form returns the form of word i.
func (tw *textWords) form(i int) *wordForm { return &tw.forms[tw.words[i].form] }

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

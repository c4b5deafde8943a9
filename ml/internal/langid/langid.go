// Package langid tells the language of a text among lingua-go's 75
// languages, with a model of 850 KB (model.bin.gz, embedded) built by gen
// from lingua's own n-gram frequencies.
//
// A text whose letters are mostly of a script that only one of the
// languages uses (Greek, Armenian, Georgian, Hebrew, Thai, Hangul,
// Bengali, Gujarati, Gurmukhi, Tamil, Telugu) is in that language; Han is
// Chinese, or Japanese when kana are among it. This is lingua's own rule.
//
// The other 62 languages (Latin, Cyrillic, Arabic and Devanagari scripts)
// are told by the bigrams, trigrams and quadrigrams of the text's words
// (runs of letters, lower-cased, as lingua reads them), as in naive Bayes:
// each n-gram is looked up once in an inverted index listing the
// languages that have it among their most frequent, with its bonus in
// each, its log probability above the floor given to an n-gram a language
// lacks, in twelfths of a nat. The language of the text's script with the
// largest sum wins; a softmax of the sums is the confidence. An n-gram no
// language has adds the same to every one, so it is skipped.
package langid

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/quirehq/quire/ml/internal/langid/format"
)

//go:generate go run ./gen -out model.bin.gz

//go:embed model.bin.gz
var modelFile []byte

// model is the decoded model, shared by every Identifier.
type model struct {
	scale   float64
	langs   []string // of the n-gram languages, a posting's Lang indexes them
	scripts []script // of each of langs
	// letters maps a lower-case rune of the BMP to its index in the
	// model's alphabet, 0 for none.
	letters     *[1 << 16]uint16
	runeScripts *[1 << 16]script
	// masks keep, of the rolling key of a word's last letters, those of
	// an n-gram of each order the model holds; orders are their lengths.
	masks  []uint64
	orders []int
	// index maps an n-gram's key to its postings: offset<<8 | count.
	index    ngramIndex
	postings []format.Posting
}

// ngramIndex is a hash table with open addressing from an n-gram's key to
// its postings, a third to a half empty. An identification is mostly lookups, about
// three per letter, and most of their time is the wait for memory: in the
// pipeline, with other work sharing the caches, a Go map took four times
// as long as in a benchmark. Here a lookup reads one cache line of keys,
// and a second for the value if the key is there; the two arrays hold 3
// MiB, where the map held 5.6.
type ngramIndex struct {
	keys  []uint64 // 0: empty; no key is 0, letters are numbered from 1
	vals  []uint32
	shift uint // 64 − log2(len(keys))
}

func newNgramIndex(n int) ngramIndex {
	bits := 1
	for 1<<bits < n+n/2 {
		bits++
	}
	return ngramIndex{keys: make([]uint64, 1<<bits), vals: make([]uint32, 1<<bits), shift: uint(64 - bits)}
}

// slot is where k's search starts: Fibonacci hashing, whose multiply
// spreads keys that differ in their low letters.
func (x *ngramIndex) slot(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> x.shift }

func (x *ngramIndex) put(k uint64, v uint32) {
	mask := uint64(len(x.keys) - 1)
	i := x.slot(k)
	for x.keys[i] != 0 && x.keys[i] != k {
		i = (i + 1) & mask
	}
	x.keys[i], x.vals[i] = k, v
}

func (x *ngramIndex) get(k uint64) (uint32, bool) {
	mask := uint64(len(x.keys) - 1)
	for i := x.slot(k); ; i = (i + 1) & mask {
		switch x.keys[i] {
		case k:
			return x.vals[i], true
		case 0:
			return 0, false
		}
	}
}

var loadModel = sync.OnceValues(func() (*model, error) {
	zr, err := gzip.NewReader(bytes.NewReader(modelFile))
	if err != nil {
		return nil, fmt.Errorf("langid model: %w", err)
	}
	f, err := format.Read(zr)
	if err != nil {
		return nil, err
	}
	if f.Scale == 0 || len(f.Langs) > 64 {
		return nil, fmt.Errorf("langid model: scale %d, %d languages", f.Scale, len(f.Langs))
	}
	m := &model{
		scale:       float64(f.Scale),
		langs:       f.Langs,
		letters:     new([1 << 16]uint16),
		runeScripts: scriptTable(),
		orders:      f.Orders,
		index:       newNgramIndex(len(f.Keys)),
		postings:    f.Postings,
	}
	if !slices.Equal(f.Langs, ngramLangs) {
		return nil, fmt.Errorf("langid model: languages %v, want %v", f.Langs, ngramLangs)
	}
	for _, l := range f.Langs {
		m.scripts = append(m.scripts, sharedScripts[l])
	}
	for i, r := range f.Alphabet {
		if r >= 1<<16 {
			continue // never looked up: its n-grams are missed
		}
		m.letters[r] = uint16(i + 1)
	}
	for _, n := range f.Orders {
		m.masks = append(m.masks, 1<<(n*format.LetterBits)-1)
	}
	if len(f.Postings) > 1<<24 {
		return nil, fmt.Errorf("langid model: %d postings, at most %d", len(f.Postings), 1<<24)
	}
	off := 0
	for i, k := range f.Keys {
		if k == 0 {
			return nil, fmt.Errorf("langid model: n-gram key 0")
		}
		m.index.put(k, uint32(off)<<8|uint32(f.Counts[i]))
		off += int(f.Counts[i])
	}
	return m, nil
})

// ngramLangs are the languages of shared scripts, told by n-grams, in the
// model's order.
var ngramLangs = func() []string {
	var out []string
	for l := range sharedScripts {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}()

// mustModel returns the model, read on first use. The model is embedded
// and read by the tests: failing to read it is a bug.
func mustModel() *model {
	m, err := loadModel()
	if err != nil {
		panic(err)
	}
	return m
}

// Load reads the model now rather than on first use.
func Load() error {
	_, err := loadModel()
	return err
}

// Languages returns the ISO 639-1 codes of the languages known, sorted.
func Languages() []string {
	var out []string
	for l := range sharedScripts {
		out = append(out, l)
	}
	for _, l := range uniqueScripts {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Identifier tells languages among a set. It is safe for concurrent use.
type Identifier struct {
	allowed uint64 // bit i: ngramLangs[i] may be answered
	unique  map[script]string
}

// New returns an Identifier among langs, ISO 639-1 codes, or all the
// languages known when langs is empty. It fails for a code it does not
// know. The model is read on first use (see Load).
func New(langs []string) (*Identifier, error) {
	id := &Identifier{unique: map[script]string{}}
	all := len(langs) == 0
	want := map[string]bool{}
	for _, l := range langs {
		l = strings.ToLower(l)
		_, shared := sharedScripts[l]
		if !shared && !slices.Contains(Languages(), l) {
			return nil, fmt.Errorf("unknown language %q", l)
		}
		want[l] = true
	}
	for i, l := range ngramLangs {
		if all || want[l] {
			id.allowed |= 1 << i
		}
	}
	for s, l := range uniqueScripts {
		if all || want[l] {
			id.unique[s] = l
		}
	}
	return id, nil
}

// An identification ends early once the text read so far has decided it:
// a text plainly in one language, as most are, is told from its first few
// hundred letters rather than all those its caller passed. From
// decideFirst letters of the n-gram scripts on, and every decideEvery
// letters after, Identify looks at the lead of the likeliest language of
// the text's script over the next; at decidedMargin nats the rest of a
// text is not expected to close the gap. Chosen on the UDHR pieces of
// docs/ml.md: as many named right at 200 and 1,000 characters as without
// the early end, in under half the time at 1,000 (a lead of 20 nats, or a
// first look at 128 letters, each changed a few pieces, either way).
const (
	decideFirst   = 256
	decideEvery   = 128
	decidedMargin = 30.0
)

// decided reports whether the text read so far is mostly of a shared
// script and its likeliest language leads the next by decidedMargin.
func (id *Identifier) decided(m *model, counts *[numScripts]int, scores *[64]int32) bool {
	best, total := scriptNone, 0
	for s := scriptOther; s < numScripts; s++ {
		total += counts[s]
		if counts[s] > counts[best] {
			best = s
		}
	}
	if _, ok := uniqueScripts[best]; ok || best == scriptNone || best == scriptKana || 4*counts[best] < 3*total {
		return false
	}
	first, second := int32(math.MinInt32), int32(math.MinInt32)
	for i, s := range m.scripts {
		if s != best || id.allowed&(1<<i) == 0 {
			continue
		}
		switch v := scores[i]; {
		case v > first:
			first, second = v, first
		case v > second:
			second = v
		}
	}
	return second > math.MinInt32 && float64(first-second) >= decidedMargin*m.scale
}

// Identify returns text's language and the confidence in it, from 0 to
// 1, or "" and 0 when it cannot tell. Its time is linear in text's length:
// callers bound it.
func (id *Identifier) Identify(text string) (string, float64) {
	m := mustModel()
	var (
		counts [numScripts]int
		scores [64]int32
		key    uint64
		run    int
		found  bool
		read   int // letters of the n-gram scripts read so far
	)
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		s := scriptOf(m.runeScripts, r)
		counts[s]++
		if s == scriptNone {
			run, key = 0, 0
			continue
		}
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
		} else {
			r = unicode.ToLower(r)
		}
		var c uint16
		if r < 1<<16 {
			c = m.letters[r]
		}
		if c == 0 { // an n-gram with this letter is in no language's list
			run, key = 0, 0
			continue
		}
		key = key<<format.LetterBits | uint64(c)
		run++
		if read++; read%decideEvery == 0 && read >= decideFirst && id.decided(m, &counts, &scores) {
			break
		}
		for j, n := range m.orders {
			if run < n {
				continue
			}
			v, ok := m.index.get(key & m.masks[j])
			if !ok {
				continue
			}
			found = true
			for _, p := range m.postings[v>>8 : v>>8+v&0xff] {
				scores[p.Lang] += int32(p.Bonus)
			}
		}
	}
	best := scriptNone
	counts[scriptNone] = 0 // spaces, digits, marks: not a script
	counts[scriptHan] += counts[scriptKana]
	letters := 0
	for s := scriptOther; s < numScripts; s++ {
		letters += counts[s]
		if s != scriptKana && counts[s] > counts[best] {
			best = s
		}
	}
	if best == scriptNone {
		return "", 0
	}
	share := float64(counts[best]) / float64(letters)
	if best == scriptHan && counts[scriptKana] > 0 {
		best = scriptKana
	}
	if l, ok := uniqueScripts[best]; ok {
		if id.unique[best] == "" {
			return "", 0
		}
		return l, share
	}
	if !found {
		return "", 0
	}
	// The likeliest language of the script, and a softmax over the
	// script's languages for its confidence.
	top := -1
	for i, s := range m.scripts {
		if s == best && id.allowed&(1<<i) != 0 && (top < 0 || scores[i] > scores[top]) {
			top = i
		}
	}
	if top < 0 {
		return "", 0
	}
	var sum float64
	for i, s := range m.scripts {
		if s == best && id.allowed&(1<<i) != 0 {
			sum += math.Exp(float64(scores[i]-scores[top]) / m.scale)
		}
	}
	return m.langs[top], 1 / sum
}

package bench

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/quirehq/quire/store"
)

// The search bench's documents are made of real words: searchwords/*.txt
// hold the vocabularies of real corpora, one word a line, the most frequent
// first (scripts/search-words.sh makes them): English from the State of
// the Union addresses, French, German and Spanish from the Universal
// Declaration of Human Rights. Words are drawn by rank from a Zipf
// distribution, as words of natural text are, so a few words are in
// nearly every document and most in very few; a query's cost depends on
// exactly that.
//
//go:embed searchwords/*.txt
var searchWords embed.FS

// searchZipfS is the exponent of the words' Zipf distribution: natural
// text's is close to 1 (math/rand's Zipf needs more than 1).
const searchZipfS = 1.07

// The lengths of the documents in words: log-normal, median 300 words,
// most between a hundred and a couple of thousand, a few long reports.
const (
	searchWordsMedian = 300
	searchWordsSigma  = 0.8
	searchWordsMin    = 40
	searchWordsMax    = 8000
)

// searchNumberEvery is one word in so many that is a number (an amount, a
// reference, a year): real documents have a long tail of terms no
// vocabulary lists, which the index must hold too.
const searchNumberEvery = 40

// searchLanguage is one language of the generated documents.
type searchLanguage struct {
	code  string
	share float64 // of the documents
	words []string
}

// searchLanguages lists the languages and their shares of the documents.
var searchLanguages = []struct {
	code  string
	share float64
}{{"en", 0.85}, {"fr", 0.05}, {"de", 0.05}, {"es", 0.05}}

// loadSearchLanguages reads the embedded vocabularies.
func loadSearchLanguages() ([]searchLanguage, error) {
	langs := make([]searchLanguage, 0, len(searchLanguages))
	for _, l := range searchLanguages {
		b, err := searchWords.ReadFile("searchwords/" + l.code + ".txt")
		if err != nil {
			return nil, fmt.Errorf("bench: read the %s vocabulary: %w", l.code, err)
		}
		var words []string
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if w := strings.TrimSpace(sc.Text()); w != "" {
				words = append(words, w)
			}
		}
		if len(words) < 100 {
			return nil, fmt.Errorf("bench: the %s vocabulary has %d words", l.code, len(words))
		}
		langs = append(langs, searchLanguage{code: l.code, share: l.share, words: words})
	}
	return langs, nil
}

// searchMIMETypes are the generated documents' media types with their
// shares and file extensions: mostly PDFs and emails, as in a mail room.
var searchMIMETypes = []struct {
	mime, ext string
	share     float64
}{
	{"application/pdf", ".pdf", 0.40},
	{"message/rfc822", ".eml", 0.25},
	{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx", 0.15},
	{"text/html", ".html", 0.10},
	{"text/plain", ".txt", 0.10},
}

// searchDocTypes are the classifications the generated documents carry, as
// the document-type classifier gives them.
var searchDocTypes = []string{"invoice", "letter", "report", "contract", "receipt", "memo", "statement", "notice"}

// searchStates are the final states of the generated documents with their
// shares: most are done, a few wait in the pipeline or failed.
var searchStates = []struct {
	state store.State
	share float64
}{
	{store.StateDone, 0.92},
	{store.StateIndexed, 0.04},
	{store.StateFailed, 0.02},
	{store.StateReceived, 0.02},
}

// searchDoc is one generated document.
type searchDoc struct {
	name, mime, sha256, lang, docType string
	size                              int64
	state                             store.State
	title                             string
	text                              string
	created                           time.Time
}

// searchGen generates documents. Document i depends only on the seed and
// i, so that a run is the same whatever the number of loaders.
type searchGen struct {
	seed  uint64
	langs []searchLanguage
	// track maps an English word's rank to its slot in df, or -1: the
	// generator counts the documents holding each query word, so the
	// result can say how common the words it searched for were.
	track []int32
}

func newSearchGen(seed uint64, langs []searchLanguage) *searchGen {
	return &searchGen{seed: seed, langs: langs}
}

// pick returns the index of the item whose cumulative share passes u.
func pick(u float64, shares func(i int) float64, n int) int {
	for i := range n - 1 {
		u -= shares(i)
		if u < 0 {
			return i
		}
	}
	return n - 1
}

// doc generates document i; seen, when not nil, is set for every tracked
// word the text holds (its length is the tracked words').
func (g *searchGen) doc(i int, seen []bool) searchDoc {
	rng := rand.New(rand.NewPCG(g.seed, uint64(i)))
	li := pick(rng.Float64(), func(k int) float64 { return g.langs[k].share }, len(g.langs))
	lang := g.langs[li]
	mi := pick(rng.Float64(), func(k int) float64 { return searchMIMETypes[k].share }, len(searchMIMETypes))
	si := pick(rng.Float64(), func(k int) float64 { return searchStates[k].share }, len(searchStates))
	n := int(math.Round(searchWordsMedian * math.Exp(rng.NormFloat64()*searchWordsSigma)))
	n = min(max(n, searchWordsMin), searchWordsMax)
	zipf := rand.NewZipf(rng, searchZipfS, 1, uint64(len(lang.words)-1))
	track := g.track
	if li != 0 || seen == nil {
		track = nil // only English words are searched for
	}

	var b strings.Builder
	b.Grow(n * 7)
	sentence := 0 // words left in the sentence
	var title []string
	for w := range n {
		var word string
		if rng.IntN(searchNumberEvery) == 0 {
			word = strconv.Itoa(rng.IntN(1_000_000))
		} else {
			r := zipf.Uint64()
			word = lang.words[r]
			if track != nil && int(r) < len(track) && track[r] >= 0 {
				seen[track[r]] = true
			}
		}
		if w < 6 && len(word) > 3 {
			title = append(title, word)
		}
		switch {
		case sentence == 0:
			if w > 0 {
				if rng.IntN(6) == 0 {
					b.WriteString(".\n\n")
				} else {
					b.WriteString(". ")
				}
			}
			sentence = 6 + rng.IntN(20)
			word = capitalize(word)
		case rng.IntN(12) == 0:
			b.WriteString(", ")
		default:
			b.WriteByte(' ')
		}
		b.WriteString(word)
		sentence--
	}
	b.WriteByte('.')
	text := b.String()

	var key [16]byte
	binary.LittleEndian.PutUint64(key[:8], g.seed)
	binary.LittleEndian.PutUint64(key[8:], uint64(i))
	sum := sha256.Sum256(key[:])
	m := searchMIMETypes[mi]
	docType := searchDocTypes[rng.IntN(len(searchDocTypes))]
	return searchDoc{
		name:    fmt.Sprintf("%s-%07d%s", docType, i, m.ext),
		mime:    m.mime,
		sha256:  hex.EncodeToString(sum[:]),
		lang:    lang.code,
		docType: docType,
		size:    int64(len(text)) * int64(1+rng.IntN(8)),
		state:   searchStates[si].state,
		title:   capitalize(strings.Join(title, " ")),
		text:    text,
		// Over the last ten years, for the documents' own dates.
		created: time.Date(2016, 12, 5, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(10 * 365 * 24 * time.Hour)))),
	}
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

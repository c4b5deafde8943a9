// Package lexicon holds the word lists and stemmers the ml package reads:
// stop words per language, Snowball stemmers, and the small gazetteers of
// first names and places behind person and place entities. The lists are
// embedded so that a worker needs no files beside its binary.
package lexicon

import (
	"bufio"
	"embed"
	"strings"
	"sync"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/danish"
	"github.com/blevesearch/snowballstem/dutch"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/finnish"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/german"
	"github.com/blevesearch/snowballstem/hungarian"
	"github.com/blevesearch/snowballstem/italian"
	"github.com/blevesearch/snowballstem/norwegian"
	"github.com/blevesearch/snowballstem/portuguese"
	"github.com/blevesearch/snowballstem/romanian"
	"github.com/blevesearch/snowballstem/russian"
	"github.com/blevesearch/snowballstem/spanish"
	"github.com/blevesearch/snowballstem/swedish"
	"github.com/blevesearch/snowballstem/turkish"
)

//go:embed data/*.txt
var data embed.FS

// stemmers maps an ISO 639-1 code to its Snowball stemmer.
var stemmers = map[string]func(*snowballstem.Env) bool{
	"da": danish.Stem, "de": german.Stem, "en": english.Stem, "es": spanish.Stem,
	"fi": finnish.Stem, "fr": french.Stem, "hu": hungarian.Stem, "it": italian.Stem,
	"nb": norwegian.Stem, "nl": dutch.Stem, "nn": norwegian.Stem, "no": norwegian.Stem,
	"pt": portuguese.Stem, "ro": romanian.Stem, "ru": russian.Stem, "sv": swedish.Stem,
	"tr": turkish.Stem,
}

// Stemmer returns the Snowball stemmer of a language (ISO 639-1), or nil
// when Snowball has none for it. The returned function is safe for
// concurrent use: each call gets its own Snowball environment, which is
// cheap, because the generated stemmers keep all their state there.
func Stemmer(lang string) func(word string) string {
	stem := stemmers[lang]
	if stem == nil {
		return nil
	}
	return func(word string) string {
		env := snowballstem.NewEnv(word)
		stem(env)
		return env.Current()
	}
}

// StemmerLanguages lists the languages Stemmer knows.
func StemmerLanguages() []string {
	out := make([]string, 0, len(stemmers))
	for l := range stemmers {
		out = append(out, l)
	}
	return out
}

var (
	stopOnce sync.Once
	stop     map[string]map[string]bool
)

// StopWords returns the stop words of a language (ISO 639-1), lower case,
// or nil when there is no list for it. The map must not be modified.
func StopWords(lang string) map[string]bool {
	stopOnce.Do(func() {
		stop = map[string]map[string]bool{}
		for _, l := range []string{"de", "en", "es", "fr", "it", "nl", "pt"} {
			stop[l] = wordSet("data/stop_"+l+".txt", strings.ToLower)
		}
	})
	return stop[lang]
}

var (
	gazOnce    sync.Once
	firstNames map[string]bool
	places     map[string]bool
)

func loadGazetteers() {
	gazOnce.Do(func() {
		firstNames = wordSet("data/first_names.txt", nil)
		places = lineSet("data/places.txt")
	})
}

// FirstName reports whether s is a first name of the gazetteer (as
// capitalised there).
func FirstName(s string) bool {
	loadGazetteers()
	return firstNames[s]
}

// Place reports whether s names a country, region or city of the
// gazetteer (as capitalised there).
func Place(s string) bool {
	loadGazetteers()
	return places[s]
}

// MaxPlaceWords is the most words a place name of the gazetteer has.
const MaxPlaceWords = 3

func wordSet(name string, norm func(string) string) map[string]bool {
	b, err := data.ReadFile(name)
	if err != nil {
		panic("lexicon: " + err.Error()) // embedded: a missing file is a build mistake
	}
	set := map[string]bool{}
	for _, w := range strings.Fields(string(b)) {
		if norm != nil {
			w = norm(w)
		}
		set[w] = true
	}
	return set
}

func lineSet(name string) map[string]bool {
	b, err := data.ReadFile(name)
	if err != nil {
		panic("lexicon: " + err.Error())
	}
	set := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			set[l] = true
		}
	}
	return set
}

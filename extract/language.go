package extract

// OCR reads a page best in the page's own language: tesseract given only
// English reads "Größe" as "GroBe", and given every language installed it
// runs each one's model over every word, slower with each. So a document
// that has text (a PDF's text pages around its scans, or a first OCR pass)
// is read in the language that text is in, told here.
//
// The guess lives in this package rather than behind a hook filled from
// package ml: it only has to choose among the few languages tesseract has
// installed, which their commonest words tell apart in a page of text; it
// needs no model to load; and it works the same with --ml=false, in quire
// process and in the tests, without extract importing ml and, through it,
// the store.

import (
	"strings"
	"unicode"
)

// ocrLanguage is a language OCR may choose for a document.
type ocrLanguage struct {
	// code is tesseract's name for it, that of its traineddata.
	code string
	// script tells the language by its letters when they are its own
	// (Greek, Hangul); nil for a language told by its words.
	script *unicode.RangeTable
	// words are frequent short words of the language, most of them rare in
	// the other languages of the table: a text's share of them tells its
	// language.
	words string
}

// ocrLanguages are the languages told apart, in the order an image without
// text prefers them when more are installed than it reads at once
// (ocrTextlessMax): English first, the language of most documents and of
// the words mixed into others', then the other Latin-script languages of
// Western Europe, whose models read each other's letters; a Cyrillic, Greek
// or Asian model run over the same words costs time and mistakes Latin
// letters for its own.
var ocrLanguages = []ocrLanguage{
	{code: "eng", words: "the and of to is that with for this are was have from which be by it or as on"},
	{code: "deu", words: "der die und das ist nicht mit den von zu ein eine sich auf für dem des auch es wird sind werden im"},
	{code: "fra", words: "le la les et des est une du que pour dans qui pas sur au avec sont ce il par ne"},
	{code: "spa", words: "el los las y del que por una con para es se su al lo como más"},
	{code: "ita", words: "il di che e della per non sono una con gli del alla è nel dei si anche"},
	{code: "por", words: "o os as e do da que não em uma com para dos das se é ao no na"},
	{code: "nld", words: "de het een en van is dat niet op voor met zijn te er ook aan wordt"},
	{code: "swe", words: "och att det som är på för med av inte till den har om"},
	{code: "dan", words: "og at det er til af på for med den ikke som har et"},
	{code: "nor", words: "og er det som til av på for med ikke har å den"},
	{code: "fin", words: "ja on ei että se oli hän kun mutta tai ovat myös joka sen"},
	{code: "pol", words: "i w nie na się z jest do to że o jak ale co od po dla"},
	{code: "ces", words: "a je v se na že to s z do o pro jako ale by jsou také není"},
	{code: "tur", words: "ve bir bu da için ile olarak çok daha gibi olan ama"},
	{code: "hun", words: "a az és hogy nem is egy meg van volt csak ez mint"},
	{code: "ron", words: "și în la cu pe care să nu un din este mai pentru"},
	{code: "rus", words: "и в не на что с по как это он к из но для от же все был"},
	{code: "ukr", words: "і в не на що з та до як це у від для й є але він"},
	{code: "ell", script: unicode.Greek},
	{code: "heb", script: unicode.Hebrew},
	{code: "ara", script: unicode.Arabic},
	{code: "kor", script: unicode.Hangul},
	{code: "jpn", script: unicode.Hiragana},
	{code: "chi_sim", script: unicode.Han},
	{code: "tha", script: unicode.Thai},
}

// ocrLanguageWords indexes ocrLanguages' words: word -> codes of the
// languages that use it.
var ocrLanguageWords = func() map[string][]string {
	m := map[string][]string{}
	for _, l := range ocrLanguages {
		for _, w := range strings.Fields(l.words) {
			m[w] = append(m[w], l.code)
		}
	}
	return m
}()

const (
	// guessMaxWords is how much of a text the guess reads: a few pages
	// tell the language as well as a book, and the guess stays cheap.
	guessMaxWords = 2000
	// guessMinHits is the fewest of a language's words a text must hold
	// for the guess to trust it: a title or a page number tells nothing.
	guessMinHits = 5
)

// guessLanguage returns which of among (tesseract codes) text is written
// in, or "" when text is too short to tell or in none of them.
func guessLanguage(text string, among []string) string {
	if len(among) == 0 {
		return ""
	}
	allowed := make(map[string]bool, len(among))
	for _, c := range among {
		allowed[c] = true
	}
	hits := map[string]int{}
	scripts := map[*unicode.RangeTable]int{}
	words, letters := 0, 0
	for w := range strings.FieldsFuncSeq(text, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if words == guessMaxWords {
			break
		}
		words++
		for _, c := range ocrLanguageWords[strings.ToLower(w)] {
			if allowed[c] {
				hits[c]++
			}
		}
		for _, r := range w {
			letters++
			for _, l := range ocrLanguages {
				if l.script != nil && allowed[l.code] && unicode.Is(l.script, r) {
					scripts[l.script]++
				}
			}
		}
	}
	// A script of a language's own decides when most letters are in it;
	// Japanese is also written in Han, so kana decide before Han does.
	for _, l := range ocrLanguages {
		if l.script != nil && allowed[l.code] && scripts[l.script]*2 > letters {
			return l.code
		}
	}
	best, second := "", 0
	for _, c := range among {
		switch n := hits[c]; {
		case best == "" || n > hits[best]:
			second = hits[best]
			best = c
		case n > second:
			second = n
		}
	}
	n := hits[best]
	// A tenth of running text is made of a language's commonest words
	// (about a third in this table's languages); a text where the best
	// language does not reach that, or barely beats the next, is in
	// another language, or too garbled to tell.
	if n < guessMinHits || n*10 < words || n*4 < second*5 {
		return ""
	}
	return best
}

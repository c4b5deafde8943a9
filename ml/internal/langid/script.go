package langid

import "unicode"

// script is a writing system, as far as telling languages apart needs.
type script uint8

const (
	scriptNone  script = iota // not a letter
	scriptOther               // a letter of a script no language here uses
	scriptLatin
	scriptCyrillic
	scriptArabic
	scriptDevanagari
	scriptArmenian
	scriptBengali
	scriptGeorgian
	scriptGreek
	scriptGujarati
	scriptGurmukhi
	scriptHangul
	scriptHebrew
	scriptTamil
	scriptTelugu
	scriptThai
	scriptHan  // Chinese, or Japanese with kana
	scriptKana // Japanese
	numScripts
)

// scriptTables are the Unicode scripts of the letters of lingua's 75
// languages.
var scriptTables = [numScripts]*unicode.RangeTable{
	scriptLatin:      unicode.Latin,
	scriptCyrillic:   unicode.Cyrillic,
	scriptArabic:     unicode.Arabic,
	scriptDevanagari: unicode.Devanagari,
	scriptArmenian:   unicode.Armenian,
	scriptBengali:    unicode.Bengali,
	scriptGeorgian:   unicode.Georgian,
	scriptGreek:      unicode.Greek,
	scriptGujarati:   unicode.Gujarati,
	scriptGurmukhi:   unicode.Gurmukhi,
	scriptHangul:     unicode.Hangul,
	scriptHebrew:     unicode.Hebrew,
	scriptTamil:      unicode.Tamil,
	scriptTelugu:     unicode.Telugu,
	scriptThai:       unicode.Thai,
	scriptHan:        unicode.Han,
}

// uniqueScripts decide a language alone: lingua knows one language
// written in each. Han is Chinese unless kana are mixed in (Japanese).
var uniqueScripts = map[script]string{
	scriptArmenian: "hy",
	scriptBengali:  "bn",
	scriptGeorgian: "ka",
	scriptGreek:    "el",
	scriptGujarati: "gu",
	scriptGurmukhi: "pa",
	scriptHangul:   "ko",
	scriptHebrew:   "he",
	scriptTamil:    "ta",
	scriptTelugu:   "te",
	scriptThai:     "th",
	scriptHan:      "zh",
	scriptKana:     "ja",
}

// sharedScripts are the scripts of the languages told by n-grams.
var sharedScripts = map[string]script{
	"af": scriptLatin, "az": scriptLatin, "ca": scriptLatin, "cs": scriptLatin, "cy": scriptLatin,
	"da": scriptLatin, "de": scriptLatin, "en": scriptLatin, "eo": scriptLatin, "es": scriptLatin,
	"et": scriptLatin, "eu": scriptLatin, "fi": scriptLatin, "fr": scriptLatin, "ga": scriptLatin,
	"hr": scriptLatin, "hu": scriptLatin, "id": scriptLatin, "is": scriptLatin, "it": scriptLatin,
	"la": scriptLatin, "lg": scriptLatin, "lt": scriptLatin, "lv": scriptLatin, "mi": scriptLatin,
	"ms": scriptLatin, "nb": scriptLatin, "nl": scriptLatin, "nn": scriptLatin, "pl": scriptLatin,
	"pt": scriptLatin, "ro": scriptLatin, "sk": scriptLatin, "sl": scriptLatin, "sn": scriptLatin,
	"so": scriptLatin, "sq": scriptLatin, "st": scriptLatin, "sv": scriptLatin, "sw": scriptLatin,
	"tl": scriptLatin, "tn": scriptLatin, "tr": scriptLatin, "ts": scriptLatin, "vi": scriptLatin,
	"xh": scriptLatin, "yo": scriptLatin, "zu": scriptLatin, "bs": scriptLatin,
	"be": scriptCyrillic, "bg": scriptCyrillic, "kk": scriptCyrillic, "mk": scriptCyrillic,
	"mn": scriptCyrillic, "ru": scriptCyrillic, "sr": scriptCyrillic, "uk": scriptCyrillic,
	"ar": scriptArabic, "fa": scriptArabic, "ur": scriptArabic,
	"hi": scriptDevanagari, "mr": scriptDevanagari,
}

// scriptTable returns the script of every rune of the Basic Multilingual
// Plane, so that a letter's script costs one load.
func scriptTable() *[1 << 16]script {
	t := new([1 << 16]script)
	set := func(s script, tab *unicode.RangeTable) {
		for _, rg := range tab.R16 {
			for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
				if unicode.IsLetter(r) && t[r] <= scriptOther {
					t[r] = s
				}
			}
		}
	}
	set(scriptKana, unicode.Hiragana)
	set(scriptKana, unicode.Katakana)
	for s, tab := range scriptTables {
		if tab != nil {
			set(script(s), tab)
		}
	}
	for r := range rune(1 << 16) {
		if t[r] == scriptNone && unicode.IsLetter(r) {
			t[r] = scriptOther
		}
	}
	return t
}

// scriptOf returns r's script, t being scriptTable's.
func scriptOf(t *[1 << 16]script, r rune) script {
	if r < 1<<16 {
		return t[r]
	}
	if !unicode.IsLetter(r) {
		return scriptNone
	}
	if unicode.Is(unicode.Han, r) {
		return scriptHan
	}
	return scriptOther
}

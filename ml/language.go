package ml

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/quirehq/quire/ml/internal/langid"
)

// LanguageIdentifier tells the language of a text.
type LanguageIdentifier interface {
	// Identify returns the text's language as an ISO 639-1 code ("en")
	// and the confidence in it, from 0 to 1; "" when it cannot tell.
	Identify(text string) (lang string, confidence float64)
}

// LanguageOpts are the optional settings of NewLanguageIdentifier. Nil
// means defaults.
type LanguageOpts struct {
	// Languages restricts identification to these ISO 639-1 codes, at
	// least 2. Defaults to the 75 languages known (those of lingua-go,
	// whose n-gram frequencies the model is built from).
	Languages []string
	// Preload reads the model (under a megabyte embedded, a few of memory,
	// about 60 ms) now rather than on the first identification, so that
	// the first document is not slower. Defaults to false.
	Preload bool
	// MaxChars is how many characters of a text are read (after runs of
	// white space are collapsed), at most MaxCharsLimit. Identification
	// takes time linear in them, about 25 µs for 1,000 characters on this
	// project's 2-core machine, and 1,000 characters identify more than
	// 200 (docs/ml.md). Defaults to 1,000.
	MaxChars int
}

const (
	// MaxCharsDefault is the default of LanguageOpts.MaxChars.
	MaxCharsDefault = 1000
	// MaxCharsLimit bounds LanguageOpts.MaxChars: a few KiB of a text
	// tell its language as well as all of it.
	MaxCharsLimit = 4096
)

// Undetermined is the language recorded of a text that does not tell its
// own: ISO 639-2's code "und".
const Undetermined = "und"

// The prose test of the analyzer: a text is given a language when its
// sample (the characters the identifier reads) holds at least
// proseMinLetters letters in plain words, and those letters are at least
// proseMinShare of its characters other than white space. A plain word is
// letters and marks, with hyphens or apostrophes inside, once the
// punctuation around it is set aside. A name or two, a Makefile.am, an
// Internet shortcut, CSV, JSON, go.mod or nginx.conf fall short (the
// language tests hold such files); prose, even 50 characters of it, passes,
// and so does source code whose comments are prose, in the comments'
// language. Below the mark the identifier would still name the likeliest of
// 75 languages from a handful of n-grams (Yoruba for a Makefile.am, Latin
// for a URL), with a confidence near 1: its confidence says how much one
// language beats the others, not whether the text is in any.
const (
	proseMinLetters = 20
	proseMinShare   = 0.5
)

// prose reports whether a sample reads as text in some language (see
// proseMinLetters).
func prose(sample string) bool {
	plain, chars := 0, 0
	for w := range strings.FieldsSeq(sample) {
		chars += utf8.RuneCountInString(w)
		if strings.HasSuffix(w, `":`) || strings.HasSuffix(w, `':`) {
			continue // a key of JSON, YAML or Python
		}
		w = strings.TrimLeft(w, "([\"'¿¡«“‘„")
		w = strings.TrimRight(w, ")]\"'.,;:!?»…”’")
		plain += plainLetters(w)
	}
	return plain >= proseMinLetters && float64(plain) >= proseMinShare*float64(chars)
}

// plainLetters returns the letters of a plain word, or 0 when w is not one.
// A letter of a script that writes a word in few letters counts for more
// (letterWeight).
func plainLetters(w string) int {
	letters, dense := 0, false
	for i, r := range w {
		switch {
		case unicode.IsLetter(r) || unicode.IsMark(r):
			n := letterWeight(r)
			letters += n
			dense = n > 1
		case (r == '-' || r == '\'' || r == '’') && i > 0 && i+utf8.RuneLen(r) < len(w):
		case r >= utf8.RuneSelf && (unicode.IsPunct(r) || unicode.Is(unicode.Cf, r)):
			// Chinese, Japanese and Thai put no space after their
			// commas and full stops (、。), and joiners (Persian's
			// ZWNJ, Mongolian's vowel separator) sit inside words:
			// neither is code.
		case dense && strings.ContainsRune(",.;:!?()[]", r):
			// Nor is an ASCII comma or bracket after a Chinese
			// character or a Thai letter.
		default:
			return 0
		}
	}
	return letters
}

// letterWeight is what a letter counts for in the prose test: three for
// Chinese characters and Japanese kana, two for the syllables of Korean
// and the letters of the Southeast Asian scripts written without spaces
// between words, one for alphabets. Ten Chinese characters say as much as
// thirty Latin letters.
func letterWeight(r rune) int {
	switch {
	case r < 0x0E00: // Latin, Greek, Cyrillic, Arabic, Hebrew, Indic...
		return 1
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana):
		return 3
	case unicode.In(r, unicode.Hangul, unicode.Thai, unicode.Lao, unicode.Myanmar, unicode.Khmer):
		return 2
	}
	return 1
}

// NgramIdentifier identifies languages by their script when only one
// language is written in it (Greek, Thai, Hangul, …), and otherwise by
// the n-grams of their words, scored with a compact model built from
// lingua-go's n-gram frequencies (package ml/internal/langid). It is safe
// for concurrent use.
type NgramIdentifier struct {
	id       *langid.Identifier
	maxChars int
}

// NewLanguageIdentifier returns an identifier. It fails for a language
// code it does not know, for fewer than 2 languages, and for a MaxChars
// out of range.
func NewLanguageIdentifier(opts *LanguageOpts) (*NgramIdentifier, error) {
	var o LanguageOpts
	if opts != nil {
		o = *opts
	}
	if o.MaxChars == 0 {
		o.MaxChars = MaxCharsDefault
	}
	if o.MaxChars < 0 || o.MaxChars > MaxCharsLimit {
		return nil, fmt.Errorf("language identifier: MaxChars %d is not in 1..%d", o.MaxChars, MaxCharsLimit)
	}
	if len(o.Languages) == 1 {
		return nil, fmt.Errorf("language identifier: 1 language given, need at least 2")
	}
	id, err := langid.New(o.Languages)
	if err != nil {
		return nil, fmt.Errorf("language identifier: %w", err)
	}
	if o.Preload {
		if err := langid.Load(); err != nil {
			return nil, fmt.Errorf("language identifier: %w", err)
		}
	}
	return &NgramIdentifier{id: id, maxChars: o.MaxChars}, nil
}

// Identify implements LanguageIdentifier.
func (l *NgramIdentifier) Identify(text string) (string, float64) {
	return l.id.Identify(sample(text, l.maxChars))
}

// sample returns the start of text that holds its first n characters of
// words, counting each run of white space between them as one character.
// It ends at a word boundary where there is one, and cuts a first word
// longer than n.
func sample(text string, n int) string {
	chars, end, inWord := 0, 0, false
	for i, r := range text {
		if unicode.IsSpace(r) {
			if inWord {
				end, inWord = i, false
			}
			continue
		}
		if !inWord {
			if chars > 0 {
				chars++ // the space before this word
			}
			inWord = true
		}
		if chars >= n {
			if end == 0 {
				return text[:i]
			}
			return text[:end]
		}
		chars++
	}
	return text
}

// ISO639_3 maps an ISO 639-3 code (as UDHR translations are labelled) to
// the ISO 639-1 code Identify returns, or "" for a language it does not
// know. Individual languages known by their macrolanguage (Mandarin as
// Chinese, Standard Arabic as Arabic) map to it.
func ISO639_3(code string) string {
	code = strings.ToLower(code)
	if m, ok := macrolanguages[code]; ok {
		code = m
	}
	return iso639_3[code]
}

// iso639_3 maps the ISO 639-3 codes of the languages known to their ISO
// 639-1 codes.
var iso639_3 = map[string]string{
	"afr": "af", // Afrikaans
	"sqi": "sq", // Albanian
	"ara": "ar", // Arabic
	"hye": "hy", // Armenian
	"aze": "az", // Azerbaijani
	"eus": "eu", // Basque
	"bel": "be", // Belarusian
	"ben": "bn", // Bengali
	"nob": "nb", // Bokmal
	"bos": "bs", // Bosnian
	"bul": "bg", // Bulgarian
	"cat": "ca", // Catalan
	"zho": "zh", // Chinese
	"hrv": "hr", // Croatian
	"ces": "cs", // Czech
	"dan": "da", // Danish
	"nld": "nl", // Dutch
	"eng": "en", // English
	"epo": "eo", // Esperanto
	"est": "et", // Estonian
	"fin": "fi", // Finnish
	"fra": "fr", // French
	"lug": "lg", // Ganda
	"kat": "ka", // Georgian
	"deu": "de", // German
	"ell": "el", // Greek
	"guj": "gu", // Gujarati
	"heb": "he", // Hebrew
	"hin": "hi", // Hindi
	"hun": "hu", // Hungarian
	"isl": "is", // Icelandic
	"ind": "id", // Indonesian
	"gle": "ga", // Irish
	"ita": "it", // Italian
	"jpn": "ja", // Japanese
	"kaz": "kk", // Kazakh
	"kor": "ko", // Korean
	"lat": "la", // Latin
	"lav": "lv", // Latvian
	"lit": "lt", // Lithuanian
	"mkd": "mk", // Macedonian
	"msa": "ms", // Malay
	"mri": "mi", // Maori
	"mar": "mr", // Marathi
	"mon": "mn", // Mongolian
	"nno": "nn", // Nynorsk
	"fas": "fa", // Persian
	"pol": "pl", // Polish
	"por": "pt", // Portuguese
	"pan": "pa", // Punjabi
	"ron": "ro", // Romanian
	"rus": "ru", // Russian
	"srp": "sr", // Serbian
	"sna": "sn", // Shona
	"slk": "sk", // Slovak
	"slv": "sl", // Slovene
	"som": "so", // Somali
	"sot": "st", // Sotho
	"spa": "es", // Spanish
	"swa": "sw", // Swahili
	"swe": "sv", // Swedish
	"tgl": "tl", // Tagalog
	"tam": "ta", // Tamil
	"tel": "te", // Telugu
	"tha": "th", // Thai
	"tso": "ts", // Tsonga
	"tsn": "tn", // Tswana
	"tur": "tr", // Turkish
	"ukr": "uk", // Ukrainian
	"urd": "ur", // Urdu
	"vie": "vi", // Vietnamese
	"cym": "cy", // Welsh
	"xho": "xh", // Xhosa
	"yor": "yo", // Yoruba
	"zul": "zu", // Zulu
}

// macrolanguages maps individual languages to the macrolanguage they are
// known by.
var macrolanguages = map[string]string{
	"arb": "ara", // Standard Arabic
	"azj": "aze", // North Azerbaijani
	"cmn": "zho", // Mandarin Chinese
	"ekk": "est", // Standard Estonian
	"khk": "mon", // Halh Mongolian
	"lvs": "lav", // Standard Latvian
	"pes": "fas", // Iranian Persian
	"plt": "mlg", // Plateau Malagasy
	"swh": "swa", // Swahili
	"uzn": "uzb", // Northern Uzbek
	"ydd": "yid", // Eastern Yiddish
	"zsm": "msa", // Standard Malay
	"als": "sqi", // Tosk Albanian
	"npi": "nep", // Nepali
	"ory": "ori", // Odia
	"gaz": "orm", // West Central Oromo
	"quz": "que", // Cusco Quechua
}

var _ LanguageIdentifier = (*NgramIdentifier)(nil)

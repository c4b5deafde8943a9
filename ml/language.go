package ml

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pemistahl/lingua-go"
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
	// Languages restricts identification to these ISO 639-1 codes: fewer
	// languages take less memory and time. Defaults to the 75 languages
	// lingua knows.
	Languages []string
	// Preload loads every language's model at once rather than on first
	// use, so that the first documents are not slow (a worker's startup
	// probe can cover it). Defaults to false.
	Preload bool
	// MaxChars is how many characters of a text are read (after runs of
	// white space are collapsed). lingua's time grows faster than the
	// text: on this project's 2-core machine, in CPU time, about 0.8 ms
	// for 60 characters, 1.8 ms for 200, 6 ms for 400 and 31 ms for 1,000,
	// where its sums of log probabilities underflow float64 and it falls
	// back to arbitrary-precision decimals. 200 characters identify 92% of
	// UDHR samples (docs/ml.md). Defaults to 200.
	MaxChars int
}

// MaxCharsDefault is the default of LanguageOpts.MaxChars.
const MaxCharsDefault = 200

// Lingua identifies languages with lingua-go in its low-accuracy mode,
// which reads trigrams only: about 170 MB of models for all languages
// instead of about 2 GB in high-accuracy mode, at a small cost on short
// texts. It is safe for concurrent use.
type Lingua struct {
	det      lingua.LanguageDetector
	maxChars int
}

// NewLanguageIdentifier returns a lingua-backed identifier. It fails for a
// language code lingua does not know.
func NewLanguageIdentifier(opts *LanguageOpts) (*Lingua, error) {
	var o LanguageOpts
	if opts != nil {
		o = *opts
	}
	if o.MaxChars == 0 {
		o.MaxChars = MaxCharsDefault
	}
	b := lingua.NewLanguageDetectorBuilder()
	var builder lingua.LanguageDetectorBuilder
	if len(o.Languages) == 0 {
		builder = b.FromAllLanguages()
	} else {
		codes := make([]lingua.IsoCode639_1, 0, len(o.Languages))
		for _, l := range o.Languages {
			c := lingua.GetIsoCode639_1FromValue(strings.ToUpper(l))
			if c == lingua.UnknownIsoCode639_1 {
				return nil, fmt.Errorf("language identifier: unknown language %q", l)
			}
			codes = append(codes, c)
		}
		if len(codes) < 2 {
			return nil, fmt.Errorf("language identifier: %d languages given, need at least 2", len(codes))
		}
		builder = b.FromIsoCodes639_1(codes...)
	}
	builder = builder.WithLowAccuracyMode()
	if o.Preload {
		builder = builder.WithPreloadedLanguageModels()
	}
	return &Lingua{det: builder.Build(), maxChars: o.MaxChars}, nil
}

// Identify implements LanguageIdentifier.
func (l *Lingua) Identify(text string) (string, float64) {
	text = sample(text, l.maxChars)
	vals := l.det.ComputeLanguageConfidenceValues(text)
	if len(vals) == 0 || vals[0].Value() <= 0 {
		return "", 0
	}
	return strings.ToLower(vals[0].Language().IsoCode639_1().String()), vals[0].Value()
}

// sample returns the first n characters of text's words, separated by
// single spaces, cut at a word boundary where there is one.
func sample(text string, n int) string {
	var b strings.Builder
	chars := 0
	for w := range strings.FieldsSeq(text) {
		k := utf8.RuneCountInString(w)
		if chars > 0 {
			if chars+1+k > n {
				break
			}
			b.WriteByte(' ')
			chars++
		}
		if k > n-chars { // one very long word: cut it
			for i := range w {
				if chars == n {
					break
				}
				r, _ := utf8.DecodeRuneInString(w[i:])
				b.WriteRune(r)
				chars++
			}
			break
		}
		b.WriteString(w)
		chars += k
	}
	return b.String()
}

// ISO639_3 maps an ISO 639-3 code (as UDHR translations are labelled) to
// the ISO 639-1 code Identify returns, or "" for a language lingua does
// not know. Individual languages that lingua knows by their macrolanguage
// (Mandarin as Chinese, Standard Arabic as Arabic) map to it.
func ISO639_3(code string) string {
	code = strings.ToLower(code)
	if m, ok := macrolanguages[code]; ok {
		code = m
	}
	iso3Once.Do(func() {
		iso3 = map[string]string{}
		for _, lang := range lingua.AllLanguages() {
			iso3[strings.ToLower(lang.IsoCode639_3().String())] = strings.ToLower(lang.IsoCode639_1().String())
		}
	})
	return iso3[code]
}

var (
	iso3Once sync.Once
	iso3     map[string]string
)

// macrolanguages maps individual languages to the macrolanguage lingua
// names them by.
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

var _ LanguageIdentifier = (*Lingua)(nil)

package ml

import (
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/quirehq/quire/ml/internal/lexicon"
	"github.com/quirehq/quire/store"
)

// Entity kinds the extractors find.
const (
	EntityDate   = "date"   // Value is YYYY-MM-DD
	EntityEmail  = "email"  // Value is the address, lower case
	EntityIBAN   = "iban"   // Value is the IBAN without spaces, upper case
	EntityMoney  = "money"  // Value is "CUR amount", such as "USD 1234.50"
	EntityPerson = "person" // Value is the name as written
	EntityPhone  = "phone"  // Value is the digits, with a leading + when international
	EntityPlace  = "place"  // Value is the gazetteer's name
	EntityURL    = "url"    // Value is the URL as written
)

// Entities finds the entities of text: emails, URLs, IBANs (checksum
// verified), money amounts, dates, phone numbers, and people and places
// named in the gazetteers. Each has its byte span in text; where two
// matches overlap, the more specific kind (in the order above: IBAN, URL,
// email, money, date, phone, person, place) keeps the span. The result is
// ordered by position.
func Entities(text string) []store.Entity {
	return entities(text, nil)
}

// entities is Entities with the text's tokens, when the caller has them
// already (any tokenizer's: only their Text and offsets are read).
func entities(text string, toks []Token) []store.Entity {
	var x entityScan
	x.text = text
	// Go's regexp engine has no fast scan for patterns that start with a
	// class or an alternation, and most texts hold no money or phone
	// number at all: a cheap look for what each pattern needs (an @, a
	// currency, a digit) skips the patterns that cannot match.
	lower := strings.ToLower(text)
	digits := strings.ContainsAny(text, "0123456789")
	if digits && strings.ContainsAny(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		x.ibans()
	}
	if strings.Contains(text, "://") || strings.Contains(lower, "www.") {
		x.regexp(EntityURL, urlRE, 0.95, normURL)
	}
	if strings.IndexByte(text, '@') >= 0 {
		x.regexp(EntityEmail, emailRE, 0.95, func(s string) (string, bool) { return strings.ToLower(s), true })
	}
	if digits {
		// Money, dates and phone numbers all hold digits: their patterns
		// run only on the stretches of text around digits, which in
		// prose are a small part of it.
		x.windows = digitWindows(text, windowPad)
		if strings.ContainsAny(text, "$€£¥") || containsAny(lower, currencyNames) {
			for _, re := range moneyREs {
				x.regexp(EntityMoney, re, 0.9, normMoney)
			}
		}
		for _, d := range dateREs {
			if d.needsMonth && !containsAny(lower, monthPrefixes) {
				continue
			}
			x.regexp(EntityDate, d.re, 0.9, d.norm)
		}
		if containsAny(lower, phoneLabels) {
			x.regexp(EntityPhone, phoneLabelledRE, 0.85, normPhone)
		}
		if strings.IndexByte(text, '+') >= 0 {
			x.regexp(EntityPhone, phoneIntlRE, 0.8, normPhone)
		}
		x.regexp(EntityPhone, phoneNANPRE, 0.7, normPhone)
		x.windows = nil
	}
	if toks == nil {
		toks = defaultTokenizer.Tokens(text)
	}
	x.names(toks)
	slices.SortFunc(x.found, func(a, b store.Entity) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	return x.found
}

// Words whose presence lets a pattern match, lower case.
var (
	currencyNames = []string{"usd", "eur", "gbp", "chf", "jpy", "cad", "aud", "dollar", "pound"}
	monthPrefixes = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	phoneLabels   = []string{"tel", "phone", "fax", "mobile", "cell", "call"}
)

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// entityScan collects entities, keeping spans from overlapping.
type entityScan struct {
	text  string
	found []store.Entity
	// windows, when set, are the only spans of text regexp searches.
	windows [][2]int
}

// windowPad is how far around a digit the digit patterns look: enough for
// "September 22nd," before a year, "Telephone: " before a number, or
// " million dollars" after one.
const windowPad = 32

// digitWindows returns the spans of text within pad bytes of a digit,
// widened to white space (so that no pattern sees half a word at a span's
// edge) and merged where they touch.
func digitWindows(text string, pad int) [][2]int {
	var out [][2]int
	for i := 0; i < len(text); i++ {
		if text[i] < '0' || text[i] > '9' {
			continue
		}
		start, end := max(i-pad, 0), min(i+pad, len(text))
		for start > 0 && !isSpace(text[start-1]) {
			start--
		}
		for end < len(text) && !isSpace(text[end]) {
			end++
		}
		if n := len(out); n > 0 && start <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], end)
		} else {
			out = append(out, [2]int{start, end})
		}
		// Digits inside this span add nothing until near its end.
		if skip := end - pad - 1; skip > i {
			i = skip
		}
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' }

func (x *entityScan) free(start, end int) bool {
	for _, e := range x.found {
		if start < e.End && e.Start < end {
			return false
		}
	}
	return true
}

func (x *entityScan) add(kind, value string, start, end int, conf float64) {
	if value == "" || !x.free(start, end) {
		return
	}
	x.found = append(x.found, store.Entity{Kind: kind, Value: value, Start: start, End: end, Confidence: conf})
}

// regexp adds the matches of re that norm accepts. The match is the group
// named v when re has one (to leave out context such as "Tel:"), else the
// whole.
func (x *entityScan) regexp(kind string, re *regexp.Regexp, conf float64, norm func(string) (string, bool)) {
	v := re.SubexpIndex("v")
	spans := x.windows
	if spans == nil {
		spans = [][2]int{{0, len(x.text)}}
	}
	for _, w := range spans {
		x.regexpIn(kind, re, v, w[0], w[1], conf, norm)
	}
}

// regexpIn is regexp on text[lo:hi].
func (x *entityScan) regexpIn(kind string, re *regexp.Regexp, v, lo, hi int, conf float64, norm func(string) (string, bool)) {
	for _, m := range re.FindAllStringSubmatchIndex(x.text[lo:hi], -1) {
		start, end := lo+m[0], lo+m[1]
		if v > 0 && m[2*v] >= 0 {
			start, end = lo+m[2*v], lo+m[2*v+1]
		}
		s := x.text[start:end]
		if kind == EntityURL {
			s = trimURL(s)
			end = start + len(s)
		}
		if v, ok := norm(s); ok {
			x.add(kind, v, start, end, conf)
		}
	}
}

var (
	// The local part takes RFC 5322's atext (o'brien, mb/vipul,
	// online#3.19578@…), but must start and end with a letter, a digit
	// or a symbol that is not a quote, so that quotes around an address
	// stay out of it.
	emailRE = regexp.MustCompile(`(?i)[a-z0-9!#$%&*+/=?^_{|}~\-](?:[a-z0-9!#$%&'*+/=?^_{|}~.\-]*[a-z0-9!#$%&*+/=?^_{|}~\-])?@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,24}\b`)
	urlRE   = regexp.MustCompile(`(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>"'` + "`" + `{}|\\^\[\]]+`)
	// Phone numbers: after a label, international (+CC), and the North
	// American (NNN) NNN-NNNN forms. Bare digit runs are left alone: they
	// are more often order numbers than phones.
	phoneLabelledRE = regexp.MustCompile(`(?i)\b(?:tel|phone|telephone|fax|mobile|cell|call)\b\.?:?\s*(?P<v>\+?\d[\d \-./()]{5,18}\d)`)
	phoneIntlRE     = regexp.MustCompile(`(?:^|[^\w+])(?P<v>\+\d{1,3}[ \-.]?(?:\(\d{1,4}\)[ \-.]?)?\d{1,4}(?:[ \-.]?\d{2,4}){1,4})\b`)
	phoneNANPRE     = regexp.MustCompile(`(?:^|[^\w])(?P<v>(?:1[ \-.])?(?:\(\d{3}\)\s?|\d{3}[\-.])\d{3}[\-.]\d{4})\b`)
)

func normURL(s string) (string, bool) { return s, len(s) > len("www.x.y") }

// trimURL drops the punctuation that ends a sentence rather than the URL,
// and a closing parenthesis the URL did not open.
func trimURL(s string) string {
	for s != "" {
		last := s[len(s)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"", last) >= 0:
			s = s[:len(s)-1]
		case last == ')' && strings.Count(s, "(") < strings.Count(s, ")"):
			s = s[:len(s)-1]
		default:
			return s
		}
	}
	return s
}

func normPhone(s string) (string, bool) {
	var b strings.Builder
	if strings.HasPrefix(strings.TrimSpace(s), "+") {
		b.WriteByte('+')
	}
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
			n++
		}
	}
	v := b.String()
	// 00 is the international prefix of most of the world: the same
	// number as +.
	if strings.HasPrefix(v, "00") {
		v, n = "+"+v[2:], n-2
	}
	// ITU-T E.164 numbers have at most 15 digits; fewer than 7 is not a
	// number one can call.
	return v, n >= 7 && n <= 15
}

// IBANs

// ibanLengths are the lengths of each country's IBANs (ISO 13616
// registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
	"RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// ibanStartRE finds where an IBAN may start; ibans reads on from there, as
// IBANs are often written in groups of four.
var ibanStartRE = regexp.MustCompile(`\b[A-Z]{2}\d{2}[ ]?[A-Z0-9]`)

// ibans adds the IBANs of the text whose length fits their country and
// whose check digits verify.
func (x *entityScan) ibans() {
	for _, m := range ibanStartRE.FindAllStringIndex(x.text, -1) {
		start := m[0]
		want, ok := ibanLengths[x.text[start:start+2]]
		if !ok {
			continue
		}
		var b strings.Builder
		end := start
		for end < len(x.text) && b.Len() < want {
			c := x.text[end]
			switch {
			case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
				b.WriteByte(c)
			case c == ' ' && end+1 < len(x.text) && x.text[end+1] != ' ':
			default:
				end = len(x.text) // stop: not part of an IBAN
				continue
			}
			end++
		}
		if b.Len() != want {
			continue
		}
		// The IBAN must end at a word boundary, not run into more letters
		// or digits.
		if end < len(x.text) && isAlnum(x.text[end]) {
			continue
		}
		if iban := b.String(); ValidIBAN(iban) {
			x.add(EntityIBAN, iban, start, end, 0.99)
		}
	}
}

func isAlnum(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// ValidIBAN reports whether s (spaces allowed, any case) is an IBAN of a
// known country, of that country's length, whose ISO 7064 mod 97-10 check
// digits verify.
func ValidIBAN(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(s) < 4 || ibanLengths[s[:2]] != len(s) {
		return false
	}
	var digits strings.Builder
	for _, c := range s[4:] + s[:4] {
		switch {
		case c >= '0' && c <= '9':
			digits.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			digits.WriteString(strconv.Itoa(int(c-'A') + 10))
		default:
			return false
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// Money

var moneyREs = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(?:US\$|[$€£¥]|\b(?:USD|EUR|GBP|CHF|JPY|CAD|AUD)\s?)\s?\d{1,3}(?:[,.' ]\d{3})*(?:[.,]\d{1,2})?(?:\s?(?:million|billion|thousand|bn|mm|[mk])\b)?`),
	regexp.MustCompile(`(?i)\b\d{1,3}(?:[,.' ]\d{3})*(?:[.,]\d{1,2})?\s?(?:million|billion|thousand)?\s?(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|dollars|euros?|pounds|€)(?:\b|$)`),
}

var currencyWords = map[string]string{
	"$": "USD", "us$": "USD", "usd": "USD", "dollars": "USD", "€": "EUR", "eur": "EUR", "euro": "EUR",
	"euros": "EUR", "£": "GBP", "gbp": "GBP", "pounds": "GBP", "¥": "JPY", "jpy": "JPY", "chf": "CHF",
	"cad": "CAD", "aud": "AUD",
}

var multipliers = map[string]float64{
	"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mm": 1e6, "billion": 1e9, "bn": 1e9,
}

// normMoney turns "$1,234.50", "EUR 1.234,50" or "5 million dollars" into
// "USD 1234.50", "EUR 1234.50", "USD 5000000".
func normMoney(s string) (string, bool) {
	low := strings.ToLower(s)
	cur := ""
	var rest []string
	for _, f := range strings.FieldsFunc(low, func(r rune) bool { return r == ' ' }) {
		rest = append(rest, f)
	}
	// Split a currency sign off the number it is written against.
	var parts []string
	for _, f := range rest {
		for sym := range currencyWords {
			if len(sym) <= 3 && strings.HasPrefix(f, sym) && f != sym {
				parts = append(parts, sym)
				f = strings.TrimPrefix(f, sym)
				break
			}
		}
		parts = append(parts, f)
	}
	num, mult := "", 1.0
	for _, p := range parts {
		switch {
		case currencyWords[p] != "":
			cur = currencyWords[p]
		case multipliers[p] != 0:
			mult = multipliers[p]
		case p != "" && p[0] >= '0' && p[0] <= '9':
			num += p
		}
	}
	if cur == "" || num == "" {
		return "", false
	}
	amount, ok := parseAmount(num)
	if !ok {
		return "", false
	}
	amount *= mult
	if amount == float64(int64(amount)) {
		return cur + " " + strconv.FormatInt(int64(amount), 10), true
	}
	return cur + " " + strconv.FormatFloat(amount, 'f', 2, 64), true
}

// parseAmount reads "1,234.50" and "1.234,50" alike: a last separator
// followed by one or two digits is the decimal point, every other one
// separates thousands.
func parseAmount(s string) (float64, bool) {
	last := strings.LastIndexAny(s, ",.'")
	intPart, frac := s, ""
	if last >= 0 && len(s)-last-1 <= 2 && s[last] != '\'' {
		intPart, frac = s[:last], s[last+1:]
	}
	intPart = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, intPart)
	if frac != "" {
		intPart += "." + frac
	}
	v, err := strconv.ParseFloat(intPart, 64)
	return v, err == nil
}

// Dates

var monthNames = map[string]time.Month{}

func init() {
	for m := time.January; m <= time.December; m++ {
		name := strings.ToLower(m.String())
		monthNames[name] = m
		monthNames[name[:3]] = m
	}
	monthNames["sept"] = time.September
}

const monthRE = `(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)`

type dateRE struct {
	re *regexp.Regexp
	// needsMonth marks patterns with a month's name.
	needsMonth bool
	norm       func(string) (string, bool)
}

var dateREs = []dateRE{
	// 2002-08-22
	{regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`), false, func(s string) (string, bool) {
		return ymd(atoi(s[:4]), atoi(s[5:7]), atoi(s[8:10]))
	}},
	// 22 Aug 2002, 22nd August, 2002, Thu, 22 Aug 2002
	{regexp.MustCompile(`(?i)\b\d{1,2}(?:st|nd|rd|th)?\s+` + monthRE + `\.?,?\s+\d{4}\b`), true, func(s string) (string, bool) {
		f := strings.Fields(strings.NewReplacer(",", " ", ".", " ").Replace(s))
		return ymd(atoi(f[2]), monthOf(f[1]), atoi(strings.TrimRightFunc(f[0], unicode.IsLetter)))
	}},
	// 22 Sep 02 15:51:31, as old mailers wrote in Date headers: a
	// two-digit year only when a time follows, which tells it from a day.
	{regexp.MustCompile(`(?i)\b(?P<v>\d{1,2}\s+` + monthRE + `\s+\d{2})\s+\d{1,2}:\d{2}`), true, func(s string) (string, bool) {
		f := strings.Fields(s)
		return ymd(century(atoi(f[2])), monthOf(f[1]), atoi(f[0]))
	}},
	// August 22, 2002; Aug 22 2002
	{regexp.MustCompile(`(?i)\b` + monthRE + `\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b`), true, func(s string) (string, bool) {
		f := strings.Fields(strings.NewReplacer(",", " ", ".", " ").Replace(s))
		return ymd(atoi(f[2]), monthOf(f[0]), atoi(strings.TrimRightFunc(f[1], unicode.IsLetter)))
	}},
	// 08/22/2002 (US order with slashes unless the first number is over
	// 12), 22.08.2002 (day first with dots).
	{regexp.MustCompile(`\b(\d{1,2})([/.])(\d{1,2})[/.](\d{4}|\d{2})\b`), false, func(s string) (string, bool) {
		sep := "/"
		if strings.Contains(s, ".") {
			sep = "."
		}
		f := strings.Split(s, sep)
		if len(f) != 3 {
			return "", false
		}
		a, b, y := atoi(f[0]), atoi(f[1]), atoi(f[2])
		if len(f[2]) == 2 {
			y = century(y)
		}
		if sep == "." || a > 12 {
			return ymd(y, b, a)
		}
		return ymd(y, a, b)
	}},
}

// century reads a two-digit year as 1950 to 2049.
func century(y int) int {
	if y < 50 {
		return 2000 + y
	}
	return 1900 + y
}

func monthOf(s string) int {
	return int(monthNames[strings.ToLower(strings.TrimSuffix(s, "."))])
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// ymd formats a date that exists, of a year a document may plausibly
// mention.
func ymd(y, m, d int) (string, bool) {
	if y < 1000 || y > 2999 || m < 1 || m > 12 || d < 1 || d > 31 {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return "", false // 31 April, 29 February of a common year
	}
	return t.Format("2006-01-02"), true
}

// People and places

var honorificRE = regexp.MustCompile(`\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Dame)\.?\s+((?:[A-Z][\p{Ll}'\-]+\s+)?[A-Z][\p{Ll}'\-]+)`)

// names adds people (a gazetteer first name followed by a capitalised
// word, or a name after an honorific) and places (one to three
// capitalised words the gazetteer names).
func (x *entityScan) names(toks []Token) {
	for _, m := range honorificRE.FindAllStringSubmatchIndex(x.text, -1) {
		x.add(EntityPerson, x.text[m[2]:m[3]], m[2], m[3], 0.8)
	}
	type word struct {
		s          string
		start, end int
	}
	var ws []word
	for _, tok := range toks {
		ws = append(ws, word{tok.Text, tok.Start, tok.End})
	}
	adjacent := func(i, j int) bool { // only spaces between words i and j
		return strings.TrimSpace(x.text[ws[i].end:ws[j].start]) == ""
	}
	for i := 0; i < len(ws); i++ {
		if !capitalised(ws[i].s) {
			continue
		}
		// Places: the longest gazetteer match first.
		matched := false
		for n := min(lexicon.MaxPlaceWords, len(ws)-i); n >= 1 && !matched; n-- {
			ok := true
			for k := i + 1; k < i+n; k++ {
				ok = ok && capitalised(ws[k].s) && adjacent(k-1, k)
			}
			if !ok {
				continue
			}
			name := x.text[ws[i].start:ws[i+n-1].end]
			if lexicon.Place(name) {
				x.add(EntityPlace, name, ws[i].start, ws[i+n-1].end, 0.75)
				i += n - 1
				matched = true
			}
		}
		if matched || !lexicon.FirstName(ws[i].s) || i+1 >= len(ws) {
			continue
		}
		j := i + 1
		// A middle initial: "John F. Kennedy".
		if j+1 < len(ws) && utf8.RuneCountInString(ws[j].s) == 1 && capitalised(ws[j].s) && adjacent(i, j) {
			j++
		}
		last := ws[j].s
		if capitalised(last) && adjacent(j-1, j) && !lexicon.Place(last) && !lexicon.FirstName(last) &&
			!defaultTokenizer.stop[strings.ToLower(last)] && utf8.RuneCountInString(last) > 1 {
			x.add(EntityPerson, x.text[ws[i].start:ws[j].end], ws[i].start, ws[j].end, 0.7)
			i = j
		}
	}
}

// capitalised reports an upper-case letter followed by lower-case ones.
func capitalised(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(r) {
		return false
	}
	for _, r := range s[n:] {
		if !unicode.IsLower(r) && r != '\'' && r != '-' {
			return false
		}
	}
	return true
}

// defaultTokenizer splits words for the language-independent extractors.
var defaultTokenizer = NewTokenizer("en")

package ml

import (
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/quirehq/quire/ml/internal/lexicon"
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

// EntityKeyword is the kind of the entities that hold a document's
// keywords (Keywords): the value is the keyword, the confidence its score,
// and it has no position.
const EntityKeyword = "keyword"

// Entities finds the entities of text: emails, URLs, IBANs (checksum
// verified), money amounts, dates, phone numbers, and people and places
// named in the gazetteers. Each has its byte span in text; where two
// matches overlap, the more specific kind (in the order above: IBAN, URL,
// email, money, date, phone, person, place) keeps the span. The result is
// ordered by position.
func Entities(text string) []Entity {
	return entities(text, nil)
}

// entities is Entities with the text's words, when the caller has them
// already (any tokenizer's: only their forms as written and offsets are
// read).
//
// Go's regexp engine has no fast scan for patterns that start with a class
// or an alternation, and searching a whole text with a dozen patterns cost
// far more than the rest of the analyses together. So one pass over the
// bytes finds where a match may start (a digit or a letter after a
// non-word byte, an @, a currency sign, a +, a parenthesis, a colon), each
// pattern keeps the candidates its first bytes allow, and its regexp,
// anchored, runs only there, on a short slice of the text. Matches are
// those FindAll would find: the leftmost at or after the end of the
// pattern's previous match.
func entities(text string, tw *textWords) []Entity {
	var x entityScan
	x.text = text
	x.scan()
	x.ibans()
	x.urls()
	x.patternAt(EntityEmail, &emailPat, x.emailStarts(), 0.95, func(s string) (string, bool) { return strings.ToLower(s), true })
	x.patternAt(EntityMoney, &moneyPats[0], x.moneyStarts(), 0.9, normMoney)
	x.patternAt(EntityMoney, &moneyPats[1], x.filter(x.digits, moneyAmountFirst), 0.9, normMoney)
	x.isoDates()
	for i := range datePats {
		d := &datePats[i]
		var cands []int
		if d.monthFirst {
			cands = x.filter(x.letters, func(text string, i int) bool { return monthAt(text, i) && monthThenDay(text, i) })
		} else {
			cands = x.filter(x.digits, d.digitsFirst)
		}
		x.patternAt(EntityDate, &d.pat, cands, 0.9, d.norm)
	}
	x.patternAt(EntityPhone, &phoneLabelledPat, x.filter(x.letters, phoneLabelAt), 0.85, normPhone)
	x.patternAt(EntityPhone, &phoneIntlPat, x.filter(x.symbols, phoneIntlAt), 0.8, normPhone)
	x.patternAt(EntityPhone, &phoneNANPPat, x.nanpStarts(), 0.7, normPhone)
	if tw == nil {
		tw = defaultTokenizer.split(text)
	}
	x.names(tw)
	slices.SortFunc(x.found, func(a, b Entity) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	return x.found
}

// entityScan collects entities, keeping spans from overlapping.
type entityScan struct {
	text  string
	found []Entity
	// Where matches may start, in order: a digit or an ASCII letter after
	// a byte that is not a word byte (regexp's \b), and the bytes symbols
	// lists.
	digits, letters, symbols []int
	// buf holds the candidates of one pattern.
	buf []int
}

// symbolBytes start the patterns that do not start with a word: @ of
// emails, : of URLs, $ and the first bytes of €, £ and ¥, + and ( of
// phone numbers.
var symbolBytes = [256]bool{'@': true, ':': true, '$': true, 0xE2: true, 0xC2: true, '+': true, '(': true}

// scan finds the candidates of every pattern in one pass. Of the letters
// it keeps only those that start a word a pattern starts with (letterStarts).
func (x *entityScan) scan() {
	text := x.text
	x.digits = make([]int, 0, 64)
	x.letters = make([]int, 0, 64)
	prevWord := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		w := wordByte(c)
		switch {
		case w && !prevWord && c >= '0' && c <= '9':
			x.digits = append(x.digits, i)
		case w && !prevWord && c != '_':
			if letterStarts(text, i) {
				x.letters = append(x.letters, i)
			}
		case symbolBytes[c]:
			x.symbols = append(x.symbols, i)
		}
		prevWord = w
	}
}

// letterStarts reports whether the word at i may start a pattern: its
// first three letters (any case) are those of a currency code, a month, a
// phone label, www or an honorific (Mr, Ms and Dr by their first two), or
// it starts with two capitals and two digits (an IBAN).
func letterStarts(text string, i int) bool {
	if i+3 > len(text) {
		return false
	}
	c0, c1 := text[i], text[i+1]
	if isUpper(c0) && isUpper(c1) && i+4 <= len(text) && isDigit(text[i+2]) && isDigit(text[i+3]) ||
		(c0 == 'M' || c0 == 'D') && c1 == 'r' || c0 == 'M' && c1 == 's' {
		return true
	}
	k, ok := trigram(text, i)
	return ok && letterTrigrams[k/64]&(1<<(k%64)) != 0
}

// trigram numbers the three ASCII letters at i, in any case.
func trigram(text string, i int) (int, bool) {
	a, b, c := lowerASCII(text[i])-'a', lowerASCII(text[i+1])-'a', lowerASCII(text[i+2])-'a'
	if a >= 26 || b >= 26 || c >= 26 {
		return 0, false
	}
	return (int(a)*26+int(b))*26 + int(c), true
}

// letterTrigrams is the set of trigrams letterStarts accepts.
var letterTrigrams = func() (set [26*26*26/64 + 1]uint64) {
	words := []string{"www", "usd", "eur", "gbp", "chf", "jpy", "cad", "aud", "tel", "pho", "fax", "mob", "cel", "cal",
		"mis", "pro", "sir", "dam"}
	for _, w := range append(words, monthPrefixes[:]...) {
		k, _ := trigram(w, 0)
		set[k/64] |= 1 << (k % 64)
	}
	return set
}()

// wordByte reports an ASCII word byte, as regexp's \w and \b read them.
func wordByte(c byte) bool { return isAlnum(c) || c == '_' }

// filter returns the candidates that keep accepts, in x.buf.
func (x *entityScan) filter(cands []int, keep func(text string, i int) bool) []int {
	x.buf = x.buf[:0]
	for _, i := range cands {
		if keep(x.text, i) {
			x.buf = append(x.buf, i)
		}
	}
	return x.buf
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lowerASCII lower-cases an ASCII letter and leaves other bytes alone.
func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefixFold reports whether text[i:] starts with prefix (ASCII, lower
// case) in any case.
func hasPrefixFold(text string, i int, prefix string) bool {
	if len(text)-i < len(prefix) {
		return false
	}
	for k := 0; k < len(prefix); k++ {
		if lowerASCII(text[i+k]) != prefix[k] {
			return false
		}
	}
	return true
}

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
	x.found = append(x.found, Entity{Kind: kind, Value: value, Start: start, End: end, Confidence: conf})
}

// anchoredPattern is a pattern that runs at a candidate position.
type anchoredPattern struct {
	// src is the pattern, which must match at the candidate (a leading
	// \b or (?:^|[^\w]) is left out: the candidate filters check it).
	src string
	// max is the longest text a match reads; the regexp sees only that
	// much, and the whole rest when a match reaches the cut.
	max  int
	once sync.Once
	re   *regexp.Regexp
	v    int // the group named v, whose span is the entity's; 0 for the whole
}

func (a *anchoredPattern) compiled() *regexp.Regexp {
	a.once.Do(func() {
		a.re = regexp.MustCompile(`^(?:` + a.src + `)`)
		a.v = max(a.re.SubexpIndex("v"), 0)
	})
	return a.re
}

// matchAt returns the match of a at text[p:], nil when there is none.
func (a *anchoredPattern) matchAt(text string, p int) []int {
	re := a.compiled()
	s := text[p:]
	cut := a.max > 0 && len(s) > a.max
	if cut {
		s = s[:a.max]
	}
	m := re.FindStringSubmatchIndex(s)
	if m != nil && cut && m[1] == len(s) {
		m = re.FindStringSubmatchIndex(text[p:])
	}
	return m
}

// patternAt adds the matches of a at the candidates (in order) that norm
// accepts, as FindAll would find them: a match starts at or after the end
// of the one before.
func (x *entityScan) patternAt(kind string, a *anchoredPattern, cands []int, conf float64, norm func(string) (string, bool)) {
	last := 0
	for _, p := range cands {
		if p < last {
			continue
		}
		m := a.matchAt(x.text, p)
		if m == nil {
			continue
		}
		last = p + m[1]
		start, end := p+m[0], p+m[1]
		if a.v > 0 && m[2*a.v] >= 0 {
			start, end = p+m[2*a.v], p+m[2*a.v+1]
		}
		if v, ok := norm(x.text[start:end]); ok {
			x.add(kind, v, start, end, conf)
		}
	}
}

var (
	// The local part takes RFC 5322's atext (o'brien, mb/vipul,
	// online#3.19578@…), but must start and end with a letter, a digit
	// or a symbol that is not a quote, so that quotes around an address
	// stay out of it.
	emailPat = anchoredPattern{src: `(?i)[a-z0-9!#$%&*+/=?^_{|}~\-](?:[a-z0-9!#$%&'*+/=?^_{|}~.\-]*[a-z0-9!#$%&*+/=?^_{|}~\-])?@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,24}\b`, max: 512}
	// Phone numbers: after a label, international (+CC), and the North
	// American (NNN) NNN-NNNN forms. Bare digit runs are left alone: they
	// are more often order numbers than phones. Each starts after a
	// non-word byte (phoneIntlAt: nor a +).
	phoneLabelledPat = anchoredPattern{src: `(?i)(?:tel|phone|telephone|fax|mobile|cell|call)\b\.?:?\s*(?P<v>\+?\d[\d \-./()]{5,18}\d)`, max: 128}
	phoneIntlPat     = anchoredPattern{src: `(?P<v>\+\d{1,3}[ \-.]?(?:\(\d{1,4}\)[ \-.]?)?\d{1,4}(?:[ \-.]?\d{2,4}){1,4})\b`, max: 64}
	phoneNANPPat     = anchoredPattern{src: `(?P<v>(?:1[ \-.])?(?:\(\d{3}\)\s?|\d{3}[\-.])\d{3}[\-.]\d{4})\b`, max: 64}
)

// emailStarts returns where an address may start: for each @, the first
// byte of the run of local-part bytes before it that could start one (an
// address holds one @, so no match starts further back).
func (x *entityScan) emailStarts() []int {
	x.buf = x.buf[:0]
	from := 0
	for _, at := range x.symbols {
		if x.text[at] != '@' {
			continue
		}
		s := at
		for s > from && emailLocal[x.text[s-1]] {
			s--
		}
		for p := s; p < at; p++ {
			if x.text[p] != '\'' && x.text[p] != '.' {
				x.buf = append(x.buf, p)
			}
		}
		from = at + 1
	}
	return x.buf
}

// emailLocal holds the bytes of an address's local part.
var emailLocal = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_{|}~.-") {
		t[c] = true
	}
	return t
}()

// phoneLabelAt accepts a label word's first letter.
func phoneLabelAt(text string, i int) bool {
	for _, l := range [...]string{"tel", "phone", "fax", "mobile", "cell", "call"} {
		if hasPrefixFold(text, i, l) {
			return true
		}
	}
	return false
}

// phoneIntlAt accepts a + after neither a word byte nor a +.
func phoneIntlAt(text string, i int) bool {
	return text[i] == '+' && (i == 0 || !wordByte(text[i-1]) && text[i-1] != '+') && i+1 < len(text) && isDigit(text[i+1])
}

// nanpStarts returns where a North American number may start: a 1, or
// three digits, or a parenthesis, after a non-word byte.
func (x *entityScan) nanpStarts() []int {
	x.buf = x.buf[:0]
	text := x.text
	d, s := x.digits, x.symbols
	for len(d) > 0 || len(s) > 0 {
		var i int
		if len(s) == 0 || len(d) > 0 && d[0] < s[0] {
			i, d = d[0], d[1:]
		} else {
			i, s = s[0], s[1:]
			if text[i] != '(' || i > 0 && wordByte(text[i-1]) {
				continue
			}
		}
		if nanpAt(text, i) {
			x.buf = append(x.buf, i)
		}
	}
	return x.buf
}

// nanpAt checks the first bytes of a North American number at i: an
// optional 1 and separator, then (NNN) or NNN and a separator.
func nanpAt(text string, i int) bool {
	if i+2 < len(text) && text[i] == '1' && (text[i+1] == ' ' || text[i+1] == '-' || text[i+1] == '.') && nanpAreaAt(text, i+2) {
		return true
	}
	return nanpAreaAt(text, i)
}

func nanpAreaAt(text string, i int) bool {
	if i+5 > len(text) {
		return false
	}
	if text[i] == '(' {
		return isDigit(text[i+1]) && isDigit(text[i+2]) && isDigit(text[i+3]) && text[i+4] == ')'
	}
	return isDigit(text[i]) && isDigit(text[i+1]) && isDigit(text[i+2]) && (text[i+3] == '-' || text[i+3] == '.')
}

// urls adds the http(s)://, ftp:// and www. URLs of the text: a prefix
// after a non-word byte, then every byte up to a space, a quote or a
// bracket, less the punctuation that ends a sentence (trimURL).
func (x *entityScan) urls() {
	text := x.text
	x.buf = x.buf[:0]
	for _, i := range x.symbols {
		if text[i] != ':' || !strings.HasPrefix(text[i+1:], "//") {
			continue
		}
		for _, scheme := range [...]string{"https", "http", "ftp"} {
			if s := i - len(scheme); s >= 0 && hasPrefixFold(text, s, scheme) && (s == 0 || !wordByte(text[s-1])) {
				x.buf = append(x.buf, s)
				break
			}
		}
	}
	for _, i := range x.letters {
		if hasPrefixFold(text, i, "www.") {
			x.buf = append(x.buf, i)
		}
	}
	slices.Sort(x.buf)
	last := 0
	for _, start := range x.buf {
		if start < last {
			continue
		}
		p := start + strings.IndexByte(text[start:], ':') + 3 // past ://
		if hasPrefixFold(text, start, "www.") {
			p = start + 4
		}
		end := p
		for end < len(text) && !urlStop[text[end]] {
			end++
		}
		if end == p {
			continue
		}
		last = end
		s := trimURL(text[start:end])
		if v, ok := normURL(s); ok {
			x.add(EntityURL, v, start, start+len(s), 0.95)
		}
	}
}

// urlStop holds the bytes that end a URL.
var urlStop = func() (t [256]bool) {
	for _, c := range []byte(" \t\n\f\r<>\"'`{}|\\^[]") {
		t[c] = true
	}
	return t
}()

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

// ibans adds the IBANs of the text whose length fits their country and
// whose check digits verify. One may start where two capitals after a
// non-word byte are followed by two digits and, after an optional space,
// a capital or a digit; ibans reads on from there, as IBANs are often
// written in groups of four.
func (x *entityScan) ibans() {
	text := x.text
	last := 0
	for _, start := range x.letters {
		if start < last || start+5 > len(text) || !isUpper(text[start]) || !isUpper(text[start+1]) ||
			!isDigit(text[start+2]) || !isDigit(text[start+3]) {
			continue
		}
		j := start + 4
		if text[j] == ' ' && j+1 < len(text) {
			j++
		}
		if !isUpper(text[j]) && !isDigit(text[j]) {
			continue
		}
		last = j + 1
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

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

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

// moneyPats are amounts after a currency (moneyStarts) and before one
// (after a non-word byte, moneyAmountFirst).
var moneyPats = []anchoredPattern{
	{src: `(?i)(?:US\$|[$€£¥]|(?:USD|EUR|GBP|CHF|JPY|CAD|AUD)\s?)\s?\d{1,3}(?:[,.' ]\d{3})*(?:[.,]\d{1,2})?(?:\s?(?:million|billion|thousand|bn|mm|[mk])\b)?`, max: moneyMaxBytes},
	{src: `(?i)\d{1,3}(?:[,.' ]\d{3})*(?:[.,]\d{1,2})?\s?(?:million|billion|thousand)?\s?(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|dollars|euros?|pounds|€)(?:\b|$)`, max: moneyMaxBytes},
}

// moneyMaxBytes bounds the text an amount is looked for in.
const moneyMaxBytes = 160

var currencyCodes = [...]string{"usd", "eur", "gbp", "chf", "jpy", "cad", "aud"}

// moneyStarts returns where a currency may start an amount: $ (or US$),
// €, £, ¥, or a currency code after a non-word byte.
func (x *entityScan) moneyStarts() []int {
	text := x.text
	x.buf = x.buf[:0]
	for _, i := range x.symbols {
		switch {
		case text[i] == '$':
			if i >= 2 && hasPrefixFold(text, i-2, "us") {
				x.buf = append(x.buf, i-2)
			}
			x.buf = append(x.buf, i)
		case strings.HasPrefix(text[i:], "€"), strings.HasPrefix(text[i:], "£"), strings.HasPrefix(text[i:], "¥"):
			x.buf = append(x.buf, i)
		}
	}
	for _, i := range x.letters {
		for _, c := range currencyCodes {
			if hasPrefixFold(text, i, c) {
				x.buf = append(x.buf, i)
				break
			}
		}
	}
	slices.Sort(x.buf)
	x.buf = slices.Compact(x.buf)
	return x.buf
}

// moneyAmountFirst accepts a digit that a currency or a multiplier
// follows, after digits, separators and spaces.
func moneyAmountFirst(text string, i int) bool {
	end := min(len(text), i+moneyMaxBytes)
	for i < end && (isDigit(text[i]) || isSpace(text[i]) || text[i] == ',' || text[i] == '.' || text[i] == '\'') {
		i++
	}
	if i == end {
		return false
	}
	if strings.HasPrefix(text[i:], "€") {
		return true
	}
	for _, w := range [...]string{"million", "billion", "thousand", "dollars", "euro", "pounds"} {
		if hasPrefixFold(text, i, w) {
			return true
		}
	}
	for _, c := range currencyCodes {
		if hasPrefixFold(text, i, c) {
			return true
		}
	}
	return false
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
	rest := strings.FieldsFunc(low, func(r rune) bool { return r == ' ' })
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

type datePat struct {
	pat anchoredPattern
	// monthFirst marks patterns that start with a month's name; the others
	// start with a digit that digitsFirst accepts.
	monthFirst  bool
	digitsFirst func(text string, i int) bool
	norm        func(string) (string, bool)
}

// isoDates adds 2002-08-22, after and before a non-word byte.
func (x *entityScan) isoDates() {
	text := x.text
	last := 0
	for _, i := range x.digits {
		if i < last || i+10 > len(text) || i+10 < len(text) && wordByte(text[i+10]) {
			continue
		}
		s := text[i : i+10]
		if !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) || s[4] != '-' ||
			!isDigit(s[5]) || !isDigit(s[6]) || s[7] != '-' || !isDigit(s[8]) || !isDigit(s[9]) {
			continue
		}
		last = i + 10
		if v, ok := ymd(atoi(s[:4]), atoi(s[5:7]), atoi(s[8:10])); ok {
			x.add(EntityDate, v, i, i+10, 0.9)
		}
	}
}

// datePats are the other forms of dates, all within dateMaxBytes.
var datePats = []datePat{
	// 22 Aug 2002, 22nd August, 2002, Thu, 22 Aug 2002
	{anchoredPattern{src: `(?i)\d{1,2}(?:st|nd|rd|th)?\s+` + monthRE + `\.?,?\s+\d{4}\b`, max: dateMaxBytes}, false, dayThenMonth, func(s string) (string, bool) {
		f := strings.Fields(strings.NewReplacer(",", " ", ".", " ").Replace(s))
		return ymd(atoi(f[2]), monthOf(f[1]), atoi(strings.TrimRightFunc(f[0], unicode.IsLetter)))
	}},
	// 22 Sep 02 15:51:31, as old mailers wrote in Date headers: a
	// two-digit year only when a time follows, which tells it from a day.
	{anchoredPattern{src: `(?i)(?P<v>\d{1,2}\s+` + monthRE + `\s+\d{2})\s+\d{1,2}:\d{2}`, max: dateMaxBytes}, false, dayThenMonth, func(s string) (string, bool) {
		f := strings.Fields(s)
		return ymd(century(atoi(f[2])), monthOf(f[1]), atoi(f[0]))
	}},
	// August 22, 2002; Aug 22 2002
	{anchoredPattern{src: `(?i)` + monthRE + `\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b`, max: dateMaxBytes}, true, nil, func(s string) (string, bool) {
		f := strings.Fields(strings.NewReplacer(",", " ", ".", " ").Replace(s))
		return ymd(atoi(f[2]), monthOf(f[0]), atoi(strings.TrimRightFunc(f[1], unicode.IsLetter)))
	}},
	// 08/22/2002 (US order with slashes unless the first number is over
	// 12), 22.08.2002 (day first with dots).
	{anchoredPattern{src: `(\d{1,2})([/.])(\d{1,2})[/.](\d{4}|\d{2})\b`, max: dateMaxBytes}, false, dayThenSlash, func(s string) (string, bool) {
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

// dateMaxBytes bounds the text a date is looked for in (spaces included).
const dateMaxBytes = 96

// dayThenMonth accepts one or two digits, an optional ordinal suffix,
// spaces and the first three letters of a month.
func dayThenMonth(text string, i int) bool {
	j := i + 1
	if j < len(text) && isDigit(text[j]) {
		j++
	}
	if j+2 <= len(text) && isLetter(text[j]) && isLetter(text[j+1]) {
		j += 2
	}
	if j >= len(text) || !isSpace(text[j]) {
		return false
	}
	for j < len(text) && isSpace(text[j]) {
		j++
	}
	return monthAt(text, j)
}

// monthThenDay accepts a word, an optional period, spaces and a digit.
func monthThenDay(text string, i int) bool {
	j := i
	for j < len(text) && isLetter(text[j]) {
		j++
	}
	if j < len(text) && text[j] == '.' {
		j++
	}
	if j >= len(text) || !isSpace(text[j]) {
		return false
	}
	for j < len(text) && isSpace(text[j]) {
		j++
	}
	return j < len(text) && isDigit(text[j])
}

// dayThenSlash accepts one or two digits and a slash or a dot.
func dayThenSlash(text string, i int) bool {
	j := i + 1
	if j < len(text) && isDigit(text[j]) {
		j++
	}
	return j < len(text) && (text[j] == '/' || text[j] == '.')
}

func isLetter(c byte) bool { c = lowerASCII(c); return c >= 'a' && c <= 'z' }

// monthAt accepts the first three letters of a month's name.
func monthAt(text string, i int) bool {
	for _, m := range monthPrefixes {
		if hasPrefixFold(text, i, m) {
			return true
		}
	}
	return false
}

var monthPrefixes = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

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

// honorificPat is a name after an honorific, which must follow a
// non-word byte (honorificAt).
var honorificPat = anchoredPattern{src: `(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Dame)\.?\s+(?P<v>(?:[A-Z][\p{Ll}'\-]+\s+)?[A-Z][\p{Ll}'\-]+)`, max: 256}

func honorificAt(text string, i int) bool {
	switch text[i] {
	case 'M', 'D', 'P', 'S':
		for _, h := range [...]string{"Mr", "Ms", "Miss", "Dr", "Prof", "Sir", "Dame"} {
			if strings.HasPrefix(text[i:], h) {
				return true
			}
		}
	}
	return false
}

// names adds people (a gazetteer first name followed by a capitalised
// word, or a name after an honorific) and places (one to three
// capitalised words the gazetteer names).
func (x *entityScan) names(tw *textWords) {
	x.patternAt(EntityPerson, &honorificPat, x.filter(x.letters, honorificAt), 0.8, func(s string) (string, bool) { return s, true })
	ws := tw.words
	text := func(i int) string { return tw.forms[ws[i].form].text }
	start := func(i int) int { return int(ws[i].start) }
	end := func(i int) int { return int(ws[i].end) }
	adjacent := func(i, j int) bool { // only spaces between words i and j
		return strings.TrimSpace(x.text[end(i):start(j)]) == ""
	}
	for i := 0; i < len(ws); i++ {
		if !capitalised(text(i)) {
			continue
		}
		// Places: the longest gazetteer match first.
		matched := false
		for n := min(lexicon.MaxPlaceWords, len(ws)-i); n >= 1 && !matched; n-- {
			ok := true
			for k := i + 1; k < i+n; k++ {
				ok = ok && capitalised(text(k)) && adjacent(k-1, k)
			}
			if !ok {
				continue
			}
			name := x.text[start(i):end(i+n-1)]
			if lexicon.Place(name) {
				x.add(EntityPlace, name, start(i), end(i+n-1), 0.75)
				i += n - 1
				matched = true
			}
		}
		if matched || !lexicon.FirstName(text(i)) || i+1 >= len(ws) {
			continue
		}
		j := i + 1
		// A middle initial: "John F. Kennedy".
		if j+1 < len(ws) && utf8.RuneCountInString(text(j)) == 1 && capitalised(text(j)) && adjacent(i, j) {
			j++
		}
		last := text(j)
		if capitalised(last) && adjacent(j-1, j) && !lexicon.Place(last) && !lexicon.FirstName(last) &&
			!defaultTokenizer.stop[strings.ToLower(last)] && utf8.RuneCountInString(last) > 1 {
			x.add(EntityPerson, x.text[start(i):end(j)], start(i), end(j), 0.7)
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

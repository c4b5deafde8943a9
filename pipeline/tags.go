package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/quirehq/quire/store"
)

// TagSuggester suggests tags for a document from its text: the classifier of tags.
type TagSuggester interface {
	// SuggestTags returns the names of the tags the document should carry, and who decided (SetBy, "classifier:<version id>"); none when no model is active.
	SuggestTags(ctx context.Context, text string) (tags []string, setBy string, err error)
}

// Tags are set where a document's text is analysed, with the move that
// saves the analysis (store.SetStateParams.Tags), so that a document is
// never seen analysed but untagged, and a stage that runs again sets the
// same tags: the move replaces the tags the pipeline set before (rules and
// classifier) and leaves the ones people set. As in paperless-ngx, a tag's
// rule is matched against the document's text (here with its file name and
// title), and the classifier's suggestions are kept only for tags whose
// rule is "auto".

// tagRulesTTL is how long the pipeline reuses the tags' rules, as it does
// the webhooks: a rule added, changed or removed takes effect within it.
const tagRulesTTL = time.Second

// tagRuleSet is the compiled rules as last read.
type tagRuleSet struct {
	rules []*tagRule
	auto  map[string]string // the "auto" tags, by lowercased name
	at    time.Time
}

// tagRuleCache holds the rule set; see tagRulesTTL.
type tagRuleCache struct {
	set atomic.Pointer[tagRuleSet]
	mu  sync.Mutex // one reader of the store at a time
}

// tagRules returns the tags' rules, read from the store at most once per
// tagRulesTTL.
func (p *Pipeline) tagRules(ctx context.Context) (*tagRuleSet, error) {
	if s := p.tagCache.set.Load(); s != nil && time.Since(s.at) < tagRulesTTL {
		return s, nil
	}
	p.tagCache.mu.Lock()
	defer p.tagCache.mu.Unlock()
	if s := p.tagCache.set.Load(); s != nil && time.Since(s.at) < tagRulesTTL {
		return s, nil
	}
	tags, err := p.cfg.Store.ListTagRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("read tag rules: %w", err)
	}
	s := &tagRuleSet{auto: map[string]string{}, at: time.Now()}
	for _, t := range tags {
		if t.Match == store.MatchAuto {
			s.auto[strings.ToLower(t.Name)] = t.Name
			continue
		}
		r, err := compileTagRule(t)
		if err != nil {
			// The store refuses such a rule; one from an older version is
			// skipped rather than failing every document.
			p.log.Warn("pipeline: tag rule skipped", "tag", t.Name, "error", err)
			continue
		}
		s.rules = append(s.rules, r)
	}
	p.tagCache.set.Store(s)
	return s, nil
}

// documentTags returns the tags the rules and the classifier give a
// document, with an event for each, or nil when no tag has a rule (the
// move then leaves the document's tags alone).
func (p *Pipeline) documentTags(ctx context.Context, r *stageRun, doc *store.Document, title, text string) ([]store.TagAssignment, []store.AddEventParams, error) {
	rules, err := p.tagRules(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(rules.rules) == 0 && len(rules.auto) == 0 {
		return nil, nil, nil
	}
	tags := []store.TagAssignment{}
	var events []store.AddEventParams
	add := func(tag, setBy, why string) {
		tags = append(tags, store.TagAssignment{Tag: tag, SetBy: setBy})
		events = append(events, store.AddEventParams{Stage: "tag", Type: store.EventDone, Attempt: r.job.Attempt,
			Message: fmt.Sprintf("tagged %q: %s", tag, why)})
	}
	if len(rules.rules) > 0 {
		subject := doc.Name + "\n" + title + "\n" + text
		for _, rule := range rules.rules {
			if rule.match(subject) {
				add(rule.tag, store.SetByRule, fmt.Sprintf("its rule (%s %q) matched", rule.kind, rule.text))
			}
		}
	}
	if len(rules.auto) > 0 && p.cfg.TagSuggester != nil {
		suggested, setBy, err := p.cfg.TagSuggester.SuggestTags(ctx, text)
		if err != nil {
			return nil, nil, fmt.Errorf("suggest tags: %w", err)
		}
		if len(suggested) > 0 && !strings.HasPrefix(setBy, store.SetByClassifierPrefix) {
			return nil, nil, fmt.Errorf("suggest tags: SetBy %q does not start with %q", setBy, store.SetByClassifierPrefix)
		}
		for _, s := range suggested {
			if name, ok := rules.auto[strings.ToLower(s)]; ok {
				add(name, setBy, "the classifier suggested it ("+setBy+")")
			}
		}
	}
	return tags, events, nil
}

// tagRule is a tag's rule, compiled.
type tagRule struct {
	tag  string
	kind store.MatchKind
	text string
	// res must all match (all), or one of them (any, exact, regex).
	res []*regexp.Regexp
	all bool
	// fuzzy is the fuzzy rule's text, cleaned as the document's text is.
	fuzzy         []rune
	caseSensitive bool
}

// FuzzyThreshold is the least similarity, in percent, at which a fuzzy rule
// matches: paperless-ngx's score cutoff for rapidfuzz's partial_ratio.
const FuzzyThreshold = 90

// fuzzyTextMax bounds the text a fuzzy rule reads, from its start: the
// match costs time in proportion to the text times the rule's length.
const fuzzyTextMax = 1 << 20

// fuzzyRuleMax bounds a fuzzy rule's length in characters (after
// cleaning), which the bit-parallel comparison holds in a machine word;
// longer ones compare their first fuzzyRuleMax characters.
const fuzzyRuleMax = 64

// wordBefore and wordAfter stand in for Python's \b, which paperless-ngx
// uses: RE2's \b knows ASCII word characters only, so "Ärger" would never
// start a word. They consume the neighbouring character; matches are only
// tested, never extracted.
const (
	wordBefore = `(?:^|[^\p{L}\p{N}_])`
	wordAfter  = `(?:$|[^\p{L}\p{N}_])`
)

// compileTagRule compiles a tag's rule, with paperless-ngx's semantics.
func compileTagRule(t store.Tag) (*tagRule, error) {
	r := &tagRule{tag: t.Name, kind: t.Match, text: t.MatchText, caseSensitive: t.CaseSensitive}
	flags := "(?i)"
	if t.CaseSensitive {
		flags = ""
	}
	word := func(pattern string) (*regexp.Regexp, error) {
		return regexp.Compile(flags + wordBefore + "(?:" + pattern + ")" + wordAfter)
	}
	switch t.Match {
	case store.MatchAny, store.MatchAll:
		r.all = t.Match == store.MatchAll
		for _, term := range splitMatch(t.MatchText) {
			re, err := word(term)
			if err != nil {
				return nil, err
			}
			r.res = append(r.res, re)
		}
		if len(r.res) == 0 {
			return nil, fmt.Errorf("tag %s: no words to match", t.Name)
		}
	case store.MatchExact:
		re, err := word(regexp.QuoteMeta(t.MatchText))
		if err != nil {
			return nil, err
		}
		r.res = []*regexp.Regexp{re}
	case store.MatchRegex:
		re, err := store.CompileTagRegex(t.MatchText, t.CaseSensitive)
		if err != nil {
			return nil, fmt.Errorf("tag %s: %w", t.Name, err)
		}
		r.res = []*regexp.Regexp{re}
	case store.MatchFuzzy:
		r.fuzzy = []rune(fuzzyClean(t.MatchText, t.CaseSensitive))
		if len(r.fuzzy) > fuzzyRuleMax {
			r.fuzzy = r.fuzzy[:fuzzyRuleMax]
		}
		if len(r.fuzzy) == 0 {
			return nil, fmt.Errorf("tag %s: no words to match", t.Name)
		}
	default:
		return nil, fmt.Errorf("tag %s: match %q has no rule to run", t.Name, t.Match)
	}
	return r, nil
}

// match reports whether the rule matches text.
func (r *tagRule) match(text string) bool {
	if r.fuzzy != nil {
		if len(text) > fuzzyTextMax {
			text = text[:fuzzyTextMax]
		}
		return partialRatio(r.fuzzy, []rune(fuzzyClean(text, r.caseSensitive))) >= FuzzyThreshold
	}
	for _, re := range r.res {
		found := re.MatchString(text)
		if found && !r.all {
			return true
		}
		if !found && r.all {
			return false
		}
	}
	return r.all
}

// splitMatch splits a rule's text into its terms, as paperless-ngx's
// _split_match does: words, or "quoted phrases" whose spaces match any run
// of white space. Each term comes back as a regular expression.
func splitMatch(text string) []string {
	var terms []string
	for text != "" {
		text = strings.TrimLeftFunc(text, unicode.IsSpace)
		if text == "" {
			break
		}
		var term string
		if text[0] == '"' {
			if end := strings.IndexByte(text[1:], '"'); end > 0 {
				term, text = text[1:1+end], text[2+end:]
			} else if end == 0 {
				text = text[2:] // "" is no term
				continue
			}
		}
		if term == "" {
			end := strings.IndexFunc(text, unicode.IsSpace)
			if end < 0 {
				end = len(text)
			}
			term, text = text[:end], text[end:]
		}
		words := strings.Fields(term)
		for i, w := range words {
			words[i] = regexp.QuoteMeta(w)
		}
		if len(words) > 0 {
			terms = append(terms, strings.Join(words, `\s+`))
		}
	}
	return terms
}

// fuzzyClean drops what is neither a word character nor space, as
// paperless-ngx does before a fuzzy match, and folds case unless asked not
// to.
func fuzzyClean(s string, caseSensitive bool) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_' || unicode.IsSpace(r) || unicode.Is(unicode.Mn, r) {
			return r
		}
		return -1
	}, s)
	if !caseSensitive {
		s = strings.ToLower(s)
	}
	return s
}

// partialRatio is rapidfuzz's fuzz.partial_ratio: the best similarity, in
// percent, of the shorter string to any part of the longer one of its
// length (or a shorter part at either end), where similarity is 2·LCS over
// the two lengths (the normalised Indel similarity). It runs in time
// len(long)·len(short) with a bit-parallel LCS (Hyyrö), so short must be
// at most 64 runes; compileTagRule bounds it.
func partialRatio(short, long []rune) float64 {
	if len(short) > len(long) {
		short, long = long, short
	}
	m := len(short)
	if m == 0 || m > 64 {
		return 0
	}
	peq := make(map[rune]uint64, m)
	for i, c := range short {
		peq[c] |= 1 << i
	}
	lcs := func(window []rune) int {
		s := ^uint64(0)
		for _, c := range window {
			u := s & peq[c]
			s = (s + u) | (s - u)
		}
		mask := ^uint64(0)
		if m < 64 {
			mask = 1<<m - 1
		}
		zeros := 0
		for v := ^s & mask; v != 0; v &= v - 1 {
			zeros++
		}
		return zeros
	}
	best := 0.0
	score := func(window []rune) {
		if r := 200 * float64(lcs(window)) / float64(m+len(window)); r > best {
			best = r
		}
	}
	// Shorter windows at both ends, as rapidfuzz counts them: a rule's
	// text cut off by the start or the end of the document.
	for k := 1; k < m && k <= len(long); k++ {
		score(long[:k])
		score(long[len(long)-k:])
	}
	for i := 0; i+m <= len(long) && best < 100; i++ {
		if _, ok := peq[long[i]]; !ok {
			// A window that starts with a rune the rule lacks scores no
			// better than the one after it ends, which is also tried.
			continue
		}
		score(long[i : i+m])
	}
	return best
}

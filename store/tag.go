package store

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MatchKind says how a tag's rule matches a document's text; the kinds are
// paperless-ngx's matching algorithms.
type MatchKind string

// The matching kinds. The pipeline applies them (pipeline/tags.go); the
// store only keeps and validates them.
const (
	// MatchNone: the tag is set by hand only.
	MatchNone MatchKind = "none"
	// MatchAny: the text contains any of MatchText's words (a "quoted
	// phrase" is one word).
	MatchAny MatchKind = "any"
	// MatchAll: the text contains every one of MatchText's words.
	MatchAll MatchKind = "all"
	// MatchExact: the text contains MatchText as it is, between word
	// boundaries.
	MatchExact MatchKind = "exact"
	// MatchRegex: MatchText is a regular expression (RE2 syntax, linear in
	// the text) found in the text.
	MatchRegex MatchKind = "regex"
	// MatchFuzzy: a part of the text is close to MatchText, ignoring
	// punctuation.
	MatchFuzzy MatchKind = "fuzzy"
	// MatchAuto: the tag classifier, trained on the tags people set,
	// decides.
	MatchAuto MatchKind = "auto"
)

// MatchKinds lists every matching kind.
var MatchKinds = []MatchKind{MatchNone, MatchAny, MatchAll, MatchExact, MatchRegex, MatchFuzzy, MatchAuto}

// Valid reports whether k is one of the matching kinds.
func (k MatchKind) Valid() bool { return slices.Contains(MatchKinds, k) }

// HasText reports whether the kind matches its MatchText against the text:
// every kind but none and auto.
func (k MatchKind) HasText() bool { return k != MatchNone && k != MatchAuto && k != "" }

// Who set a tag on a document (DocumentTag.SetBy): a person is "user:<email>".
const (
	// SetByRule marks assignments of the tags' matching rules.
	SetByRule = "rule"
	// SetByClassifierPrefix starts the SetBy of the tag classifier's
	// assignments: "classifier:<model version id>".
	SetByClassifierPrefix = "classifier:"
)

// MachineSetBy reports whether an assignment was made by the pipeline (a
// rule or the classifier) rather than by a person: the pipeline replaces
// those when it processes a document again, and leaves people's alone.
func MachineSetBy(setBy string) bool {
	return setBy == SetByRule || strings.HasPrefix(setBy, SetByClassifierPrefix)
}

// TagNameMaxLen is the longest tag name, in characters.
const TagNameMaxLen = 64

// Tag is a tag documents carry, with the rule that sets it.
type Tag struct {
	// ID is a ULID.
	ID string
	// Name is unique in any case ("Invoice" and "invoice" are one tag).
	Name string
	// Color is "#rrggbb", or empty.
	Color string
	// Match is how the rule matches; MatchNone for no rule.
	Match MatchKind
	// MatchText is what the rule looks for.
	MatchText string
	// CaseSensitive makes the rule tell upper from lower case
	// (paperless-ngx's is_insensitive, negated).
	CaseSensitive bool
	// CreatedAt is when the tag was created.
	CreatedAt time.Time
	// Documents counts the documents carrying the tag.
	Documents int
}

// CreateTagParams are the inputs of CreateTag.
type CreateTagParams struct {
	// Name is the tag's name. Required: at most TagNameMaxLen characters,
	// without control characters, "/" or ",".
	Name string
	// Color is "#rrggbb", or empty.
	Color string
	// Match is how the rule matches. Defaults to MatchNone.
	Match MatchKind
	// MatchText is what the rule looks for; required unless Match is
	// MatchNone or MatchAuto. A regular expression must compile.
	MatchText string
	// CaseSensitive makes the rule tell upper from lower case.
	CaseSensitive bool
}

func (p *CreateTagParams) validate() error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Match == "" {
		p.Match = MatchNone
	}
	return invalid(ValidateTagName(p.Name), validateTagRule(p.Color, p.Match, p.MatchText, p.CaseSensitive))
}

// UpdateTagParams are the inputs of UpdateTag: they replace the tag's
// color and rule, and rename it when NewName is set.
type UpdateTagParams struct {
	// Name is the tag's current name, in any case.
	Name string
	// NewName renames the tag; empty keeps its name. Assignments follow
	// the tag.
	NewName string
	// Color, Match, MatchText and CaseSensitive are as in CreateTagParams.
	Color         string
	Match         MatchKind
	MatchText     string
	CaseSensitive bool
}

func (p *UpdateTagParams) validate() error {
	p.NewName = strings.TrimSpace(p.NewName)
	if p.Match == "" {
		p.Match = MatchNone
	}
	var errs []error
	if p.NewName != "" {
		errs = append(errs, ValidateTagName(p.NewName))
	}
	errs = append(errs, validateTagRule(p.Color, p.Match, p.MatchText, p.CaseSensitive))
	return invalid(errs...)
}

// ValidateTagName says what is wrong with a tag name, or nil. Tag names go
// into URL paths and comma-separated filters, hence no "/" nor ",".
func ValidateTagName(name string) error {
	switch {
	case name == "":
		return errors.New("empty tag name")
	case utf8.RuneCountInString(name) > TagNameMaxLen:
		return fmt.Errorf("tag name %q is longer than %d characters", name, TagNameMaxLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("tag name %q is not valid UTF-8", name)
	case strings.ContainsAny(name, "/,"):
		return fmt.Errorf("tag name %q contains \"/\" or \",\"", name)
	case strings.ContainsFunc(name, unicode.IsControl):
		return fmt.Errorf("tag name %q contains a control character", name)
	}
	return nil
}

// MatchTextMaxLen bounds a rule's text: every rule runs on every document.
const MatchTextMaxLen = 1000

// validateTagRule checks a tag's color and rule.
func validateTagRule(color string, match MatchKind, text string, caseSensitive bool) error {
	var errs []error
	if color != "" && !hexColor.MatchString(color) {
		errs = append(errs, fmt.Errorf("color %q is not #rrggbb", color))
	}
	if !match.Valid() {
		errs = append(errs, fmt.Errorf("match %q is not one of %v", match, MatchKinds))
	}
	if match.HasText() && strings.TrimSpace(text) == "" {
		errs = append(errs, fmt.Errorf("match %q needs a match text", match))
	}
	if len(text) > MatchTextMaxLen {
		errs = append(errs, fmt.Errorf("match text is longer than %d bytes", MatchTextMaxLen))
	}
	if match == MatchRegex {
		if _, err := CompileTagRegex(text, caseSensitive); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CompileTagRegex compiles a regex rule's text as the pipeline runs it. Go's
// regular expressions (RE2) run in time linear in the text, so no rule can
// stall the pipeline as a backtracking one could.
func CompileTagRegex(text string, caseSensitive bool) (*regexp.Regexp, error) {
	if !caseSensitive {
		text = "(?i)" + text
	}
	re, err := regexp.Compile(text)
	if err != nil {
		return nil, fmt.Errorf("match text is not a regular expression (RE2 syntax): %w", err)
	}
	return re, nil
}

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// tagKey is the key that makes tag names unique in any case.
func tagKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// DocumentTag is one tag on one document.
type DocumentTag struct {
	DocumentID string
	// Tag is the tag's name.
	Tag string
	// SetBy names who set it: "user:<email>", "rule" or
	// "classifier:<model version id>".
	SetBy     string
	CreatedAt time.Time
}

// TagDocumentsParams are the inputs of TagDocuments.
type TagDocumentsParams struct {
	// DocumentIDs are the documents to tag.
	DocumentIDs []string
	// Tags are the tags' names, in any case.
	Tags []string
	// SetBy names who sets them. Required.
	SetBy string
}

func (p *TagDocumentsParams) validate() error {
	var errs []error
	if len(p.Tags) == 0 {
		errs = append(errs, errors.New("no tags"))
	}
	if p.SetBy == "" {
		errs = append(errs, errors.New("empty SetBy"))
	}
	return invalid(errs...)
}

// UntagDocumentsParams are the inputs of UntagDocuments.
type UntagDocumentsParams struct {
	// DocumentIDs are the documents to untag.
	DocumentIDs []string
	// Tags are the tags' names, in any case.
	Tags []string
}

// ListDocumentTagsParams filter and page ListDocumentTags. Empty fields do
// not filter.
type ListDocumentTagsParams struct {
	// DocumentID keeps one document's tags.
	DocumentID string
	// Tag keeps the assignments of one tag, named in any case.
	Tag string
	// SetBy keeps the assignments whose SetBy starts with it ("user:",
	// "classifier:").
	SetBy string
	// Limit is the page size. Defaults to 50; at most 1,000.
	Limit int
	// Offset skips as many assignments.
	Offset int
}

// TagAssignment is a tag a pipeline stage sets with its move
// (SetStateParams.Tags).
type TagAssignment struct {
	// Tag is the tag's name, in any case; an unknown tag is skipped (it may
	// have been deleted since the stage read the rules).
	Tag string
	// SetBy is SetByRule or SetByClassifierPrefix + the model version.
	SetBy string
}

// ErrExists is returned (wrapped) when a name that must be unique is taken.
var ErrExists = errors.New("already exists")

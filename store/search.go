package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// SearchSort orders the hits of Search.
type SearchSort string

// The orders of Search's hits.
const (
	// SortRelevance puts the best match first (the default).
	SortRelevance SearchSort = "relevance"
	// SortNewest puts the most recently received document first.
	SortNewest SearchSort = "newest"
	// SortOldest puts the first received document first.
	SortOldest SearchSort = "oldest"
)

// SearchSorts lists every order of Search's hits.
var SearchSorts = []SearchSort{SortRelevance, SortNewest, SortOldest}

// Valid reports whether o is one of SearchSorts.
func (o SearchSort) Valid() bool { return slices.Contains(SearchSorts, o) }

// SearchWindow bounds the work of a search for a word that many documents
// hold. Ranking by relevance and counting facets read at most this many
// matches, the most recently indexed ones: a word in half of a million
// documents costs the same as a word in SearchWindow of them. Below it,
// ranking and facets are exact; when a query matches more (SearchResult's
// Windowed), the relevance order is that of the window, paging by
// relevance ends with it, and the facets count it only. Sorting by date
// reads matches in date order and pages through all of them.
//
// Every part of a search but the page's snippets costs in proportion to
// it: at 5,000, a common word's window and facets took 40 to 50 ms of CPU
// on SQLite at 130,000 documents, and on PostgreSQL, which visits a heap
// row per match, a second at a million (docs/benchmarks.md). 2,000 is
// still forty pages of hits.
const SearchWindow = 2000

// SearchParams are the inputs of Search. Every filter is optional, and
// they combine with AND.
type SearchParams struct {
	// Query is what to look for: words (all must match, case-insensitively;
	// no stemming), "a quoted phrase", prefix* words, OR between
	// alternatives and -word to exclude (docs/search.md). A query that has
	// nothing to match (only exclusions, or no words) finds nothing.
	Query string
	// State keeps documents in this state.
	State State
	// MIMEType keeps documents of this media type.
	MIMEType string
	// Language keeps documents the analysis found in this language (ISO
	// 639-1 where it has one).
	Language string
	// Labels keeps documents that carry every one of these labels.
	Labels []string
	// Tags keeps documents tagged with every one of these tags, by name
	// in any case.
	Tags []string
	// ParentID keeps the attachments of this document.
	ParentID string
	// CreatedFrom and CreatedBefore keep documents received at or after
	// CreatedFrom and before CreatedBefore; zero does not filter.
	CreatedFrom, CreatedBefore time.Time
	// UpdatedFrom and UpdatedBefore do the same for the time a document
	// last changed.
	UpdatedFrom, UpdatedBefore time.Time
	// Sort orders the hits. Defaults to SortRelevance.
	Sort SearchSort
	// Facets asks for the matches to be counted by type, language, state
	// and tag (SearchResult's Facets).
	Facets bool
	// Cursor continues a search: pass the previous page's Next with the
	// same query, filters and sort.
	Cursor string
	// Limit is the number of hits. Defaults to 50; at most 1,000.
	Limit int
}

// SearchResult is a page of Search's hits.
type SearchResult struct {
	// Hits are the page's hits, in the order asked for.
	Hits []SearchHit
	// Facets count the matches by value; nil unless asked for.
	Facets *SearchFacets
	// Windowed reports that the query matched at least SearchWindow
	// documents, so relevance ranked, and facets counted, the
	// SearchWindow most recently indexed of them only. (On PostgreSQL, a
	// query with a phrase: the SearchWindow most recent documents holding
	// the phrase's words, and of them those holding the phrase.)
	Windowed bool
	// Next is the cursor of the next page; empty on the last page.
	Next string
}

// SearchFacets count the documents a search matched, by value of a field
// (a document with several tags counts once for each);
// each list is ordered by count, largest first, and holds at most
// FacetValuesMax values.
type SearchFacets struct {
	// Counted is the number of documents counted: all the matches, or
	// those of the window when the result is Windowed (SearchWindow at
	// most).
	Counted int
	// Type counts by media type, Language by analysed language (documents
	// without one are not counted), State by state, Tag by tag name.
	Type, Language, State, Tag []FacetCount
}

// FacetValuesMax is the number of values a facet lists at most.
const FacetValuesMax = 50

// FacetCount is the number of matches with one value of a facet.
type FacetCount struct {
	// Value is the field's value.
	Value string
	// Count is the number of documents with it.
	Count int
}

// validate checks the parameters and returns the page size.
func (p *SearchParams) validate() (int, error) {
	limit, err := listLimit(p.Limit)
	errs := []error{err}
	if p.State != "" && !p.State.Valid() {
		errs = append(errs, fmt.Errorf("state %q is not one of %v", p.State, States))
	}
	if p.Sort != "" && !p.Sort.Valid() {
		errs = append(errs, fmt.Errorf("sort %q is not one of %v", p.Sort, SearchSorts))
	}
	for _, l := range p.Labels {
		if l == "" {
			errs = append(errs, errors.New("empty label"))
		}
	}
	for _, t := range p.Tags {
		if tagKey(t) == "" {
			errs = append(errs, errors.New("empty tag"))
		}
	}
	for _, r := range []struct {
		name         string
		from, before time.Time
	}{{"created", p.CreatedFrom, p.CreatedBefore}, {"updated", p.UpdatedFrom, p.UpdatedBefore}} {
		if !r.from.IsZero() && !r.before.IsZero() && !r.from.Before(r.before) {
			errs = append(errs, fmt.Errorf("%s range is empty: %s is not before %s",
				r.name, r.from.Format(time.RFC3339Nano), r.before.Format(time.RFC3339Nano)))
		}
	}
	return limit, invalid(errs...)
}

// searchCursor is where a page of hits ends: the last hit's score (for
// relevance) and ID.
type searchCursor struct {
	score float64
	id    string
}

// fingerprint identifies the query, filters and sort a cursor belongs to,
// so that a cursor passed with another search is refused rather than
// silently starting somewhere meaningless.
func (p *SearchParams) fingerprint() string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	field(p.Query)
	field(string(p.State))
	field(p.MIMEType)
	field(p.Language)
	field(p.ParentID)
	field(string(p.sort()))
	for _, t := range []time.Time{p.CreatedFrom, p.CreatedBefore, p.UpdatedFrom, p.UpdatedBefore} {
		field(strconv.FormatInt(t.UnixNano(), 10))
	}
	for _, l := range slices.Sorted(slices.Values(p.Labels)) {
		field("label=" + l)
	}
	for _, t := range slices.Sorted(slices.Values(p.Tags)) {
		field("tag=" + tagKey(t))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func (p *SearchParams) sort() SearchSort {
	if p.Sort == "" {
		return SortRelevance
	}
	return p.Sort
}

// encodeCursor makes the opaque cursor of a page that ends at c. It is not
// a secret, only checked: a checksum catches a cursor edited or cut short.
func (p *SearchParams) encodeCursor(c searchCursor) string {
	payload := strings.Join([]string{"1", p.fingerprint(), strconv.FormatUint(math.Float64bits(c.score), 16), c.id}, "|")
	sum := sha256.Sum256([]byte(payload))
	return base64.RawURLEncoding.EncodeToString([]byte(payload + "|" + hex.EncodeToString(sum[:6])))
}

// decodeCursor reads a cursor encodeCursor made for the same search.
func (p *SearchParams) decodeCursor(s string) (searchCursor, error) {
	bad := func(why string) (searchCursor, error) {
		return searchCursor{}, invalid(fmt.Errorf("cursor %q is not one this search gave: %s", s, why))
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad("not base64url")
	}
	// The payload, a bar, then twelve hex digits of checksum.
	n := len(raw) - 13
	if n < 0 || raw[n] != '|' {
		return bad("no checksum")
	}
	payload, sum := string(raw[:n]), string(raw[n+1:])
	want := sha256.Sum256([]byte(payload))
	if hex.EncodeToString(want[:6]) != sum {
		return bad("the checksum does not match")
	}
	parts := strings.Split(payload, "|")
	if len(parts) != 4 || parts[0] != "1" {
		return bad("unknown version")
	}
	if parts[1] != p.fingerprint() {
		return bad("it belongs to another query, filter or sort")
	}
	bits, err := strconv.ParseUint(parts[2], 16, 64)
	if err != nil {
		return bad("bad score")
	}
	if _, err := ulid.ParseStrict(parts[3]); err != nil {
		return bad("bad document ID")
	}
	return searchCursor{score: math.Float64frombits(bits), id: parts[3]}, nil
}

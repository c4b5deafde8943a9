package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/quirehq/quire/store"
)

// SearchResults are a page of a full-text search's hits, with the matches
// counted by facet.
type SearchResults struct {
	Hits []SearchHit `json:"hits"`
	// Facets count the matches by type, language, state and tag; absent
	// when facets=false.
	Facets *SearchFacets `json:"facets,omitempty"`
	// Approximate reports that the query matched more documents than a
	// search ranks (2,000): relevance ranked, and facets counted, the most
	// recently indexed of them; sorting by date pages through them all.
	Approximate bool `json:"approximate"`
	// Next is the cursor of the next page, for the cursor parameter with
	// the same query, filters and sort; absent on the last page.
	Next string `json:"next,omitempty"`
}

// SearchHit is a document a search found: the document's fields, its
// score and a snippet of its text around the match.
type SearchHit struct {
	Document
	// Score orders hits by relevance, higher first; it compares hits of
	// one search only. 0 when sorted by date.
	Score float64 `json:"score"`
	// Snippet is a passage of the text in parts; match marks the parts
	// that matched the query.
	Snippet []SnippetPart `json:"snippet"`
}

// SnippetPart is a piece of a snippet.
type SnippetPart struct {
	Text  string `json:"text"`
	Match bool   `json:"match"`
}

// SearchFacets count a search's matches by value of a field, largest
// count first.
type SearchFacets struct {
	// Counted is the number of documents counted.
	Counted  int          `json:"counted"`
	Type     []FacetCount `json:"type"`
	Language []FacetCount `json:"language"`
	State    []FacetCount `json:"state"`
	Tag      []FacetCount `json:"tag"`
}

// FacetCount is the number of matches with one value of a facet.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// searchQueryParams are the query parameters of GET /api/v1/search.
func searchQueryParams() []param {
	return []param{
		{"q", "string", "What to look for (docs/search.md): words (all must match), \"quoted phrases\", prefix* words, OR between alternatives, -word to exclude. Required."},
		{"state", "string", "Keep documents in this state: received, extracting, analyzing, indexed, done or failed."},
		{"type", "string", "Keep documents of this media type."},
		{"language", "string", "Keep documents the analysis found in this language (ISO 639-1)."},
		{"label", "string", "Keep documents with this label; repeat for several (all must be there)."},
		{"tag", "string", "Keep documents with this tag (its name, in any case); repeat for several (all must be there)."},
		{"parent", "string", "Keep the attachments of this document."},
		{"created_from", "string", "Keep documents received at or after this time (RFC 3339, or a date: its midnight UTC)."},
		{"created_before", "string", "Keep documents received before this time (RFC 3339, or a date: its midnight UTC)."},
		{"updated_from", "string", "Keep documents changed at or after this time (RFC 3339 or a date)."},
		{"updated_before", "string", "Keep documents changed before this time (RFC 3339 or a date)."},
		{"sort", "string", "relevance (the default), newest or oldest."},
		{"facets", "boolean", "false leaves the facets out. Defaults to true."},
		{"cursor", "string", "Continue a search: the previous page's next, with the same query, filters and sort."},
		{"limit", "integer", "Page size, 1 to 1000. Defaults to 50."},
	}
}

// SearchParamsFromQuery reads a search's query parameters, as the API
// names them; the web UI reads its own with it.
func SearchParamsFromQuery(q url.Values) (*store.SearchParams, error) {
	var errs []error
	limit, err := limitParam(q, store.ListLimitDefault, store.ListLimitMax)
	errs = append(errs, err)
	p := &store.SearchParams{
		Query: q.Get("q"), State: store.State(q.Get("state")), MIMEType: q.Get("type"), Language: q.Get("language"),
		Labels: q["label"], Tags: q["tag"], ParentID: q.Get("parent"), Sort: store.SearchSort(q.Get("sort")),
		Cursor: q.Get("cursor"), Limit: limit, Facets: true,
	}
	if p.State != "" && !p.State.Valid() {
		errs = append(errs, fmt.Errorf("state %q is not one of %v", p.State, store.States))
	}
	if p.Sort != "" && !p.Sort.Valid() {
		errs = append(errs, fmt.Errorf("sort %q is not one of %v", p.Sort, store.SearchSorts))
	}
	if f := q.Get("facets"); f != "" {
		b, err := strconv.ParseBool(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("facets %q is not true or false", f))
		}
		p.Facets = b
	}
	for _, d := range []struct {
		name string
		to   *time.Time
	}{
		{"created_from", &p.CreatedFrom}, {"created_before", &p.CreatedBefore},
		{"updated_from", &p.UpdatedFrom}, {"updated_before", &p.UpdatedBefore},
	} {
		v := q.Get(d.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t, err = time.Parse(time.DateOnly, v)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q is not an RFC 3339 time or a date (2006-01-02)", d.name, v))
		}
		*d.to = t
	}
	return p, errors.Join(errs...)
}

func (a *api) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := SearchParamsFromQuery(q)
	if err == nil && q.Get("q") == "" {
		err = errors.New("q is required: the words to look for")
	}
	if err != nil {
		a.problem(w, r, http.StatusBadRequest, err)
		return
	}
	res, err := a.st.Search(r.Context(), p)
	if a.storeError(w, r, err) {
		return
	}
	out := SearchResults{Hits: make([]SearchHit, len(res.Hits)), Approximate: res.Windowed, Next: res.Next}
	for i, h := range res.Hits {
		out.Hits[i] = SearchHit{Document: view(&h.Document), Score: h.Score, Snippet: snippetView(h.Snippet)}
	}
	if f := res.Facets; f != nil {
		out.Facets = &SearchFacets{Counted: f.Counted, Type: facetView(f.Type), Language: facetView(f.Language),
			State: facetView(f.State), Tag: facetView(f.Tag)}
	}
	if res.Next != "" {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("cursor", res.Next)
		w.Header().Set("Link", "<"+r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, out)
}

func snippetView(parts []store.SnippetPart) []SnippetPart {
	out := make([]SnippetPart, len(parts))
	for i, p := range parts {
		out[i] = SnippetPart{Text: p.Text, Match: p.Match}
	}
	return out
}

func facetView(counts []store.FacetCount) []FacetCount {
	out := make([]FacetCount, len(counts))
	for i, c := range counts {
		out[i] = FacetCount{Value: c.Value, Count: c.Count}
	}
	return out
}

package ui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/api"
)

// searchView is what the search page shows.
type searchView struct {
	Query string
	Sort  store.SearchSort
	// Sorts link to the same search in each order; the current one has no
	// link.
	Sorts []searchLink
	// Filters are the filters in force, each with the link that drops it.
	Filters []searchLink
	// Facets are the facet values, each with the link that adds it as a
	// filter.
	Facets      []searchFacet
	Hits        []searchHit
	Approximate bool
	// Counted is the number of matches the facets counted.
	Counted int
	Next    string
	First   string
}

type searchLink struct {
	Label, Href string
	Current     bool
}

type searchFacet struct {
	Name   string
	Values []searchLink
}

type searchHit struct {
	store.SearchHit
	// Href opens the document with the query highlighted.
	Href string
}

// searchPageSize is the hits a page shows unless the URL says otherwise.
const searchPageSize = 20

// searchFilters are the filters of a search in its URL, with what the page
// calls them.
var searchFilters = []struct{ param, label string }{
	{"type", "type"}, {"language", "language"}, {"state", "state"}, {"tag", "tag"}, {"label", "label"},
	{"created_from", "received from"}, {"created_before", "received before"},
}

func (u *ui) search(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	q := r.URL.Query()
	p, err := api.SearchParamsFromQuery(q)
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, err)
		return
	}
	p.Query = strings.TrimSpace(p.Query)
	if q.Get("limit") == "" {
		p.Limit = searchPageSize
	}
	v := &searchView{Query: p.Query, Sort: p.Sort}
	if v.Sort == "" {
		v.Sort = store.SortRelevance
	}
	// with returns this page's URL changed by edit, on its first page.
	with := func(edit func(url.Values)) string {
		nq := url.Values{}
		for k, vs := range q {
			nq[k] = append([]string(nil), vs...)
		}
		nq.Del("cursor")
		edit(nq)
		return "/search?" + nq.Encode()
	}
	for _, s := range store.SearchSorts {
		v.Sorts = append(v.Sorts, searchLink{Label: string(s), Current: s == v.Sort,
			Href: with(func(nq url.Values) { nq.Set("sort", string(s)) })})
	}
	for _, f := range searchFilters {
		for _, val := range q[f.param] {
			v.Filters = append(v.Filters, searchLink{Label: f.label + ": " + val, Href: with(func(nq url.Values) {
				nq[f.param] = deleteValue(nq[f.param], val)
			})})
		}
	}
	if p.Query != "" {
		res, err := u.st.Search(r.Context(), p)
		if errors.Is(err, store.ErrInvalid) {
			u.fail(w, r, http.StatusBadRequest, err)
			return
		}
		if err != nil {
			u.fail(w, r, http.StatusServiceUnavailable, err)
			return
		}
		for _, h := range res.Hits {
			v.Hits = append(v.Hits, searchHit{SearchHit: h, Href: "/documents/" + h.Document.ID + "?" + url.Values{"q": {p.Query}}.Encode()})
		}
		v.Approximate = res.Windowed
		if res.Next != "" {
			nq := url.Values{}
			for k, vs := range q {
				nq[k] = vs
			}
			nq.Set("cursor", res.Next)
			v.Next = "/search?" + nq.Encode()
		}
		if p.Cursor != "" {
			v.First = with(func(url.Values) {})
		}
		if f := res.Facets; f != nil {
			v.Counted = f.Counted
			for _, facet := range []struct {
				name, param string
				counts      []store.FacetCount
			}{{"Type", "type", f.Type}, {"Tag", "tag", f.Tag}, {"Language", "language", f.Language}, {"State", "state", f.State}} {
				sf := searchFacet{Name: facet.name}
				for _, fc := range facet.counts {
					current := slices.Contains(q[facet.param], fc.Value)
					sf.Values = append(sf.Values, searchLink{Label: fc.Value + " (" + strconv.Itoa(fc.Count) + ")", Current: current,
						Href: with(func(nq url.Values) {
							// A document has one type, language and state
							// but many tags: a tag narrows what other tags
							// chose.
							if facet.param == "tag" {
								nq.Add("tag", fc.Value)
							} else {
								nq.Set(facet.param, fc.Value)
							}
						})})
				}
				if len(sf.Values) > 0 {
					v.Facets = append(v.Facets, sf)
				}
			}
		}
	}
	title := "Search"
	if p.Query != "" {
		title = p.Query + " · Search"
	}
	u.render(w, r, http.StatusOK, "search", c, &page{Title: title, Nav: "search", Query: p.Query, Data: v})
}

func deleteValue(vs []string, v string) []string {
	var out []string
	for _, x := range vs {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

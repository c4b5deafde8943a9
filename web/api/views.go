package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/quirehq/quire/store"
)

// SavedView is a saved view of the document list as the API shows it. A
// view belongs to who saved it (the signed-in user, or the token): only
// its owner sees, changes and deletes it, unless it is shared, which lists
// it to everyone, still changed by its owner only.
type SavedView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Owner string `json:"owner"`
	// Shared lists the view to everyone.
	Shared bool `json:"shared"`
	// Query is the full-text query (the list's q).
	Query string `json:"query,omitempty"`
	// Filters are the document list's other filters: state, mime_type,
	// parent, tag (comma-separated tag names).
	Filters map[string]string `json:"filters"`
	// Sort is newest (the default) or relevance.
	Sort string `json:"sort,omitempty"`
	// Dashboard shows the view on the dashboard.
	Dashboard bool      `json:"dashboard"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SavedViewList lists views by name: the caller's and the shared ones.
type SavedViewList struct {
	Views []SavedView `json:"views"`
}

// SavedViewParams are the body of a new view or a change to one; fields
// left out of a change keep their value.
type SavedViewParams struct {
	Name      *string            `json:"name"`
	Shared    *bool              `json:"shared"`
	Query     *string            `json:"query"`
	Filters   *map[string]string `json:"filters"`
	Sort      *string            `json:"sort"`
	Dashboard *bool              `json:"dashboard"`
}

// viewFilters are the filters a view may hold: the document list's.
var viewFilters = []string{"state", "mime_type", "parent", "tag"}

// viewSorts are the orders a view may have.
var viewSorts = []string{"", "newest", "relevance"}

func viewSaved(v *store.View) SavedView {
	f := v.Filters
	if f == nil {
		f = map[string]string{}
	}
	return SavedView{ID: v.ID, Name: v.Name, Owner: v.Owner, Shared: v.Shared, Query: v.Query, Filters: f,
		Sort: v.Sort, Dashboard: v.Dashboard, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
}

// checkView says what is wrong with a view's filters and sort.
func checkView(filters map[string]string, sort string) error {
	var errs []error
	for k, v := range filters {
		switch {
		case !slices.Contains(viewFilters, k):
			errs = append(errs, fmt.Errorf("filter %q is not one of %v", k, viewFilters))
		case k == "state" && v != "" && !store.State(v).Valid():
			errs = append(errs, fmt.Errorf("filter state %q is not one of %v", v, store.States))
		case k == "tag":
			for _, t := range strings.Split(v, ",") {
				if t = strings.TrimSpace(t); t != "" {
					errs = append(errs, store.ValidateTagName(t))
				}
			}
		}
	}
	if !slices.Contains(viewSorts, sort) {
		errs = append(errs, fmt.Errorf("sort %q is not newest or relevance", sort))
	}
	return errors.Join(errs...)
}

func (a *api) listViews(w http.ResponseWriter, r *http.Request) {
	vs, err := a.st.ListViews(r.Context(), &store.ListViewsParams{Owner: setBy(r), Dashboard: r.URL.Query().Get("dashboard") == "true"})
	if a.storeError(w, r, err) {
		return
	}
	out := SavedViewList{Views: make([]SavedView, len(vs))}
	for i := range vs {
		out.Views[i] = viewSaved(&vs[i])
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) createView(w http.ResponseWriter, r *http.Request) {
	var p SavedViewParams
	if !a.decode(w, r, &p) {
		return
	}
	cp := &store.CreateViewParams{Owner: setBy(r)}
	if p.Name != nil {
		cp.Name = *p.Name
	}
	if p.Shared != nil {
		cp.Shared = *p.Shared
	}
	if p.Query != nil {
		cp.Query = *p.Query
	}
	if p.Filters != nil {
		cp.Filters = *p.Filters
	}
	if p.Sort != nil {
		cp.Sort = *p.Sort
	}
	if p.Dashboard != nil {
		cp.Dashboard = *p.Dashboard
	}
	if err := checkView(cp.Filters, cp.Sort); err != nil {
		a.problem(w, r, http.StatusBadRequest, err)
		return
	}
	v, err := a.st.CreateView(r.Context(), cp)
	if a.storeError(w, r, err) {
		return
	}
	w.Header().Set("Location", "/api/v1/views/"+v.ID)
	writeJSON(w, http.StatusCreated, viewSaved(v))
}

// ownView returns a view the caller may see: its own or a shared one.
// Another's private view is not found, as if it did not exist.
func (a *api) ownView(w http.ResponseWriter, r *http.Request) (*store.View, bool) {
	v, err := a.st.GetView(r.Context(), r.PathValue("id"))
	if err == nil && !v.Shared && v.Owner != setBy(r) {
		err = fmt.Errorf("view %s: %w", r.PathValue("id"), store.ErrNotFound)
	}
	if a.storeError(w, r, err) {
		return nil, false
	}
	return v, true
}

func (a *api) getView(w http.ResponseWriter, r *http.Request) {
	if v, ok := a.ownView(w, r); ok {
		writeJSON(w, http.StatusOK, viewSaved(v))
	}
}

func (a *api) updateView(w http.ResponseWriter, r *http.Request) {
	var p SavedViewParams
	if !a.decode(w, r, &p) {
		return
	}
	v, ok := a.ownView(w, r)
	if !ok {
		return
	}
	up := &store.UpdateViewParams{ID: v.ID, Owner: setBy(r), Name: v.Name, Shared: v.Shared, Query: v.Query,
		Filters: v.Filters, Sort: v.Sort, Dashboard: v.Dashboard}
	if p.Name != nil {
		up.Name = *p.Name
	}
	if p.Shared != nil {
		up.Shared = *p.Shared
	}
	if p.Query != nil {
		up.Query = *p.Query
	}
	if p.Filters != nil {
		up.Filters = *p.Filters
	}
	if p.Sort != nil {
		up.Sort = *p.Sort
	}
	if p.Dashboard != nil {
		up.Dashboard = *p.Dashboard
	}
	if err := checkView(up.Filters, up.Sort); err != nil {
		a.problem(w, r, http.StatusBadRequest, err)
		return
	}
	if v.Owner != up.Owner {
		a.problem(w, r, http.StatusForbidden, fmt.Errorf("view %s is %s's: only its owner changes it", v.ID, v.Owner))
		return
	}
	nv, err := a.st.UpdateView(r.Context(), up)
	if a.storeError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, viewSaved(nv))
}

func (a *api) deleteView(w http.ResponseWriter, r *http.Request) {
	v, ok := a.ownView(w, r)
	if !ok {
		return
	}
	if v.Owner != setBy(r) {
		a.problem(w, r, http.StatusForbidden, fmt.Errorf("view %s is %s's: only its owner deletes it", v.ID, v.Owner))
		return
	}
	if a.storeError(w, r, a.st.DeleteView(r.Context(), v.ID, v.Owner)) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

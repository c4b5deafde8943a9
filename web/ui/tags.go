package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/quirehq/quire/store"
)

// tagsPage lists the tags with their rules and counts, and lets a writer
// create, change and delete them.
func (u *ui) tagsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	tags, err := u.st.ListTags(r.Context())
	if u.storeError(w, r, err) {
		return
	}
	u.render(w, r, http.StatusOK, "tags", c, &page{Title: "Tags", Nav: "tags", Data: map[string]any{
		"Tags": tags, "Kinds": store.MatchKinds}})
}

// tagForm reads a tag's fields from a form.
func tagForm(r *http.Request) (name, color string, match store.MatchKind, text string, caseSensitive bool) {
	return strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("color")),
		store.MatchKind(r.PostFormValue("match")), r.PostFormValue("match_text"), r.PostFormValue("case_sensitive") == "on"
}

func (u *ui) createTag(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	name, color, match, text, cs := tagForm(r)
	t, err := u.st.CreateTag(r.Context(), &store.CreateTagParams{Name: name, Color: color, Match: match, MatchText: text, CaseSensitive: cs})
	if u.storeError(w, r, err) {
		return
	}
	back(w, r, "/tags", fmt.Sprintf("Created the tag %q: documents processed from now on are matched against its rule.", t.Name))
}

func (u *ui) updateTag(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	name, color, match, text, cs := tagForm(r)
	old := r.PathValue("name")
	newName := ""
	if name != old {
		newName = name // a change of case alone renames it too
	}
	t, err := u.st.UpdateTag(r.Context(), &store.UpdateTagParams{Name: old, NewName: newName, Color: color, Match: match, MatchText: text, CaseSensitive: cs})
	if u.storeError(w, r, err) {
		return
	}
	back(w, r, "/tags", fmt.Sprintf("Saved the tag %q.", t.Name))
}

func (u *ui) deleteTag(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	name := r.PathValue("name")
	if u.storeError(w, r, u.st.DeleteTag(r.Context(), name)) {
		return
	}
	back(w, r, "/tags", fmt.Sprintf("Deleted the tag %q.", name))
}

func (u *ui) addDocumentTag(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	ctx := r.Context()
	id, tag := r.PathValue("id"), strings.TrimSpace(r.PostFormValue("tag"))
	who := "user:" + c.User.Email
	if _, err := u.st.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: []string{id}, Tags: []string{tag}, SetBy: who}); u.storeError(w, r, err) {
		return
	}
	if u.storeError(w, r, u.auditTag(ctx, id, fmt.Sprintf("tagged %q by %s", tag, who))) {
		return
	}
	back(w, r, "/documents/"+url.PathEscape(id), fmt.Sprintf("Tagged %q.", tag))
}

func (u *ui) deleteDocumentTag(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	ctx := r.Context()
	id, tag := r.PathValue("id"), r.PostFormValue("tag")
	if _, err := u.st.GetDocument(ctx, id); u.storeError(w, r, err) {
		return
	}
	if _, err := u.st.UntagDocuments(ctx, &store.UntagDocumentsParams{DocumentIDs: []string{id}, Tags: []string{tag}}); u.storeError(w, r, err) {
		return
	}
	if u.storeError(w, r, u.auditTag(ctx, id, fmt.Sprintf("untagged %q by user:%s", tag, c.User.Email))) {
		return
	}
	back(w, r, "/documents/"+url.PathEscape(id), fmt.Sprintf("Removed the tag %q.", tag))
}

// auditTag records a person's change of a document's tags on its audit
// trail, as the API's changes are.
func (u *ui) auditTag(ctx context.Context, id, msg string) error {
	_, err := u.st.AddEvent(ctx, &store.AddEventParams{DocumentID: id, Stage: "tag", Type: store.EventDone, Message: msg})
	return err
}

// viewFilterKeys are the document list's filters a saved view keeps.
var viewFilterKeys = []string{"state", "mime_type", "tag"}

// saveView saves the document list's current filters as a view of the
// user's own.
func (u *ui) saveView(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	filters := map[string]string{}
	for _, k := range viewFilterKeys {
		if v := strings.TrimSpace(r.PostFormValue(k)); v != "" {
			filters[k] = v
		}
	}
	if s := filters["state"]; s != "" && !store.State(s).Valid() {
		u.fail(w, r, http.StatusBadRequest, fmt.Errorf("state %q is not one of %v", s, store.States))
		return
	}
	v, err := u.st.CreateView(r.Context(), &store.CreateViewParams{Name: r.PostFormValue("name"), Owner: "user:" + c.User.Email,
		Query: strings.TrimSpace(r.PostFormValue("q")), Filters: filters, Dashboard: r.PostFormValue("dashboard") == "on",
		Shared: r.PostFormValue("shared") == "on"})
	if u.storeError(w, r, err) {
		return
	}
	back(w, r, viewURL(*v), fmt.Sprintf("Saved the view %q.", v.Name))
}

func (u *ui) deleteView(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if u.storeError(w, r, u.st.DeleteView(r.Context(), r.PathValue("id"), "user:"+c.User.Email)) {
		return
	}
	back(w, r, "/", "Deleted the view.")
}

// viewURL is the document list a saved view shows.
func viewURL(v store.View) string {
	q := url.Values{}
	if v.Query != "" {
		q.Set("q", v.Query)
	}
	for _, k := range viewFilterKeys {
		if f := v.Filters[k]; f != "" {
			q.Set(k, f)
		}
	}
	if len(q) == 0 {
		return "/documents"
	}
	return "/documents?" + q.Encode()
}

// navViews returns the user's saved views and the shared ones, for the
// navigation; none when they cannot be read, which must not fail a page.
func (u *ui) navViews(ctx context.Context, c *reqCtx) []store.View {
	if c == nil || c.User == nil {
		return nil
	}
	vs, err := u.st.ListViews(ctx, &store.ListViewsParams{Owner: "user:" + c.User.Email})
	if err != nil {
		u.log.Warn("ui: read saved views", "error", err)
		return nil
	}
	return vs
}

// tagFilter reads the document list's tag filter: comma-separated names.
func tagFilter(v string) []string {
	var tags []string
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

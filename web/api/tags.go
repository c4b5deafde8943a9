package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/quirehq/quire/store"
)

// Tag is a tag as the API shows it.
type Tag struct {
	Name  string `json:"name"`
	Color string `json:"color,omitempty"`
	// Match is how the tag's rule matches a document's text as it is
	// processed: none, any, all, exact, regex, fuzzy or auto (the tag
	// classifier decides), as in paperless-ngx.
	Match         string    `json:"match"`
	MatchText     string    `json:"match_text,omitempty"`
	CaseSensitive bool      `json:"case_sensitive"`
	Documents     int       `json:"documents"`
	CreatedAt     time.Time `json:"created_at"`
}

// TagList lists tags by name.
type TagList struct {
	Tags []Tag `json:"tags"`
}

// TagParams are the body of a new tag or a change to one; fields left out
// of a change keep their value.
type TagParams struct {
	Name          *string `json:"name"`
	Color         *string `json:"color"`
	Match         *string `json:"match"`
	MatchText     *string `json:"match_text"`
	CaseSensitive *bool   `json:"case_sensitive"`
}

// DocumentTag is a tag on a document, with who set it: "user:<email>" or
// "token:<name>" for people, "rule" for the tag's rule, "classifier:<model
// version>" for the tag classifier.
type DocumentTag struct {
	Tag       string    `json:"tag"`
	SetBy     string    `json:"set_by"`
	CreatedAt time.Time `json:"created_at"`
}

// DocumentTagList is a document's tags, oldest first.
type DocumentTagList struct {
	Tags []DocumentTag `json:"tags"`
}

// DocumentTagParams are the body of tags set on a document.
type DocumentTagParams struct {
	Tags []string `json:"tags"`
}

func viewTag(t *store.Tag) Tag {
	return Tag{Name: t.Name, Color: t.Color, Match: string(t.Match), MatchText: t.MatchText,
		CaseSensitive: t.CaseSensitive, Documents: t.Documents, CreatedAt: t.CreatedAt}
}

func (a *api) listTags(w http.ResponseWriter, r *http.Request) {
	ts, err := a.st.ListTags(r.Context())
	if a.storeError(w, r, err) {
		return
	}
	out := TagList{Tags: make([]Tag, len(ts))}
	for i := range ts {
		out.Tags[i] = viewTag(&ts[i])
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) createTag(w http.ResponseWriter, r *http.Request) {
	var p TagParams
	if !a.decode(w, r, &p) {
		return
	}
	cp := &store.CreateTagParams{}
	if p.Name != nil {
		cp.Name = *p.Name
	}
	if p.Color != nil {
		cp.Color = *p.Color
	}
	if p.Match != nil {
		cp.Match = store.MatchKind(*p.Match)
	}
	if p.MatchText != nil {
		cp.MatchText = *p.MatchText
	}
	if p.CaseSensitive != nil {
		cp.CaseSensitive = *p.CaseSensitive
	}
	t, err := a.st.CreateTag(r.Context(), cp)
	if a.storeError(w, r, err) {
		return
	}
	w.Header().Set("Location", "/api/v1/tags/"+url.PathEscape(t.Name))
	writeJSON(w, http.StatusCreated, viewTag(t))
}

func (a *api) getTag(w http.ResponseWriter, r *http.Request) {
	t, err := a.st.GetTag(r.Context(), r.PathValue("name"))
	if a.storeError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, viewTag(t))
}

func (a *api) updateTag(w http.ResponseWriter, r *http.Request) {
	var p TagParams
	if !a.decode(w, r, &p) {
		return
	}
	t, err := a.st.GetTag(r.Context(), r.PathValue("name"))
	if a.storeError(w, r, err) {
		return
	}
	up := &store.UpdateTagParams{Name: t.Name, Color: t.Color, Match: t.Match, MatchText: t.MatchText, CaseSensitive: t.CaseSensitive}
	if p.Name != nil {
		up.NewName = *p.Name
		if strings.TrimSpace(up.NewName) == "" {
			a.problem(w, r, http.StatusBadRequest, fmt.Errorf("%w: empty tag name", store.ErrInvalid))
			return
		}
	}
	if p.Color != nil {
		up.Color = *p.Color
	}
	if p.Match != nil {
		up.Match = store.MatchKind(*p.Match)
	}
	if p.MatchText != nil {
		up.MatchText = *p.MatchText
	}
	if p.CaseSensitive != nil {
		up.CaseSensitive = *p.CaseSensitive
	}
	t, err = a.st.UpdateTag(r.Context(), up)
	if a.storeError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, viewTag(t))
}

func (a *api) deleteTag(w http.ResponseWriter, r *http.Request) {
	if a.storeError(w, r, a.st.DeleteTag(r.Context(), r.PathValue("name"))) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) listDocumentTags(w http.ResponseWriter, r *http.Request) {
	a.writeDocumentTags(w, r, http.StatusOK, r.PathValue("id"))
}

// writeDocumentTags answers with a document's tags.
func (a *api) writeDocumentTags(w http.ResponseWriter, r *http.Request, status int, id string) {
	list, err := a.st.ListDocumentTags(r.Context(), &store.ListDocumentTagsParams{DocumentID: id, Limit: store.ListLimitMax})
	if a.storeError(w, r, err) {
		return
	}
	out := DocumentTagList{Tags: make([]DocumentTag, len(list))}
	for i, dt := range list {
		out.Tags[i] = DocumentTag{Tag: dt.Tag, SetBy: dt.SetBy, CreatedAt: dt.CreatedAt}
	}
	writeJSON(w, status, out)
}

func (a *api) addDocumentTags(w http.ResponseWriter, r *http.Request) {
	var p DocumentTagParams
	if !a.decode(w, r, &p) {
		return
	}
	if len(p.Tags) == 0 || len(p.Tags) > maxTagsPerRequest {
		a.problem(w, r, http.StatusBadRequest, fmt.Errorf("tags: give 1 to %d tag names", maxTagsPerRequest))
		return
	}
	id := r.PathValue("id")
	if _, err := a.st.GetDocument(r.Context(), id); a.storeError(w, r, err) {
		return
	}
	if _, err := a.tagDocuments(r.Context(), []string{id}, p.Tags, setBy(r), ""); a.storeError(w, r, err) {
		return
	}
	a.writeDocumentTags(w, r, http.StatusOK, id)
}

func (a *api) deleteDocumentTag(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.st.GetDocument(r.Context(), id); a.storeError(w, r, err) {
		return
	}
	if _, err := a.untagDocuments(r.Context(), []string{id}, []string{r.PathValue("tag")}, setBy(r), ""); a.storeError(w, r, err) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxTagsPerRequest bounds the tags one request sets or removes.
const maxTagsPerRequest = 100

// tagDocuments tags documents for who, and records on each document's
// audit trail who tagged it with what; how says through what ("bulk").
// It returns how many assignments are new.
func (a *api) tagDocuments(ctx context.Context, ids, tags []string, who, how string) (int, error) {
	n, err := a.st.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: ids, Tags: tags, SetBy: who})
	if err != nil {
		return 0, err
	}
	return n, a.audit(ctx, ids, "tag", fmt.Sprintf("tagged %s by %s", quoteAll(tags), who), how)
}

// untagDocuments is tagDocuments' inverse.
func (a *api) untagDocuments(ctx context.Context, ids, tags []string, who, how string) (int, error) {
	n, err := a.st.UntagDocuments(ctx, &store.UntagDocumentsParams{DocumentIDs: ids, Tags: tags})
	if err != nil {
		return 0, err
	}
	return n, a.audit(ctx, ids, "tag", fmt.Sprintf("untagged %s by %s", quoteAll(tags), who), how)
}

// audit appends an event to each document's audit trail.
func (a *api) audit(ctx context.Context, ids []string, stage, msg, how string) error {
	if how != "" {
		msg += " (" + how + ")"
	}
	for _, id := range ids {
		_, err := a.st.AddEvent(ctx, &store.AddEventParams{DocumentID: id, Stage: stage, Type: store.EventDone, Message: msg})
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile: no trail left to add to
		}
		if err != nil {
			return fmt.Errorf("audit document %s: %w", id, err)
		}
	}
	return nil
}

// quoteAll quotes names for a message: "a", "b".
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// documentViews shows documents with their tags, read in one query.
func (a *api) documentViews(ctx context.Context, docs []store.Document) ([]Document, error) {
	ids := make([]string, len(docs))
	for i := range docs {
		ids[i] = docs[i].ID
	}
	tags, err := a.st.DocumentTagNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Document, len(docs))
	for i := range docs {
		out[i] = view(&docs[i])
		out[i].Tags = slices.Clip(append([]string{}, tags[docs[i].ID]...))
	}
	return out, nil
}

// documentView shows one document with its tags.
func (a *api) documentView(ctx context.Context, d *store.Document) (Document, error) {
	vs, err := a.documentViews(ctx, []store.Document{*d})
	if err != nil {
		return Document{}, err
	}
	return vs[0], nil
}

// tagsParam reads the document list's tag filter: comma-separated names,
// or the parameter repeated.
func tagsParam(q url.Values) ([]string, error) {
	var tags []string
	for _, v := range q["tag"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				if err := store.ValidateTagName(t); err != nil {
					return nil, err
				}
				tags = append(tags, t)
			}
		}
	}
	if len(tags) > maxTagsPerRequest {
		return nil, fmt.Errorf("tag: at most %d tags", maxTagsPerRequest)
	}
	return tags, nil
}

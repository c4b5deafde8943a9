package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/quirehq/quire/store"
)

// BulkMax is the most documents one bulk action changes: a larger
// selection is refused, so that one request's work and audit trail stay
// bounded. A query that matches more is narrowed, or run page by page with
// ids.
const BulkMax = 1000

// The bulk actions.
const (
	BulkTag       = "tag"
	BulkUntag     = "untag"
	BulkLabel     = "label"
	BulkReprocess = "reprocess"
	BulkDelete    = "delete"
)

// BulkParams are the body of a bulk action: the documents, by ids or by a
// query with the document list's filters, and what to do to them.
type BulkParams struct {
	// IDs are the documents, at most BulkMax.
	IDs []string `json:"ids,omitempty"`
	// Query selects the documents as the document list's filters do; it
	// must match at most BulkMax documents.
	Query *BulkQuery `json:"query,omitempty"`
	// Action is tag, untag, label, reprocess or delete.
	Action string `json:"action"`
	// Tags are the tags of tag and untag.
	Tags []string `json:"tags,omitempty"`
	// Label is the label of label.
	Label string `json:"label,omitempty"`
}

// BulkQuery is the document list's filters.
type BulkQuery struct {
	State    string   `json:"state,omitempty"`
	Q        string   `json:"q,omitempty"`
	Parent   string   `json:"parent,omitempty"`
	MIMEType string   `json:"mime_type,omitempty"`
	Tags     []string `json:"tags,omitempty"`
}

// BulkResult counts what a bulk action did.
type BulkResult struct {
	// Matched is how many documents were selected.
	Matched int `json:"matched"`
	// Changed is how many changes were made: new or removed tag
	// assignments, new labels, documents reprocessed or deleted.
	Changed int `json:"changed"`
	// Skipped is how many documents were left as they were: gone meanwhile,
	// or not done or failed, for reprocess.
	Skipped int `json:"skipped"`
}

func (a *api) bulk(w http.ResponseWriter, r *http.Request) {
	var p BulkParams
	if !a.decode(w, r, &p) {
		return
	}
	if err := p.validate(); err != nil {
		a.problem(w, r, http.StatusBadRequest, err)
		return
	}
	ctx := r.Context()
	ids := uniqIDs(p.IDs)
	if p.Query != nil {
		page, err := a.st.ListDocuments(ctx, &store.ListDocumentsParams{State: store.State(p.Query.State), Query: p.Query.Q,
			ParentID: p.Query.Parent, MIMEType: p.Query.MIMEType, Tags: p.Query.Tags, Limit: BulkMax})
		if a.storeError(w, r, err) {
			return
		}
		if page.Next != "" {
			a.problem(w, r, http.StatusBadRequest, fmt.Errorf("the query matches more than %d documents, the most one bulk action changes: narrow it", BulkMax))
			return
		}
		for _, d := range page.Documents {
			ids = append(ids, d.ID)
		}
	}
	who := setBy(r)
	res := BulkResult{Matched: len(ids)}
	var err error
	switch p.Action {
	case BulkTag:
		res.Changed, err = a.tagDocuments(ctx, ids, p.Tags, who, "bulk")
	case BulkUntag:
		res.Changed, err = a.untagDocuments(ctx, ids, p.Tags, who, "bulk")
	case BulkLabel:
		for _, id := range ids {
			_, err = a.st.AddLabel(ctx, &store.AddLabelParams{DocumentID: id, Label: p.Label, SetBy: who})
			if errors.Is(err, store.ErrNotFound) {
				res.Skipped, err = res.Skipped+1, nil
				continue
			}
			if err != nil {
				break
			}
			res.Changed++
			if err = a.audit(ctx, []string{id}, "label", fmt.Sprintf("labelled %q by %s", p.Label, who), "bulk"); err != nil {
				break
			}
		}
	case BulkReprocess:
		for _, id := range ids {
			// Reprocess leaves a document already received as it is, and
			// would enqueue its extraction again: only finished ones go.
			var d *store.Document
			if d, err = a.st.GetDocument(ctx, id); err == nil && d.State != store.StateDone && d.State != store.StateFailed {
				res.Skipped++
				continue
			}
			if err == nil {
				_, err = a.p.Reprocess(ctx, id)
			}
			if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrStateConflict) {
				res.Skipped, err = res.Skipped+1, nil
				continue
			}
			if err != nil {
				break
			}
			res.Changed++
			if err = a.audit(ctx, []string{id}, "reprocess", "reprocess requested by "+who, "bulk"); err != nil {
				break
			}
		}
	case BulkDelete:
		for _, id := range ids {
			err = a.st.DeleteDocument(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				res.Skipped, err = res.Skipped+1, nil
				continue
			}
			if err != nil {
				break
			}
			res.Changed++
			// The document's audit trail goes with it: the log keeps who
			// deleted it.
			a.log.Info("api: document deleted in bulk", "document_id", id, "by", who)
		}
	}
	if a.storeError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (p *BulkParams) validate() error {
	var errs []error
	switch {
	case len(p.IDs) == 0 && p.Query == nil:
		errs = append(errs, errors.New(`select documents: give "ids" or "query"`))
	case len(p.IDs) > 0 && p.Query != nil:
		errs = append(errs, errors.New(`give "ids" or "query", not both`))
	case len(p.IDs) > BulkMax:
		errs = append(errs, fmt.Errorf("%d ids: at most %d documents per bulk action", len(p.IDs), BulkMax))
	}
	if q := p.Query; q != nil {
		if q.State != "" && !store.State(q.State).Valid() {
			errs = append(errs, fmt.Errorf("query: state %q is not one of %v", q.State, store.States))
		}
		if strings.TrimSpace(q.Q) == "" && q.State == "" && q.Parent == "" && q.MIMEType == "" && len(q.Tags) == 0 {
			// Every document is never what a click meant.
			errs = append(errs, errors.New("query: give at least one filter"))
		}
	}
	switch p.Action {
	case BulkTag, BulkUntag:
		if len(p.Tags) == 0 || len(p.Tags) > maxTagsPerRequest {
			errs = append(errs, fmt.Errorf("%s: give 1 to %d tags", p.Action, maxTagsPerRequest))
		}
	case BulkLabel:
		p.Label = strings.TrimSpace(p.Label)
		if p.Label == "" || len(p.Label) > maxLabel {
			errs = append(errs, fmt.Errorf("label: give a label of 1 to %d bytes", maxLabel))
		}
	case BulkReprocess, BulkDelete:
	default:
		errs = append(errs, fmt.Errorf("action %q is not one of tag, untag, label, reprocess, delete", p.Action))
	}
	return errors.Join(errs...)
}

// uniqIDs returns the distinct non-empty ids, in their order.
func uniqIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

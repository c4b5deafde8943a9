package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseTags(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("CreateGetList", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		tag, err := b.st.CreateTag(ctx, &store.CreateTagParams{Name: " Invoice ", Color: "#aa3300",
			Match: store.MatchAny, MatchText: `invoice "amount due"`})
		require.NoError(t, err)
		require.Len(t, tag.ID, 26)
		require.Equal(t, "Invoice", tag.Name, "trimmed")
		require.Equal(t, store.MatchAny, tag.Match)
		require.False(t, tag.CaseSensitive)
		require.Zero(t, tag.Documents)

		got, err := b.st.GetTag(ctx, "INVOICE")
		require.NoError(t, err)
		require.Equal(t, tag, got, "names match in any case")

		_, err = b.st.CreateTag(ctx, &store.CreateTagParams{Name: "invoice"})
		require.ErrorIs(t, err, store.ErrExists)
		_, err = b.st.CreateTag(ctx, &store.CreateTagParams{Name: "Ärger"})
		require.NoError(t, err)
		_, err = b.st.CreateTag(ctx, &store.CreateTagParams{Name: "ärger"})
		require.ErrorIs(t, err, store.ErrExists, "beyond ASCII too")

		plain, err := b.st.CreateTag(ctx, &store.CreateTagParams{Name: "archive"})
		require.NoError(t, err)
		require.Equal(t, store.MatchNone, plain.Match, "the default")

		tags, err := b.st.ListTags(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"archive", "Invoice", "Ärger"}, tagNames(tags), "by name in any case")
		names, err := b.st.ListTagNames(ctx)
		require.NoError(t, err)
		require.Equal(t, tagNames(tags), names)

		_, err = b.st.GetTag(ctx, "nope")
		require.ErrorIs(t, err, store.ErrNotFound)

		rules, err := b.st.ListTagRules(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"Invoice"}, tagNames(rules), "the tags with a rule")
		require.Equal(t, `invoice "amount due"`, rules[0].MatchText)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		tests := []struct {
			name string
			p    store.CreateTagParams
			want string
		}{
			{"EmptyName", store.CreateTagParams{Name: "  "}, "empty tag name"},
			{"Slash", store.CreateTagParams{Name: "a/b"}, `"/"`},
			{"Comma", store.CreateTagParams{Name: "a,b"}, `","`},
			{"Control", store.CreateTagParams{Name: "a\tb"}, "control character"},
			{"TooLong", store.CreateTagParams{Name: strings.Repeat("x", 65)}, "longer than 64"},
			{"UnknownMatch", store.CreateTagParams{Name: "x", Match: "sometimes"}, `match "sometimes" is not one of`},
			{"NoMatchText", store.CreateTagParams{Name: "x", Match: store.MatchAll}, `match "all" needs a match text`},
			{"BadRegex", store.CreateTagParams{Name: "x", Match: store.MatchRegex, MatchText: "inv(oice"}, "not a regular expression"},
			{"Backreference", store.CreateTagParams{Name: "x", Match: store.MatchRegex, MatchText: `(a)\1`}, "not a regular expression"},
			{"BadColor", store.CreateTagParams{Name: "x", Color: "red"}, `color "red" is not #rrggbb`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := b.st.CreateTag(ctx, &tt.p)
				require.ErrorIs(t, err, store.ErrInvalid)
				require.ErrorContains(t, err, tt.want)
			})
		}
		tags, err := b.st.ListTags(ctx)
		require.NoError(t, err)
		require.Empty(t, tags)
	})

	t.Run("UpdateAndRename", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		_, err := b.st.CreateTag(ctx, &store.CreateTagParams{Name: "bills"})
		require.NoError(t, err)
		_, err = b.st.CreateTag(ctx, &store.CreateTagParams{Name: "taxes"})
		require.NoError(t, err)
		doc := newDocument(t, b.st)
		_, err = b.st.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: []string{doc.ID}, Tags: []string{"bills"}, SetBy: "user:a@example.com"})
		require.NoError(t, err)

		tag, err := b.st.UpdateTag(ctx, &store.UpdateTagParams{Name: "BILLS", NewName: "Invoices", Match: store.MatchRegex,
			MatchText: `INV-\d+`, CaseSensitive: true})
		require.NoError(t, err)
		require.Equal(t, "Invoices", tag.Name)
		require.Equal(t, store.MatchRegex, tag.Match)
		require.True(t, tag.CaseSensitive)
		require.Equal(t, 1, tag.Documents, "assignments follow a renamed tag")
		_, err = b.st.GetTag(ctx, "bills")
		require.ErrorIs(t, err, store.ErrNotFound)

		_, err = b.st.UpdateTag(ctx, &store.UpdateTagParams{Name: "invoices", NewName: "Taxes"})
		require.ErrorIs(t, err, store.ErrExists)
		_, err = b.st.UpdateTag(ctx, &store.UpdateTagParams{Name: "invoices", Match: store.MatchRegex, MatchText: "("})
		require.ErrorIs(t, err, store.ErrInvalid)
		_, err = b.st.UpdateTag(ctx, &store.UpdateTagParams{Name: "nope"})
		require.ErrorIs(t, err, store.ErrNotFound)

		// Same name in another case: a rename of the case alone.
		tag, err = b.st.UpdateTag(ctx, &store.UpdateTagParams{Name: "invoices", NewName: "INVOICES"})
		require.NoError(t, err)
		require.Equal(t, "INVOICES", tag.Name)
		require.Equal(t, store.MatchNone, tag.Match, "an update replaces the rule")
	})

	t.Run("TagUntagList", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		for _, n := range []string{"red", "green", "blue"} {
			_, err := b.st.CreateTag(ctx, &store.CreateTagParams{Name: n})
			require.NoError(t, err)
		}
		d1, d2, d3 := newDocument(t, b.st), newDocument(t, b.st), newDocument(t, b.st)

		n, err := b.st.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: []string{d1.ID, d2.ID, d1.ID}, Tags: []string{"Red", "green"}, SetBy: "user:a@example.com"})
		require.NoError(t, err)
		require.Equal(t, 4, n)
		n, err = b.st.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: []string{d1.ID, d2.ID, d3.ID}, Tags: []string{"red"}, SetBy: "rule"})
		require.NoError(t, err)
		require.Equal(t, 1, n, "idempotent: only d3 is new")

		_, err = b.st.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: []string{d3.ID}, Tags: []string{"blue", "purple"}, SetBy: "user:a@example.com"})
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorContains(t, err, "purple")
		_, err = b.st.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: []string{d3.ID, "01J00000000000000000000000"}, Tags: []string{"blue"}, SetBy: "user:a@example.com"})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.st.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: []string{d3.ID}, Tags: []string{"blue"}})
		require.ErrorIs(t, err, store.ErrInvalid)
		names, err := b.st.DocumentTagNames(ctx, []string{d1.ID, d2.ID, d3.ID})
		require.NoError(t, err)
		require.Equal(t, map[string][]string{d1.ID: {"green", "red"}, d2.ID: {"green", "red"}, d3.ID: {"red"}}, names,
			"a failed call sets nothing")

		mine, err := b.st.ListDocumentTags(ctx, &store.ListDocumentTagsParams{SetBy: "user:"})
		require.NoError(t, err)
		require.Len(t, mine, 4)
		byRule, err := b.st.ListDocumentTags(ctx, &store.ListDocumentTagsParams{SetBy: "rule"})
		require.NoError(t, err)
		require.Equal(t, []store.DocumentTag{{DocumentID: d3.ID, Tag: "red", SetBy: "rule", CreatedAt: byRule[0].CreatedAt}}, byRule)
		ofD1, err := b.st.ListDocumentTags(ctx, &store.ListDocumentTagsParams{DocumentID: d1.ID, Limit: 1, Offset: 1})
		require.NoError(t, err)
		require.Len(t, ofD1, 1)
		_, err = b.st.ListDocumentTags(ctx, &store.ListDocumentTagsParams{DocumentID: "01J00000000000000000000000"})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.st.ListDocumentTags(ctx, &store.ListDocumentTagsParams{Tag: "purple"})
		require.ErrorIs(t, err, store.ErrNotFound)
		none, err := b.st.ListDocumentTags(ctx, &store.ListDocumentTagsParams{Tag: "blue"})
		require.NoError(t, err)
		require.Empty(t, none)

		red, err := b.st.GetTag(ctx, "red")
		require.NoError(t, err)
		require.Equal(t, 3, red.Documents)

		list, err := b.st.ListDocuments(ctx, &store.ListDocumentsParams{Tags: []string{"RED", "green"}})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{d1.ID, d2.ID}, docIDs(list.Documents), "every tag")
		list, err = b.st.ListDocuments(ctx, &store.ListDocumentsParams{Tags: []string{"purple"}})
		require.NoError(t, err)
		require.Empty(t, list.Documents)

		n, err = b.st.UntagDocuments(ctx, &store.UntagDocumentsParams{DocumentIDs: []string{d1.ID, d3.ID}, Tags: []string{"red", "blue"}})
		require.NoError(t, err)
		require.Equal(t, 2, n, "whoever set them")
		_, err = b.st.UntagDocuments(ctx, &store.UntagDocumentsParams{DocumentIDs: []string{d1.ID}, Tags: []string{"purple"}})
		require.ErrorIs(t, err, store.ErrNotFound)

		// Deleting a document deletes its assignments; deleting a tag, its.
		require.NoError(t, b.st.DeleteDocument(ctx, d2.ID))
		require.NoError(t, b.st.DeleteTag(ctx, "GREEN"))
		require.ErrorIs(t, b.st.DeleteTag(ctx, "green"), store.ErrNotFound)
		names, err = b.st.DocumentTagNames(ctx, []string{d1.ID, d2.ID, d3.ID})
		require.NoError(t, err)
		require.Empty(t, names)
		require.Zero(t, b.count(t, "SELECT count(*) FROM document_tags"))
	})

	t.Run("PipelineTagsWithTheMove", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		for _, n := range []string{"invoice", "urgent", "kept", "learnt"} {
			_, err := b.st.CreateTag(ctx, &store.CreateTagParams{Name: n})
			require.NoError(t, err)
		}
		doc := newDocument(t, b.st)
		_, err := b.st.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: []string{doc.ID}, Tags: []string{"kept", "invoice"}, SetBy: "user:a@example.com"})
		require.NoError(t, err)
		_, err = b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: []store.State{store.StateReceived}, To: store.StateAnalyzing,
			Text: &store.SaveTextParams{Text: "invoice, urgent"},
			Tags: []store.TagAssignment{{Tag: "Invoice", SetBy: "rule"}, {Tag: "urgent", SetBy: "rule"},
				{Tag: "learnt", SetBy: "classifier:v1"}, {Tag: "deleted meanwhile", SetBy: "rule"}}})
		require.NoError(t, err)
		got := docTags(t, b.st, doc.ID)
		require.Equal(t, map[string]string{"invoice": "user:a@example.com", "kept": "user:a@example.com", "urgent": "rule", "learnt": "classifier:v1"}, got,
			"a tag a person set keeps its SetBy")

		// Processed again: the pipeline's tags are replaced, people's stay.
		moveTo(t, b.st, doc.ID, store.StateDone)
		_, err = b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: []store.State{store.StateDone}, To: store.StateReceived})
		require.NoError(t, err)
		_, err = b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: []store.State{store.StateReceived}, To: store.StateAnalyzing,
			Tags: []store.TagAssignment{}})
		require.NoError(t, err)
		require.Equal(t, map[string]string{"invoice": "user:a@example.com", "kept": "user:a@example.com"}, docTags(t, b.st, doc.ID))

		_, err = b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: []store.State{store.StateAnalyzing}, To: store.StateIndexed,
			Tags: []store.TagAssignment{{Tag: "urgent", SetBy: "user:x"}}})
		require.ErrorIs(t, err, store.ErrInvalid, "people's tags are not the pipeline's to set")

		// A move that does not happen sets nothing.
		_, err = b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: []store.State{store.StateReceived}, To: store.StateAnalyzing,
			Tags: []store.TagAssignment{{Tag: "urgent", SetBy: "rule"}}})
		require.NoError(t, err, "already there")
		_, err = b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: []store.State{store.StateReceived}, To: store.StateExtracting,
			Tags: []store.TagAssignment{{Tag: "urgent", SetBy: "rule"}}})
		require.ErrorIs(t, err, store.ErrStateConflict)
		require.Equal(t, map[string]string{"invoice": "user:a@example.com", "kept": "user:a@example.com"}, docTags(t, b.st, doc.ID))
	})

	t.Run("Views", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		alice, bob := "user:alice@example.com", "user:bob@example.com"
		v, err := b.st.CreateView(ctx, &store.CreateViewParams{Name: "Unpaid invoices", Owner: alice, Query: "invoice -paid",
			Filters: map[string]string{"tag": "invoice", "state": "done"}, Sort: "newest", Dashboard: true})
		require.NoError(t, err)
		require.Len(t, v.ID, 26)
		require.Equal(t, map[string]string{"tag": "invoice", "state": "done"}, v.Filters)
		require.True(t, v.Dashboard)
		got, err := b.st.GetView(ctx, v.ID)
		require.NoError(t, err)
		require.Equal(t, v, got)

		_, err = b.st.CreateView(ctx, &store.CreateViewParams{Name: "Unpaid invoices", Owner: alice})
		require.ErrorIs(t, err, store.ErrExists)
		_, err = b.st.CreateView(ctx, &store.CreateViewParams{Name: "Unpaid invoices", Owner: bob})
		require.NoError(t, err, "names are unique per owner")
		shared, err := b.st.CreateView(ctx, &store.CreateViewParams{Name: "All failures", Owner: bob, Shared: true,
			Filters: map[string]string{"state": "failed"}})
		require.NoError(t, err)
		_, err = b.st.CreateView(ctx, &store.CreateViewParams{Name: " ", Owner: bob})
		require.ErrorIs(t, err, store.ErrInvalid)

		views, err := b.st.ListViews(ctx, &store.ListViewsParams{Owner: alice})
		require.NoError(t, err)
		require.Equal(t, []string{"All failures", "Unpaid invoices"}, viewNames(views))
		require.Equal(t, alice, views[1].Owner, "alice's own, not bob's")
		views, err = b.st.ListViews(ctx, &store.ListViewsParams{Owner: alice, Dashboard: true})
		require.NoError(t, err)
		require.Equal(t, []string{"Unpaid invoices"}, viewNames(views))

		_, err = b.st.UpdateView(ctx, &store.UpdateViewParams{ID: shared.ID, Owner: alice, Name: "mine now"})
		require.ErrorIs(t, err, store.ErrNotFound, "only its owner changes a view")
		require.ErrorIs(t, b.st.DeleteView(ctx, shared.ID, alice), store.ErrNotFound)
		up, err := b.st.UpdateView(ctx, &store.UpdateViewParams{ID: shared.ID, Owner: bob, Name: "Failures", Shared: true, Dashboard: true})
		require.NoError(t, err)
		require.Equal(t, "Failures", up.Name)
		require.Empty(t, up.Filters, "an update replaces the filters")
		require.True(t, up.Dashboard)
		require.NoError(t, b.st.DeleteView(ctx, shared.ID, bob))
		_, err = b.st.GetView(ctx, shared.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func tagNames(tags []store.Tag) []string {
	names := make([]string, len(tags))
	for i, t := range tags {
		names[i] = t.Name
	}
	return names
}

func viewNames(views []store.View) []string {
	names := make([]string, len(views))
	for i, v := range views {
		names[i] = v.Name
	}
	return names
}

func docIDs(docs []store.Document) []string {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids
}

// docTags returns a document's tags and who set each.
func docTags(t testing.TB, st store.Store, id string) map[string]string {
	t.Helper()
	list, err := st.ListDocumentTags(context.Background(), &store.ListDocumentTagsParams{DocumentID: id})
	require.NoError(t, err)
	got := make(map[string]string, len(list))
	for _, dt := range list {
		got[dt.Tag] = dt.SetBy
	}
	return got
}

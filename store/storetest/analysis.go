package storetest

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseAnalysis(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("SaveAndReplace", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := newDocument(t, b.st)
		ner := &store.SaveAnalysisParams{
			DocumentID:   doc.ID,
			ModelVersion: "ner@2",
			Entities: []store.Entity{
				{Kind: "org", Value: "Acme Corporation", Start: 20, End: 36, Confidence: 0.91},
				{Kind: "person", Value: "Zoë Ångström", Start: 0, End: 14, Confidence: 0.8},
				{Kind: store.EntityKindKeyword, Value: "invoice", Confidence: 0.7},
			},
			Language: "de",
		}
		require.NoError(t, b.st.SaveAnalysis(ctx, ner))
		require.NoError(t, b.st.SaveAnalysis(ctx, ner), "a repeated run does not double-count")
		doctype := &store.SaveAnalysisParams{
			DocumentID:   doc.ID,
			ModelVersion: "doctype@7",
			Classifications: []store.Classification{
				{Label: "letter", Confidence: 0.15},
				{Label: "invoice", Confidence: 0.85},
			},
			Summary: "An invoice from Acme.",
		}
		require.NoError(t, b.st.SaveAnalysis(ctx, doctype))

		a, err := b.st.GetAnalysis(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, []store.Entity{
			{Kind: store.EntityKindKeyword, Value: "invoice", Confidence: 0.7, ModelVersion: "ner@2"},
			{Kind: "person", Value: "Zoë Ångström", Start: 0, End: 14, Confidence: 0.8, ModelVersion: "ner@2"},
			{Kind: "org", Value: "Acme Corporation", Start: 20, End: 36, Confidence: 0.91, ModelVersion: "ner@2"},
		}, a.Entities)
		require.Equal(t, []store.Classification{
			{Label: "invoice", Confidence: 0.85, ModelVersion: "doctype@7"},
			{Label: "letter", Confidence: 0.15, ModelVersion: "doctype@7"},
		}, a.Classifications)
		d, err := b.st.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, "de", d.Language)
		require.Equal(t, "An invoice from Acme.", d.Summary, "kept from the model that gave it")

		// A new run of one model replaces its own results only.
		ner.Entities = ner.Entities[:1]
		ner.Language = ""
		require.NoError(t, b.st.SaveAnalysis(ctx, ner))
		a, err = b.st.GetAnalysis(ctx, doc.ID)
		require.NoError(t, err)
		require.Len(t, a.Entities, 1)
		require.Len(t, a.Classifications, 2)
		d, err = b.st.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, "de", d.Language, "an empty language leaves it")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM entities WHERE document_id = $1", doc.ID))

		empty := newDocument(t, b.st)
		a, err = b.st.GetAnalysis(ctx, empty.ID)
		require.NoError(t, err)
		require.Empty(t, a.Entities)
		_, err = b.st.GetAnalysis(ctx, "01J00000000000000000000000")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.st.SaveAnalysis(ctx, &store.SaveAnalysisParams{DocumentID: "01J00000000000000000000000", ModelVersion: "x"}), store.ErrNotFound)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := newDocument(t, b.st)
		tests := []struct {
			name string
			p    store.SaveAnalysisParams
		}{
			{"NoModelVersion", store.SaveAnalysisParams{}},
			{"ConfidenceAboveOne", store.SaveAnalysisParams{ModelVersion: "m", Entities: []store.Entity{{Kind: "k", Value: "v", Confidence: 1.5}}}},
			{"ConfidenceNaN", store.SaveAnalysisParams{ModelVersion: "m", Classifications: []store.Classification{{Label: "l", Confidence: math.NaN()}}}},
			{"BackwardsSpan", store.SaveAnalysisParams{ModelVersion: "m", Entities: []store.Entity{{Kind: "k", Value: "v", Start: 5, End: 2}}}},
			{"NoKind", store.SaveAnalysisParams{ModelVersion: "m", Entities: []store.Entity{{Value: "v"}}}},
			{"SameLabelTwice", store.SaveAnalysisParams{ModelVersion: "m", Classifications: []store.Classification{{Label: "l"}, {Label: "l"}}}},
		}
		for _, tt := range tests {
			tt.p.DocumentID = doc.ID
			require.ErrorIs(t, b.st.SaveAnalysis(ctx, &tt.p), store.ErrInvalid, tt.name)
		}
	})
}

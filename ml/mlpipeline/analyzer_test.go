package mlpipeline_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// TestAnalyzer checks that the pipeline's analyzer records the basic facts
// and every model version's result, as the store's analyses.
func TestAnalyzer(t *testing.T) {
	t.Parallel()
	a := newAnalyzer(t)
	require.NoError(t, a.Load(ml.LoadedModel{ID: "01MODEL", Model: trainSmall(t, "1")}))
	doc := &store.Document{ID: "d1", Title: "Invoice 2026-03", Author: "Peter Schmidt"}
	res, err := mlpipeline.New(a).Analyze(context.Background(), &pipeline.AnalyzeInput{Document: doc,
		Text: "Please pay the invoice amount to accounts@example.org. The total is due by bank transfer on 12 March 2026."})
	require.NoError(t, err)
	got := map[string]*store.SaveAnalysisParams{}
	for _, r := range res {
		got[r.ModelVersion] = r
	}
	require.Len(t, got, 4)
	require.Equal(t, "kind:other", got[pipeline.BasicModelVersion].Classifications[0].Label)
	require.Equal(t, "en", got[ml.LanguageModelVersion].Language)
	require.Equal(t, "language:en", got[ml.LanguageModelVersion].Classifications[0].Label)
	require.Equal(t, "doctype:invoice", got["01MODEL"].Classifications[0].Label)

	text := got[ml.TextModelVersion]
	require.NotEmpty(t, text.Summary)
	kinds := map[string][]string{}
	for _, e := range text.Entities {
		kinds[e.Kind] = append(kinds[e.Kind], e.Value)
	}
	require.Equal(t, []string{"accounts@example.org"}, kinds[ml.EntityEmail])
	require.Equal(t, []string{"2026-03-12"}, kinds[ml.EntityDate])
	require.NotEmpty(t, kinds[store.EntityKindKeyword])
}

// TestAnalyses checks the mapping of every field of a result.
func TestAnalyses(t *testing.T) {
	t.Parallel()
	got := mlpipeline.Analyses([]*ml.Result{
		{ModelVersion: "v1", Language: "de", Summary: "Kurz.",
			Entities: []ml.Entity{
				{Kind: ml.EntityEmail, Value: "a@example.org", Start: 3, End: 16, Confidence: 0.95},
				{Kind: ml.EntityKeyword, Value: "rechnung", Confidence: 0.5},
			},
			Classifications: []ml.Classification{{Label: "language:de", Confidence: 0.9}}},
		{ModelVersion: "v2"},
	})
	require.Equal(t, []*store.SaveAnalysisParams{
		{ModelVersion: "v1", Language: "de", Summary: "Kurz.",
			Entities: []store.Entity{
				{Kind: ml.EntityEmail, Value: "a@example.org", Start: 3, End: 16, Confidence: 0.95},
				{Kind: store.EntityKindKeyword, Value: "rechnung", Confidence: 0.5},
			},
			Classifications: []store.Classification{{Label: "language:de", Confidence: 0.9}}},
		{ModelVersion: "v2"},
	}, got)
}

// Package mlpipeline plugs the ml package into the document pipeline and
// the store: the Analyzer as the analyze stage's plug-in, which maps what
// the models found (ml.Result) to the store's analyses; the registry of
// trained model versions (Publish, OpenModel, Refresh, Reloader); and the
// train job that retrains the classifiers when the users' labels change.
// It lives apart from ml so that ml imports none of store, pipeline or
// jobs: the models know nothing of where their results are kept.
package mlpipeline

import (
	"context"

	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// Analyzer is an ml.Analyzer as a pipeline.Analyzer. It records what
// pipeline.BasicAnalyzer records (the document's kind) too, so that turning
// machine learning on loses nothing.
type Analyzer struct {
	*ml.Analyzer
}

// New returns a pipeline analyzer backed by a.
func New(a *ml.Analyzer) Analyzer { return Analyzer{a} }

// Analyze implements pipeline.Analyzer.
func (a Analyzer) Analyze(ctx context.Context, in *pipeline.AnalyzeInput) ([]*store.SaveAnalysisParams, error) {
	basic, err := pipeline.BasicAnalyzer{}.Analyze(ctx, in)
	if err != nil {
		return nil, err
	}
	doc := &ml.Document{Text: in.Text}
	if in.Document != nil {
		doc.Title, doc.Author = in.Document.Title, in.Document.Author
	}
	res, err := a.AnalyzeDocument(ctx, doc)
	if err != nil {
		return nil, err
	}
	return append(basic, Analyses(res)...), nil
}

var _ pipeline.Analyzer = Analyzer{}

// Analyses maps what the models found to the store's analyses, one per
// model version, without their DocumentID.
func Analyses(res []*ml.Result) []*store.SaveAnalysisParams {
	out := make([]*store.SaveAnalysisParams, len(res))
	for i, r := range res {
		p := &store.SaveAnalysisParams{ModelVersion: r.ModelVersion, Language: r.Language, Summary: r.Summary}
		if len(r.Entities) > 0 {
			p.Entities = make([]store.Entity, len(r.Entities))
			for j, e := range r.Entities {
				p.Entities[j] = store.Entity{Kind: entityKind(e.Kind), Value: e.Value, Start: e.Start, End: e.End,
					Confidence: e.Confidence}
			}
		}
		if len(r.Classifications) > 0 {
			p.Classifications = make([]store.Classification, len(r.Classifications))
			for j, c := range r.Classifications {
				p.Classifications[j] = store.Classification{Label: c.Label, Confidence: c.Confidence}
			}
		}
		out[i] = p
	}
	return out
}

// entityKind is the store's kind of an ml entity kind: the same word, but
// for keywords the store names on its own.
func entityKind(kind string) string {
	if kind == ml.EntityKeyword {
		return store.EntityKindKeyword
	}
	return kind
}

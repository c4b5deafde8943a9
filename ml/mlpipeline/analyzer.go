// Package mlpipeline plugs the ml package into the document pipeline: the
// Analyzer as the analyze stage's plug-in, and the train job that retrains
// the classifiers when the users' labels change. It lives apart from ml so
// that ml never imports pipeline or jobs.
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
	res, err := a.AnalyzeDocument(ctx, in.Document, in.Text)
	if err != nil {
		return nil, err
	}
	return append(basic, res...), nil
}

var _ pipeline.Analyzer = Analyzer{}

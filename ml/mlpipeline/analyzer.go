// Package mlpipeline plugs the ml package's Analyzer into the document
// pipeline. It lives apart from ml so that ml never imports pipeline: the
// pipeline may import ml (for a training job) without a cycle.
package mlpipeline

import (
	"context"

	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// Analyzer is an ml.Analyzer as a pipeline.Analyzer.
type Analyzer struct {
	*ml.Analyzer
}

// New returns a pipeline analyzer backed by a.
func New(a *ml.Analyzer) Analyzer { return Analyzer{a} }

// Analyze implements pipeline.Analyzer.
func (a Analyzer) Analyze(ctx context.Context, in *pipeline.AnalyzeInput) ([]*store.SaveAnalysisParams, error) {
	return a.AnalyzeDocument(ctx, in.Document, in.Text)
}

var _ pipeline.Analyzer = Analyzer{}

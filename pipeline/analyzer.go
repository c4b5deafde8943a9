package pipeline

import (
	"context"
	"strings"

	"github.com/quirehq/quire/store"
)

// AnalyzeInput is what an analyzer gets: the document and its text.
type AnalyzeInput struct {
	Document *store.Document
	Text     string
}

// Analyzer runs models on a document's text. It returns what each model
// version found; the pipeline saves each (replacing what the same version
// found before, so a rerun does not add twice). The machine-learning
// package provides the full analyzer; a team's own model can be plugged in
// here too.
type Analyzer interface {
	Analyze(ctx context.Context, in *AnalyzeInput) ([]*store.SaveAnalysisParams, error)
}

// BasicModelVersion names what BasicAnalyzer records.
const BasicModelVersion = "quire-basic@1"

// BasicAnalyzer records the facts that need no language model: the
// document's kind, from its media type. Page and word counts are recorded by
// extraction.
type BasicAnalyzer struct{}

// Analyze classifies the document by kind.
func (BasicAnalyzer) Analyze(_ context.Context, in *AnalyzeInput) ([]*store.SaveAnalysisParams, error) {
	return []*store.SaveAnalysisParams{{
		ModelVersion:    BasicModelVersion,
		Classifications: []store.Classification{{Label: "kind:" + Kind(in.Document.MIMEType), Confidence: 1}},
	}}, nil
}

// Kind names the family of a media type, for people: "pdf", "email",
// "spreadsheet", "presentation", "word-processing", "web-page", "text",
// "image" or "other".
func Kind(mime string) string {
	switch {
	case mime == "application/pdf":
		return "pdf"
	case mime == "message/rfc822":
		return "email"
	case strings.Contains(mime, "spreadsheet") || mime == "text/csv":
		return "spreadsheet"
	case strings.Contains(mime, "presentation"):
		return "presentation"
	case strings.Contains(mime, "wordprocessing") || strings.Contains(mime, "opendocument.text") || mime == "application/msword":
		return "word-processing"
	case mime == "text/html" || mime == "application/xhtml+xml":
		return "web-page"
	case strings.HasPrefix(mime, "text/") || mime == "application/json":
		return "text"
	case strings.HasPrefix(mime, "image/"):
		return "image"
	}
	return "other"
}

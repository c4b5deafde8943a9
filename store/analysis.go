package store

import (
	"errors"
	"fmt"
	"math"
)

// EntityKindKeyword is the kind of the entities that hold a document's
// keywords: the value is the keyword, the confidence its score, and it has
// no position.
const EntityKindKeyword = "keyword"

// Entity is something a model found in a document's text: a person, a
// place, a date, a keyword.
type Entity struct {
	// Kind says what it is ("person", "org", "date", EntityKindKeyword, …).
	Kind string
	// Value is the text found, or its normalised form.
	Value string
	// Start and End are the byte offsets of the match in the document's
	// text (Start inclusive, End exclusive). Both are 0 when the entity has
	// no single position, as keywords have.
	Start, End int
	// Confidence is the model's confidence, from 0 to 1.
	Confidence float64
	// ModelVersion identifies the model that found it.
	ModelVersion string
}

// Classification is a label a model gave a document, such as its type.
type Classification struct {
	Label string
	// Confidence is the model's confidence, from 0 to 1.
	Confidence float64
	// ModelVersion identifies the model that gave it.
	ModelVersion string
}

// Analysis is everything the models found in one document.
type Analysis struct {
	// Entities are ordered by model version, then position, then kind and
	// value.
	Entities []Entity
	// Classifications are ordered by model version, then confidence, best
	// first.
	Classifications []Classification
}

// SaveAnalysisParams are the inputs of SaveAnalysis: what one model version
// found in one document.
type SaveAnalysisParams struct {
	// DocumentID is the document's ID.
	DocumentID string
	// ModelVersion identifies the model: a ModelVersion's ID for models
	// registered here, or a stable name@version for others (a KServe
	// model, say). Required. The entities and classifications saved before
	// under the same model version are replaced; other versions' stay.
	ModelVersion string
	// Entities found; their ModelVersion is ignored.
	Entities []Entity
	// Classifications given; their ModelVersion is ignored.
	Classifications []Classification
	// Language, when not empty, sets the document's language.
	Language string
	// Summary, when not empty, sets the document's summary.
	Summary string
}

func (p *SaveAnalysisParams) validate() error {
	var errs []error
	if p.DocumentID == "" {
		errs = append(errs, errors.New("empty DocumentID"))
	}
	if p.ModelVersion == "" {
		errs = append(errs, errors.New("empty ModelVersion"))
	}
	for i, e := range p.Entities {
		if e.Kind == "" || e.Value == "" {
			errs = append(errs, fmt.Errorf("entity %d: Kind and Value are required", i))
		}
		if e.Start < 0 || e.End < e.Start {
			errs = append(errs, fmt.Errorf("entity %d: span [%d, %d) is not a range of the text", i, e.Start, e.End))
		}
		if !validConfidence(e.Confidence) {
			errs = append(errs, fmt.Errorf("entity %d: confidence %v is not between 0 and 1", i, e.Confidence))
		}
	}
	seen := make(map[string]bool, len(p.Classifications))
	for i, c := range p.Classifications {
		if c.Label == "" {
			errs = append(errs, fmt.Errorf("classification %d: Label is empty", i))
		}
		if seen[c.Label] {
			errs = append(errs, fmt.Errorf("classification %d: label %q given twice", i, c.Label))
		}
		seen[c.Label] = true
		if !validConfidence(c.Confidence) {
			errs = append(errs, fmt.Errorf("classification %d: confidence %v is not between 0 and 1", i, c.Confidence))
		}
	}
	return invalid(errs...)
}

func validConfidence(c float64) bool { return !math.IsNaN(c) && c >= 0 && c <= 1 }

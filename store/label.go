package store

import (
	"errors"
	"time"
)

// Label is a label a person gave a document, which the models learn from.
type Label struct {
	DocumentID string
	Label      string
	// SetBy names who set it.
	SetBy     string
	CreatedAt time.Time
}

// AddLabelParams are the inputs of AddLabel.
type AddLabelParams struct {
	DocumentID string
	Label      string
	// SetBy names who set it. Required.
	SetBy string
}

func (p *AddLabelParams) validate() error {
	var errs []error
	if p.DocumentID == "" {
		errs = append(errs, errors.New("empty DocumentID"))
	}
	if p.Label == "" {
		errs = append(errs, errors.New("empty Label"))
	}
	if p.SetBy == "" {
		errs = append(errs, errors.New("empty SetBy"))
	}
	return invalid(errs...)
}

// ListLabelsParams filter ListLabels. Empty fields do not filter.
type ListLabelsParams struct {
	DocumentID string
	Label      string
}

package store

import (
	"encoding/json"
	"errors"
	"time"
)

// ModelVersion is one trained version of a model.
type ModelVersion struct {
	// ID is a ULID. Predictions name it as their model version.
	ID string
	// Kind is what the model does ("classifier", "entities", "language",
	// …).
	Kind string
	// Name tells models of one kind apart ("doctype", "tags", …).
	Name string
	// Version is the version's own name, unique for its kind and name.
	Version   string
	CreatedAt time.Time
	// Metrics are the evaluation figures (a JSON object), or nil.
	Metrics json.RawMessage
	// Active marks the version in use. At most one version of a kind and
	// name is active.
	Active bool
	// ArtifactKey is the blob key of the model's artifact, or "".
	ArtifactKey string
	// LabelDigest identifies the set of labels the version was trained on,
	// or "": a training run whose labels have the digest of a version
	// already trained has nothing new to learn.
	LabelDigest string
}

// CreateModelVersionParams are the inputs of CreateModelVersion.
type CreateModelVersionParams struct {
	Kind, Name, Version string
	// Metrics, if not nil, must be a JSON object.
	Metrics json.RawMessage
	// Active makes the new version the active one, as ActivateModelVersion
	// does.
	Active bool
	// ArtifactKey is the blob key of the model's artifact. Optional.
	ArtifactKey string
	// LabelDigest identifies the labels the version was trained on.
	// Optional.
	LabelDigest string
}

func (p *CreateModelVersionParams) validate() error {
	var errs []error
	if p.Kind == "" || p.Name == "" || p.Version == "" {
		errs = append(errs, errors.New("a model version needs Kind, Name and Version"))
	}
	if p.Metrics != nil {
		var m map[string]any
		if err := json.Unmarshal(p.Metrics, &m); err != nil || m == nil {
			errs = append(errs, errors.New("metrics are not a JSON object"))
		}
	}
	return invalid(errs...)
}

// ListModelVersionsParams filter ListModelVersions. Empty fields do not
// filter.
type ListModelVersionsParams struct {
	Kind, Name string
	// ActiveOnly keeps the active versions.
	ActiveOnly bool
	// LabelDigest keeps the versions trained on labels of this digest.
	LabelDigest string
}

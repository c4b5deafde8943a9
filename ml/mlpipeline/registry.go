package mlpipeline

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/store"
)

// ModelKindClassifier is the store's Kind of classifier model versions.
const ModelKindClassifier = "classifier"

// maxArtifactBytes bounds an artifact read from blob storage.
const maxArtifactBytes = 512 << 20

// registryMetrics is what a registered version's Metrics hold: the
// model's evaluation figures, its algorithm and format, and where its
// artifact is (also in the version's ArtifactKey; versions registered
// before that column existed have it here only).
type registryMetrics struct {
	ml.Metrics
	Algorithm     ml.Algorithm `json:"algorithm"`
	Artifact      string       `json:"artifact"`
	FormatVersion uint16       `json:"format_version"`
}

// PublishParams are the inputs of Publish.
type PublishParams struct {
	// Model is the trained model. Required.
	Model *ml.Model
	// Activate makes the new version the active one of its name.
	Activate bool
	// LabelDigest identifies the labels the model was trained on (see
	// store.ModelVersion.LabelDigest). Optional.
	LabelDigest string
}

// Publish stores a model's artifact in blob storage and registers it as a
// version of its name in the store. Publishing the same name and version
// again returns the version registered before (the store is idempotent on
// kind, name and version).
func Publish(ctx context.Context, st store.ModelVersions, blobs *blob.Store, p *PublishParams) (*store.ModelVersion, error) {
	m := p.Model
	art, err := ml.MarshalModel(m)
	if err != nil {
		return nil, err
	}
	put, err := blobs.Put(ctx, bytes.NewReader(art), &blob.PutOpts{ContentType: "application/vnd.quire.model"})
	if err != nil {
		return nil, fmt.Errorf("publish model %s: %w", m.ModelVersion(), err)
	}
	rm := registryMetrics{Algorithm: m.Algorithm, Artifact: put.Key, FormatVersion: ml.FormatVersion}
	if m.Metrics != nil {
		rm.Metrics = *m.Metrics
	}
	metrics, err := json.Marshal(rm)
	if err != nil {
		return nil, fmt.Errorf("publish model %s: %w", m.ModelVersion(), err)
	}
	mv, err := st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: ModelKindClassifier,
		Name: m.Name, Version: m.Version, Metrics: metrics, Active: p.Activate,
		ArtifactKey: put.Key, LabelDigest: p.LabelDigest})
	if err != nil {
		return nil, fmt.Errorf("publish model %s: %w", m.ModelVersion(), err)
	}
	return mv, nil
}

// OpenModel reads the artifact of a registered model version.
func OpenModel(ctx context.Context, blobs *blob.Store, mv *store.ModelVersion) (*ml.Model, error) {
	key := mv.ArtifactKey
	if key == "" {
		var rm registryMetrics
		if err := json.Unmarshal(mv.Metrics, &rm); err == nil {
			key = rm.Artifact
		}
	}
	if key == "" {
		return nil, fmt.Errorf("open model %s (%s@%s): it names no artifact", mv.ID, mv.Name, mv.Version)
	}
	r, err := blobs.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open model %s (%s@%s): %w", mv.ID, mv.Name, mv.Version, err)
	}
	defer r.Close()
	m, err := ml.Decode(io.LimitReader(r, maxArtifactBytes))
	if err != nil {
		return nil, fmt.Errorf("open model %s (%s@%s): %w", mv.ID, mv.Name, mv.Version, err)
	}
	return m, nil
}

// Refresh loads the active classifier versions of the store into a,
// reading only the artifacts of versions not already loaded, and swaps them
// in (see ml.Analyzer.Load). A worker calls it at start and whenever
// versions may have changed; documents being analysed finish with the
// models they started with. A version whose artifact cannot be read keeps
// the version loaded before under its name, if any, and is reported in the
// error.
func Refresh(ctx context.Context, a *ml.Analyzer, st store.ModelVersions, blobs *blob.Store) error {
	active, err := st.ListModelVersions(ctx, &store.ListModelVersionsParams{Kind: ModelKindClassifier, ActiveOnly: true})
	if err != nil {
		return fmt.Errorf("refresh models: %w", err)
	}
	current := map[string]ml.LoadedModel{} // by ID
	byName := map[string]ml.LoadedModel{}
	for _, m := range a.Models() {
		current[m.ID] = m
		byName[m.Model.Name] = m
	}
	var next []ml.LoadedModel
	var errs []error
	for i := range active {
		mv := &active[i]
		if m, ok := current[mv.ID]; ok {
			next = append(next, m)
			continue
		}
		m, err := OpenModel(ctx, blobs, mv)
		if err == nil && m.Name != mv.Name {
			err = fmt.Errorf("open model %s: the artifact is of model %q, not %q", mv.ID, m.Name, mv.Name)
		}
		if err != nil {
			errs = append(errs, err)
			if old, ok := byName[mv.Name]; ok {
				next = append(next, old)
			}
			continue
		}
		next = append(next, ml.LoadedModel{ID: mv.ID, Model: m})
	}
	// An unchanged set is not loaded again: a reloader refreshes every
	// few seconds, and each load is logged.
	if !sameModels(next, a.Models()) {
		if err := a.Load(next...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sameModels reports whether two sets hold the same versions.
func sameModels(x, y []ml.LoadedModel) bool {
	if len(x) != len(y) {
		return false
	}
	ids := map[string]*ml.Model{}
	for _, m := range y {
		ids[loadedID(m)] = m.Model
	}
	for _, m := range x {
		if ids[loadedID(m)] != m.Model {
			return false
		}
	}
	return true
}

// loadedID is the model version a loaded model's predictions are recorded
// under (ml.LoadedModel.ID and its default).
func loadedID(m ml.LoadedModel) string { return cmp.Or(m.ID, m.Model.ModelVersion()) }

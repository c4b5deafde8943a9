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
	return publishArtifact(ctx, st, blobs, &artifactVersion{kind: ModelKindClassifier, name: m.Name, version: m.Version,
		algorithm: m.Algorithm, metrics: m.Metrics, artifact: art, activate: p.Activate, labelDigest: p.LabelDigest})
}

// artifactVersion is a model version to register, its artifact made.
type artifactVersion struct {
	kind, name, version string
	algorithm           ml.Algorithm
	metrics             *ml.Metrics
	artifact            []byte
	activate            bool
	labelDigest         string
}

// publishArtifact stores an artifact in blob storage and registers its
// version.
func publishArtifact(ctx context.Context, st store.ModelVersions, blobs *blob.Store, v *artifactVersion) (*store.ModelVersion, error) {
	put, err := blobs.Put(ctx, bytes.NewReader(v.artifact), &blob.PutOpts{ContentType: "application/vnd.quire.model"})
	if err != nil {
		return nil, fmt.Errorf("publish model %s@%s: %w", v.name, v.version, err)
	}
	rm := registryMetrics{Algorithm: v.algorithm, Artifact: put.Key, FormatVersion: ml.FormatVersion}
	if v.metrics != nil {
		rm.Metrics = *v.metrics
	}
	metrics, err := json.Marshal(rm)
	if err != nil {
		return nil, fmt.Errorf("publish model %s@%s: %w", v.name, v.version, err)
	}
	mv, err := st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: v.kind,
		Name: v.name, Version: v.version, Metrics: metrics, Active: v.activate,
		ArtifactKey: put.Key, LabelDigest: v.labelDigest})
	if err != nil {
		return nil, fmt.Errorf("publish model %s@%s: %w", v.name, v.version, err)
	}
	return mv, nil
}

// OpenModel reads the artifact of a registered model version.
func OpenModel(ctx context.Context, blobs *blob.Store, mv *store.ModelVersion) (*ml.Model, error) {
	var m *ml.Model
	err := readArtifact(ctx, blobs, mv, func(r io.Reader) (err error) {
		m, err = ml.Decode(r)
		return err
	})
	return m, err
}

// readArtifact opens the artifact of a registered model version and
// passes it to decode.
func readArtifact(ctx context.Context, blobs *blob.Store, mv *store.ModelVersion, decode func(io.Reader) error) error {
	key := mv.ArtifactKey
	if key == "" {
		var rm registryMetrics
		if err := json.Unmarshal(mv.Metrics, &rm); err == nil {
			key = rm.Artifact
		}
	}
	if key == "" {
		return fmt.Errorf("open model %s (%s@%s): it names no artifact", mv.ID, mv.Name, mv.Version)
	}
	r, err := blobs.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("open model %s (%s@%s): %w", mv.ID, mv.Name, mv.Version, err)
	}
	defer r.Close()
	if err := decode(io.LimitReader(r, maxArtifactBytes)); err != nil {
		return fmt.Errorf("open model %s (%s@%s): %w", mv.ID, mv.Name, mv.Version, err)
	}
	return nil
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

package mlpipeline

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// OpenTagModel reads the artifact of a registered version of the tag
// classifier.
func OpenTagModel(ctx context.Context, blobs *blob.Store, mv *store.ModelVersion) (*ml.MultiLabelModel, error) {
	var m *ml.MultiLabelModel
	err := readArtifact(ctx, blobs, mv, func(r io.Reader) (err error) {
		m, err = ml.DecodeMultiLabel(r)
		return err
	})
	return m, err
}

// TagSuggester suggests a document's tags with the active version of the
// tag classifier (the pipeline's TagSuggester). It suggests nothing while
// no version is active; Refresh, which a Reloader calls, loads the version
// activated since. The zero value is not usable; call NewTagSuggester.
type TagSuggester struct {
	st    store.ModelVersions
	blobs *blob.Store
	// loaded is the version in use, swapped whole so that a document
	// being tagged finishes with the model it started with.
	loaded atomic.Pointer[loadedTagModel]
	mu     sync.Mutex // one Refresh at a time
}

var _ pipeline.TagSuggester = (*TagSuggester)(nil)

// loadedTagModel is a version of the tag classifier and its registered ID.
type loadedTagModel struct {
	id    string
	model *ml.MultiLabelModel
}

// NewTagSuggester returns a TagSuggester that reads the versions of the
// tag classifier from st and their artifacts from blobs. It loads nothing
// until Refresh.
func NewTagSuggester(st store.ModelVersions, blobs *blob.Store) *TagSuggester {
	return &TagSuggester{st: st, blobs: blobs}
}

// SuggestTags returns the tags the active version gives a text and the
// SetBy of its assignments, "classifier:<model version id>"; no tags and
// an empty SetBy when no version is active.
func (s *TagSuggester) SuggestTags(_ context.Context, text string) ([]string, string, error) {
	l := s.loaded.Load()
	if l == nil {
		return nil, "", nil
	}
	scores := l.model.Predict(text)
	if len(scores) == 0 {
		return nil, "", nil
	}
	tags := make([]string, len(scores))
	for i, sc := range scores {
		tags[i] = sc.Label
	}
	return tags, store.SetByClassifierPrefix + l.id, nil
}

// ModelVersionID is the ID of the version in use, or "" when none is.
func (s *TagSuggester) ModelVersionID() string {
	if l := s.loaded.Load(); l != nil {
		return l.id
	}
	return ""
}

// Refresh loads the active version of the tag classifier when it is not
// the one in use, and stops suggesting when none is active. A version
// whose artifact cannot be read leaves the one in use in place, and is
// reported in the error.
func (s *TagSuggester) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs, err := s.st.ListModelVersions(ctx, &store.ListModelVersionsParams{Kind: ModelKindTagger,
		Name: ml.TagsModelName, ActiveOnly: true})
	if err != nil {
		return fmt.Errorf("refresh tag model: %w", err)
	}
	if len(vs) == 0 {
		s.loaded.Store(nil)
		return nil
	}
	mv := &vs[0]
	if l := s.loaded.Load(); l != nil && l.id == mv.ID {
		return nil
	}
	m, err := OpenTagModel(ctx, s.blobs, mv)
	if err != nil {
		return fmt.Errorf("refresh tag model: %w", err)
	}
	s.loaded.Store(&loadedTagModel{id: mv.ID, model: m})
	return nil
}

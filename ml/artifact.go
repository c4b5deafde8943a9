package ml

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// An artifact is a model as bytes, for blob storage and files:
//
//	offset 0: the 8 bytes "QUIREML\x00" (ArtifactMagic)
//	offset 8: the format version, a big-endian uint16 (FormatVersion)
//	offset 10: the model as gzip-compressed JSON (artifactBody)
//
// The version comes before anything compressed, so that a reader can
// refuse a format it does not know with a clear error before it parses
// anything. A change that older readers would misread (a new field that
// changes predictions, a new weight layout) takes a new version.

// ArtifactMagic starts every model artifact.
const ArtifactMagic = "QUIREML\x00"

// FormatVersion is the artifact format this build writes and reads.
const FormatVersion uint16 = 1

// maxArtifactBody bounds the decompressed JSON of an artifact (a model of
// 200,000 features and 50 labels takes about 200 MB of JSON), against a
// damaged or hostile artifact.
const maxArtifactBody = 1 << 30

// ErrNotArtifact is returned by Decode for bytes that are not a model
// artifact.
var ErrNotArtifact = errors.New("not a Quire model artifact")

// UnsupportedFormatError is returned by Decode for an artifact of a format
// version this build cannot read.
type UnsupportedFormatError struct {
	// Version is the artifact's format version.
	Version uint16
}

// Error implements error.
func (e *UnsupportedFormatError) Error() string {
	return fmt.Sprintf("model artifact format version %d is not supported (this build reads version %d): retrain the model or upgrade Quire", e.Version, FormatVersion)
}

// ArtifactKindMultiLabel is the kind of a MultiLabelModel's artifact; a
// Model's artifact has no kind. Builds older than multi-label models
// refuse such an artifact (its fields are unknown to them) rather than
// misread it.
const ArtifactKindMultiLabel = "multi_label"

// ErrArtifactKind is returned when an artifact holds another kind of
// model than the one asked for (Decode of a multi-label model,
// DecodeMultiLabel of a single-label one).
var ErrArtifactKind = errors.New("model artifact of another kind")

// artifactBody is the JSON inside an artifact, format version 1.
// Thresholds and MaxLabels are a multi-label model's (Kind
// ArtifactKindMultiLabel), Temperature and UnsureBelow a single-label
// model's.
type artifactBody struct {
	Kind        string    `json:"kind,omitempty"`
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Algorithm   Algorithm `json:"algorithm"`
	CreatedAt   time.Time `json:"created_at"`
	Labels      []string  `json:"labels"`
	Language    string    `json:"language"`
	NGrams      int       `json:"ngrams"`
	Terms       []string  `json:"terms"`
	IDF         []float64 `json:"idf"`
	Weights     []float64 `json:"weights"`
	Bias        []float64 `json:"bias"`
	Temperature float64   `json:"temperature,omitempty"`
	UnsureBelow float64   `json:"unsure_below,omitempty"`
	Thresholds  []float64 `json:"thresholds,omitempty"`
	MaxLabels   int       `json:"max_labels,omitempty"`
	Metrics     *Metrics  `json:"metrics,omitempty"`
}

// Encode writes a model as an artifact.
func Encode(w io.Writer, m *Model) error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("encode model %s: %w", m.ModelVersion(), err)
	}
	err := writeArtifact(w, &artifactBody{
		Name: m.Name, Version: m.Version, Algorithm: m.Algorithm, CreatedAt: m.CreatedAt,
		Labels: m.Labels, Language: m.Language, NGrams: m.NGrams, Terms: m.Terms, IDF: m.IDF,
		Weights: m.Weights, Bias: m.Bias, Temperature: m.Temperature, UnsureBelow: m.UnsureBelow,
		Metrics: m.Metrics,
	})
	if err != nil {
		return fmt.Errorf("encode model %s: %w", m.ModelVersion(), err)
	}
	return nil
}

// writeArtifact writes the header and the compressed body.
func writeArtifact(w io.Writer, body *artifactBody) error {
	var head [len(ArtifactMagic) + 2]byte
	copy(head[:], ArtifactMagic)
	binary.BigEndian.PutUint16(head[len(ArtifactMagic):], FormatVersion)
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	zw := gzip.NewWriter(w)
	if err := json.NewEncoder(zw).Encode(body); err != nil {
		return err
	}
	return zw.Close()
}

// MarshalModel returns a model's artifact.
func MarshalModel(m *Model) ([]byte, error) {
	var b bytes.Buffer
	if err := Encode(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decode reads an artifact. It returns ErrNotArtifact for other bytes, an
// *UnsupportedFormatError for a format version it does not know, and an
// error naming the problem for a model whose parts do not fit together.
func Decode(r io.Reader) (*Model, error) {
	body, err := readArtifact(r)
	if err != nil {
		return nil, fmt.Errorf("decode model: %w", err)
	}
	if body.Kind != "" {
		return nil, fmt.Errorf("decode model %s@%s: %w: %q (DecodeMultiLabel reads it)", body.Name, body.Version, ErrArtifactKind, body.Kind)
	}
	m := &Model{
		Name: body.Name, Version: body.Version, Algorithm: body.Algorithm, CreatedAt: body.CreatedAt,
		Labels: body.Labels, Language: body.Language, NGrams: body.NGrams, Terms: body.Terms,
		IDF: body.IDF, Weights: body.Weights, Bias: body.Bias, Temperature: body.Temperature,
		UnsureBelow: body.UnsureBelow, Metrics: body.Metrics,
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("decode model %s: %w", m.ModelVersion(), err)
	}
	m.init()
	return m, nil
}

// UnmarshalModel reads a model from its artifact.
func UnmarshalModel(b []byte) (*Model, error) { return Decode(bytes.NewReader(b)) }

// readArtifact checks an artifact's header and reads its body.
func readArtifact(r io.Reader) (*artifactBody, error) {
	var head [len(ArtifactMagic) + 2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w (too short)", ErrNotArtifact)
		}
		return nil, err
	}
	if string(head[:len(ArtifactMagic)]) != ArtifactMagic {
		return nil, ErrNotArtifact
	}
	if v := binary.BigEndian.Uint16(head[len(ArtifactMagic):]); v != FormatVersion {
		return nil, &UnsupportedFormatError{Version: v}
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	var body artifactBody
	dec := json.NewDecoder(io.LimitReader(zr, maxArtifactBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return nil, err
	}
	return &body, nil
}

// EncodeMultiLabel writes a multi-label model as an artifact: the same
// format as Encode's, of kind ArtifactKindMultiLabel.
func EncodeMultiLabel(w io.Writer, m *MultiLabelModel) error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("encode model %s: %w", m.ModelVersion(), err)
	}
	err := writeArtifact(w, &artifactBody{
		Kind: ArtifactKindMultiLabel, Name: m.Name, Version: m.Version,
		Algorithm: AlgorithmLogisticRegression, CreatedAt: m.CreatedAt, Labels: m.Labels,
		Language: m.Language, NGrams: m.NGrams, Terms: m.Terms, IDF: m.IDF, Weights: m.Weights,
		Bias: m.Bias, Thresholds: m.Thresholds, MaxLabels: m.MaxLabels, Metrics: m.Metrics,
	})
	if err != nil {
		return fmt.Errorf("encode model %s: %w", m.ModelVersion(), err)
	}
	return nil
}

// MarshalMultiLabel returns a multi-label model's artifact.
func MarshalMultiLabel(m *MultiLabelModel) ([]byte, error) {
	var b bytes.Buffer
	if err := EncodeMultiLabel(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DecodeMultiLabel reads a multi-label model's artifact. It fails as
// Decode does, and with ErrArtifactKind for a single-label model's.
func DecodeMultiLabel(r io.Reader) (*MultiLabelModel, error) {
	body, err := readArtifact(r)
	if err != nil {
		return nil, fmt.Errorf("decode multi-label model: %w", err)
	}
	if body.Kind != ArtifactKindMultiLabel {
		return nil, fmt.Errorf("decode multi-label model %s@%s: %w: %q (Decode reads it)", body.Name, body.Version, ErrArtifactKind, cmp.Or(body.Kind, "single-label"))
	}
	m := &MultiLabelModel{
		Name: body.Name, Version: body.Version, CreatedAt: body.CreatedAt, Labels: body.Labels,
		Language: body.Language, NGrams: body.NGrams, Terms: body.Terms, IDF: body.IDF,
		Weights: body.Weights, Bias: body.Bias, Thresholds: body.Thresholds,
		MaxLabels: body.MaxLabels, Metrics: body.Metrics,
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("decode multi-label model %s: %w", m.ModelVersion(), err)
	}
	m.init()
	return m, nil
}

// UnmarshalMultiLabel reads a multi-label model from its artifact.
func UnmarshalMultiLabel(b []byte) (*MultiLabelModel, error) {
	return DecodeMultiLabel(bytes.NewReader(b))
}

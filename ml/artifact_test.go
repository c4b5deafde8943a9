package ml_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
)

func trainSmall(t testing.TB, version string, labels ...string) *ml.Model {
	t.Helper()
	if len(labels) == 0 {
		labels = []string{"contract", "invoice", "letter"}
	}
	m, err := ml.Train(context.Background(), generate(11, 60, 0.2, labels...), &ml.TrainOpts{
		Version: version, Now: func() time.Time { return time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	return m
}

func TestArtifactRoundTrip(t *testing.T) {
	t.Parallel()
	for _, alg := range []ml.Algorithm{ml.AlgorithmNaiveBayes, ml.AlgorithmLogisticRegression} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			m, err := ml.Train(context.Background(), generate(12, 60, 0.3, "contract", "invoice", "letter"),
				&ml.TrainOpts{Algorithm: alg, Name: "doctype", Version: "7"})
			require.NoError(t, err)
			m.Metrics.Accuracy = 0.5
			b, err := ml.MarshalModel(m)
			require.NoError(t, err)
			require.Equal(t, ml.ArtifactMagic, string(b[:len(ml.ArtifactMagic)]))
			require.Equal(t, ml.FormatVersion, binary.BigEndian.Uint16(b[len(ml.ArtifactMagic):]))

			got, err := ml.UnmarshalModel(b)
			require.NoError(t, err)
			require.Equal(t, m.Name, got.Name)
			require.Equal(t, m.Version, got.Version)
			require.Equal(t, m.Algorithm, got.Algorithm)
			require.True(t, m.CreatedAt.Equal(got.CreatedAt))
			require.Equal(t, m.Labels, got.Labels)
			require.Equal(t, m.Terms, got.Terms)
			require.Equal(t, m.IDF, got.IDF)
			require.Equal(t, m.Weights, got.Weights)
			require.Equal(t, m.Bias, got.Bias)
			require.Equal(t, m.Temperature, got.Temperature)
			require.Equal(t, m.UnsureBelow, got.UnsureBelow)
			require.Equal(t, m.Metrics, got.Metrics)
			for _, e := range generate(13, 10, 0.3, "contract", "invoice", "letter") {
				require.Equal(t, m.Predict(e.Text), got.Predict(e.Text))
			}
		})
	}
}

func TestArtifactRejects(t *testing.T) {
	t.Parallel()
	good, err := ml.MarshalModel(trainSmall(t, "1"))
	require.NoError(t, err)
	head := len(ml.ArtifactMagic)

	t.Run("unknown format version", func(t *testing.T) {
		t.Parallel()
		b := bytes.Clone(good)
		binary.BigEndian.PutUint16(b[head:], ml.FormatVersion+1)
		_, err := ml.UnmarshalModel(b)
		var ue *ml.UnsupportedFormatError
		require.True(t, errors.As(err, &ue), "%v", err)
		require.Equal(t, ml.FormatVersion+1, ue.Version)
		require.ErrorContains(t, err, "format version 2 is not supported (this build reads version 1)")
	})
	t.Run("not an artifact", func(t *testing.T) {
		t.Parallel()
		for _, b := range [][]byte{nil, []byte("QUIRE"), []byte("%PDF-1.7 and more bytes")} {
			_, err := ml.UnmarshalModel(b)
			require.ErrorIs(t, err, ml.ErrNotArtifact)
		}
	})
	t.Run("truncated body", func(t *testing.T) {
		t.Parallel()
		_, err := ml.UnmarshalModel(good[:len(good)/2])
		require.Error(t, err)
	})
	t.Run("parts that do not fit", func(t *testing.T) {
		t.Parallel()
		var body bytes.Buffer
		body.WriteString(ml.ArtifactMagic)
		binary.Write(&body, binary.BigEndian, ml.FormatVersion)
		zw := gzip.NewWriter(&body)
		zw.Write([]byte(`{"name":"doctype","version":"1","algorithm":"naive_bayes","labels":["a","b"],"language":"en","ngrams":1,` +
			`"terms":["x"],"idf":[1],"weights":[0.5],"bias":[0,0],"temperature":1,"unsure_below":0.5}`))
		zw.Close()
		_, err := ml.UnmarshalModel(body.Bytes())
		require.ErrorContains(t, err, "1 weights for 1 terms and 2 labels")
	})
}

package ml_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
)

// generateMulti returns n documents, each about one or two of the topics
// (labelled with them), with words shared by all and some noise from the
// other topics; one document in ten has no topic of its own (no label).
func generateMulti(seed uint64, n int) []ml.MultiLabelExample {
	rng := rand.New(rand.NewPCG(seed, 11))
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range topics {
			if !yield(k) {
				return
			}
		}
	})
	var out []ml.MultiLabelExample
	for i := range n {
		var labels []string
		switch r := rng.Float64(); {
		case r < 0.1:
		case r < 0.6:
			labels = []string{names[rng.IntN(len(names))]}
		default:
			a := rng.IntN(len(names))
			b := (a + 1 + rng.IntN(len(names)-1)) % len(names)
			labels = []string{names[a], names[b]}
		}
		var words []string
		for range 25 + rng.IntN(25) {
			switch r := rng.Float64(); {
			case r < 0.08:
				other := names[rng.IntN(len(names))]
				words = append(words, topics[other][rng.IntN(len(topics[other]))])
			case r < 0.5 || len(labels) == 0:
				words = append(words, shared[rng.IntN(len(shared))])
			default:
				l := labels[rng.IntN(len(labels))]
				words = append(words, topics[l][rng.IntN(len(topics[l]))])
			}
		}
		out = append(out, ml.MultiLabelExample{Key: fmt.Sprintf("doc/%d", i), Text: strings.Join(words, " "), Labels: labels})
	}
	return out
}

var fixedNow = func() time.Time { return time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC) }

func trainGenerated(t testing.TB, opts *ml.MultiLabelTrainOpts) *ml.MultiLabelModel {
	t.Helper()
	o := ml.MultiLabelTrainOpts{Version: "v1", Now: fixedNow}
	if opts != nil {
		o = *opts
		o.Version, o.Now = "v1", fixedNow
	}
	m, err := ml.TrainMultiLabel(context.Background(), generateMulti(1, 600), &o)
	require.NoError(t, err)
	return m
}

func TestTrainMultiLabel(t *testing.T) {
	t.Parallel()
	m := trainGenerated(t, nil)
	require.Equal(t, ml.TagsModelName, m.Name)
	require.Equal(t, []string{"contract", "invoice", "letter"}, m.Labels)
	require.Equal(t, ml.MaxLabelsDefault, m.MaxLabels)
	require.Equal(t, 600, m.Metrics.Examples)
	for l, th := range m.Thresholds {
		require.Greater(t, th, 0.0, m.Labels[l])
		require.Less(t, th, 1.0, m.Labels[l])
		// Every label has enough validation documents for a threshold of
		// its own, chosen rather than left at the default.
		require.NotEqual(t, ml.ThresholdDefault, th, m.Labels[l])
	}

	ev := m.Evaluate(generateMulti(2, 300))
	t.Logf("generated: micro-F1 %.3f, macro-F1 %.3f, subset accuracy %.3f", ev.MicroF1, ev.MacroF1, ev.SubsetAccuracy)
	require.GreaterOrEqual(t, ev.MicroF1, 0.9)
	require.GreaterOrEqual(t, ev.MacroF1, 0.9)
	require.Equal(t, 300, ev.Examples)

	got := labelsOf(m.Predict("invoice amount due payment total tax agreement party clause termination liability signed"))
	require.ElementsMatch(t, []string{"invoice", "contract"}, got)
	require.Equal(t, []string{"letter"}, labelsOf(m.Predict("dear friend thank you for the family weekend visit, sincerely, with best wishes")))
	require.Empty(t, m.Predict("zebra quantum xylophone"), "a text of unknown words gets no label")
	require.Empty(t, m.Predict(""))
}

func TestTrainMultiLabelRepeatable(t *testing.T) {
	t.Parallel()
	a, b := trainGenerated(t, nil), trainGenerated(t, nil)
	require.Equal(t, a.Weights, b.Weights)
	require.Equal(t, a.Thresholds, b.Thresholds)
}

func TestMultiLabelMaxLabels(t *testing.T) {
	t.Parallel()
	m := trainGenerated(t, &ml.MultiLabelTrainOpts{MaxLabels: 1})
	text := "invoice amount due payment total tax agreement party clause termination liability signed dear regards sincerely"
	got := m.Predict(text)
	require.Len(t, got, 1)

	// The one label kept is the most probable of those the uncapped model
	// gives.
	uncapped := trainGenerated(t, nil).Predict(text)
	require.Greater(t, len(uncapped), 1)
	require.Equal(t, uncapped[0].Label, got[0].Label)
	for i := 1; i < len(uncapped); i++ {
		require.GreaterOrEqual(t, uncapped[i-1].Probability, uncapped[i].Probability, "best first")
	}
}

func TestTrainMultiLabelWithoutValidation(t *testing.T) {
	t.Parallel()
	m := trainGenerated(t, &ml.MultiLabelTrainOpts{ValidationFraction: -1})
	for _, th := range m.Thresholds {
		require.Equal(t, ml.ThresholdDefault, th)
	}
}

func TestTrainMultiLabelErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name     string
		examples []ml.MultiLabelExample
		opts     *ml.MultiLabelTrainOpts
		is       error
		contains string
	}{
		{name: "one document", examples: []ml.MultiLabelExample{{Key: "a", Text: "x", Labels: []string{"l"}}},
			is: ml.ErrTooFewExamples, contains: "1 documents"},
		{name: "every label once", examples: []ml.MultiLabelExample{
			{Key: "a", Text: "x", Labels: []string{"l"}}, {Key: "b", Text: "y", Labels: []string{"m"}}},
			is: ml.ErrTooFewExamples, contains: "no label is carried by 2 documents"},
		{name: "bad settings", examples: generateMulti(1, 10), opts: &ml.MultiLabelTrainOpts{MaxLabels: -1, ValidationFraction: 0.7},
			contains: "MaxLabels: -1 is less than 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ml.TrainMultiLabel(ctx, tt.examples, tt.opts)
			require.Error(t, err)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.ErrorContains(t, err, tt.contains)
		})
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := ml.TrainMultiLabel(cancelled, generateMulti(1, 50), nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestMultiLabelArtifact(t *testing.T) {
	t.Parallel()
	m := trainGenerated(t, nil)
	m.Metrics.MicroF1 = 0.93
	b, err := ml.MarshalMultiLabel(m)
	require.NoError(t, err)
	back, err := ml.UnmarshalMultiLabel(b)
	require.NoError(t, err)
	require.Equal(t, m.Labels, back.Labels)
	require.Equal(t, m.Thresholds, back.Thresholds)
	require.Equal(t, m.MaxLabels, back.MaxLabels)
	require.Equal(t, 0.93, back.Metrics.MicroF1)
	require.True(t, m.CreatedAt.Equal(back.CreatedAt))
	for _, e := range generateMulti(3, 50) {
		require.Equal(t, m.Predict(e.Text), back.Predict(e.Text))
	}

	// Each decoder refuses the other kind with a clear error.
	_, err = ml.UnmarshalModel(b)
	require.ErrorIs(t, err, ml.ErrArtifactKind)
	require.ErrorContains(t, err, "DecodeMultiLabel")
	single, err := ml.Train(context.Background(), generate(1, 30, 0.1, "invoice", "letter"), nil)
	require.NoError(t, err)
	sb, err := ml.MarshalModel(single)
	require.NoError(t, err)
	_, err = ml.UnmarshalMultiLabel(sb)
	require.ErrorIs(t, err, ml.ErrArtifactKind)
	_, err = ml.UnmarshalMultiLabel([]byte("not a model"))
	require.ErrorIs(t, err, ml.ErrNotArtifact)

	// A model whose parts do not fit is refused when written.
	broken := *trainGenerated(t, nil)
	broken.Thresholds = broken.Thresholds[:1]
	var buf bytes.Buffer
	require.ErrorContains(t, ml.EncodeMultiLabel(&buf, &broken), "1 thresholds for 3 labels")
}

func TestEvaluateMultiLabel(t *testing.T) {
	t.Parallel()
	truth := [][]string{{"a", "b"}, {"a"}, {}, {"c"}}
	predicted := [][]string{{"a"}, {"a", "b"}, {}, {"d"}}
	ev := ml.EvaluateMultiLabel([]string{"a", "b", "c"}, truth, predicted)
	require.Equal(t, []string{"a", "b", "c", "d"}, ev.Labels)
	// a: tp 2; b: tp 0, fp 1, fn 1; c: fn 1; d: fp 1.
	require.InDelta(t, 2.0/4, ev.MicroPrecision, 1e-9)
	require.InDelta(t, 2.0/4, ev.MicroRecall, 1e-9)
	require.InDelta(t, 0.5, ev.MicroF1, 1e-9)
	require.InDelta(t, 1.0/4, ev.MacroF1, 1e-9, "only a has an F1, of 1, over four labels")
	require.InDelta(t, 1.0/4, ev.SubsetAccuracy, 1e-9, "only the document of no label is exact")
	require.Equal(t, ml.LabelMetrics{Label: "a", Precision: 1, Recall: 1, F1: 1, Support: 2}, ev.PerLabel[0])
	require.Equal(t, ml.LabelMetrics{Label: "b", Precision: 0, Recall: 0, F1: 0, Support: 1}, ev.PerLabel[1])
	require.Equal(t, 0, ev.PerLabel[3].Support)

	var b strings.Builder
	require.NoError(t, ev.WriteText(&b))
	require.Contains(t, b.String(), "micro-F1")
	require.Contains(t, b.String(), "macro-F1")
}

func labelsOf(ss []ml.LabelScore) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Label)
	}
	return out
}

// BenchmarkMultiLabelPredict measures the tags of one document of about
// 40 words, the text split into terms included.
func BenchmarkMultiLabelPredict(b *testing.B) {
	m := trainGenerated(b, nil)
	text := generateMulti(5, 1)[0].Text
	b.Run("text", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Predict(text)
		}
	})
	terms := ml.NewTokenizer(m.Language).Terms(text)
	b.Run("terms", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.PredictTerms(terms)
		}
	})
}

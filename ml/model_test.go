package ml_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
)

func TestTrainAlgorithms(t *testing.T) {
	t.Parallel()
	train := generate(1, 150, 0.25, "contract", "invoice", "letter")
	test := generate(2, 100, 0.25, "contract", "invoice", "letter")
	for _, alg := range []ml.Algorithm{ml.AlgorithmNaiveBayes, ml.AlgorithmLogisticRegression} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			m, err := ml.Train(context.Background(), train, &ml.TrainOpts{Algorithm: alg, Version: "v1"})
			require.NoError(t, err)
			require.Equal(t, []string{"contract", "invoice", "letter"}, m.Labels)
			ev := m.Evaluate(test)
			t.Logf("%s: accuracy %.3f, macro-F1 %.3f, temperature %.3f", alg, ev.Accuracy, ev.MacroF1, m.Temperature)
			// Chance is a third; the vocabularies make the labels clear
			// to any working classifier.
			require.Greater(t, ev.Accuracy, 0.9)
			require.Greater(t, ev.MacroF1, 0.9)
			total := 0
			for _, row := range ev.Confusion {
				for _, n := range row {
					total += n
				}
			}
			require.Equal(t, len(test), total)

			p := m.Predict("invoice amount due: total payment of the balance, tax included")
			require.Equal(t, "invoice", p.Label)
			require.InDelta(t, 1, p.Scores[0].Probability+p.Scores[1].Probability+p.Scores[2].Probability, 1e-9)
		})
	}
}

// TestCalibration checks that confidence means what it says: on held-out
// documents, the mean confidence of each band of predictions is close to
// the accuracy in that band (expected calibration error).
func TestCalibration(t *testing.T) {
	t.Parallel()
	// Heavy noise, so that the model is often wrong and overconfidence
	// would show.
	train := generate(3, 400, 0.55, "contract", "invoice", "letter")
	test := generate(4, 400, 0.55, "contract", "invoice", "letter")
	for _, alg := range []ml.Algorithm{ml.AlgorithmNaiveBayes, ml.AlgorithmLogisticRegression} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			m, err := ml.Train(context.Background(), train, &ml.TrainOpts{Algorithm: alg})
			require.NoError(t, err)
			ece := expectedCalibrationError(m, test)
			raw, err := ml.Train(context.Background(), train, &ml.TrainOpts{Algorithm: alg, CalibrationFraction: -1})
			require.NoError(t, err)
			require.Equal(t, 1.0, raw.Temperature)
			t.Logf("%s: ECE %.3f calibrated (T=%.3f), %.3f uncalibrated; accuracy %.3f", alg, ece, m.Temperature,
				expectedCalibrationError(raw, test), m.Evaluate(test).Accuracy)
			require.Less(t, ece, 0.05)
		})
	}
}

func expectedCalibrationError(m *ml.Model, test []ml.Example) float64 {
	const bins = 10
	var conf, correct [bins]float64
	var n [bins]int
	for _, e := range test {
		p := m.Predict(e.Text)
		b := min(int(p.Confidence*bins), bins-1)
		conf[b] += p.Confidence
		if p.Label == e.Label {
			correct[b]++
		}
		n[b]++
	}
	var ece float64
	for b := range bins {
		if n[b] > 0 {
			ece += math.Abs(conf[b]-correct[b]) / float64(len(test))
		}
	}
	return ece
}

func TestUnsure(t *testing.T) {
	t.Parallel()
	m, err := ml.Train(context.Background(), generate(5, 200, 0.4, "invoice", "letter"), &ml.TrainOpts{UnsureBelow: 0.8})
	require.NoError(t, err)
	// Words of neither label: the model knows nothing.
	p := m.Predict("zebra quantum xylophone")
	require.True(t, p.Unsure, "confidence %.3f", p.Confidence)
	require.InDelta(t, 0.5, p.Confidence, 1e-9)
	pure := m.Predict("invoice amount due, payment total, tax and billing balance")
	require.False(t, pure.Unsure, "confidence %.3f", pure.Confidence)
	require.Equal(t, "invoice", pure.Label)
	// As much of one label as of the other: less sure than of either.
	mixed := m.Predict("invoice amount payment dear regards friend")
	require.Less(t, mixed.Confidence, pure.Confidence)
	require.Equal(t, mixed.Confidence < 0.8, mixed.Unsure)
}

func TestTrainRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, err := ml.Train(ctx, generate(1, 5, 0, "invoice"), nil)
	require.True(t, errors.Is(err, ml.ErrTooFewExamples), "%v", err)
	_, err = ml.Train(ctx, append(generate(1, 5, 0, "invoice"), ml.Example{Text: "dear friend", Label: "letter"}), nil)
	require.True(t, errors.Is(err, ml.ErrTooFewExamples), "%v", err)
	_, err = ml.Train(ctx, generate(1, 5, 0, "invoice", "letter"), &ml.TrainOpts{Algorithm: "svm"})
	require.ErrorContains(t, err, "Algorithm")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = ml.Train(cancelled, generate(1, 5, 0, "invoice", "letter"), nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestHeldOut(t *testing.T) {
	t.Parallel()
	examples := generate(9, 500, 0, "invoice", "letter")
	train, test := split(examples, 0.2, 1)
	require.Equal(t, len(examples), len(train)+len(test))
	share := float64(len(test)) / float64(len(examples))
	require.InDelta(t, 0.2, share, 0.04)
	// The same key is held out whatever the order, and another seed
	// holds out other keys.
	for _, e := range test {
		require.True(t, ml.HeldOut(e.Key, 0.2, 1))
	}
	_, test2 := split(examples, 0.2, 2)
	require.NotEqual(t, test, test2)
	require.False(t, ml.HeldOut("x", 0, 1))
}

func TestTokenizer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang, text string
		want       []string
	}{
		{"en", "The runners were running quickly, didn't they? E-mail me at 3.14pm.", []string{"runner", "run", "quick", "e", "mail", "3.14pm"}},
		{"de", "Die Häuser waren schön und größer.", []string{"haus", "schon", "gross"}},
		{"fr", "Les déclarations universelles des droits", []string{"déclar", "universel", "droit"}},
		// A language without stop words or stemmer is still split into
		// words by the Unicode rules, which make each ideograph and kana
		// a word (bigrams then pair them).
		{"ja", "東京は日本", []string{"東", "京", "は", "日", "本"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, ml.NewTokenizer(tt.lang).Terms(tt.text))
		})
	}
}

// TestClassWeights checks that balanced weights find more of a rare label
// than uniform ones do.
func TestClassWeights(t *testing.T) {
	t.Parallel()
	// Labels that overlap (noise), one of them rare in training.
	var train []ml.Example
	letters := 0
	for _, e := range generate(31, 300, 0.3, "invoice", "letter") {
		if e.Label == "letter" {
			if letters++; letters > 20 {
				continue
			}
		}
		train = append(train, e)
	}
	test := generate(33, 200, 0.3, "invoice", "letter")
	recall := map[ml.ClassWeights]float64{}
	for _, cw := range []ml.ClassWeights{ml.ClassWeightsUniform, ml.ClassWeightsBalanced} {
		m, err := ml.Train(context.Background(), train, &ml.TrainOpts{ClassWeights: cw})
		require.NoError(t, err)
		ev := m.Evaluate(test)
		recall[cw] = ev.PerLabel[1].Recall
		t.Logf("%s: letter recall %.3f, accuracy %.3f", cw, ev.PerLabel[1].Recall, ev.Accuracy)
	}
	require.Greater(t, recall[ml.ClassWeightsBalanced], recall[ml.ClassWeightsUniform]+0.2)
	_, err := ml.Train(context.Background(), train, &ml.TrainOpts{ClassWeights: "heavy"})
	require.ErrorContains(t, err, "ClassWeights")
}

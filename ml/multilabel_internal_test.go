package ml

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBestThreshold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ss   []scoredLabel
		want float64
	}{
		{name: "no positive", ss: []scoredLabel{{0.9, false}, {0.2, false}}, want: ThresholdDefault},
		// Cutting below 0.6 gives tp 2, fp 1: F1 0.8; below 0.8 tp 1: F1
		// 0.67; below 0.3 tp 2, fp 2: F1 0.67. Halfway from 0.6 to 0.3.
		{name: "midpoint", ss: []scoredLabel{{0.8, true}, {0.7, false}, {0.6, true}, {0.3, false}}, want: 0.45},
		// The best cut is below the lowest probability: halfway to 0,
		// then raised to the floor.
		{name: "floor", ss: []scoredLabel{{0.03, true}, {0.01, true}}, want: thresholdMin},
		{name: "ceiling", ss: []scoredLabel{{0.999, true}, {0.998, false}}, want: thresholdMax},
		// Equal probabilities cannot be split.
		{name: "ties", ss: []scoredLabel{{0.7, true}, {0.7, false}, {0.2, false}}, want: 0.45},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, tt.want, bestThreshold(tt.ss), 1e-9)
		})
	}
}

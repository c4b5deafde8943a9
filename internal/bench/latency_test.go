package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	t.Parallel()

	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	require.Equal(t, time.Duration(50), percentile(d, 0.50))
	require.Equal(t, time.Duration(99), percentile(d, 0.99))
	require.Equal(t, time.Duration(100), percentile(d, 1))
	require.Equal(t, time.Duration(1), percentile(d[:1], 0.99))
	require.Zero(t, percentile(nil, 0.5))
}

func TestPerSecond(t *testing.T) {
	t.Parallel()

	require.InDelta(t, 2000.0, perSecond(1000, 500*time.Millisecond), 1e-9)
	require.Zero(t, perSecond(1000, 0))
}

package bench

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHeapSampler(t *testing.T) {
	t.Parallel()

	h := startHeapSampler(time.Millisecond)
	require.Positive(t, h.peak(), "sampled at the start")
	h.stop()
	h.stop() // safe twice
	first := h.peak()
	require.GreaterOrEqual(t, h.peak(), first, "the peak never falls")
}

func TestPeakRSS(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("peakRSS reads /proc")
	}

	rss, err := peakRSS()
	require.NoError(t, err)
	require.Greater(t, rss, uint64(1<<20))
}

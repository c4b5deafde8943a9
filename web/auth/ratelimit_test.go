package auth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLimiter: a burst passes, the next request waits for the refill, keys
// do not share buckets, and idle full buckets are forgotten.
func TestLimiter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	l := NewLimiter(2, 3)
	l.now = func() time.Time { return now }
	for range 3 {
		ok, _ := l.Allow("a")
		require.True(t, ok)
	}
	ok, wait := l.Allow("a")
	require.False(t, ok)
	require.Equal(t, 500*time.Millisecond, wait)
	require.Equal(t, 1, RetryAfter(wait))
	ok, _ = l.Allow("b")
	require.True(t, ok, "another key")
	now = now.Add(500 * time.Millisecond)
	ok, _ = l.Allow("a")
	require.True(t, ok, "refilled")

	now = now.Add(2 * time.Minute)
	_, _ = l.Allow("c")
	require.Len(t, l.buckets, 1, "a and b were full again, and forgotten")

	var none *Limiter
	ok, _ = none.Allow("a")
	require.True(t, ok, "no limiter allows everything")
	require.Nil(t, NewLimiter(0, 10))
}

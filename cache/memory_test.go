package cache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/cache"
)

// stubClock is a clock that moves only when told.
type stubClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stubClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stubClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Room for three 100-byte values with their keys and overhead.
	const per = 100 + 1 + 128
	c := cache.NewMemory(&cache.MemoryOpts{MaxBytes: 3 * per})
	for _, k := range []string{"a", "b", "c"} {
		c.Set(ctx, k, make([]byte, 100), 0)
	}
	require.Equal(t, 3, c.Len())
	require.Equal(t, int64(3*per), c.Bytes())
	_, ok := c.Get(ctx, "a") // a is now the most recent
	require.True(t, ok)
	c.Set(ctx, "d", make([]byte, 100), 0)
	_, ok = c.Get(ctx, "b")
	require.False(t, ok, "b was least recently used")
	for _, k := range []string{"a", "c", "d"} {
		_, ok := c.Get(ctx, k)
		require.True(t, ok, k)
	}

	// One large value makes room for itself.
	c.Set(ctx, "e", make([]byte, 2*100+128), 0)
	require.LessOrEqual(t, c.Bytes(), int64(3*per))
	_, ok = c.Get(ctx, "e")
	require.True(t, ok)

	// Replacing a value recounts its size.
	c.Set(ctx, "e", []byte("small"), 0)
	require.LessOrEqual(t, c.Bytes(), int64(3*per))
	require.NoError(t, c.Close())
	require.Zero(t, c.Bytes())
}

func TestMemoryTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &stubClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	c := cache.NewMemory(&cache.MemoryOpts{Now: clock.Now})
	c.Set(ctx, "minute", []byte("x"), time.Minute)
	c.Set(ctx, "forever", []byte("y"), 0)
	clock.Advance(59 * time.Second)
	_, ok := c.Get(ctx, "minute")
	require.True(t, ok)
	clock.Advance(time.Second)
	_, ok = c.Get(ctx, "minute")
	require.False(t, ok, "expired at exactly its ttl")
	require.Equal(t, 1, c.Len(), "and removed")
	clock.Advance(1000 * time.Hour)
	_, ok = c.Get(ctx, "forever")
	require.True(t, ok)
}

func TestMemoryBoundUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const maxBytes = 64 << 10
	c := cache.NewMemory(&cache.MemoryOpts{MaxBytes: maxBytes})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				c.Set(ctx, fmt.Sprintf("%d-%d", g, i), make([]byte, i%700), time.Minute)
				c.Get(ctx, fmt.Sprintf("%d-%d", g, i/2))
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, c.Bytes(), int64(maxBytes))
	require.Positive(t, c.Len())
}

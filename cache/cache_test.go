package cache_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/cache"
	"github.com/quirehq/quire/internal/testenv"
)

// TestCache runs the behaviour every Cache shares on each implementation.
func TestCache(t *testing.T) {
	t.Parallel()
	impls := map[string]func(t *testing.T) cache.Cache{
		"Memory": func(t *testing.T) cache.Cache { return cache.NewMemory(nil) },
		"Memcached": func(t *testing.T) cache.Cache {
			m, err := cache.NewMemcached([]string{testenv.StartMemcached(t).Addr}, nil)
			require.NoError(t, err)
			t.Cleanup(func() { m.Close() })
			return m
		},
	}
	for name, newCache := range impls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			exercise(t, newCache)
		})
	}
}

func exercise(t *testing.T, newCache func(t *testing.T) cache.Cache) {
	ctx := context.Background()

	t.Run("SetGetDelete", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		_, ok := c.Get(ctx, "absent")
		require.False(t, ok)
		c.Set(ctx, "k", []byte("v1"), 0)
		v, ok := c.Get(ctx, "k")
		require.True(t, ok)
		require.Equal(t, []byte("v1"), v)
		c.Set(ctx, "k", []byte("v2"), time.Hour)
		v, _ = c.Get(ctx, "k")
		require.Equal(t, []byte("v2"), v, "overwritten")
		c.Delete(ctx, "k")
		c.Delete(ctx, "k")
		_, ok = c.Get(ctx, "k")
		require.False(t, ok)

		c.Set(ctx, "empty", nil, 0)
		v, ok = c.Get(ctx, "empty")
		require.True(t, ok)
		require.Empty(t, v)
		binary := []byte{0, 1, 2, '\r', '\n', 255}
		c.Set(ctx, "binary", binary, 0)
		v, _ = c.Get(ctx, "binary")
		require.Equal(t, binary, v)
	})

	t.Run("AnyKey", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		keys := []string{
			"search:größe über",
			"with spaces and\nnewlines",
			strings.Repeat("long", 100),
			strings.Repeat("long", 100) + "!", // differs only past 250 bytes
			"ключ:東京",
		}
		for i, k := range keys {
			c.Set(ctx, k, []byte(fmt.Sprint(i)), 0)
		}
		for i, k := range keys {
			v, ok := c.Get(ctx, k)
			require.True(t, ok, k)
			require.Equal(t, fmt.Sprint(i), string(v), k)
		}
	})

	t.Run("Expires", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		// Memcached counts whole seconds.
		c.Set(ctx, "short", []byte("x"), time.Second)
		c.Set(ctx, "long", []byte("y"), time.Hour)
		_, ok := c.Get(ctx, "short")
		require.True(t, ok)
		time.Sleep(2100 * time.Millisecond)
		_, ok = c.Get(ctx, "short")
		require.False(t, ok, "expired")
		_, ok = c.Get(ctx, "long")
		require.True(t, ok)
	})

	t.Run("ValuesAreCopies", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		v := []byte("original")
		c.Set(ctx, "k", v, 0)
		v[0] = 'X'
		got, _ := c.Get(ctx, "k")
		require.Equal(t, "original", string(got))
		got[0] = 'Y'
		again, _ := c.Get(ctx, "k")
		require.Equal(t, "original", string(again))
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 200 {
					k := fmt.Sprintf("k%d", i%20)
					c.Set(ctx, k, []byte(k), time.Minute)
					if v, ok := c.Get(ctx, k); ok && !bytes.Equal(v, []byte(k)) {
						t.Errorf("goroutine %d: %s holds %q", g, k, v)
					}
					if i%7 == 0 {
						c.Delete(ctx, k)
					}
				}
			})
		}
		wg.Wait()
	})

	t.Run("CancelledContextMisses", func(t *testing.T) {
		t.Parallel()
		c := newCache(t)
		c.Set(ctx, "k", []byte("v"), 0)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, ok := c.Get(cancelled, "k"); ok {
			// The in-process cache answers regardless; a networked one
			// must not start a call for a caller that has gone.
			_, isMemory := c.(*cache.Memory)
			require.True(t, isMemory)
		}
	})
}

func TestOpen(t *testing.T) {
	t.Parallel()
	c, err := cache.Open("memory://?max_bytes=1000")
	require.NoError(t, err)
	require.IsType(t, &cache.Memory{}, c)
	c.Set(context.Background(), "k", make([]byte, 2000), 0)
	_, ok := c.Get(context.Background(), "k")
	require.False(t, ok, "larger than the cache")

	c, err = cache.Open("memcache://127.0.0.1:11211,127.0.0.1:11212?prefix=quire:")
	require.NoError(t, err)
	require.IsType(t, &cache.Memcached{}, c)
	require.NoError(t, c.Close())

	for url, want := range map[string]string{
		"redis://127.0.0.1:6379":           `unsupported scheme "redis"`,
		"memcache://":                      "no server",
		"memcache://127.0.0.1:11211?ttl=1": `unknown setting "ttl"`,
		"memory://?max_bytes=lots":         "not a positive number",
		"memory://?size=1":                 `unknown setting "size"`,
	} {
		_, err := cache.Open(url)
		require.ErrorContains(t, err, want, url)
	}
}

package service

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// counter is the smallest service: one goroutine that waits for its stop.
type counter struct {
	Base
	runs int // guarded by Base's start/stop: read after Stop
}

func (c *counter) Start(ctx context.Context) error {
	c.StartFunc(ctx, func(ctx context.Context) {
		c.Go(func() {
			c.runs++
			<-ctx.Done()
		})
	})
	return nil
}

func isDone(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestBase(t *testing.T) {
	t.Parallel()

	t.Run("StartStop", func(t *testing.T) {
		t.Parallel()
		c := &counter{}
		require.False(t, isDone(c.Started()))
		require.Nil(t, c.Stopped())
		require.NoError(t, c.Start(t.Context()))
		require.True(t, isDone(c.Started()))
		stopped := c.Stopped()
		require.False(t, isDone(stopped))
		c.Stop()
		require.True(t, isDone(stopped))
		require.Equal(t, 1, c.runs)
	})

	t.Run("StartTwiceRunsOnce", func(t *testing.T) {
		t.Parallel()
		c := &counter{}
		require.NoError(t, c.Start(t.Context()))
		require.NoError(t, c.Start(t.Context()))
		c.Stop()
		require.Equal(t, 1, c.runs)
	})

	t.Run("StopBeforeStartAndTwice", func(t *testing.T) {
		t.Parallel()
		c := &counter{}
		c.Stop()
		require.NoError(t, c.Start(t.Context()))
		c.Stop()
		c.Stop()
		require.True(t, isDone(c.Stopped()))
	})

	t.Run("ParentCancelEndsGoroutines", func(t *testing.T) {
		t.Parallel()
		c := &counter{}
		ctx, cancel := context.WithCancel(t.Context())
		require.NoError(t, c.Start(ctx))
		cancel()
		c.WG.Wait() // returns: the goroutine saw the parent's cancellation
		c.Stop()
	})

	t.Run("Restart", func(t *testing.T) {
		t.Parallel()
		c := &counter{}
		for range 3 {
			require.NoError(t, c.Start(t.Context()))
			c.Stop()
		}
		require.Equal(t, 3, c.runs)
	})

	t.Run("Stress", func(t *testing.T) {
		t.Parallel()
		// Start and stop from many goroutines at once, for the race
		// detector.
		c := &counter{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 50 {
					_ = c.Start(t.Context())
					c.Stop()
				}
			})
		}
		wg.Wait()
		c.Stop()
	})
}

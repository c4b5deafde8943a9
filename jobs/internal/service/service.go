// Package service is the start/stop base every background service of the
// job engine embeds, and the helpers their loops share: backoff with
// jitter, a sleep that ends with its context, and a failure log that does
// not flood.
//
// A service embeds Base, and its Start reads:
//
//	func (s *Thing) Start(ctx context.Context) error {
//		s.StartFunc(ctx, func(ctx context.Context) {
//			s.Go(func() { s.loop(ctx) })
//		})
//		return nil
//	}
//
// Stop cancels the context StartFunc passed on and waits for every goroutine
// started with Go. It is safe to call more than once, and before Start.
package service

import (
	"context"
	"sync"
)

// Base is the start/stop machinery of a service. Its zero value is ready.
type Base struct {
	// WG counts the service's goroutines; Go adds to it.
	WG sync.WaitGroup

	// lifeMu serialises StartFunc and Stop, held across Stop's wait: a
	// Start that came in the middle of a Stop would reuse the WaitGroup.
	lifeMu sync.Mutex

	mu      sync.Mutex // guards the fields below
	cancel  context.CancelFunc
	started chan struct{} // closed by StartInit
	stopped chan struct{} // closed once Stop has waited for WG
	running bool
}

// StartFunc marks the service started and calls start, which starts the
// service's goroutines with Go, with the context they run under: Stop
// cancels it. It does nothing and returns false when the service is already
// running. A stopped service may be started again.
func (b *Base) StartFunc(ctx context.Context, start func(ctx context.Context)) bool {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	b.mu.Lock()
	if b.running {
		b.mu.Unlock()
		return false
	}
	b.running = true
	ctx, b.cancel = context.WithCancel(ctx)
	if b.started == nil || isClosed(b.started) {
		b.started = make(chan struct{})
	}
	b.stopped = make(chan struct{})
	started := b.started
	b.mu.Unlock()
	start(ctx)
	close(started)
	return true
}

// Go runs fn in a goroutine that Stop waits for.
func (b *Base) Go(fn func()) {
	b.WG.Add(1)
	go func() {
		defer b.WG.Done()
		fn()
	}()
}

// Stop cancels the service's context and waits for its goroutines. It is
// safe to call more than once, at the same time, and before Start.
func (b *Base) Stop() {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	b.mu.Lock()
	running, cancel := b.running, b.cancel
	b.mu.Unlock()
	if !running {
		return
	}
	cancel()
	b.WG.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running = false
	close(b.stopped)
}

// Started returns a channel closed once the service has started.
func (b *Base) Started() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started == nil {
		b.started = make(chan struct{})
	}
	return b.started
}

// Stopped returns a channel closed once Stop has waited for the service's
// goroutines; nil, which blocks forever, before the service starts.
func (b *Base) Stopped() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stopped
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

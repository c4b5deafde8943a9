package jobtype

import (
	"sync"
	"time"
)

// Clock tells the time. The engine reads time only through a Clock so tests
// can move it by hand.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// StubClock is a clock that moves only when told. It is safe for concurrent
// use.
type StubClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewStubClock returns a clock stopped at t.
func NewStubClock(t time.Time) *StubClock { return &StubClock{now: t} }

// Now returns the stubbed time.
func (c *StubClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *StubClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set stops the clock at t.
func (c *StubClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

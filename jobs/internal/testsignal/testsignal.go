// Package testsignal lets a service tell a test that something happened
// (a loop turned, a batch was recorded) so that tests wait on events rather
// than sleep. A zero TestSignal does nothing: production code signals for
// free.
package testsignal

import "time"

// WaitTimeout is how long WaitOrTimeout waits before failing the test.
const WaitTimeout = 10 * time.Second

// TB is the part of testing.TB a signal needs; the package does not import
// testing, which would ship in the binary.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// TestSignal carries values of type T from a service to a test.
type TestSignal[T any] struct {
	c  chan T
	tb TB
}

// Init arms the signal; before it, Signal does nothing. Call it before the
// service starts.
func (s *TestSignal[T]) Init(tb TB) {
	s.c = make(chan T, 1000)
	s.tb = tb
}

// Signal sends v to the test if the signal is armed. It never blocks: a
// test that lets more than the buffer pile up fails at its next wait.
func (s *TestSignal[T]) Signal(v T) {
	if s.c == nil {
		return
	}
	select {
	case s.c <- v:
	default:
		// Errorf, not Fatalf: this runs on the service's goroutine.
		s.tb.Errorf("testsignal: buffer full; wait for the signals you arm")
	}
}

// WaitOrTimeout returns the next value signalled, failing the test after
// WaitTimeout.
func (s *TestSignal[T]) WaitOrTimeout() T {
	s.tb.Helper()
	t := time.NewTimer(WaitTimeout)
	defer t.Stop()
	select {
	case v := <-s.c:
		return v
	case <-t.C:
		s.tb.Fatalf("testsignal: no signal within %s", WaitTimeout)
	}
	var zero T
	return zero
}

package app

import (
	"context"
	"time"
)

// probeCloseTimeout bounds the closing of the probes' server once a role has
// drained: its requests are short.
const probeCloseTimeout = 5 * time.Second

// shutdownContext bounds a role's drain by the shutdown timeout; a negative
// timeout waits forever.
func shutdownContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx = context.WithoutCancel(ctx)
	if timeout < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

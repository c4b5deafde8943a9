package modules

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// HTTPServer is an http.Server on a listener the caller opened (so that a
// taken port fails before anything starts) as a Service: Start serves,
// Stop lets the requests in flight finish within ctx and cuts off the rest,
// Failed reports a Serve that ended by itself.
type HTTPServer struct {
	// What names the server in errors: "API", "probes".
	What     string
	Server   *http.Server
	Listener net.Listener
	// DrainTimeout bounds Stop's wait for the requests in flight, counted
	// from Stop whatever ctx's deadline: a role's drain is its own setting
	// (--shutdown-timeout), not what the services stopped before it left.
	// Zero waits as long as ctx allows; negative waits forever.
	DrainTimeout time.Duration

	failed chan error
}

// Start serves in a goroutine.
func (h *HTTPServer) Start(context.Context) error {
	h.failed = make(chan error, 1)
	go func() {
		err := h.Server.Serve(h.Listener)
		if !errors.Is(err, http.ErrServerClosed) {
			h.failed <- fmt.Errorf("serve the %s on %s: %w", h.What, h.Listener.Addr(), err)
		}
	}()
	return nil
}

// Stop shuts the server down within ctx; what still runs at its end is cut
// off.
func (h *HTTPServer) Stop(ctx context.Context) error {
	if h.DrainTimeout != 0 {
		ctx = context.WithoutCancel(ctx)
		if h.DrainTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, h.DrainTimeout)
			defer cancel()
		}
	}
	if err := h.Server.Shutdown(ctx); err != nil {
		_ = h.Server.Close()
		return fmt.Errorf("drain the %s's requests: %w", h.What, err)
	}
	return nil
}

// Failed delivers the error of a Serve that ended before Stop.
func (h *HTTPServer) Failed() <-chan error { return h.failed }

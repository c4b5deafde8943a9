package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/internal/metrics"
	"github.com/quirehq/quire/web/edge"
)

// listen listens on the role's HTTP address and, unless empty, its probes'
// address: on both before serving either, so that a taken port fails the
// start.
func (cfg *serveConfig) listen() (api, probes net.Listener, err error) {
	if api, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, nil, fmt.Errorf("listen on %s %q: %w", setting("http-addr"), cfg.HTTPAddr, err)
	}
	if cfg.Addr != "" {
		if probes, err = net.Listen("tcp", cfg.Addr); err != nil {
			_ = api.Close()
			return nil, nil, fmt.Errorf("listen on %s %q: %w", setting("addr"), cfg.Addr, err)
		}
	}
	return api, probes, nil
}

// probeCloseTimeout bounds the closing of the probes' server once a role has
// drained: its requests are short.
const probeCloseTimeout = 5 * time.Second

// runWeb runs the web role: the web UI and REST API on --http-addr, the
// probes and metrics on --addr. It fetches no jobs: uploads are stored and their first
// stage enqueued, for the workers to run.
//
// At SIGTERM (ctx done) /readyz turns 503 at once, the API stops accepting
// connections and its requests in flight get --shutdown-timeout to finish;
// then the probes close. Kubernetes' preStop sleep has by then taken the pod
// out of the Service, so no new request is refused.
func runWeb(ctx context.Context, a *app, cfg *serveConfig, _ map[string]int) error {
	if cfg.HTTPAddr == "" {
		return usagef("invalid %s \"\": the web role needs an address for its API", setting("http-addr"))
	}
	b, err := openBroker(&a.global)
	if err != nil {
		return err
	}
	defer b.Close()
	docs, err := openDocuments(ctx, &a.global, b, a.log)
	if err != nil {
		return err
	}
	defer docs.Close()
	m := metrics.New()

	apiLn, probeLn, err := cfg.listen()
	if err != nil {
		return err
	}

	var ready atomic.Bool
	var web http.Handler
	ec, err := cfg.Web.edge(false, cfg.HTTPAddr)
	if err == nil {
		web, err = a.newWebHandler(docs, b.driver, &cfg.Web, ec, false)
	}
	if err != nil {
		_ = apiLn.Close()
		if probeLn != nil {
			_ = probeLn.Close()
		}
		return err
	}
	apiSrv := ec.Server(m.Instrument(web))
	done := make(chan error, 2)
	a.willServe(apiLn, apiSrv)
	go func() { done <- serveErr(apiSrv.Serve(apiLn), "API", apiLn.Addr()) }()
	a.log.Info("serve: web: serving the REST API", append(slices.Clone(b.attrs), "addr", apiLn.Addr().String(), "version", buildinfo.Version)...)
	if a.listeningHTTP != nil {
		a.listeningHTTP(apiLn.Addr())
	}
	probeSrv := a.startProbes(probeLn, &ready, m, cfg.Web.servers(), done)
	ready.Store(true)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-done:
		a.log.Error("serve: web: HTTP server failed; stopping", "error", runErr)
	}
	ready.Store(false)
	a.log.Info("serve: web: stopping: draining the API's requests", "shutdown_timeout", cfg.ShutdownTimeout)
	drainCtx, cancel := shutdownContext(ctx, cfg.ShutdownTimeout)
	defer cancel()
	if err := apiSrv.Shutdown(drainCtx); err != nil {
		// Requests still running at the deadline are cut off.
		_ = apiSrv.Close()
		runErr = errors.Join(runErr, fmt.Errorf("drain the API's requests: %w", err))
	}
	return errors.Join(runErr, closeProbes(ctx, probeSrv))
}

// startProbes serves newProbeServer on ln, when there is one, and tells a
// test the address. A failure of the server is sent on done.
func (a *app) startProbes(ln net.Listener, ready *atomic.Bool, m *metrics.Metrics, ec edge.Config, done chan<- error) *http.Server {
	if ln == nil {
		return nil
	}
	hs := newProbeServer(ready, m, a.log, ec)
	a.willServe(ln, hs)
	go func() { done <- serveErr(hs.Serve(ln), "probes", ln.Addr()) }()
	a.log.Info("serve: serving /healthz, /readyz and /metrics", "addr", ln.Addr().String())
	if a.listening != nil {
		a.listening(ln.Addr())
	}
	return hs
}

// closeProbes closes the probes' server, if any, once the role drained.
func closeProbes(ctx context.Context, hs *http.Server) error {
	if hs == nil {
		return nil
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeCloseTimeout)
	defer cancel()
	if err := hs.Shutdown(hctx); err != nil {
		return fmt.Errorf("close the probes' server: %w", err)
	}
	return nil
}

// serveErr names the server whose Serve returned err. http.ErrServerClosed
// is the end of a graceful shutdown, not a failure, but Serve only returns
// it after Shutdown, when nobody reads done any more.
func serveErr(err error, what string, addr net.Addr) error {
	return fmt.Errorf("serve the %s on %s: %w", what, addr, err)
}

// shutdownContext bounds a role's drain by the shutdown timeout; a negative
// timeout waits forever.
func shutdownContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx = context.WithoutCancel(ctx)
	if timeout < 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

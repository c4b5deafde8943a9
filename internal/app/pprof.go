package app

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/quirehq/quire/web/edge"
)

// PprofAddrOn is where --pprof-addr given without a value serves the
// profiles: the loopback interface, because profiles expose the process's
// memory and stacks and have no login.
const PprofAddrOn = "127.0.0.1:6060"

// StartPprof serves net/http/pprof's profiles under /debug/pprof/ on addr,
// on a server of its own, never on the probes' or the API's address: the
// kubelet, Prometheus and the edge reach those. Empty addr serves nothing.
// The server has ec's timeouts: a CPU profile or a trace extends its write
// deadline by its ?seconds= itself. It returns a function that closes the
// server.
func (a *App) StartPprof(addr string, ec edge.Config) (func(), error) {
	log := a.Log
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s %q: %w", Setting("pprof-addr"), addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		log.Warn("serve: profiles are served beyond the loopback interface, with no login", "addr", ln.Addr().String())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := ec.Server(mux)
	a.willServe(ln, hs)
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve: profiles: server failed", "error", err)
		}
	}()
	log.Info("serve: serving profiles at /debug/pprof/", "addr", ln.Addr().String())
	return func() { _ = hs.Close() }, nil
}

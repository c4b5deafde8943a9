package cli

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/internal/metrics"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/kserve"
)

// runML runs the ml role: Quire's active classifiers served over the Open
// Inference Protocol (KServe v2 REST) on --http-addr, at /v2/models/{name},
// with the probes and metrics on --addr. It opens the store and blob
// storage only, loads the active versions at start (readiness waits for
// it) and swaps in versions activated later without a restart
// (--ml-reload-interval). It fetches no jobs.
func runML(ctx context.Context, a *app, cfg *serveConfig, _ map[string]int) error {
	if cfg.HTTPAddr == "" {
		return usagef("invalid %s \"\": the ml role needs an address for its inference API", setting("http-addr"))
	}
	if err := a.global.ML.validate(); err != nil {
		return err
	}
	st, err := openStore(ctx, &a.global)
	if err != nil {
		return err
	}
	defer st.Close()
	blobs, err := a.global.openBlobs(ctx)
	if err != nil {
		return err
	}
	defer blobs.Close()
	an, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Logger: a.log})
	if err != nil {
		return err
	}
	reloader, err := ml.NewReloader(&ml.ReloaderConfig{Analyzer: an, Store: st, Blobs: blobs,
		Interval: a.global.ML.ReloadInterval, Logger: a.log})
	if err != nil {
		return err
	}

	apiLn, probeLn, err := cfg.listen()
	if err != nil {
		return err
	}
	// Ready once the active versions were loaded, or tried: a version that
	// cannot be read is logged, and the others are served.
	var ready atomic.Bool
	m := metrics.New()
	ks := kserve.NewServer(&kserve.ServerConfig{Models: an, Ready: ready.Load, Version: buildinfo.Version, Logger: a.log})
	apiSrv := cfg.Web.servers().Server(m.Instrument(ks))
	done := make(chan error, 2)
	a.willServe(apiLn, apiSrv)
	go func() { done <- serveErr(apiSrv.Serve(apiLn), "inference API", apiLn.Addr()) }()
	a.log.Info("serve: ml: serving the inference API (KServe v2)", "addr", apiLn.Addr().String(), "version", buildinfo.Version)
	if a.listeningHTTP != nil {
		a.listeningHTTP(apiLn.Addr())
	}
	probeSrv := a.startProbes(probeLn, &ready, m, cfg.Web.servers(), done)

	if err := an.Refresh(ctx, st, blobs); err != nil {
		a.log.Error("serve: ml: active model versions not loaded", "error", err)
	}
	ready.Store(true)
	rctx, stopReloader := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = reloader.Run(rctx) })

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-done:
		a.log.Error("serve: ml: HTTP server failed; stopping", "error", runErr)
	}
	ready.Store(false)
	stopReloader()
	wg.Wait()
	a.log.Info("serve: ml: stopping: draining the inference requests", "shutdown_timeout", cfg.ShutdownTimeout)
	drainCtx, cancel := shutdownContext(ctx, cfg.ShutdownTimeout)
	defer cancel()
	if err := apiSrv.Shutdown(drainCtx); err != nil {
		_ = apiSrv.Close()
		runErr = errors.Join(runErr, fmt.Errorf("drain the inference requests: %w", err))
	}
	return errors.Join(runErr, closeProbes(ctx, probeSrv))
}

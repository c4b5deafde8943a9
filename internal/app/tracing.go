package app

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobsotel"
)

// The standard OpenTelemetry variables that turn tracing on without
// --otlp-endpoint; the exporter reads them (and the other OTEL_EXPORTER_OTLP_*
// settings: headers, timeout, TLS) itself.
var otlpEnv = []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"}

// tracingEnabled reports whether an OTLP endpoint is configured, by flag or
// by the standard environment.
func (g *Config) tracingEnabled() bool {
	if g.OTLPEndpoint != "" {
		return true
	}
	for _, k := range otlpEnv {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// StartTracing exports traces over OTLP/HTTP when an endpoint is
// configured (--otlp-endpoint, or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT /
// OTEL_EXPORTER_OTLP_ENDPOINT), and returns the function that flushes and
// stops the exporter at exit. Without an endpoint it builds nothing: the
// exporter costs memory and a goroutine that a process not traced should
// not pay for. The provider is the App's, not the global one, so that
// commands run side by side in one process (tests) trace apart.
func (a *App) StartTracing(ctx context.Context) (func(context.Context) error, error) {
	g := &a.Config
	if !g.tracingEnabled() {
		return func(context.Context) error { return nil }, nil
	}
	endpoint, err := g.otlpTracesURL()
	if err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(resource.NewSchemaless(
		attribute.String("service.name", "quire"), attribute.String("service.version", buildinfo.Version))))
	g.tracerProvider = tp
	a.Log.Info("quire: exporting traces over OTLP/HTTP", "endpoint", RedactURL(g.OTLPEndpoint))
	return func(ctx context.Context) error {
		g.tracerProvider = nil
		return tp.Shutdown(ctx)
	}, nil
}

// otlpTracesURL is where traces are posted: --otlp-endpoint, else
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else
// OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces, as the OpenTelemetry
// specification reads them.
func (g *Config) otlpTracesURL() (string, error) {
	raw, setting, signal := g.OTLPEndpoint, Setting("otlp-endpoint"), false
	if raw == "" {
		if raw = os.Getenv(otlpEnv[0]); raw != "" {
			setting, signal = otlpEnv[0], true
		} else {
			raw, setting = os.Getenv(otlpEnv[1]), otlpEnv[1]
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", Usagef("invalid %s %q: use http://host:4318 or https://host:4318", setting, RedactURL(raw))
	}
	if !signal && (u.Path == "" || u.Path == "/") {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// tracer returns the tracer of Quire's own spans (ingest), a no-op one when
// tracing is off.
func (g *Config) tracer() trace.Tracer {
	if g.tracerProvider == nil {
		return noop.NewTracerProvider().Tracer("")
	}
	return g.tracerProvider.Tracer("github.com/quirehq/quire")
}

// enqueueMiddleware is what every job client of the process wraps its
// enqueues in: a producer span and the trace context in the job, when
// tracing is on.
func (g *Config) enqueueMiddleware() []jobs.EnqueueMiddleware {
	if g.tracerProvider == nil {
		return nil
	}
	return []jobs.EnqueueMiddleware{jobsotel.EnqueueMiddleware(&jobsotel.Options{TracerProvider: g.tracerProvider})}
}

// jobMiddleware is the outermost middleware of every job server of the
// process: a consumer span per job in the enqueuer's trace, when tracing is
// on.
func (g *Config) jobMiddleware() []jobs.Middleware {
	if g.tracerProvider == nil {
		return nil
	}
	return []jobs.Middleware{jobsotel.Middleware(&jobsotel.Options{TracerProvider: g.tracerProvider})}
}

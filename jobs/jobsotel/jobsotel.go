// Package jobsotel traces jobs with OpenTelemetry: an enqueue middleware
// starts a producer span and writes the W3C trace context into the job's
// headers, and a handler middleware reads it back and runs the handler in a
// consumer span that is the producer span's child. A handler that enqueues
// the next job with its context therefore continues the same trace, so a
// document's path through the pipeline's stages is one trace.
//
// Both middlewares take the tracer provider and propagator from Options;
// without a provider they trace nothing.
package jobsotel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/quirehq/quire/jobs"
)

// TracerName names the tracer of both middlewares.
const TracerName = "github.com/quirehq/quire/jobs/jobsotel"

// The attributes of job spans, after OpenTelemetry's messaging conventions
// where they fit.
const (
	AttrJobAttempt = attribute.Key("job.attempt")
	AttrJobID      = attribute.Key("messaging.message.id")
	AttrJobQueue   = attribute.Key("messaging.destination.name")
	AttrJobType    = attribute.Key("job.type")
	AttrSystem     = attribute.Key("messaging.system")
)

// Options configure the middlewares. nil means defaults.
type Options struct {
	// TracerProvider makes the spans. Defaults to a no-op provider: pass
	// otel.GetTracerProvider() for the global one. Not the global by
	// default: importing the otel package costs every program about 7 MiB
	// of resident memory, traced or not.
	TracerProvider trace.TracerProvider
	// Propagator writes and reads the trace context in job headers.
	// Defaults to W3C trace context and baggage.
	Propagator propagation.TextMapPropagator
}

func (o *Options) tracer() (trace.Tracer, propagation.TextMapPropagator) {
	var c Options
	if o != nil {
		c = *o
	}
	if c.TracerProvider == nil {
		c.TracerProvider = noop.NewTracerProvider()
	}
	if c.Propagator == nil {
		c.Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return c.TracerProvider.Tracer(TracerName), c.Propagator
}

func attrs(j *jobs.Job) []attribute.KeyValue {
	return []attribute.KeyValue{
		AttrSystem.String("quire"), AttrJobType.String(j.Type), AttrJobQueue.String(j.Queue), AttrJobID.String(j.ID),
	}
}

// EnqueueMiddleware starts a producer span "enqueue TYPE" for every job a
// client enqueues, as a child of the enqueuer's context, and writes the
// span's context into the job's headers. A failed store is recorded on the
// spans.
func EnqueueMiddleware(opts *Options) jobs.EnqueueMiddleware {
	tracer, prop := opts.tracer()
	return func(next jobs.EnqueueFunc) jobs.EnqueueFunc {
		return func(ctx context.Context, js []*jobs.Job) error {
			spans := make([]trace.Span, len(js))
			for i, j := range js {
				sctx, span := tracer.Start(ctx, "enqueue "+j.Type,
					trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs(j)...))
				if j.Headers == nil {
					j.Headers = make(map[string]string, 2)
				}
				prop.Inject(sctx, propagation.MapCarrier(j.Headers))
				spans[i] = span
			}
			err := next(ctx, js)
			for i, span := range spans {
				if err != nil {
					span.RecordError(err)
					span.SetStatus(codes.Error, err.Error())
				} else if js[i].Duplicate {
					span.SetAttributes(attribute.Bool("job.duplicate", true))
				}
				span.End()
			}
			return err
		}
	}
}

// Middleware runs every job in a consumer span "process TYPE" whose parent
// is the trace context in the job's headers (the enqueue span), with the
// job's type, queue, attempt and id as attributes. The handler's error is
// recorded on the span. A job without trace context starts a new trace.
func Middleware(opts *Options) jobs.Middleware {
	tracer, prop := opts.tracer()
	return func(next jobs.HandlerFunc) jobs.HandlerFunc {
		return func(ctx context.Context, j *jobs.Job) error {
			if len(j.Headers) > 0 {
				ctx = prop.Extract(ctx, propagation.MapCarrier(j.Headers))
			}
			ctx, span := tracer.Start(ctx, "process "+j.Type, trace.WithSpanKind(trace.SpanKindConsumer),
				trace.WithAttributes(append(attrs(j), AttrJobAttempt.Int(j.Attempt))...))
			defer span.End()
			err := next(ctx, j)
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
				span.SetAttributes(attribute.String("job.outcome", outcome(err)))
			}
			return err
		}
	}
}

// outcome names what an error does to the job, for the span.
func outcome(err error) string {
	var d *jobs.DiscardError
	var s *jobs.SnoozeError
	switch {
	case errors.As(err, &d):
		return "discarded"
	case errors.As(err, &s):
		return "snoozed"
	}
	return "failed"
}

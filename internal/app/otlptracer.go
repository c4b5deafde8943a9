package app

import (
	"context"
	"crypto/rand"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// tracerProvider is a small OpenTelemetry tracer provider that buffers
// ended spans and posts them with otlpExporter. It stands in for the SDK's
// provider, whose packages alone add about 5 MiB to the resident memory of
// every run of the binary, traced or not (`quire version` must stay within
// 40 MiB); Quire needs only spans, parents, attributes, events and status.
type tracerProvider struct {
	embedded.TracerProvider
	exp      *otlpExporter
	resource []attribute.KeyValue

	mu    sync.Mutex // guards spans
	spans []*span
}

// exportBatch is how many ended spans are posted at once; Shutdown posts
// the rest.
const exportBatch = 256

func (tp *tracerProvider) Tracer(name string, _ ...trace.TracerOption) trace.Tracer {
	return &tracer{tp: tp, scope: name}
}

// end queues an ended span, posting a full batch in the background.
func (tp *tracerProvider) end(s *span) {
	tp.mu.Lock()
	tp.spans = append(tp.spans, s)
	var batch []*span
	if len(tp.spans) >= exportBatch {
		batch, tp.spans = tp.spans, nil
	}
	tp.mu.Unlock()
	if batch != nil {
		go func() { _ = tp.exp.export(context.Background(), tp.resource, batch) }()
	}
}

// Shutdown posts the spans that ended since the last batch.
func (tp *tracerProvider) Shutdown(ctx context.Context) error {
	tp.mu.Lock()
	batch := tp.spans
	tp.spans = nil
	tp.mu.Unlock()
	return tp.exp.export(ctx, tp.resource, batch)
}

type tracer struct {
	embedded.Tracer
	tp    *tracerProvider
	scope string
}

func (t *tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	cfg := trace.NewSpanStartConfig(opts...)
	parent := trace.SpanContextFromContext(ctx)
	if cfg.NewRoot() {
		parent = trace.SpanContext{}
	}
	scc := trace.SpanContextConfig{TraceFlags: trace.FlagsSampled}
	if parent.IsValid() {
		scc.TraceID, scc.TraceState = parent.TraceID(), parent.TraceState()
	} else {
		_, _ = rand.Read(scc.TraceID[:])
	}
	_, _ = rand.Read(scc.SpanID[:])
	start := cfg.Timestamp()
	if start.IsZero() {
		start = time.Now()
	}
	s := &span{tracer: t, name: name, kind: cfg.SpanKind(), sc: trace.NewSpanContext(scc), parent: parent,
		start: start, attrs: cfg.Attributes()}
	return trace.ContextWithSpan(ctx, s), s
}

// span is one span being recorded; its fields are guarded by mu until it
// ends, then read by the exporter only.
type span struct {
	embedded.Span
	tracer *tracer
	sc     trace.SpanContext
	parent trace.SpanContext
	kind   trace.SpanKind

	mu         sync.Mutex
	name       string
	start, end time.Time
	attrs      []attribute.KeyValue
	events     []spanEvent
	code       codes.Code
	desc       string
	ended      bool
}

type spanEvent struct {
	name  string
	at    time.Time
	attrs []attribute.KeyValue
}

func (s *span) End(opts ...trace.SpanEndOption) {
	cfg := trace.NewSpanEndConfig(opts...)
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	s.end = cfg.Timestamp()
	if s.end.IsZero() {
		s.end = time.Now()
	}
	s.mu.Unlock()
	s.tracer.tp.end(s)
}

func (s *span) AddEvent(name string, opts ...trace.EventOption) {
	cfg := trace.NewEventConfig(opts...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.events = append(s.events, spanEvent{name: name, at: cfg.Timestamp(), attrs: cfg.Attributes()})
	}
}

func (s *span) AddLink(trace.Link) {}

func (s *span) IsRecording() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.ended
}

func (s *span) RecordError(err error, opts ...trace.EventOption) {
	if err == nil {
		return
	}
	opts = append(opts, trace.WithAttributes(attribute.String("exception.message", err.Error())))
	s.AddEvent("exception", opts...)
}

func (s *span) SpanContext() trace.SpanContext { return s.sc }

func (s *span) SetStatus(code codes.Code, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || code < s.code { // Ok overrides Error, Error overrides Unset
		return
	}
	s.code, s.desc = code, ""
	if code == codes.Error {
		s.desc = description
	}
}

func (s *span) SetName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.name = name
	}
}

func (s *span) SetAttributes(kv ...attribute.KeyValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.attrs = append(s.attrs, kv...)
	}
}

func (s *span) TracerProvider() trace.TracerProvider { return s.tracer.tp }

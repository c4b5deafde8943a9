package jobsotel_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobsotel"
	"github.com/quirehq/quire/jobs/sqlitedriver"
)

// TestTraceFollowsJobs enqueues a job under a span; its handler enqueues the
// next job, whose handler fails. Every span is in the caller's trace, each
// consumer span is the child of its job's producer span, and the failure is
// recorded.
func TestTraceFollowsJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := sqlitedriver.Open(filepath.Join(t.TempDir(), "jobs.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })

	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	opts := &jobsotel.Options{TracerProvider: tp}
	client, err := jobs.NewClient(d, &jobs.ClientConfig{Middleware: []jobs.EnqueueMiddleware{jobsotel.EnqueueMiddleware(opts)}})
	require.NoError(t, err)

	done := make(chan struct{})
	hs := jobs.NewHandlers()
	hs.Handle("first", func(ctx context.Context, j *jobs.Job) error {
		_, err := client.Enqueue(ctx, "second", nil, &jobs.EnqueueOpts{MaxRetries: jobs.NoRetries})
		return err
	}, nil)
	hs.Handle("second", func(ctx context.Context, j *jobs.Job) error {
		defer close(done)
		return errors.New("mail server down")
	}, nil)
	srv, err := jobs.NewServer(d, &jobs.Config{Handlers: hs, PollInterval: 20 * time.Millisecond,
		Middleware: []jobs.Middleware{jobsotel.Middleware(opts)}})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(func() { require.NoError(t, srv.Stop(context.Background())) })

	rctx, root := tp.Tracer("test").Start(ctx, "upload")
	first, err := client.Enqueue(rctx, "first", nil, nil)
	require.NoError(t, err)
	root.End()
	require.Contains(t, first.Headers, "traceparent")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the second job did not run")
	}
	require.NoError(t, srv.Stop(ctx)) // ends the last span

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		byName[s.Name()] = s
	}
	require.Len(t, byName, 5, "spans: %v", byName)
	want := root.SpanContext().TraceID()
	for name, s := range byName {
		require.Equal(t, want, s.SpanContext().TraceID(), "span %s is in the upload's trace", name)
	}
	parent := func(child, of string) {
		t.Helper()
		require.Equal(t, byName[of].SpanContext().SpanID(), byName[child].Parent().SpanID(), "%s is the child of %s", child, of)
	}
	parent("enqueue first", "upload")
	parent("process first", "enqueue first")
	parent("enqueue second", "process first")
	parent("process second", "enqueue second")
	require.Equal(t, trace.SpanKindProducer, byName["enqueue first"].SpanKind())
	p2 := byName["process second"]
	require.Equal(t, trace.SpanKindConsumer, p2.SpanKind())
	require.Equal(t, codes.Error, p2.Status().Code)
	require.Contains(t, p2.Status().Description, "mail server down")
	got := map[string]string{}
	for _, a := range p2.Attributes() {
		got[string(a.Key)] = a.Value.String()
	}
	require.Equal(t, "second", got["job.type"])
	require.Equal(t, "default", got["messaging.destination.name"])
	require.Equal(t, "1", got["job.attempt"])
	require.NotEmpty(t, got["messaging.message.id"])
}

package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an in-process OTLP/HTTP trace receiver: it decodes every
// ExportTraceServiceRequest posted to /v1/traces and keeps its spans.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want protobuf on /v1/traces", http.StatusNotFound)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var msg coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range msg.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			r.spans = append(r.spans, ss.Spans...)
		}
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// TestProcessTracedEndToEnd runs a document through the pipeline with
// --otlp-endpoint pointing at an in-process receiver, and checks that the
// spans of ingest, extract, analyze and notify form one trace: each stage's
// job span is the child of the span that enqueued it, itself the child of
// the previous stage's span.
func TestProcessTracedEndToEnd(t *testing.T) {
	t.Parallel()
	rcv := &otlpReceiver{}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)

	b := setupEmbedded(t)
	in := filepath.Join(t.TempDir(), "in")
	// Larger than the pipeline's one-job size (256 KiB of text), so that
	// every stage runs as a job of its own.
	require.NoError(t, os.MkdirAll(in, 0o755))
	line := "All human beings are born free and equal in dignity and rights, endowed with reason and conscience.\n"
	require.NoError(t, os.WriteFile(filepath.Join(in, "rights.txt"), []byte(strings.Repeat(line, 3500)), 0o644))
	r := b.runOK(t, "process", in, "--json", "--log-level", "error", "--otlp-endpoint", srv.URL)
	sum := decodeLastLine[processResult](t, r)
	require.Equal(t, 1, sum.Done, "%+v", sum)

	// The command flushed its spans before it returned.
	rcv.mu.Lock()
	spans := rcv.spans
	rcv.mu.Unlock()
	byName := map[string]*tracepb.Span{}
	for _, s := range spans {
		require.NotContains(t, byName, s.Name, "one span of each name for one document")
		byName[s.Name] = s
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	ingest := byName["ingest"]
	require.NotNil(t, ingest, "spans: %v", names)
	require.Empty(t, ingest.ParentSpanId, "ingest is the root of the document's trace")
	chain := []string{"ingest",
		"enqueue pipeline.extract", "process pipeline.extract",
		"enqueue pipeline.analyze", "process pipeline.analyze",
		"enqueue pipeline.notify", "process pipeline.notify"}
	for i, name := range chain {
		s := byName[name]
		require.NotNil(t, s, "span %q missing; spans: %v", name, names)
		require.Equal(t, hex.EncodeToString(ingest.TraceId), hex.EncodeToString(s.TraceId), "%s is in the document's trace", name)
		if i > 0 {
			require.True(t, bytes.Equal(byName[chain[i-1]].SpanId, s.ParentSpanId), "%s is the child of %s", name, chain[i-1])
		}
	}
	require.Equal(t, tracepb.Span_SPAN_KIND_PRODUCER, byName["enqueue pipeline.extract"].Kind)
	notify := byName["process pipeline.notify"]
	require.Equal(t, tracepb.Span_SPAN_KIND_CONSUMER, notify.Kind)
	require.Equal(t, "pipeline.notify", kv(notify, "job.type"))
	require.NotEmpty(t, kv(notify, "messaging.message.id"))
	require.NotEmpty(t, kv(notify, "messaging.destination.name"))
	require.Equal(t, int64(1), intKV(notify, "job.attempt"))
}

func kv(s *tracepb.Span, key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.GetStringValue()
		}
	}
	return ""
}

func intKV(s *tracepb.Span, key string) int64 {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.GetIntValue()
		}
	}
	return 0
}

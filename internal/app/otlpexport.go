package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/protobuf/encoding/protowire"
)

// otlpExporter sends spans to an OTLP/HTTP receiver as protobuf
// ExportTraceServiceRequest messages, encoded with protowire by hand. It
// replaces otlptracehttp, whose generated protobuf and gRPC packages
// register themselves at start in every run of the binary, traced or not:
// they cost `quire version` about 7 MiB of its 40 MiB budget.
type otlpExporter struct {
	url    string
	client *http.Client
}

func newOTLPExporter(url string) *otlpExporter {
	return &otlpExporter{url: url, client: &http.Client{Timeout: 10 * time.Second}}
}

// export posts one request with every span, under one resource.
func (e *otlpExporter) export(ctx context.Context, resource []attribute.KeyValue, spans []*span) error {
	if len(spans) == 0 {
		return nil
	}
	var rs []byte // ResourceSpans
	var r []byte
	for _, kv := range resource {
		r = protowire.AppendTag(r, 1, protowire.BytesType)
		r = protowire.AppendBytes(r, appendKeyValue(nil, kv))
	}
	rs = protowire.AppendTag(rs, 1, protowire.BytesType)
	rs = protowire.AppendBytes(rs, r)
	byScope := map[string][]byte{}
	var order []string
	for _, s := range spans {
		name := s.tracer.scope
		if _, ok := byScope[name]; !ok {
			order = append(order, name)
		}
		byScope[name] = protowire.AppendTag(byScope[name], 2, protowire.BytesType)
		byScope[name] = protowire.AppendBytes(byScope[name], appendSpan(nil, s))
	}
	for _, name := range order {
		var scope []byte
		scope = protowire.AppendTag(scope, 1, protowire.BytesType)
		scope = protowire.AppendString(scope, name)
		ss := protowire.AppendTag(nil, 1, protowire.BytesType)
		ss = protowire.AppendBytes(ss, scope)
		ss = append(ss, byScope[name]...)
		rs = protowire.AppendTag(rs, 2, protowire.BytesType)
		rs = protowire.AppendBytes(rs, ss)
	}
	msg := protowire.AppendTag(nil, 1, protowire.BytesType)
	msg = protowire.AppendBytes(msg, rs)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(msg))
	if err != nil {
		return fmt.Errorf("export %d spans: %w", len(spans), err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := e.client.Do(req)
	if err != nil {
		return fmt.Errorf("export %d spans to %s: %w", len(spans), RedactURL(e.url), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("export %d spans to %s: %s", len(spans), RedactURL(e.url), resp.Status)
	}
	return nil
}

// appendSpan appends an OTLP Span message's fields.
func appendSpan(b []byte, s *span) []byte {
	sc := s.sc
	tid, sid := sc.TraceID(), sc.SpanID()
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, tid[:])
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, sid[:])
	if ts := sc.TraceState().String(); ts != "" {
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendString(b, ts)
	}
	if p := s.parent; p.IsValid() {
		psid := p.SpanID()
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, psid[:])
	}
	b = protowire.AppendTag(b, 5, protowire.BytesType)
	b = protowire.AppendString(b, s.name)
	b = protowire.AppendTag(b, 6, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(s.kind)) // the SDK's kinds number as OTLP's
	b = protowire.AppendTag(b, 7, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, uint64(s.start.UnixNano()))
	b = protowire.AppendTag(b, 8, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, uint64(s.end.UnixNano()))
	for _, kv := range s.attrs {
		b = protowire.AppendTag(b, 9, protowire.BytesType)
		b = protowire.AppendBytes(b, appendKeyValue(nil, kv))
	}
	for _, ev := range s.events {
		var e []byte
		e = protowire.AppendTag(e, 1, protowire.Fixed64Type)
		e = protowire.AppendFixed64(e, uint64(ev.at.UnixNano()))
		e = protowire.AppendTag(e, 2, protowire.BytesType)
		e = protowire.AppendString(e, ev.name)
		for _, kv := range ev.attrs {
			e = protowire.AppendTag(e, 3, protowire.BytesType)
			e = protowire.AppendBytes(e, appendKeyValue(nil, kv))
		}
		b = protowire.AppendTag(b, 11, protowire.BytesType)
		b = protowire.AppendBytes(b, e)
	}
	if s.code != 0 {
		var m []byte
		if s.desc != "" {
			m = protowire.AppendTag(m, 2, protowire.BytesType)
			m = protowire.AppendString(m, s.desc)
		}
		// OTLP: 1 ok, 2 error; the SDK's codes: 1 error, 2 ok.
		code := uint64(2)
		if s.code == 2 {
			code = 1
		}
		m = protowire.AppendTag(m, 3, protowire.VarintType)
		m = protowire.AppendVarint(m, code)
		b = protowire.AppendTag(b, 15, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	return b
}

// appendKeyValue appends an OTLP KeyValue message's fields; slices are
// written as their string form.
func appendKeyValue(b []byte, kv attribute.KeyValue) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, string(kv.Key))
	var v []byte
	switch kv.Value.Type() {
	case attribute.BOOL:
		v = protowire.AppendTag(v, 2, protowire.VarintType)
		v = protowire.AppendVarint(v, protowire.EncodeBool(kv.Value.AsBool()))
	case attribute.INT64:
		v = protowire.AppendTag(v, 3, protowire.VarintType)
		v = protowire.AppendVarint(v, uint64(kv.Value.AsInt64()))
	case attribute.FLOAT64:
		v = protowire.AppendTag(v, 4, protowire.Fixed64Type)
		v = protowire.AppendFixed64(v, math.Float64bits(kv.Value.AsFloat64()))
	default:
		v = protowire.AppendTag(v, 1, protowire.BytesType)
		v = protowire.AppendString(v, kv.Value.Emit())
	}
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

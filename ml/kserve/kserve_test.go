package kserve_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/kserve"
)

var quiet = slog.New(slog.DiscardHandler)

// trainModel trains a small classifier of invoices and letters.
func trainModel(t *testing.T) *ml.Model {
	t.Helper()
	words := map[string][]string{
		"invoice": {"invoice", "amount", "due", "payment", "total", "tax", "bank", "transfer"},
		"letter":  {"dear", "regards", "friend", "family", "holiday", "thanks", "visit", "weather"},
	}
	var ex []ml.Example
	for label, ws := range words {
		for i := range 12 {
			var b []string
			for j := range 10 {
				b = append(b, ws[(i+j*3)%len(ws)])
			}
			ex = append(ex, ml.Example{Key: fmt.Sprintf("%s/%d", label, i), Text: strings.Join(b, " "), Label: label})
		}
	}
	m, err := ml.Train(context.Background(), ex, &ml.TrainOpts{MinDF: 1, Version: "v1"})
	require.NoError(t, err)
	return m
}

type bundle struct {
	model *ml.Model
	an    *ml.Analyzer
	srv   *httptest.Server
}

// setup serves a trained model, loaded as version 01MODEL, from Quire's own
// v2 server over real HTTP.
func setup(t *testing.T) *bundle {
	t.Helper()
	lang, err := ml.NewLanguageIdentifier(&ml.LanguageOpts{Languages: []string{"en", "de"}})
	require.NoError(t, err)
	an, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Language: lang, Logger: quiet})
	require.NoError(t, err)
	m := trainModel(t)
	require.NoError(t, an.Load(ml.LoadedModel{ID: "01MODEL", Model: m}))
	srv := httptest.NewServer(kserve.NewServer(&kserve.ServerConfig{Models: an, Version: "test", Logger: quiet}))
	t.Cleanup(srv.Close)
	return &bundle{model: m, an: an, srv: srv}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	return resp.StatusCode
}

func postJSON(t *testing.T, url, body string, v any) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	return resp.StatusCode
}

func TestServer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var m map[string]any
	require.Equal(t, http.StatusOK, getJSON(t, b.srv.URL+"/v2/health/live", &m))
	require.Equal(t, true, m["live"])
	require.Equal(t, http.StatusOK, getJSON(t, b.srv.URL+"/v2/health/ready", &m))
	require.Equal(t, true, m["ready"])
	var sm kserve.ServerMetadata
	require.Equal(t, http.StatusOK, getJSON(t, b.srv.URL+"/v2", &sm))
	require.Equal(t, "quire", sm.Name)

	var md kserve.ModelMetadata
	require.Equal(t, http.StatusOK, getJSON(t, b.srv.URL+"/v2/models/doctype", &md))
	require.Equal(t, "doctype", md.Name)
	require.Equal(t, []string{"01MODEL"}, md.Versions)
	require.Equal(t, "BYTES", md.Inputs[0].Datatype)
	require.Equal(t, []int64{-1, 2}, md.Outputs[3].Shape)
	require.Equal(t, http.StatusOK, getJSON(t, b.srv.URL+"/v2/models/doctype/versions/01MODEL/ready", &m))
	var e kserve.ErrorResponse
	require.Equal(t, http.StatusNotFound, getJSON(t, b.srv.URL+"/v2/models/doctype/versions/02OTHER", &e))
	require.Contains(t, e.Error, `no version "02OTHER"`)
	require.Equal(t, http.StatusNotFound, getJSON(t, b.srv.URL+"/v2/models/tags", &e))
	require.Contains(t, e.Error, `no model "tags"`)

	texts := []string{"invoice amount due payment", "dear friend thanks for the visit", "nothing known here"}
	data, err := json.Marshal(texts)
	require.NoError(t, err)
	var resp kserve.InferResponse
	code := postJSON(t, b.srv.URL+"/v2/models/doctype/versions/01MODEL/infer",
		`{"id":"r1","inputs":[{"name":"text","shape":[3],"datatype":"BYTES","data":`+string(data)+`}]}`, &resp)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "doctype", resp.ModelName)
	require.Equal(t, "01MODEL", resp.ModelVersion)
	require.Equal(t, "r1", resp.ID)
	outs := map[string]kserve.OutputTensor{}
	for _, o := range resp.Outputs {
		outs[o.Name] = o
	}
	require.Len(t, outs, 4)
	require.Equal(t, []int64{3, 2}, outs["probabilities"].Shape)
	require.Equal(t, `["invoice","letter"]`, outs["probabilities"].Parameters["labels"])
	probs := outs["probabilities"].Data.([]any)
	require.Len(t, probs, 6)
	for i, text := range texts {
		p := b.model.Predict(text)
		require.Equal(t, p.Label, outs["label"].Data.([]any)[i])
		require.InDelta(t, p.Confidence, outs["confidence"].Data.([]any)[i], 1e-12)
		require.Equal(t, p.Unsure, outs["unsure"].Data.([]any)[i])
		require.InDelta(t, 1, probs[2*i].(float64)+probs[2*i+1].(float64), 1e-9)
	}
	require.Equal(t, "invoice", outs["label"].Data.([]any)[0])
	require.Equal(t, "letter", outs["label"].Data.([]any)[1])
	require.Equal(t, true, outs["unsure"].Data.([]any)[2], "a text of no known word is unsure")

	// Nested data and a chosen output.
	resp = kserve.InferResponse{}
	code = postJSON(t, b.srv.URL+"/v2/models/doctype/infer",
		`{"inputs":[{"name":"text","shape":[1,2],"datatype":"BYTES","data":[["invoice total","dear family"]]}],"outputs":[{"name":"label"}]}`, &resp)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, resp.Outputs, 1)
	require.Equal(t, []any{"invoice", "letter"}, resp.Outputs[0].Data)

	bad := []struct{ name, body, msg string }{
		{"not JSON", `{`, "not an inference request"},
		{"two inputs", `{"inputs":[{"name":"a","shape":[1],"datatype":"BYTES","data":["x"]},{"name":"b","shape":[1],"datatype":"BYTES","data":["y"]}]}`, "has 2 inputs"},
		{"numbers", `{"inputs":[{"name":"text","shape":[1],"datatype":"FP32","data":[1.5]}]}`, `datatype "FP32"`},
		{"shape mismatch", `{"inputs":[{"name":"text","shape":[2],"datatype":"BYTES","data":["x"]}]}`, "does not match its 1 elements"},
		{"not strings", `{"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":[1]}]}`, "texts are strings"},
		{"unknown output", `{"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["x"]}],"outputs":[{"name":"embedding"}]}`, `unknown output "embedding"`},
	}
	for _, tt := range bad {
		e = kserve.ErrorResponse{}
		require.Equal(t, http.StatusBadRequest, postJSON(t, b.srv.URL+"/v2/models/doctype/infer", tt.body, &e), tt.name)
		require.Contains(t, e.Error, tt.msg, tt.name)
	}
}

// TestClientAgainstQuireServer classifies through the client what the
// server's model classifies locally, alone and as a remote classifier of
// an Analyzer.
func TestClientAgainstQuireServer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, err := kserve.NewClient(&kserve.ClientConfig{URL: b.srv.URL, Model: "doctype", Logger: quiet})
	require.NoError(t, err)
	ctx := context.Background()
	for _, text := range []string{"invoice amount due payment", "dear friend thanks", "unknown words only"} {
		p, version, err := c.Classify(ctx, text)
		require.NoError(t, err)
		require.Equal(t, "doctype@01MODEL", version)
		want := b.model.Predict(text)
		require.Equal(t, want.Label, p.Label)
		require.InDelta(t, want.Confidence, p.Confidence, 1e-12)
		require.Equal(t, want.Unsure, p.Unsure)
	}

	pinned, err := kserve.NewClient(&kserve.ClientConfig{URL: b.srv.URL, Model: "doctype", Version: "01MODEL", Logger: quiet})
	require.NoError(t, err)
	ps, _, err := pinned.ClassifyBatch(ctx, []string{"tax bank transfer", "holiday weather"})
	require.NoError(t, err)
	require.Equal(t, "invoice", ps[0].Label)
	require.Equal(t, "letter", ps[1].Label)

	// As the analyze stage's remote classifier.
	lang, err := ml.NewLanguageIdentifier(&ml.LanguageOpts{Languages: []string{"en", "de"}})
	require.NoError(t, err)
	an, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Language: lang, Remote: []ml.RemoteClassifier{c}, Logger: quiet})
	require.NoError(t, err)
	res, err := an.AnalyzeDocument(ctx, &ml.Document{Text: "Please pay the invoice: the total amount is due by bank transfer."})
	require.NoError(t, err)
	var got *ml.Result
	for _, r := range res {
		if r.ModelVersion == "doctype@01MODEL" {
			got = r
		}
	}
	require.NotNil(t, got)
	require.Equal(t, "doctype:invoice", got.Classifications[0].Label)

	// A version that is not loaded is a 404, not retried.
	stale, err := kserve.NewClient(&kserve.ClientConfig{URL: b.srv.URL, Model: "doctype", Version: "00OLD", Logger: quiet})
	require.NoError(t, err)
	_, _, err = stale.Classify(ctx, "invoice")
	var se *kserve.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusNotFound, se.StatusCode)
	require.Contains(t, se.Message, `no version "00OLD"`)
}

// faulty is a proxy in front of Quire's server that fails on demand: while
// failing is set it answers 503 (or hangs until the request is cancelled,
// with hang), else it passes requests on. It counts the requests it saw.
type faulty struct {
	next     http.Handler
	failing  atomic.Bool
	hang     atomic.Bool
	failNext atomic.Int64
	requests atomic.Int64
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	switch {
	case f.hang.Load():
		// The server notices a closed connection only once the body
		// was read.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return
	case f.failing.Load() || f.failNext.Add(-1) >= 0:
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"error":"model is warming up"}`)
		return
	}
	f.next.ServeHTTP(w, r)
}

func setupFaulty(t *testing.T) (*bundle, *faulty, *httptest.Server) {
	t.Helper()
	b := setup(t)
	f := &faulty{next: b.srv.Config.Handler}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return b, f, srv
}

func TestClientRetries(t *testing.T) {
	t.Parallel()
	_, f, srv := setupFaulty(t)
	c, err := kserve.NewClient(&kserve.ClientConfig{URL: srv.URL, Model: "doctype", Retries: 2, Backoff: time.Millisecond, Logger: quiet})
	require.NoError(t, err)
	ctx := context.Background()

	f.failNext.Store(2) // two 503s, then the model answers
	p, _, err := c.Classify(ctx, "invoice total")
	require.NoError(t, err)
	require.Equal(t, "invoice", p.Label)
	require.Equal(t, int64(3), f.requests.Load())

	f.failNext.Store(3) // more failures than retries
	_, _, err = c.Classify(ctx, "invoice total")
	var se *kserve.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusServiceUnavailable, se.StatusCode)
	require.Equal(t, "model is warming up", se.Message)
	require.Contains(t, err.Error(), "3 attempts")
	require.Equal(t, int64(6), f.requests.Load())
}

func TestClientTimeout(t *testing.T) {
	t.Parallel()
	_, f, srv := setupFaulty(t)
	f.hang.Store(true)
	// Attempts are counted where they are sent: one that times out
	// before the server reads it is an attempt too.
	var sent atomic.Int64
	hc := &http.Client{Transport: countingTransport{next: http.DefaultTransport, n: &sent}}
	c, err := kserve.NewClient(&kserve.ClientConfig{URL: srv.URL, Model: "doctype", Timeout: 20 * time.Millisecond,
		Retries: 1, Backoff: time.Millisecond, HTTPClient: hc, Logger: quiet})
	require.NoError(t, err)
	_, _, err = c.Classify(context.Background(), "invoice")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, int64(2), sent.Load(), "a timed-out request is retried")
}

type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// TestClientCircuitBreaker fails the endpoint until the breaker opens:
// then calls fail at once without reaching it, and once the endpoint
// recovers, a trial call after the open time closes the breaker again.
func TestClientCircuitBreaker(t *testing.T) {
	t.Parallel()
	_, f, srv := setupFaulty(t)
	c, err := kserve.NewClient(&kserve.ClientConfig{URL: srv.URL, Model: "doctype", Retries: -1,
		BreakerFailures: 3, BreakerOpenTime: 2 * time.Second, Logger: quiet})
	require.NoError(t, err)
	ctx := context.Background()

	f.failing.Store(true)
	for range 3 {
		_, _, err := c.Classify(ctx, "invoice")
		var se *kserve.StatusError
		require.ErrorAs(t, err, &se)
	}
	require.Equal(t, int64(3), f.requests.Load())
	for range 5 {
		_, _, err := c.Classify(ctx, "invoice")
		require.ErrorIs(t, err, kserve.ErrBreakerOpen)
	}
	require.Equal(t, int64(3), f.requests.Load(), "an open breaker sends nothing")

	f.failing.Store(false)
	require.Eventually(t, func() bool {
		p, _, err := c.Classify(ctx, "invoice")
		return err == nil && p.Label == "invoice"
	}, 10*time.Second, 10*time.Millisecond)
	before := f.requests.Load()
	for range 5 {
		_, _, err := c.Classify(ctx, "dear friend")
		require.NoError(t, err)
	}
	require.Equal(t, before+5, f.requests.Load(), "the breaker closed again")

	// Refusals (4xx) show the server up: they never open the breaker.
	bad, err := kserve.NewClient(&kserve.ClientConfig{URL: srv.URL, Model: "nosuch", Retries: -1,
		BreakerFailures: 2, Logger: quiet})
	require.NoError(t, err)
	before = f.requests.Load()
	for range 5 {
		_, _, err := bad.Classify(ctx, "x")
		require.False(t, errors.Is(err, kserve.ErrBreakerOpen), err)
	}
	require.Equal(t, before+5, f.requests.Load())
}

func TestNewClientErrors(t *testing.T) {
	t.Parallel()
	_, err := kserve.NewClient(&kserve.ClientConfig{URL: "models:8080", Model: "doctype"})
	require.ErrorContains(t, err, `URL "models:8080"`)
	_, err = kserve.NewClient(&kserve.ClientConfig{URL: "http://models:8080"})
	require.ErrorContains(t, err, `Model ""`)
}

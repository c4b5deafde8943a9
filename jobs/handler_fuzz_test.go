package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// fuzzArgs has the shapes job arguments take: strings, numbers, lists,
// maps, times and nested pointers.
type fuzzArgs struct {
	DocumentID string            `json:"document_id"`
	Count      int               `json:"count"`
	Ratio      float64           `json:"ratio"`
	Tags       []string          `json:"tags"`
	Meta       map[string]string `json:"meta"`
	At         time.Time         `json:"at"`
	Next       *fuzzArgs         `json:"next"`
}

// FuzzHandleArgs feeds arbitrary job arguments to a HandleArgs handler:
// either the handler gets arguments that encode and decode back to
// themselves, or the job is discarded (dead at once, no retry) with the
// decoding error; never a panic, never a retry.
func FuzzHandleArgs(f *testing.F) {
	f.Add([]byte(`{"document_id":"01D","count":3,"tags":["a"],"meta":{"k":"v"},"at":"2026-11-29T06:00:00Z","next":{"count":1}}`))
	f.Add([]byte(`{"document_id":7}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"count":1e400}`))
	f.Add([]byte(`{"at":"yesterday"}`))
	f.Add([]byte(`{"next":{"next":{"next":{"next":{}}}}}`))
	f.Add([]byte(``))
	h := NewHandlers()
	var got *fuzzArgs
	HandleArgs(h, "fuzz", func(_ context.Context, _ *Job, a fuzzArgs) error {
		got = &a
		return nil
	}, nil)
	run := h.m["fuzz"].fn
	f.Fuzz(func(t *testing.T, data []byte) {
		got = nil
		err := run(context.Background(), &Job{ID: "j", Type: "fuzz", Args: data})
		if err != nil {
			var d *DiscardError
			if !errors.As(err, &d) {
				t.Fatalf("undecodable arguments must discard the job, got %T: %v", err, err)
			}
			if got != nil {
				t.Fatal("the handler ran although decoding failed")
			}
			return
		}
		if got == nil {
			t.Fatal("no error, yet the handler did not run")
		}
		enc, err := json.Marshal(got)
		if err != nil {
			return // a time outside what JSON can hold: decodable, not encodable
		}
		var again fuzzArgs
		if err := json.Unmarshal(enc, &again); err != nil {
			t.Fatalf("decoded arguments do not round-trip: %v\n%s", err, enc)
		}
	})
}

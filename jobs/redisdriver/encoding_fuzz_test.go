package redisdriver

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/quirehq/quire/jobs/jobtype"
)

// FuzzDecodeJob feeds arbitrary records to the decoder, as a Redis written
// by another version, by hand or by an attacker with access to it could
// hold: decoding never panics, and what decodes encodes to a record that
// decodes to the same job.
func FuzzDecodeJob(f *testing.F) {
	t0 := time.Date(2026, 11, 29, 6, 0, 0, 123456000, time.UTC)
	f.Add([]byte(encodeJob(&jobtype.Job{ID: "01J", Type: "pipeline.extract", Queue: "extract",
		Args: json.RawMessage(`{"document_id":"01D"}`), MaxRetries: 8, CreatedAt: t0, EnqueuedAt: t0})))
	f.Add([]byte(encodeJob(&jobtype.Job{ID: "x", Type: "t", Queue: "q", Attempt: 3, Error: "boom\n\"quoted\"",
		FailedAt: t0, ScheduledAt: t0, Tags: []string{"a", "b"}, Timeout: time.Second,
		Backoff: &jobtype.Backoff{Base: time.Second, Max: time.Hour}, UniqueKey: "k", UniqueUntil: t0})))
	f.Add([]byte(`{"id":"x","type":"t","queue":"q","args":null,"created_at":-9223372036854775808}`))
	f.Add([]byte(`{"id":"x","type":"t","queue":"q","args":[1,2,{"a":"\ud800"}],"max_retries":-1}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := decodeJob(data)
		if err != nil {
			return
		}
		if j.ID == "" || j.Type == "" || j.Queue == "" {
			t.Fatalf("decoded a job without id, type or queue: %+v", j)
		}
		enc := encodeJob(j)
		if !json.Valid([]byte(enc)) {
			t.Fatalf("encoded job is not JSON: %s", enc)
		}
		j2, err := decodeJob([]byte(enc))
		if err != nil {
			t.Fatalf("re-encoded job does not decode: %v\n%s", err, enc)
		}
		if enc2 := encodeJob(j2); enc2 != enc {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}

// FuzzEncodeJob encodes jobs with arbitrary strings (invalid UTF-8, quotes,
// controls): the hand-written encoder must give JSON that decodes to the
// same job, invalid bytes read back as U+FFFD, as encoding/json does.
func FuzzEncodeJob(f *testing.F) {
	f.Add("01J", "pipeline.extract", "extract", []byte(`{"document_id":"01D"}`), "", "tag", "unique")
	f.Add("\x00\"\\", "t\xff", "q\u2028", []byte("not json"), "err\xc3", "\xed\xa0\x80", "")
	f.Fuzz(func(t *testing.T, id, typ, queue string, args []byte, errText, tag, unique string) {
		if id == "" || typ == "" || queue == "" {
			return
		}
		if !json.Valid(args) {
			args, _ = json.Marshal(string(args))
		}
		t0 := time.UnixMicro(1_700_000_000_123_456).UTC()
		j := &jobtype.Job{ID: id, Type: typ, Queue: queue, Args: args, Attempt: 2, MaxRetries: 5,
			CreatedAt: t0, EnqueuedAt: t0, Error: errText, Tags: []string{tag}, UniqueKey: unique, UniqueUntil: t0}
		enc := encodeJob(j)
		got, err := decodeJob([]byte(enc))
		if err != nil {
			t.Fatalf("encoded job does not decode: %v\n%q", err, enc)
		}
		// string([]rune(s)) turns each invalid byte into U+FFFD, as the
		// encoder does.
		valid := func(s string) string { return string([]rune(s)) }
		for _, c := range []struct{ name, got, want string }{
			{"id", got.ID, valid(id)}, {"type", got.Type, valid(typ)}, {"queue", got.Queue, valid(queue)},
			{"error", got.Error, valid(errText)}, {"tag", got.Tags[0], valid(tag)},
		} {
			if c.got != c.want {
				t.Fatalf("%s: got %q, want %q", c.name, c.got, c.want)
			}
		}
		if unique != "" && got.UniqueKey != valid(unique) {
			t.Fatalf("unique key: got %q, want %q", got.UniqueKey, valid(unique))
		}
		if !bytes.Equal(got.Args, args) {
			t.Fatalf("args: got %s, want %s", got.Args, args)
		}
		if !got.CreatedAt.Equal(t0) || got.Attempt != 2 || got.MaxRetries != 5 {
			t.Fatalf("fields changed: %+v", got)
		}
	})
}

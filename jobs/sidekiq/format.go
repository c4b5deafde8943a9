package sidekiq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/quirehq/quire/jobs/jobtype"
)

// payload is the part of a Sidekiq job that Quire reads. Every other field is
// kept as it is whenever a job is written back.
type payload struct {
	Class        string          `json:"class"`
	Wrapped      string          `json:"wrapped"`
	Args         json.RawMessage `json:"args"`
	JID          string          `json:"jid"`
	Queue        string          `json:"queue"`
	Retry        json.RawMessage `json:"retry"`
	RetryCount   *int            `json:"retry_count"`
	CreatedAt    json.Number     `json:"created_at"`
	EnqueuedAt   json.Number     `json:"enqueued_at"`
	FailedAt     json.Number     `json:"failed_at"`
	RetriedAt    json.Number     `json:"retried_at"`
	ErrorMessage string          `json:"error_message"`
	Tags         json.RawMessage `json:"tags"`
	// Headers is Quire's job metadata (issue #21), an extra key.
	Headers json.RawMessage `json:"quire_headers"`
}

// headersKey is the extra key that holds a job's headers (Job.Headers),
// such as its trace context.
const headersKey = "quire_headers"

// retryPolicy is what a job's "retry" says.
type retryPolicy struct {
	enabled bool // false: a failure drops the job, as Sidekiq does for retry: false
	max     int
}

func (d *Driver) parseRetry(raw json.RawMessage) retryPolicy {
	s := string(bytes.TrimSpace(raw))
	switch s {
	case "false":
		return retryPolicy{}
	case "", "null":
		// A missing retry means the worker's default, which is true.
		return retryPolicy{enabled: true, max: d.cfg.MaxRetries}
	}
	if n, err := strconv.Atoi(s); err == nil {
		return retryPolicy{enabled: true, max: max(n, 0)}
	}
	// Any other value is true to Ruby, with the default count
	// (JobRetry#retry_attempts_from).
	return retryPolicy{enabled: true, max: d.cfg.MaxRetries}
}

// decodeJob reads a Sidekiq job fetched from queue; an empty queue takes
// the job's own, as for the entries of the shared sorted sets.
func (d *Driver) decodeJob(raw, queue string) (*jobtype.Job, error) {
	var p payload
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode Sidekiq job: %w", err)
	}
	if p.Class == "" {
		return nil, errors.New("decode Sidekiq job: no class")
	}
	if queue == "" {
		queue = p.Queue
	}
	rp := d.parseRetry(p.Retry)
	j := &jobtype.Job{
		ID: p.JID, Type: p.Class, Queue: queue, Args: p.Args,
		MaxRetries: rp.max, Error: p.ErrorMessage, State: jobtype.StateRunning,
	}
	_ = json.Unmarshal(p.Headers, &j.Headers) // headers that are not strings are not Quire's
	_ = json.Unmarshal(p.Tags, &j.Tags)       // tags that are not strings are only for display
	if p.Wrapped != "" {
		// An Active Job: the wrapper class is the same for every job.
		j.Type = p.Wrapped
	}
	if len(j.Args) == 0 {
		j.Args = json.RawMessage("[]")
	}
	if p.RetryCount != nil {
		// retry_count counts the retries that failed: the first run plus
		// those have been attempted.
		j.Attempt = *p.RetryCount + 1
	}
	for _, f := range []struct {
		n  json.Number
		to *time.Time
	}{{p.CreatedAt, &j.CreatedAt}, {p.EnqueuedAt, &j.EnqueuedAt}, {p.FailedAt, &j.FailedAt}, {p.RetriedAt, &j.FailedAt}} {
		if f.n == "" {
			continue
		}
		t, err := parseTime(f.n)
		if err != nil {
			return nil, fmt.Errorf("decode Sidekiq job %s: %w", p.JID, err)
		}
		*f.to = t // retried_at, the last failure, after failed_at, the first
	}
	return j, nil
}

// parseTime reads an epoch time in either of Sidekiq's forms: float seconds
// (6.x, 7.x) or integer milliseconds (8.x). A number above 1e11 cannot be
// seconds (that is the year 5138) and is taken as milliseconds.
func parseTime(n json.Number) (time.Time, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, fmt.Errorf("time %q is not an epoch number", n)
	}
	if math.Abs(f) >= 1e11 {
		return time.UnixMilli(int64(f)).UTC(), nil
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
}

// formatTime writes a job time as the configured Sidekiq version does.
func (d *Driver) formatTime(t time.Time) json.RawMessage {
	if d.cfg.Version >= Version8 {
		return json.RawMessage(strconv.FormatInt(t.UnixMilli(), 10))
	}
	return json.RawMessage(epochSeconds(t))
}

// epochSeconds is t as Ruby's Time#to_f prints it (microseconds suffice):
// the form of sorted-set scores, heartbeats and 6.x job times.
func epochSeconds(t time.Time) string {
	s := strconv.FormatFloat(float64(t.UnixMicro())/1e6, 'f', -1, 64)
	if !bytes.ContainsRune([]byte(s), '.') {
		s += ".0"
	}
	return s
}

// fields is a job as an ordered-insensitive map of raw values, so that
// fields Quire does not know (tags, bid, custom middleware data) and large
// integers in args survive a rewrite untouched.
type fields map[string]json.RawMessage

func parseFields(raw string) (fields, error) {
	var f fields
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		return nil, fmt.Errorf("decode Sidekiq job: %w", err)
	}
	if f == nil {
		return nil, errors.New("decode Sidekiq job: null")
	}
	return f, nil
}

func (f fields) setString(k, v string) {
	b, _ := json.Marshal(v) // a string always encodes
	f[k] = b
}

func (f fields) encode() (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as Ruby's JSON writes it
	if err := enc.Encode(map[string]json.RawMessage(f)); err != nil {
		return "", fmt.Errorf("encode Sidekiq job: %w", err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

func (f fields) str(k string) string {
	var s string
	if raw, ok := f[k]; ok {
		_ = json.Unmarshal(raw, &s) // not a string: empty
	}
	return s
}

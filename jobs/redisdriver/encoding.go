package redisdriver

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/quirehq/quire/jobs/jobtype"
)

// wireJob is a job as it is stored in Redis: one JSON object whose first
// field is the id, so that a job can be found by id with a MATCH pattern.
// Times are unix microseconds.
type wireJob struct {
	ID          string           `json:"id"`
	Type        string           `json:"type"`
	Queue       string           `json:"queue"`
	Args        json.RawMessage  `json:"args"`
	Attempt     int              `json:"attempt,omitempty"`
	MaxRetries  int              `json:"max_retries"`
	CreatedAt   int64            `json:"created_at"`
	EnqueuedAt  int64            `json:"enqueued_at"`
	ScheduledAt int64            `json:"scheduled_at,omitempty"`
	Error       string           `json:"error,omitempty"`
	FailedAt    int64            `json:"failed_at,omitempty"`
	Tags        []string         `json:"tags,omitempty"`
	TimeoutMS   int64            `json:"timeout_ms,omitempty"`
	Backoff     *jobtype.Backoff `json:"backoff,omitempty"`
	UniqueKey   string           `json:"unique_key,omitempty"`
	UniqueUntil int64            `json:"unique_until,omitempty"`

	// Batches (issue #21).
	BatchID string `json:"batch_id,omitempty"`
	// Expiry and metadata (issue #21).
	ExpiresAt int64             `json:"expires_at,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	// Rescues is always the last field (see rescue.lua).
	Rescues int `json:"rescues,omitempty"`
}

// appendJob appends the wire form of j to b. It is written by hand because
// encoding sits on the enqueue hot path; decodeJob reads the same form.
func appendJob(b []byte, j *jobtype.Job) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, j.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, j.Type)
	b = append(b, `,"queue":`...)
	b = appendString(b, j.Queue)
	b = append(b, `,"args":`...)
	if len(j.Args) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, j.Args...)
	}
	if j.Attempt != 0 {
		b = append(b, `,"attempt":`...)
		b = strconv.AppendInt(b, int64(j.Attempt), 10)
	}
	b = append(b, `,"max_retries":`...)
	b = strconv.AppendInt(b, int64(j.MaxRetries), 10)
	b = append(b, `,"created_at":`...)
	b = strconv.AppendInt(b, micros(j.CreatedAt), 10)
	b = append(b, `,"enqueued_at":`...)
	b = strconv.AppendInt(b, micros(j.EnqueuedAt), 10)
	if !j.ScheduledAt.IsZero() {
		b = append(b, `,"scheduled_at":`...)
		b = strconv.AppendInt(b, micros(j.ScheduledAt), 10)
	}
	if j.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, j.Error)
	}
	if !j.FailedAt.IsZero() {
		b = append(b, `,"failed_at":`...)
		b = strconv.AppendInt(b, micros(j.FailedAt), 10)
	}
	if len(j.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i, t := range j.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, t)
		}
		b = append(b, ']')
	}
	if j.Timeout > 0 {
		b = append(b, `,"timeout_ms":`...)
		b = strconv.AppendInt(b, j.Timeout.Milliseconds(), 10)
	}
	if j.Backoff != nil {
		b = append(b, `,"backoff":{"base":`...)
		b = strconv.AppendInt(b, int64(j.Backoff.Base), 10)
		b = append(b, `,"max":`...)
		b = strconv.AppendInt(b, int64(j.Backoff.Max), 10)
		b = append(b, '}')
	}
	if j.UniqueKey != "" {
		b = append(b, `,"unique_key":`...)
		b = appendString(b, j.UniqueKey)
		if !j.UniqueUntil.IsZero() {
			b = append(b, `,"unique_until":`...)
			b = strconv.AppendInt(b, micros(j.UniqueUntil), 10)
		}
	}
	if j.BatchID != "" {
		b = append(b, `,"batch_id":`...)
		b = appendString(b, j.BatchID)
	}
	b = appendExpiryHeaders(b, j)
	// Last, where rescue.lua finds and counts it without decoding the job.
	if j.Rescues > 0 {
		b = append(b, `,"rescues":`...)
		b = strconv.AppendInt(b, int64(j.Rescues), 10)
	}
	return append(b, '}')
}

// appendExpiryHeaders appends the deadline and headers of j, if any.
func appendExpiryHeaders(b []byte, j *jobtype.Job) []byte {
	if !j.ExpiresAt.IsZero() {
		b = append(b, `,"expires_at":`...)
		b = strconv.AppendInt(b, micros(j.ExpiresAt), 10)
	}
	if len(j.Headers) > 0 {
		keys := make([]string, 0, len(j.Headers))
		for k := range j.Headers {
			keys = append(keys, k)
		}
		slices.Sort(keys) // one job, one encoding
		b = append(b, `,"headers":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, j.Headers[k])
		}
		b = append(b, '}')
	}
	return b
}

func encodeJob(j *jobtype.Job) string {
	return string(appendJob(make([]byte, 0, 160+len(j.Args)), j))
}

// decodeJob reads a job in wire form. The job's Args alias data.
func decodeJob(data []byte) (*jobtype.Job, error) {
	var w wireJob
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, err
	}
	if w.ID == "" || w.Type == "" || w.Queue == "" {
		return nil, fmt.Errorf("job record lacks id, type or queue")
	}
	j := &jobtype.Job{
		ID:          w.ID,
		Type:        w.Type,
		Queue:       w.Queue,
		Args:        w.Args,
		Attempt:     w.Attempt,
		MaxRetries:  w.MaxRetries,
		CreatedAt:   fromMicros(w.CreatedAt),
		EnqueuedAt:  fromMicros(w.EnqueuedAt),
		ScheduledAt: fromMicros(w.ScheduledAt),
		Error:       w.Error,
		FailedAt:    fromMicros(w.FailedAt),
		Tags:        w.Tags,
		Timeout:     time.Duration(w.TimeoutMS) * time.Millisecond,
		Backoff:     w.Backoff,
		UniqueKey:   w.UniqueKey,
		UniqueUntil: fromMicros(w.UniqueUntil),
		BatchID:     w.BatchID,
		ExpiresAt:   fromMicros(w.ExpiresAt),
		Headers:     w.Headers,
		Rescues:     w.Rescues,
	}
	return j, nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func millis(t time.Time) int64 { return t.UnixMilli() }

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

package sqlitedriver

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/quirehq/quire/jobs/jobtype"
)

// micros stores a time as unix microseconds, the zero time as 0: the
// precision the Redis driver keeps, so jobs read back alike from both.
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

type scanner interface{ Scan(dest ...any) error }

// scanJob reads the columns of jobCols.
func scanJob(s scanner) (*jobtype.Job, error) {
	var (
		j                                    jobtype.Job
		state, tags, headers                 string
		expires                              int64
		args                                 []byte
		created, enqueued, scheduled, failed int64
		timeout, boBase, boMax, uniqueUntil  int64
	)
	err := s.Scan(&j.ID, &j.Queue, &state, &j.Type, &args, &j.Attempt, &j.MaxRetries, &created, &enqueued,
		&scheduled, &j.Error, &failed, &tags, &timeout, &boBase, &boMax, &j.UniqueKey, &uniqueUntil, &j.Lease,
		&j.BatchID, &expires, &headers, &j.Rescues)
	if err != nil {
		return nil, err
	}
	j.State = jobtype.State(state)
	j.Args = args
	j.CreatedAt = fromMicros(created)
	j.EnqueuedAt = fromMicros(enqueued)
	j.ScheduledAt = fromMicros(scheduled)
	j.FailedAt = fromMicros(failed)
	j.Timeout = time.Duration(timeout)
	j.UniqueUntil = fromMicros(uniqueUntil)
	if boBase > 0 {
		j.Backoff = &jobtype.Backoff{Base: time.Duration(boBase), Max: time.Duration(boMax)}
	}
	j.ExpiresAt = fromMicros(expires)
	if headers != "" {
		if err := json.Unmarshal([]byte(headers), &j.Headers); err != nil {
			return nil, fmt.Errorf("job %s: headers %q: %w", j.ID, headers, err)
		}
	}
	if tags != "" {
		if err := json.Unmarshal([]byte(tags), &j.Tags); err != nil {
			return nil, fmt.Errorf("job %s: tags %q: %w", j.ID, tags, err)
		}
	}
	return &j, nil
}

// insertArgs are the values of the insert statement for j.
func insertArgs(j *jobtype.Job, state jobtype.State, pos int64) []any {
	args := string(j.Args)
	if args == "" {
		args = "null"
	}
	var tags string
	if len(j.Tags) > 0 {
		b, _ := json.Marshal(j.Tags) // strings always encode
		tags = string(b)
	}
	var boBase, boMax int64
	if j.Backoff != nil {
		boBase, boMax = int64(j.Backoff.Base), int64(j.Backoff.Max)
	}
	var uniqueUntil int64
	if j.UniqueKey != "" {
		uniqueUntil = micros(j.UniqueUntil)
	}
	var headers string
	if len(j.Headers) > 0 {
		b, _ := json.Marshal(j.Headers) // strings always encode
		headers = string(b)
	}
	return []any{j.ID, j.Queue, string(state), pos, j.Type, args, j.Attempt, j.MaxRetries, micros(j.CreatedAt),
		micros(j.EnqueuedAt), micros(j.ScheduledAt), j.Error, micros(j.FailedAt), tags, int64(j.Timeout),
		boBase, boMax, j.UniqueKey, uniqueUntil, j.BatchID, micros(j.ExpiresAt), headers}
}

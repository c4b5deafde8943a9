package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/quirehq/quire/jobs"
)

// JobTestRecord is the job type of the test-only handler that --test-record-url
// registers.
const JobTestRecord = "test.record"

// recordArgs are the arguments of a test.record job: the id the test gave
// it, so that the test counts each job's runs, and how long to work first,
// so that a test can kill a worker in the middle of its jobs.
type recordArgs struct {
	ID string `json:"id"`
	MS int64  `json:"ms"`
}

// recordRun is what the handler posts for each run.
type recordRun struct {
	ID      string `json:"id"`
	JobID   string `json:"job_id"`
	Attempt int    `json:"attempt"`
	PID     int    `json:"pid"`
}

// handleRecord registers test.record, a handler for end-to-end and chaos
// tests only (the hidden flag --test-record-url): every run waits args.ms
// milliseconds, then posts
// {"id","job_id","attempt","pid"} to url, and fails, to be retried, unless
// the receiver answers 2xx. A test that gives each job a unique id then
// counts lost jobs (no run) and duplicated ones (several runs) exactly, in a
// receiver that no fault of the deployment under test can reach.
func handleRecord(h *jobs.Handlers, url string) {
	client := &http.Client{Timeout: 10 * time.Second}
	pid := os.Getpid()
	jobs.HandleArgs(h, JobTestRecord, func(ctx context.Context, j *jobs.Job, a recordArgs) error {
		if a.MS > 0 {
			t := time.NewTimer(time.Duration(a.MS) * time.Millisecond)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		body, err := json.Marshal(recordRun{ID: a.ID, JobID: j.ID, Attempt: j.Attempt, PID: pid})
		if err != nil {
			return jobs.Discard(fmt.Errorf("record job %s: %w", j.ID, err))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return jobs.Discard(fmt.Errorf("record job %s: %w", j.ID, err))
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("record job %s: %w", j.ID, err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("record job %s: the receiver answered %s", j.ID, resp.Status)
		}
		return nil
	}, nil)
}

package testenv

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// RunRecorder receives the runs of the test-only job type test.record (quire
// serve --test-record-url): each job's id and how many times it ran. It
// lives in the test process, out of reach of any fault the test injects in
// the deployment.
type RunRecorder struct {
	// URL is what to give --test-record-url.
	URL string

	mu   sync.Mutex
	runs map[string]int
}

// NewRunRecorder starts a recorder, closed at cleanup.
func NewRunRecorder(t testing.TB) *RunRecorder {
	r := &RunRecorder{runs: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var run struct{ ID string }
		if err := json.NewDecoder(req.Body).Decode(&run); err != nil || run.ID == "" {
			http.Error(w, "bad run", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.runs[run.ID]++
		r.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/runs"
	return r
}

// Count returns how many of ids ran (at least once), and how many runs
// beyond the first there were.
func (r *RunRecorder) Count(ids []string) (ran, duplicated int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if n := r.runs[id]; n > 0 {
			ran++
			duplicated += n - 1
		}
	}
	return ran, duplicated
}

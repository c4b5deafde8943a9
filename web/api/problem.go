package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/quirehq/quire/web/edge"
)

// ProblemMediaType is the media type of every error answer (RFC 9457).
const ProblemMediaType = "application/problem+json"

// Problem is the body of every error answer, as RFC 9457 defines it.
type Problem struct {
	// Type is "about:blank": the status says what went wrong, and Title is
	// its standard phrase.
	Type string `json:"type"`
	// Title is the status's phrase ("Not Found").
	Title string `json:"title"`
	// Status repeats the HTTP status code.
	Status int `json:"status"`
	// Detail says, for a person, what went wrong with this request.
	Detail string `json:"detail,omitempty"`
	// Instance is the path of the request that failed.
	Instance string `json:"instance,omitempty"`
	// Error repeats Detail: clients of the API's first answers (`quire
	// submit` among them) read {"error": …}. RFC 9457 allows extension
	// members.
	Error string `json:"error,omitempty"`
}

// writeProblem answers r with a problem. Server errors are logged with their
// cause, and their detail stays generic: a database's message is no business
// of the client's.
func writeProblem(log *slog.Logger, w http.ResponseWriter, r *http.Request, status int, err error) {
	detail := ""
	if err != nil {
		detail = err.Error()
	}
	if status >= 500 {
		log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "remote", edge.ClientAddr(r), "error", err)
		detail = "the service is unavailable; try again later"
	}
	h := w.Header()
	h.Set("Content-Type", ProblemMediaType)
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{Type: "about:blank", Title: http.StatusText(status), Status: status,
		Detail: detail, Instance: r.URL.Path, Error: detail})
}

// captureWriter holds the answer of a handler of the mux's own (not found,
// method not allowed, redirect) so that errors can be rewritten as problems.
type captureWriter struct {
	header http.Header
	code   int
	body   strings.Builder
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return c.body.Write(b)
}

// errUnmatched is the detail of the mux's own errors.
var (
	errNoRoute   = errors.New("no such route: see /api/openapi.json")
	errNoMethod  = errors.New("method not allowed on this route: see the Allow header")
	errUnmatched = map[int]error{http.StatusNotFound: errNoRoute, http.StatusMethodNotAllowed: errNoMethod}
)

package kserve

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/quirehq/quire/ml"
)

// Defaults of ClientConfig.
const (
	TimeoutDefault          = 5 * time.Second
	RetriesDefault          = 2
	BackoffDefault          = 100 * time.Millisecond
	MaxBackoffDefault       = 2 * time.Second
	BreakerFailuresDefault  = 5
	BreakerOpenTimeDefault  = 30 * time.Second
	maxResponseBytesDefault = 32 << 20
)

// ErrBreakerOpen is returned, wrapped, while the circuit breaker is open:
// the endpoint failed too often in a row, and calls fail at once, without
// a request, until BreakerOpenTime has passed.
var ErrBreakerOpen = errors.New("circuit breaker open")

// StatusError is an endpoint's answer with an error status.
type StatusError struct {
	StatusCode int
	// Message is the protocol's error message, or the start of the body.
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.StatusCode, e.Message)
}

// retryable reports whether the endpoint may answer differently later.
func (e *StatusError) retryable() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout
}

// ClientConfig configures a Client.
type ClientConfig struct {
	// URL is the inference server's base URL ("http://models:8080"); the
	// client calls URL/v2/models/{Model}[/versions/{Version}]/infer.
	// Required.
	URL string
	// Model is the model's name on the server, which is also the prefix
	// of the labels recorded ("doctype"). Required.
	Model string
	// Version pins a model version. Defaults to the server's choice.
	Version string
	// Input is the name of the input tensor. Defaults to "text".
	Input string
	// Timeout bounds one request. Defaults to 5 seconds.
	Timeout time.Duration
	// Retries is how often a request that failed for a reason that may
	// pass (a network error, a timeout, HTTP 5xx, 429) is tried again.
	// Defaults to 2; -1 never retries.
	Retries int
	// Backoff is the delay before the first retry, doubled for each next
	// one up to MaxBackoff, with full jitter. Defaults to 100 ms and 2 s.
	Backoff, MaxBackoff time.Duration
	// BreakerFailures is how many requests in a row must fail for the
	// circuit breaker to open. Defaults to 5.
	BreakerFailures int
	// BreakerOpenTime is how long the breaker stays open before it lets
	// one trial request through. Defaults to 30 seconds.
	BreakerOpenTime time.Duration
	// UnsureBelow marks predictions below this confidence unsure when the
	// server does not say. Defaults to ml.UnsureBelowDefault.
	UnsureBelow float64
	// HTTPClient sends the requests. Defaults to a client without its own
	// timeout (Timeout applies per request).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Client calls a text classifier over the Open Inference Protocol. It is
// an ml.RemoteClassifier, safe for concurrent use.
type Client struct {
	cfg     ClientConfig
	infer   string
	breaker *gobreaker.CircuitBreaker[*InferResponse]
}

// NewClient returns a Client. It fails for a missing or invalid setting.
func NewClient(cfg *ClientConfig) (*Client, error) {
	c := *cfg
	var errs []error
	u, err := url.Parse(c.URL)
	if c.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("URL %q: give the server's http:// or https:// base URL", c.URL))
	}
	if c.Model == "" || strings.ContainsAny(c.Model, "/?#:") {
		errs = append(errs, fmt.Errorf("Model %q: give the model's name", c.Model))
	}
	if c.Timeout < 0 || c.Backoff < 0 || c.MaxBackoff < 0 || c.BreakerOpenTime < 0 || c.BreakerFailures < 0 {
		errs = append(errs, errors.New("durations and counts must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("kserve client: %w", err)
	}
	c.Input = cmp.Or(c.Input, InputText)
	c.Timeout = cmp.Or(c.Timeout, TimeoutDefault)
	c.Retries = cmp.Or(c.Retries, RetriesDefault)
	if c.Retries < 0 {
		c.Retries = 0
	}
	c.Backoff = cmp.Or(c.Backoff, BackoffDefault)
	c.MaxBackoff = cmp.Or(c.MaxBackoff, MaxBackoffDefault)
	c.BreakerFailures = cmp.Or(c.BreakerFailures, BreakerFailuresDefault)
	c.BreakerOpenTime = cmp.Or(c.BreakerOpenTime, BreakerOpenTimeDefault)
	c.UnsureBelow = cmp.Or(c.UnsureBelow, ml.UnsureBelowDefault)
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	path := "/v2/models/" + url.PathEscape(c.Model)
	if c.Version != "" {
		path += "/versions/" + url.PathEscape(c.Version)
	}
	cl := &Client{cfg: c, infer: strings.TrimRight(c.URL, "/") + path + "/infer"}
	failures := uint32(c.BreakerFailures)
	cl.breaker = gobreaker.NewCircuitBreaker[*InferResponse](gobreaker.Settings{
		Name:        c.URL + " " + c.Model,
		MaxRequests: 1,
		Timeout:     c.BreakerOpenTime,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
		// A request the server refused (4xx) shows the server up: it does
		// not count towards opening the breaker; a cancelled caller does
		// not count at all.
		IsSuccessful: func(err error) bool {
			var se *StatusError
			return err == nil || (errors.As(err, &se) && !se.retryable())
		},
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			c.Logger.Warn("kserve client: circuit breaker", "endpoint", name, "from", from.String(), "to", to.String())
		},
	})
	return cl, nil
}

// Name implements ml.RemoteClassifier.
func (c *Client) Name() string { return c.cfg.Model }

// Classify implements ml.RemoteClassifier. The prediction is recorded
// under "model@version", the version being the one the server answered
// with.
func (c *Client) Classify(ctx context.Context, text string) (*ml.Prediction, string, error) {
	ps, version, err := c.ClassifyBatch(ctx, []string{text})
	if err != nil {
		return nil, "", err
	}
	return ps[0], version, nil
}

// ClassifyBatch classifies texts in one request.
func (c *Client) ClassifyBatch(ctx context.Context, texts []string) ([]*ml.Prediction, string, error) {
	data, err := json.Marshal(texts)
	if err != nil {
		return nil, "", err
	}
	body, err := json.Marshal(InferRequest{Inputs: []RequestInput{{Name: c.cfg.Input, Shape: []int64{int64(len(texts))},
		Datatype: DatatypeBytes, Data: data}}})
	if err != nil {
		return nil, "", err
	}
	resp, err := c.call(ctx, body)
	if err != nil {
		return nil, "", fmt.Errorf("infer %s: %w", c.infer, err)
	}
	ps, err := c.predictions(resp, len(texts))
	if err != nil {
		return nil, "", fmt.Errorf("infer %s: %w", c.infer, err)
	}
	version := cmp.Or(resp.ModelVersion, c.cfg.Version, "remote")
	return ps, c.cfg.Model + "@" + version, nil
}

// call sends the request through the breaker, retrying what may pass.
func (c *Client) call(ctx context.Context, body []byte) (*InferResponse, error) {
	var last error
	for attempt := 0; ; attempt++ {
		resp, err := c.breaker.Execute(func() (*InferResponse, error) { return c.post(ctx, body) })
		if err == nil {
			return resp, nil
		}
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			if last != nil {
				return nil, fmt.Errorf("%w after %d attempts (last: %w)", ErrBreakerOpen, attempt, last)
			}
			return nil, ErrBreakerOpen
		}
		last = err
		var se *StatusError
		if (errors.As(err, &se) && !se.retryable()) || ctx.Err() != nil || attempt >= c.cfg.Retries {
			if attempt > 0 {
				return nil, fmt.Errorf("%d attempts: %w", attempt+1, err)
			}
			return nil, err
		}
		d := min(c.cfg.Backoff<<attempt, c.cfg.MaxBackoff)
		d = time.Duration(rand.Int64N(int64(d) + 1)) // full jitter
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (retrying after: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// post sends one request within the per-request timeout.
func (c *Client) post(ctx context.Context, body []byte) (*InferResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.infer, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytesDefault))
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		var e ErrorResponse
		msg := string(b[:min(len(b), 200)])
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return nil, &StatusError{StatusCode: res.StatusCode, Message: msg}
	}
	var out InferResponse
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("the answer is not an inference response: %w", err)
	}
	return &out, nil
}

// predictions reads n predictions from a response's outputs.
func (c *Client) predictions(resp *InferResponse, n int) ([]*ml.Prediction, error) {
	var labels []string
	var confs []float64
	var unsure []bool
	for _, o := range resp.Outputs {
		raw, err := json.Marshal(o.Data)
		if err != nil {
			return nil, err
		}
		var dst any
		switch o.Name {
		case OutputLabel:
			dst = &labels
		case OutputConfidence:
			dst = &confs
		case OutputUnsure:
			dst = &unsure
		default:
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return nil, fmt.Errorf("output %q: %w", o.Name, err)
		}
	}
	if len(labels) != n {
		return nil, fmt.Errorf("the answer has %d labels (output %q) for %d texts", len(labels), OutputLabel, n)
	}
	if confs != nil && len(confs) != n {
		return nil, fmt.Errorf("the answer has %d confidences for %d texts", len(confs), n)
	}
	if unsure != nil && len(unsure) != n {
		unsure = nil
	}
	out := make([]*ml.Prediction, n)
	for i := range n {
		p := &ml.Prediction{Label: labels[i], Confidence: 1}
		if confs != nil {
			p.Confidence = confs[i]
		}
		if unsure != nil {
			p.Unsure = unsure[i]
		} else {
			p.Unsure = p.Confidence < c.cfg.UnsureBelow
		}
		p.Scores = []ml.LabelScore{{Label: p.Label, Probability: p.Confidence}}
		out[i] = p
	}
	return out, nil
}

var _ ml.RemoteClassifier = (*Client)(nil)

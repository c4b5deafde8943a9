// Package client is a Go client of Quire's REST API (/api/v1/): what quire
// submit uploads through, and what a Go program that feeds Quire documents
// can use instead of writing the multipart request itself.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
)

// ErrUnreachable says the server did not answer at all: nothing listens
// at its address, or it cannot be reached.
var ErrUnreachable = errors.New("server unreachable")

// Error is an answer other than success: its HTTP status and the API's
// error message, when it gave one.
type Error struct {
	StatusCode int
	Message    string
}

func (e *Error) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("%s (HTTP %d)", e.Message, e.StatusCode)
	}
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// Client calls one Quire server.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New returns a client of the Quire at server (http:// or https://, the web
// UI's address) that sends token, when not empty, as its bearer token.
// A nil hc uses http.DefaultClient.
func New(server, token string, hc *http.Client) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("server %q: give an http:// or https:// URL", server)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: base, token: token, http: hc}, nil
}

// Uploaded is a document an upload created or found.
type Uploaded struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
	// Duplicate says the server held the same content already: the
	// document is the earlier one, not processed again.
	Duplicate bool `json:"duplicate"`
}

// Upload sends body as a document named name (POST /api/v1/documents,
// multipart), streaming it.
func (c *Client) Upload(ctx context.Context, name string, body io.Reader) (*Uploaded, error) {
	endpoint := c.base.JoinPath("/api/v1/documents").String()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", name)
		if err == nil {
			_, err = io.Copy(fw, body)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, pr)
	if err != nil {
		pr.Close()
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		pr.Close()
		var opErr *net.OpError
		if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &opErr) && opErr.Op == "dial" {
			return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(answer, &e)
		return nil, &Error{StatusCode: resp.StatusCode, Message: e.Error}
	}
	var doc Uploaded
	if err := json.Unmarshal(answer, &doc); err != nil || doc.ID == "" {
		return nil, fmt.Errorf("unexpected answer from %s (HTTP %d): is it quire?", endpoint, resp.StatusCode)
	}
	// 200 rather than 201: the content was there already.
	doc.Duplicate = doc.Duplicate || resp.StatusCode == http.StatusOK
	return &doc, nil
}

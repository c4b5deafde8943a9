// Package edge is what the web UI and the REST API do before anything
// else, at the edge of the process: which Host a request may name, which
// address it comes from when proxies stand in front, and how long a client
// may take to send a request and read the answer. cmd/quire builds one
// Config from its flags and wraps the web handler and its server with it;
// ui and api ask it for the client's address and for a longer deadline
// once a request has earned one (an authenticated upload).
package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Defaults of Config.
const (
	ReadHeaderTimeoutDefault = 10 * time.Second
	ReadTimeoutDefault       = 30 * time.Second
	WriteTimeoutDefault      = 2 * time.Minute
	IdleTimeoutDefault       = 2 * time.Minute
	// MinTransferRateDefault is the slowest a large body may travel: an
	// upload gets the time its bytes take at this rate on top of the read
	// timeout, and a download of n bytes n / this rate on top of the write
	// timeout (AllowTransfer), so that a 100 MiB document on a slow link is
	// not cut off, while a client that sends a byte every few seconds is.
	MinTransferRateDefault = 64 << 10
)

// Config is the edge's settings.
type Config struct {
	// AllowedHosts are the host names and addresses requests may name in
	// their Host header (without port); others are answered 421
	// Misdirected Request. Empty allows any: a deployment behind a proxy
	// that checks it, or one that names no host. quire up --demo allows
	// the loopback names only, so that a web page cannot drive it by DNS
	// rebinding.
	AllowedHosts []string
	// TrustedProxies are the networks whose X-Forwarded-For is believed:
	// a request from one of them comes from the rightmost address of the
	// header that is not itself a trusted proxy. Empty believes none: the
	// client is the connection's peer.
	TrustedProxies []netip.Prefix
	// ReadHeaderTimeout bounds reading a request's header. Defaults to
	// ReadHeaderTimeoutDefault.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included, unless
	// the handler extends it (AllowTransfer). Defaults to
	// ReadTimeoutDefault.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing an answer, from the end of the
	// request's header. Defaults to WriteTimeoutDefault.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a kept-alive connection may wait for
	// its next request. Defaults to IdleTimeoutDefault.
	IdleTimeout time.Duration
	// MinTransferRate is the slowest, in bytes a second, a large body
	// may be sent or read at. Defaults to MinTransferRateDefault.
	MinTransferRate int64
}

// WithDefaults returns c with unset fields filled in.
func (c Config) WithDefaults() Config {
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = ReadHeaderTimeoutDefault
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = ReadTimeoutDefault
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = WriteTimeoutDefault
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = IdleTimeoutDefault
	}
	if c.MinTransferRate == 0 {
		c.MinTransferRate = MinTransferRateDefault
	}
	return c
}

// Validate reports settings that cannot work.
func (c *Config) Validate() error {
	var errs []error
	for name, d := range map[string]time.Duration{"read header timeout": c.ReadHeaderTimeout, "read timeout": c.ReadTimeout,
		"write timeout": c.WriteTimeout, "idle timeout": c.IdleTimeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %s is negative", name, d))
		}
	}
	if c.MinTransferRate < 0 {
		errs = append(errs, fmt.Errorf("minimum transfer rate %d is negative", c.MinTransferRate))
	}
	for _, h := range c.AllowedHosts {
		if _, port, err := net.SplitHostPort(h); err == nil {
			errs = append(errs, fmt.Errorf("allowed host %q has a port: give the host alone, %q (any port is allowed)", h, strings.TrimSuffix(h, ":"+port)))
			continue
		}
		if h == "" || strings.ContainsAny(h, "/ ") {
			errs = append(errs, fmt.Errorf("allowed host %q is not a host name or address", h))
		}
	}
	return errors.Join(errs...)
}

// ParsePrefixes reads networks given as CIDRs or single addresses
// ("10.0.0.0/8,127.0.0.1").
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a network (10.0.0.0/8) nor an address", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Server returns an HTTP server of h with c's timeouts.
func (c Config) Server(h http.Handler) *http.Server {
	c = c.WithDefaults()
	return &http.Server{Handler: h, ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadTimeout,
		WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout}
}

type ctxKey struct{}

type reqInfo struct {
	client string
	cfg    *Config
}

// Handler checks a request's Host, works out its client's address and
// passes it on to next.
func (c Config) Handler(next http.Handler) http.Handler {
	c = c.WithDefaults()
	allowed := map[string]bool{}
	for _, h := range c.AllowedHosts {
		allowed[normalHost(h)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(allowed) > 0 && !allowed[normalHost(hostOnly(r.Host))] {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusMisdirectedRequest)
			fmt.Fprintf(w, "this server does not answer for host %q; it answers for: %s\n", truncate(r.Host, 100), strings.Join(c.AllowedHosts, ", "))
			return
		}
		info := &reqInfo{client: c.clientAddr(r), cfg: &c}
		r2 := r.WithContext(context.WithValue(r.Context(), ctxKey{}, info))
		next.ServeHTTP(w, r2)
		// The mux behind sets the matched route on the copy; what wraps
		// this handler (metrics) reads it from the original.
		r.Pattern = r2.Pattern
	})
}

// clientAddr is the address a request comes from: its peer's, or, when the
// peer is a trusted proxy, the rightmost address of X-Forwarded-For that is
// not a trusted proxy too.
func (c *Config) clientAddr(r *http.Request) string {
	peer := hostOnly(r.RemoteAddr)
	addr, err := netip.ParseAddr(peer)
	if err != nil || !c.trusted(addr) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hostOnly(hops[i]))
		if err != nil {
			// A hop that is not an address was written by someone the
			// proxies do not vouch for: stop at the last one they do.
			return peer
		}
		if !c.trusted(a) {
			return a.Unmap().String()
		}
		peer = a.Unmap().String()
	}
	return peer
}

func (c *Config) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr returns the address the request comes from, as Handler
// worked it out; without Handler, its peer's.
func ClientAddr(r *http.Request) string {
	if info, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return info.client
	}
	return hostOnly(r.RemoteAddr)
}

// AllowTransfer gives a request that moves a large body, an upload of up
// to n bytes or a download of n, the time it needs at MinTransferRate on
// top of the usual timeouts. Handlers call it once the request is
// authenticated, so that only a user can hold a connection that long.
//
// An upload's read deadline moves on with every byte received: the read
// timeout's grace, plus the time the bytes received so far take at
// MinTransferRate. A large document on a slow link is never cut off,
// while a client that sends slower than that rate (a byte every few
// seconds) is, once the grace is spent. A download's write deadline is its
// size's worth at that rate.
func AllowTransfer(w http.ResponseWriter, r *http.Request, n int64) {
	cfg := Config{}.WithDefaults()
	if info, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		cfg = *info.cfg
	}
	rc := http.NewResponseController(w)
	now := time.Now()
	if cfg.ReadTimeout > 0 && r.Body != nil && r.Body != http.NoBody {
		grace := now.Add(cfg.ReadTimeout)
		_ = rc.SetReadDeadline(grace)
		r.Body = &pacedBody{ReadCloser: r.Body, rc: rc, grace: grace, rate: cfg.MinTransferRate}
	}
	if cfg.WriteTimeout > 0 {
		_ = rc.SetWriteDeadline(now.Add(cfg.WriteTimeout + transferTime(n, cfg.MinTransferRate)))
	}
}

// pacedBody moves its connection's read deadline on as bytes arrive: to
// grace plus the time they take at rate.
type pacedBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	grace time.Time
	rate  int64
	n     int64
}

func (b *pacedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.n += int64(n)
		_ = b.rc.SetReadDeadline(b.grace.Add(transferTime(b.n, b.rate)))
	}
	return n, err
}

// transferTime is how long n bytes take at rate bytes a second; 0 for no
// rate.
func transferTime(n, rate int64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(n) / float64(rate) * float64(time.Second))
}

// hostOnly strips a port: "example.com:8080" -> "example.com", "[::1]:80"
// -> "::1".
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

func normalHost(h string) string {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); err == nil {
		return a.Unmap().String()
	}
	return h
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

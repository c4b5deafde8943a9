package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/quirehq/quire"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	webapi "github.com/quirehq/quire/web/api"
	"github.com/quirehq/quire/web/auth"
	"github.com/quirehq/quire/web/edge"
	"github.com/quirehq/quire/web/ui"
)

// WebConfig are the settings of the web UI and API, shared by serve --role
// web and up.
type WebConfig struct {
	// SecureCookies marks the session cookie Secure and sends HSTS: set it
	// when users reach Quire over HTTPS, even through a proxy.
	SecureCookies bool
	// RateLimit is each token's (and user's) requests per second on
	// average; 0 lifts the limit. Defaults to auth.RateDefault.
	RateLimit float64
	// RateBurst is how many requests a token may send at once. Defaults
	// to auth.BurstDefault.
	RateBurst int
	// AllowedHosts are the Host names requests may name; empty allows
	// any, but for --demo, which allows the loopback names only.
	AllowedHosts []string
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []string
	// The HTTP server's timeouts (edge.Config).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// AddFlags adds the web UI's and API's settings to fs, each with its
// environment variable.
func (wc *WebConfig) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&wc.SecureCookies, "secure-cookies", false, "users reach Quire over HTTPS (even through a proxy): Secure session cookie and HSTS")
	fs.Float64Var(&wc.RateLimit, "rate-limit", auth.RateDefault, "API requests per second each token or user may send on average; 0 lifts the limit")
	fs.IntVar(&wc.RateBurst, "rate-burst", auth.BurstDefault, "API requests each token or user may send at once")
	fs.StringSliceVar(&wc.AllowedHosts, "allowed-hosts", nil, "host names and addresses requests may name in their Host header, others get 421; the probes answer any (default: any; up --demo: localhost, 127.0.0.1, ::1 and --addr's host)")
	fs.StringSliceVar(&wc.TrustedProxies, "trusted-proxies", nil, "networks (CIDR) or addresses of the proxies in front whose X-Forwarded-For names the client, for the sign-in limiter and logs (default: none, the peer is the client)")
	fs.DurationVar(&wc.ReadHeaderTimeout, "http-read-header-timeout", edge.ReadHeaderTimeoutDefault, "how long a client may take to send a request's header, on every HTTP server of the process")
	fs.DurationVar(&wc.ReadTimeout, "http-read-timeout", edge.ReadTimeoutDefault, "how long a client may take to send a whole request; a signed-in upload gets more while its bytes come at 64 KiB/s or faster")
	fs.DurationVar(&wc.WriteTimeout, "http-write-timeout", edge.WriteTimeoutDefault, "how long an answer may take to be written; a download of an original gets more: its size at 64 KiB/s")
	fs.DurationVar(&wc.IdleTimeout, "http-idle-timeout", edge.IdleTimeoutDefault, "how long a kept-alive connection may wait for its next request")
	for _, name := range []string{"secure-cookies", "rate-limit", "rate-burst", "allowed-hosts", "trusted-proxies",
		"http-read-header-timeout", "http-read-timeout", "http-write-timeout", "http-idle-timeout"} {
		WithEnv(fs, name)
	}
}

// validateTimeouts reports an --http-*-timeout that cannot work.
func (wc *WebConfig) validateTimeouts() error {
	var errs []error
	for _, t := range []struct {
		flag string
		d    time.Duration
	}{
		{"http-read-header-timeout", wc.ReadHeaderTimeout}, {"http-read-timeout", wc.ReadTimeout},
		{"http-write-timeout", wc.WriteTimeout}, {"http-idle-timeout", wc.IdleTimeout},
	} {
		if t.d <= 0 {
			errs = append(errs, fmt.Errorf("invalid %s %s: give a positive duration", Setting(t.flag), t.d))
		}
	}
	return errors.Join(errs...)
}

// Servers returns the settings of every HTTP server of the process (the
// web UI's and API's, the inference API's, the probes', the profiles'):
// the --http-*-timeouts.
func (wc *WebConfig) Servers() edge.Config {
	return edge.Config{ReadHeaderTimeout: wc.ReadHeaderTimeout, ReadTimeout: wc.ReadTimeout,
		WriteTimeout: wc.WriteTimeout, IdleTimeout: wc.IdleTimeout}.WithDefaults()
}

// edge returns the web UI's and API's edge: the servers' timeouts, the
// Host check and the proxies believed. demo, served on addr, allows only
// the loopback names and addr's host unless --allowed-hosts says
// otherwise, so that a web page cannot drive an open demo through DNS
// rebinding.
func (wc *WebConfig) edge(demo bool, addr string) (edge.Config, error) {
	proxies, err := edge.ParsePrefixes(wc.TrustedProxies)
	if err != nil {
		return edge.Config{}, Usagef("invalid %s: %w", Setting("trusted-proxies"), err)
	}
	hosts := wc.AllowedHosts
	if demo && len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
		if h, _, err := net.SplitHostPort(addr); err == nil && h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	ec := wc.Servers()
	ec.AllowedHosts, ec.TrustedProxies = hosts, proxies
	if err := ec.Validate(); err != nil {
		return edge.Config{}, Usagef("invalid %s: %w", Setting("allowed-hosts"), err)
	}
	return ec, nil
}

// demoBanner tops every page of `up --demo`.
const demoBanner = "Demo mode: no sign-in. Anyone who can reach this machine's loopback interface can read and change everything."

// newWebHandler returns the web UI with the REST API under /api/: behind
// tokens and sessions kept in the store, or open when demo is set.
// The handler is fronted by ec (web/edge): the Host check and the client's
// address.
func (a *App) newWebHandler(docs *Documents, driver jobs.Driver, wc *WebConfig, ec edge.Config, demo bool) (http.Handler, error) {
	h, err := a.newWebUI(docs, driver, wc, demo)
	if err != nil {
		return nil, err
	}
	return ec.Handler(h), nil
}

func (a *App) newWebUI(docs *Documents, driver jobs.Driver, wc *WebConfig, demo bool) (http.Handler, error) {
	if demo {
		api, err := webapi.NewWithOptions(docs.Pipeline, docs.Store, &webapi.Options{NoAuth: true, Blobs: docs.Blobs, Jobs: driver, Logger: a.Log})
		if err != nil {
			return nil, err
		}
		return ui.New(&ui.Options{Pipeline: docs.Pipeline, Store: docs.Store, Blobs: docs.Blobs, Jobs: driver, API: api, NoAuth: true, Banner: demoBanner, Logger: a.Log})
	}
	sessions := &auth.Sessions{Store: docs.Store, Secure: wc.SecureCookies}
	api, err := webapi.NewWithOptions(docs.Pipeline, docs.Store, &webapi.Options{Tokens: &auth.StoreTokens{Store: docs.Store}, Sessions: sessions,
		Limiter: auth.NewLimiter(wc.RateLimit, wc.RateBurst), Blobs: docs.Blobs, Jobs: driver, Logger: a.Log})
	if err != nil {
		return nil, err
	}
	return ui.New(&ui.Options{Pipeline: docs.Pipeline, Store: docs.Store, Blobs: docs.Blobs, Jobs: driver, API: api, Sessions: sessions,
		LoginLimiter: auth.NewLimiter(loginRate, loginBurst), HSTS: wc.SecureCookies, Logger: a.Log})
}

// Login attempts per client address: a person mistyping is never slowed,
// a password guesser gets one try every 6 seconds.
const (
	loginRate  = 1.0 / 6
	loginBurst = 10
)

// FirstAdminEmail is the login of the admin up creates on its first start.
const FirstAdminEmail = "admin@localhost"

// ensureAdmin creates the first admin when the store has no user, and
// prints its password on stderr, this once.
func (a *App) ensureAdmin(ctx context.Context, st store.Users, url string) error {
	users, err := st.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("look for users: %w", err)
	}
	if len(users) > 0 {
		return nil
	}
	password := auth.NewPassword()
	if _, err := auth.CreateUser(ctx, st, &auth.CreateUserParams{Email: FirstAdminEmail, Password: password, Scope: auth.ScopeAdmin}); err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	// On stderr, not in the log, which may be shipped elsewhere.
	fmt.Fprintf(a.Stderr, `
  Quire created its first user. Sign in at %s with
    email:    %s
    password: %s
  This password is shown this once. Add people with: quire admin create --email ...

`, url, FirstAdminEmail, password)
	return nil
}

// checkLoopback refuses --demo unless every address the server listens on
// is the loopback interface.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return Usagef("invalid %s %q: %w", Setting("addr"), addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return Usagef("--demo serves without sign-in, so only on the loopback interface: %s is %q; use 127.0.0.1:PORT, or drop --demo", Setting("addr"), addr)
}

// demoDirs are the folders of the sample corpus up --demo feeds: documents
// of every kind Quire reads, none of the hostile ones.
var demoDirs = []string{"text", "office", "pdf", "email", "html", "images"}

// demoCorpus returns the sample documents of up --demo: dir's, or, for "",
// those embedded in the binary.
func demoCorpus(dir string) (fs.FS, error) {
	if dir != "" {
		return os.DirFS(dir), nil
	}
	return fs.Sub(quire.Samples, "testdata")
}

// feedDemo ingests the sample corpus, so that a demo shows results within
// a minute. A missing folder is not an error: the demo starts emptier.
func (a *App) feedDemo(ctx context.Context, p *pipeline.Pipeline, dir string) {
	corpus, err := demoCorpus(dir)
	if err != nil {
		a.Log.Warn("up: demo: no sample documents", "error", err)
		return
	}
	n := 0
	for _, sub := range demoDirs {
		entries, err := fs.ReadDir(corpus, sub)
		if err != nil {
			a.Log.Warn("up: demo: no sample documents", "dir", filepath.Join(dir, sub), "error", err)
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if !e.Type().IsRegular() || strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".md") {
				continue
			}
			if err := a.ingestDemoFile(ctx, p, corpus, path.Join(sub, name)); err != nil {
				a.Log.Warn("up: demo: cannot ingest a sample", "file", name, "error", err)
				continue
			}
			n++
		}
	}
	a.Log.Info("up: demo: sample documents ingested", "count", n, "dir", cmp.Or(dir, "(built in)"))
}

func (a *App) ingestDemoFile(ctx context.Context, p *pipeline.Pipeline, corpus fs.FS, name string) error {
	f, err := corpus.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, _, err = p.Ingest(ctx, &pipeline.IngestParams{Name: path.Base(name), Body: f, Source: store.SourceUpload})
	return err
}

// DemoDataDirDefault is up --demo's data directory when none is given: one
// of its own, because the demo serves whatever it holds without sign-in.
const DemoDataDirDefault = "quire-demo"

// demoMarker is the file that marks a data directory made by up --demo.
const demoMarker = "DEMO"

// checkDemoStore refuses to serve, without sign-in, a store that holds
// users or documents not made by the demo: the demo's open UI would show
// them to anyone on this machine. A data directory the demo starts on
// empty is marked as the demo's, so that it may be served again.
func (a *App) checkDemoStore(ctx context.Context) error {
	where := a.Config.DataDir
	if a.Config.PostgresURL != "" {
		where = "the PostgreSQL database of " + Setting("postgres-url")
	}
	marker := filepath.Join(a.Config.DataDir, demoMarker)
	return a.WithStore(ctx, func(st store.Store) error {
		users, err := st.ListUsers(ctx)
		if err != nil {
			return fmt.Errorf("up --demo: look for users: %w", err)
		}
		stats, err := st.Stats(ctx)
		if err != nil {
			return fmt.Errorf("up --demo: count documents: %w", err)
		}
		_, statErr := os.Stat(marker)
		made := statErr == nil
		switch {
		case len(users) > 0:
			return Usagef("up --demo serves without sign-in, and %s holds %d users: give the demo a data directory of its own with %s (its default is ./%s)",
				where, len(users), Setting("data-dir"), DemoDataDirDefault)
		case stats.Documents > 0 && !made:
			return Usagef("up --demo serves without sign-in, and %s holds %d documents the demo did not make: give the demo a data directory of its own with %s (its default is ./%s)",
				where, stats.Documents, Setting("data-dir"), DemoDataDirDefault)
		case made:
			return nil
		}
		if err := os.MkdirAll(a.Config.DataDir, 0o700); err != nil {
			return fmt.Errorf("up --demo: %w", err)
		}
		note := "This data directory was made by quire up --demo, which serves it without sign-in.\n"
		if err := os.WriteFile(marker, []byte(note), 0o600); err != nil {
			return fmt.Errorf("up --demo: mark the data directory: %w", err)
		}
		return nil
	})
}

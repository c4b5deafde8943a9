package ui_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/web/api"
	"github.com/quirehq/quire/web/auth"
	"github.com/quirehq/quire/web/ui"
)

// fill puts a value in a route's path parameters.
func fill(path string) string {
	path = strings.TrimSuffix(path, "{$}")
	for strings.Contains(path, "{") {
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		path = path[:i] + "x" + path[j+1:]
	}
	return path
}

// TestEveryAPIRouteNeedsItsScope walks the API's route table: without a
// token every route answers 401, with a token of too low a scope 403, both
// as problem+json; a token of the route's scope gets past authentication.
// A UI session stands in for a token on reads, and on writes only with the
// session's CSRF token.
func TestEveryAPIRouteNeedsItsScope(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	anon := b.client(t)
	sess := map[auth.Scope]*http.Client{}
	csrf := map[auth.Scope]string{}
	for _, s := range auth.Scopes {
		sess[s], csrf[s] = b.login(t, s)
	}
	for _, rt := range api.Routes() {
		path := fill(rt.Path)
		resp, body := b.do(t, anon, rt.Method, path, nil, "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s %s without a token: %s", rt.Method, rt.Path, body)
		require.Equal(t, api.ProblemMediaType, resp.Header.Get("Content-Type"))
		require.NotEmpty(t, resp.Header.Get("Content-Security-Policy"), "security headers on the API too")
		for _, s := range auth.Scopes {
			resp, body = b.do(t, anon, rt.Method, path, map[string]string{"Authorization": "Bearer " + b.token[s]}, "")
			if s.Allows(rt.Scope) {
				require.NotContains(t, []int{401, 403}, resp.StatusCode, "%s %s with a %s token: %s", rt.Method, rt.Path, s, body)
			} else {
				require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s with a %s token: %s", rt.Method, rt.Path, s, body)
				require.Equal(t, api.ProblemMediaType, resp.Header.Get("Content-Type"))
				require.Contains(t, body, "insufficient scope")
			}
		}
		// The admin's session: reads pass; writes need the CSRF header.
		resp, body = b.do(t, sess[auth.ScopeAdmin], rt.Method, path, nil, "")
		if rt.Method == http.MethodGet {
			require.NotContains(t, []int{401, 403}, resp.StatusCode, "%s %s with a session: %s", rt.Method, rt.Path, body)
			continue
		}
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s with a session but no CSRF token: %s", rt.Method, rt.Path, body)
		require.Contains(t, body, "CSRF")
		if rt.Path == "/api/v1/tokens" && rt.Method == http.MethodPost {
			continue // it would issue a token: proven by the others
		}
		resp, body = b.do(t, sess[auth.ScopeAdmin], rt.Method, path, map[string]string{auth.CSRFHeader: csrf[auth.ScopeAdmin]}, "")
		require.NotContains(t, []int{401, 403}, resp.StatusCode, "%s %s with a session and its CSRF token: %s", rt.Method, rt.Path, body)
		if rt.Scope != auth.ScopeRead {
			resp, _ = b.do(t, sess[auth.ScopeRead], rt.Method, path, map[string]string{auth.CSRFHeader: csrf[auth.ScopeRead]}, "")
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s by a reader", rt.Method, rt.Path)
		}
	}
}

// TestEveryUIRouteNeedsItsScope walks the UI's route table: without a
// session a page redirects to the login and a form is refused; a user of
// too low a scope is refused; a form without the session's CSRF token is
// refused, with it it passes.
func TestEveryUIRouteNeedsItsScope(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	anon := b.client(t)
	sess := map[auth.Scope]*http.Client{}
	csrfs := map[auth.Scope]string{}
	for _, s := range auth.Scopes {
		sess[s], csrfs[s] = b.login(t, s)
	}
	for _, rt := range ui.Routes() {
		if rt.Scope == "" {
			continue // the login page
		}
		path := fill(rt.Path)
		resp, body := b.do(t, anon, rt.Method, path, nil, "")
		if rt.Method == http.MethodGet {
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, "%s %s without a session: %s", rt.Method, rt.Path, body)
			require.Equal(t, "/login?next="+url.QueryEscape(path), resp.Header.Get("Location"))
		} else {
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s without a session: %s", rt.Method, rt.Path, body)
			require.Contains(t, body, "not signed in")
		}
		for _, s := range auth.Scopes {
			if rt.Path == "/logout" {
				continue // below: it would end the session
			}
			c, csrf := sess[s], csrfs[s]
			form := url.Values{"csrf": {csrf}, "label": {"invoice"}, "state": {"dead"}}
			if rt.Method == http.MethodGet {
				resp, body = b.do(t, c, rt.Method, path, nil, "")
			} else {
				resp, body = b.post(t, c, path, form)
			}
			if !s.Allows(rt.Scope) {
				require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s by %s: %s", rt.Method, rt.Path, s, body)
				require.Contains(t, body, "insufficient scope")
				continue
			}
			require.NotContains(t, []int{401, 403}, resp.StatusCode, "%s %s by %s: %s", rt.Method, rt.Path, s, body)
			if rt.Method == http.MethodPost {
				form.Set("csrf", "forged")
				resp, body = b.post(t, c, path, form)
				require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s with a wrong CSRF token: %s", rt.Method, rt.Path, body)
				form.Del("csrf")
				resp, _ = b.post(t, c, path, form)
				require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s without a CSRF token", rt.Method, rt.Path)
			}
		}
	}

	// Logging out needs the token too, then ends the session for good.
	c, csrf := b.login(t, auth.ScopeRead)
	resp, _ := b.post(t, c, "/logout", url.Values{})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = b.post(t, c, "/logout", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	code, _ := b.get(t, c, "/")
	require.Equal(t, http.StatusSeeOther, code)
}

// TestLogin: a wrong password is refused without saying which of email and
// password was wrong; a login without the login form's CSRF token, or from
// another site, is refused; each login gets a new session id.
func TestLogin(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	_, page := b.get(t, c, "/login")
	token := csrfOf(t, page)
	resp, body := b.post(t, c, "/login", url.Values{"csrf": {token}, "email": {b.email[auth.ScopeRead]}, "password": {"wrong password!"}})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, body, "Wrong email or password.")
	// A failed login renders the form again, with a new token.
	token = csrfOf(t, body)
	resp, body = b.post(t, c, "/login", url.Values{"csrf": {token}, "email": {"nobody@example.org"}, "password": {password}})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, body, "Wrong email or password.")
	token = csrfOf(t, body)
	resp, _ = b.post(t, b.client(t), "/login", url.Values{"csrf": {token}, "email": {b.email[auth.ScopeRead]}, "password": {password}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "the token without its cookie")

	// A cross-site POST is refused by its Sec-Fetch-Site header.
	resp, _ = b.do(t, c, http.MethodPost, "/login", map[string]string{"Sec-Fetch-Site": "cross-site",
		"Content-Type": "application/x-www-form-urlencoded"}, url.Values{"csrf": {token}}.Encode())
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	// Session rotation: the session id changes at every login, and the old
	// one no longer works.
	c1, _ := b.login(t, auth.ScopeRead)
	u, _ := url.Parse(b.srv.URL)
	first := c1.Jar.Cookies(u)
	_, page = b.get(t, c1, "/login")
	resp, _ = b.post(t, c1, "/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {b.email[auth.ScopeRead]}, "password": {password}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == auth.SessionCookie {
			cookie = ck
		}
	}
	require.NotNil(t, cookie)
	require.True(t, cookie.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	for _, ck := range first {
		if ck.Name == auth.SessionCookie {
			require.NotEqual(t, ck.Value, cookie.Value)
			old := b.client(t)
			old.Jar.SetCookies(u, []*http.Cookie{ck})
			code, _ := b.get(t, old, "/")
			require.Equal(t, http.StatusSeeOther, code, "the session before the login ended")
		}
	}

	// next stays on this site.
	_, page = b.get(t, c, "/login?next=//evil.example/")
	require.Contains(t, page, `name="next" value="/"`)
}

// TestSecurityHeaders: every answer, page, file, API or error, carries the
// policy; no page has an inline script or style for it to forbid.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c, _ := b.login(t, auth.ScopeAdmin)
	for _, path := range []string{"/", "/login", "/documents", "/jobs?tab=dead", "/models", "/upload", "/static/app.js", "/static/app.css", "/api/v1/stats", "/api/openapi.json", "/nope"} {
		resp, body := b.do(t, c, http.MethodGet, path, nil, "")
		h := resp.Header
		require.Equal(t, ui.ContentSecurityPolicy, h.Get("Content-Security-Policy"), path)
		require.NotContains(t, h.Get("Content-Security-Policy"), "unsafe-inline")
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		require.Equal(t, "same-origin", h.Get("Referrer-Policy"), path)
		require.Equal(t, "SAMEORIGIN", h.Get("X-Frame-Options"), path)
		require.Empty(t, h.Get("Strict-Transport-Security"), "no HSTS over plain HTTP")
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			require.NotContains(t, body, "<script>", path)
			require.NotContains(t, body, " style=", path)
			require.NotContains(t, body, "<style", path)
			require.NotRegexp(t, `\son[a-z]+=`, body, "no inline event handler in %s", path)
		}
	}
}

// TestRateLimit: a token over its rate gets 429 problem+json with
// Retry-After; another token is not slowed by it.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{limiter: auth.NewLimiter(0.01, 2)})
	anon := b.client(t)
	get := func(scope auth.Scope) *http.Response {
		resp, _ := b.do(t, anon, http.MethodGet, "/api/v1/stats", map[string]string{"Authorization": "Bearer " + b.token[scope]}, "")
		return resp
	}
	require.Equal(t, http.StatusOK, get(auth.ScopeRead).StatusCode)
	require.Equal(t, http.StatusOK, get(auth.ScopeRead).StatusCode)
	resp, body := b.do(t, anon, http.MethodGet, "/api/v1/stats", map[string]string{"Authorization": "Bearer " + b.token[auth.ScopeRead]}, "")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, api.ProblemMediaType, resp.Header.Get("Content-Type"))
	var p api.Problem
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	require.Equal(t, 429, p.Status)
	require.Contains(t, p.Detail, "too many requests")
	after, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.Positive(t, after)
	require.Equal(t, http.StatusOK, get(auth.ScopeWrite).StatusCode, "another token has its own bucket")
}

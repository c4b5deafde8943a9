package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/web/auth"
)

func TestScopeAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		have, need auth.Scope
		want       bool
	}{
		{auth.ScopeRead, auth.ScopeRead, true},
		{auth.ScopeRead, auth.ScopeWrite, false},
		{auth.ScopeRead, auth.ScopeAdmin, false},
		{auth.ScopeWrite, auth.ScopeRead, true},
		{auth.ScopeWrite, auth.ScopeWrite, true},
		{auth.ScopeWrite, auth.ScopeAdmin, false},
		{auth.ScopeAdmin, auth.ScopeRead, true},
		{auth.ScopeAdmin, auth.ScopeAdmin, true},
		{"root", auth.ScopeRead, false},
		{auth.ScopeAdmin, "root", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.have.Allows(tt.need), "%s allows %s", tt.have, tt.need)
	}
}

func TestIssueVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := auth.NewMemory()
	t0 := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	raw, tok, err := auth.Issue(ctx, ts, &auth.IssueParams{Name: "ci", Scope: auth.ScopeWrite, TTL: time.Hour, Now: t0})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(raw, "quire_"+tok.ID+"_"))
	require.NotContains(t, string(tok.Hash), raw[len("quire_"+tok.ID+"_"):], "the secret is not stored")
	require.Len(t, tok.Hash, 32)

	got, err := auth.Verify(ctx, ts, raw, t0.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, tok.ID, got.ID)
	require.Equal(t, auth.ScopeWrite, got.Scope)

	// The same id with another secret, a malformed token, an unknown id,
	// an expired token: all are simply invalid.
	wrong := raw[:len(raw)-1] + map[bool]string{true: "0", false: "1"}[raw[len(raw)-1] != '0']
	for name, bad := range map[string]string{"wrong secret": wrong, "malformed": "quire_x", "no prefix": strings.TrimPrefix(raw, "quire_"),
		"unknown id": "quire_0000000000000000_" + raw[len(raw)-64:]} {
		_, err := auth.Verify(ctx, ts, bad, t0)
		require.ErrorIs(t, err, auth.ErrInvalidToken, name)
	}
	_, err = auth.Verify(ctx, ts, raw, t0.Add(time.Hour))
	require.ErrorIs(t, err, auth.ErrInvalidToken)

	// Deleted tokens stop working.
	require.NoError(t, ts.DeleteToken(ctx, tok.ID))
	_, err = auth.Verify(ctx, ts, raw, t0)
	require.ErrorIs(t, err, auth.ErrInvalidToken)
	require.ErrorIs(t, ts.DeleteToken(ctx, tok.ID), auth.ErrNotFound)

	_, _, err = auth.Issue(ctx, ts, &auth.IssueParams{Name: "", Scope: "root"})
	require.ErrorIs(t, err, auth.ErrInvalid)
}

func TestRequire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := auth.NewMemory()
	read, _, err := auth.Issue(ctx, ts, &auth.IssueParams{Name: "r", Scope: auth.ScopeRead})
	require.NoError(t, err)
	admin, _, err := auth.Issue(ctx, ts, &auth.IssueParams{Name: "a", Scope: auth.ScopeAdmin})
	require.NoError(t, err)
	a := &auth.Authenticator{Tokens: ts}
	h := a.Require(auth.ScopeWrite, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(auth.FromContext(r.Context()).Name))
	}))
	tests := []struct {
		name, header string
		code         int
		body         string
	}{
		{"none", "", http.StatusUnauthorized, "no bearer token"},
		{"basic", "Basic dXNlcjpwYXNz", http.StatusUnauthorized, "invalid token"},
		{"garbage", "Bearer nope", http.StatusUnauthorized, "invalid token"},
		{"too low", "Bearer " + read, http.StatusForbidden, "insufficient scope"},
		{"enough", "bearer " + admin, http.StatusOK, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, tt.code, rec.Code)
			require.Contains(t, rec.Body.String(), tt.body)
			if tt.code == http.StatusUnauthorized {
				require.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer")
			}
		})
	}
}

// failingStore fails every lookup, as a database down would.
type failingStore struct{ auth.TokenStore }

func (failingStore) GetToken(context.Context, string) (*auth.Token, error) {
	return nil, errors.New("database down")
}

func TestRequireStoreDown(t *testing.T) {
	t.Parallel()
	a := &auth.Authenticator{Tokens: failingStore{}}
	h := a.Require(auth.ScopeRead, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("served") }))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer quire_0123456789abcdef_"+strings.Repeat("ab", 32))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
}

func TestImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Issued in one store (an operator's machine), imported in two others
	// (two replicas): both accept it.
	raw, _, err := auth.Issue(ctx, auth.NewMemory(), &auth.IssueParams{Name: "ops", Scope: auth.ScopeAdmin})
	require.NoError(t, err)
	for range 2 {
		ts := auth.NewMemory()
		_, err := auth.Import(ctx, ts, &auth.ImportParams{Token: raw, Name: "ops", Scope: auth.ScopeAdmin})
		require.NoError(t, err)
		got, err := auth.Verify(ctx, ts, raw, time.Now())
		require.NoError(t, err)
		require.Equal(t, auth.ScopeAdmin, got.Scope)
		_, err = auth.Import(ctx, ts, &auth.ImportParams{Token: raw, Name: "ops", Scope: auth.ScopeAdmin})
		require.ErrorIs(t, err, auth.ErrInvalid, "imported twice")
	}
	_, err = auth.Import(ctx, auth.NewMemory(), &auth.ImportParams{Token: "hunter2", Name: "ops", Scope: auth.ScopeAdmin})
	require.ErrorIs(t, err, auth.ErrInvalid)
}

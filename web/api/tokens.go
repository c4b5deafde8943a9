package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/quirehq/quire/web/auth"
)

// Token is an API token as the API shows it: never with its secret, except
// in the answer that issued it.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Scope     string    `json:"scope"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Token is the token itself, to send as "Authorization: Bearer …".
	// Only the answer that issued it holds it: Quire keeps its hash only.
	Token string `json:"token,omitempty"`
}

// TokenList lists API tokens, oldest first.
type TokenList struct {
	Tokens []Token `json:"tokens"`
}

// TokenParams are the body of a new token.
type TokenParams struct {
	Name  string `json:"name"`
	Scope string `json:"scope"`
	// TTLSeconds is how long the token works; 0 means until revoked.
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
}

func viewToken(t *auth.Token) Token {
	return Token{ID: t.ID, Name: t.Name, Scope: string(t.Scope), CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}
}

// errNoTokens answers the token routes of an API without authentication.
var errNoTokens = errors.New("this server runs without authentication: it has no API tokens")

func (a *api) listTokens(w http.ResponseWriter, r *http.Request) {
	if a.tokens == nil {
		a.problem(w, r, http.StatusNotFound, errNoTokens)
		return
	}
	ts, err := a.tokens.ListTokens(r.Context())
	if a.storeError(w, r, err) {
		return
	}
	out := TokenList{Tokens: make([]Token, len(ts))}
	for i := range ts {
		out.Tokens[i] = viewToken(&ts[i])
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) createToken(w http.ResponseWriter, r *http.Request) {
	if a.tokens == nil {
		a.problem(w, r, http.StatusNotFound, errNoTokens)
		return
	}
	var p TokenParams
	if !a.decode(w, r, &p) {
		return
	}
	raw, t, err := auth.Issue(r.Context(), a.tokens, &auth.IssueParams{Name: p.Name, Scope: auth.Scope(p.Scope),
		TTL: time.Duration(p.TTLSeconds) * time.Second})
	if a.storeError(w, r, err) {
		return
	}
	a.log.Info("api: token issued", "token_id", t.ID, "name", t.Name, "scope", t.Scope, "by", setBy(r))
	v := viewToken(t)
	v.Token = raw
	w.Header().Set("Cache-Control", "no-store") // the answer holds a secret
	writeJSON(w, http.StatusCreated, v)
}

func (a *api) deleteToken(w http.ResponseWriter, r *http.Request) {
	if a.tokens == nil {
		a.problem(w, r, http.StatusNotFound, errNoTokens)
		return
	}
	if a.storeError(w, r, a.tokens.DeleteToken(r.Context(), r.PathValue("id"))) {
		return
	}
	a.log.Info("api: token revoked", "token_id", r.PathValue("id"), "by", setBy(r))
	w.WriteHeader(http.StatusNoContent)
}

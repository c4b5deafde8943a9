// Package auth is Quire's API authentication: bearer tokens with scopes.
//
// A token is shown once, when it is issued, and only its SHA-256 is kept.
// A token reads "quire_<id>_<secret>": the id, which is not secret, finds the
// stored record, and the secret's hash is then compared in constant time, so
// neither a database index nor the comparison tells an attacker how much of a
// guess was right.
//
// Tokens are kept behind TokenStore: StoreTokens keeps them in Quire's
// store, Memory in memory for tests.
package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Scope is what a token may do. Scopes are ordered: admin may do everything
// write may, and write everything read may.
type Scope string

// The scopes.
const (
	// ScopeRead reads documents, their results, events and statistics.
	ScopeRead Scope = "read"
	// ScopeWrite also uploads, labels, reprocesses and deletes documents.
	ScopeWrite Scope = "write"
	// ScopeAdmin also manages tokens, webhooks and the job engine.
	ScopeAdmin Scope = "admin"
)

// Scopes lists every scope, weakest first.
var Scopes = []Scope{ScopeRead, ScopeWrite, ScopeAdmin}

// Valid reports whether s is one of the scopes.
func (s Scope) Valid() bool { return slices.Contains(Scopes, s) }

// Allows reports whether a token of scope s may do what needs scope need.
func (s Scope) Allows(need Scope) bool {
	have, want := slices.Index(Scopes, s), slices.Index(Scopes, need)
	return have >= 0 && want >= 0 && have >= want
}

// Token is an issued API token, without its secret.
type Token struct {
	// ID is the token's public identifier, part of the token itself.
	ID string
	// Name says what the token is for ("ci upload", "grafana").
	Name string
	// Scope is what the token may do.
	Scope Scope
	// Hash is the SHA-256 of the token's secret part.
	Hash []byte
	// CreatedAt is when the token was issued.
	CreatedAt time.Time
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time
	// LastUsedAt is when the token last authenticated a request, to the
	// minute; zero means never or unknown.
	LastUsedAt time.Time
	// User is set when no token but a web UI session authenticated the
	// request: ID is then the user's ID, Name the user's email.
	User bool
}

// TokenStore keeps tokens. Every method is safe for concurrent use.
type TokenStore interface {
	// CreateToken stores a new token. The ID is new: the caller made it
	// from random bytes.
	CreateToken(ctx context.Context, t *Token) error
	// DeleteToken deletes a token; it fails with ErrNotFound when there is
	// none.
	DeleteToken(ctx context.Context, id string) error
	// GetToken returns a token; it fails with ErrNotFound when there is
	// none.
	GetToken(ctx context.Context, id string) (*Token, error)
	// ListTokens lists every token, oldest first.
	ListTokens(ctx context.Context) ([]Token, error)
}

// TokenToucher is a TokenStore that records when a token was last used. The
// Authenticator calls it at most once a minute per token.
type TokenToucher interface {
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// Errors of authentication. Callers answer ErrNoToken and ErrInvalidToken
// with 401, ErrScope with 403.
var (
	// ErrNoToken: the request carries no bearer token.
	ErrNoToken = errors.New("no bearer token")
	// ErrInvalidToken: the token is malformed, unknown, revoked or expired.
	ErrInvalidToken = errors.New("invalid token")
	// ErrScope: the token is valid but its scope is too low.
	ErrScope = errors.New("insufficient scope")
	// ErrCSRF: a request authenticated by a session cookie lacks the
	// session's CSRF token; answered with 403.
	ErrCSRF = errors.New("missing or wrong CSRF token")
	// ErrNotFound: no token has that ID.
	ErrNotFound = errors.New("token not found")
	// ErrInvalid: parameters that can never succeed, such as an unknown
	// scope.
	ErrInvalid = errors.New("invalid")
)

// ScopeError is returned when a token's scope is too low; it matches
// ErrScope.
type ScopeError struct {
	Have, Need Scope
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("%s: the token's scope is %s; this needs %s", ErrScope, e.Have, e.Need)
}

// Is makes errors.Is(err, ErrScope) true.
func (e *ScopeError) Is(target error) bool { return target == ErrScope }

type ctxKey struct{}

// WithToken returns ctx carrying the request's authenticated token.
func WithToken(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the token that authenticated the request, or nil.
func FromContext(ctx context.Context) *Token {
	t, _ := ctx.Value(ctxKey{}).(*Token)
	return t
}

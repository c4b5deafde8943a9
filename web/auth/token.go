package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// tokenPrefix starts every token, so that secret scanners (and people) can
// tell a leaked Quire token at a glance.
const tokenPrefix = "quire_"

// Sizes of a token's parts, in random bytes. 32 bytes of secret are 256 bits
// of entropy: nobody guesses that, which is why a plain SHA-256 suffices.
const (
	idBytes     = 8
	secretBytes = 32
)

// IssueParams are the inputs of Issue.
type IssueParams struct {
	// Name says what the token is for. Required.
	Name string
	// Scope is what the token may do. Required.
	Scope Scope
	// TTL is how long the token works; zero means until deleted.
	TTL time.Duration
	// Now is the time of issue. Defaults to time.Now().
	Now time.Time
}

// Issue makes a new random token, stores its hash, and returns the token in
// clear (to be shown once, never again) with its record.
func Issue(ctx context.Context, ts TokenStore, p *IssueParams) (string, *Token, error) {
	var errs []error
	if strings.TrimSpace(p.Name) == "" {
		errs = append(errs, errors.New("empty name"))
	}
	if !p.Scope.Valid() {
		errs = append(errs, fmt.Errorf("scope %q is not one of %v", p.Scope, Scopes))
	}
	if p.TTL < 0 {
		errs = append(errs, fmt.Errorf("negative TTL %v", p.TTL))
	}
	if err := errors.Join(errs...); err != nil {
		return "", nil, fmt.Errorf("issue token: %w: %w", ErrInvalid, err)
	}
	id, secret := make([]byte, idBytes), make([]byte, secretBytes)
	// crypto/rand.Read never fails (it crashes the program instead).
	_, _ = rand.Read(id)
	_, _ = rand.Read(secret)
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	t := &Token{ID: hex.EncodeToString(id), Name: p.Name, Scope: p.Scope, Hash: hashSecret(hex.EncodeToString(secret)),
		CreatedAt: now.UTC()}
	if p.TTL > 0 {
		t.ExpiresAt = now.Add(p.TTL).UTC()
	}
	if err := ts.CreateToken(ctx, t); err != nil {
		return "", nil, fmt.Errorf("issue token %q: %w", p.Name, err)
	}
	return tokenPrefix + t.ID + "_" + hex.EncodeToString(secret), t, nil
}

// hashSecret hashes a token's secret for storage. Tokens carry 256 random
// bits, so a fast hash is enough: a slow KDF (bcrypt, argon2) protects
// low-entropy passwords from guessing, which cannot succeed here, and would
// only add latency to every API request.
func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// parse splits a token into its id and secret.
func parse(token string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 2*idBytes || len(secret) != 2*secretBytes {
		return "", "", false
	}
	return id, secret, true
}

// Verify returns the record of a token given in clear. It fails with
// ErrInvalidToken, whatever is wrong with the token, so a caller cannot tell
// an unknown id from a wrong secret.
func Verify(ctx context.Context, ts TokenStore, token string, now time.Time) (*Token, error) {
	id, secret, ok := parse(token)
	if !ok {
		return nil, fmt.Errorf("%w: not a Quire token", ErrInvalidToken)
	}
	t, err := ts.GetToken(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("verify token %s: %w", id, err)
	}
	// Constant time, so that the time taken does not tell how many leading
	// bytes of the hash a guess got right.
	if subtle.ConstantTimeCompare(hashSecret(secret), t.Hash) != 1 {
		return nil, ErrInvalidToken
	}
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return nil, fmt.Errorf("%w: expired at %s", ErrInvalidToken, t.ExpiresAt.Format(time.RFC3339))
	}
	return t, nil
}

// BearerToken returns the token of an "Authorization: Bearer …" header, or
// ErrNoToken.
func BearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", ErrNoToken
	}
	scheme, token, ok := strings.Cut(h, " ")
	// The scheme is case-insensitive (RFC 9110 section 11.1).
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", fmt.Errorf("%w: the Authorization header is not \"Bearer <token>\"", ErrInvalidToken)
	}
	return strings.TrimSpace(token), nil
}

// ImportParams are the inputs of Import.
type ImportParams struct {
	// Token is a token made by Issue, in clear. Required.
	Token string
	// Name says what the token is for. Required.
	Name string
	// Scope is what the token may do. Required.
	Scope Scope
	// Now is the time of import. Defaults to time.Now().
	Now time.Time
}

// Import stores a token that was issued elsewhere and given in clear, from
// a Kubernetes Secret, say: every replica of the web role that imports it
// accepts it, which matters while tokens live in memory (Memory) rather than
// in the database.
func Import(ctx context.Context, ts TokenStore, p *ImportParams) (*Token, error) {
	id, secret, ok := parse(p.Token)
	var errs []error
	if !ok {
		errs = append(errs, fmt.Errorf("not a Quire token: want %s<%d hex digits>_<%d hex digits>", tokenPrefix, 2*idBytes, 2*secretBytes))
	}
	if strings.TrimSpace(p.Name) == "" {
		errs = append(errs, errors.New("empty name"))
	}
	if !p.Scope.Valid() {
		errs = append(errs, fmt.Errorf("scope %q is not one of %v", p.Scope, Scopes))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("import token: %w: %w", ErrInvalid, err)
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	t := &Token{ID: id, Name: p.Name, Scope: p.Scope, Hash: hashSecret(secret), CreatedAt: now.UTC()}
	if err := ts.CreateToken(ctx, t); err != nil {
		return nil, fmt.Errorf("import token %q: %w", p.Name, err)
	}
	return t, nil
}

package store

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// APIToken is an API token as the store keeps it: without its secret, whose
// SHA-256 alone is kept. web/auth issues and checks tokens.
type APIToken struct {
	// ID is the token's public identifier, part of the token itself.
	ID string
	// Name says what the token is for.
	Name string
	// Scope is read, write or admin.
	Scope string
	// Hash is the SHA-256 of the token's secret part: 32 bytes.
	Hash      []byte
	CreatedAt time.Time
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time
	// LastUsedAt is when the token last authenticated a request, to the
	// minute; zero means never.
	LastUsedAt time.Time
}

// User is a person who signs in to the web UI.
type User struct {
	// ID is a ULID.
	ID string
	// Email is the user's login, kept in lower case.
	Email string
	// PasswordHash is the password's bcrypt hash.
	PasswordHash string
	// Scope is what the user may do: read, write or admin, as for tokens.
	Scope     string
	CreatedAt time.Time
}

// CreateUserParams are the inputs of CreateUser.
type CreateUserParams struct {
	// Email is the user's login; it is kept in lower case and must be
	// unique. Required.
	Email string
	// PasswordHash is the password's hash. Required.
	PasswordHash string
	// Scope is read, write or admin. Required.
	Scope string
}

// Session is a signed-in user's web session. The session's id, which the
// browser holds in a cookie, is kept only as its SHA-256, so a copy of the
// database does not let anyone sign in.
type Session struct {
	// IDHash is the SHA-256 of the session id: 32 bytes.
	IDHash []byte
	UserID string
	// CSRFToken is the synchronizer token every form of the session
	// carries.
	CSRFToken string
	CreatedAt time.Time
	// LastSeenAt is when the session last served a request; a session idle
	// for too long ends.
	LastSeenAt time.Time
	// ExpiresAt is when the session ends however active it is.
	ExpiresAt time.Time
}

// NormalizeEmail returns a login as the store keeps it: trimmed, in lower
// case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func validScope(s string) bool { return s == "read" || s == "write" || s == "admin" }

func validateToken(t *APIToken) error {
	var errs []error
	if t.ID == "" {
		errs = append(errs, errors.New("the token id is empty"))
	}
	if strings.TrimSpace(t.Name) == "" {
		errs = append(errs, errors.New("the token name is empty"))
	}
	if !validScope(t.Scope) {
		errs = append(errs, fmt.Errorf("unknown scope %q: use read, write or admin", t.Scope))
	}
	if len(t.Hash) != 32 {
		errs = append(errs, fmt.Errorf("the token hash has %d bytes, not 32", len(t.Hash)))
	}
	return invalid(errs...)
}

func validateUser(p *CreateUserParams) error {
	var errs []error
	if e := NormalizeEmail(p.Email); e == "" || strings.ContainsAny(e, " \t\r\n") {
		errs = append(errs, fmt.Errorf("email %q is empty or holds spaces", p.Email))
	}
	if p.PasswordHash == "" {
		errs = append(errs, errors.New("the password hash is empty"))
	}
	if !validScope(p.Scope) {
		errs = append(errs, fmt.Errorf("unknown scope %q: use read, write or admin", p.Scope))
	}
	return invalid(errs...)
}

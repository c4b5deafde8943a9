package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/quirehq/quire/store"
)

// PasswordMinLength is the shortest password a user may have, in
// characters.
const PasswordMinLength = 12

// bcryptCost is bcrypt's work factor: about 50 ms a check on a server core,
// slow enough to make guessing a stolen hash costly, fast enough for a login.
const bcryptCost = 11

// HashPassword returns a password's bcrypt hash, refusing one too short to
// resist guessing or too long for bcrypt (72 bytes).
func HashPassword(password string) (string, error) {
	if n := utf8.RuneCountInString(password); n < PasswordMinLength {
		return "", fmt.Errorf("%w: the password has %d characters; use at least %d", ErrInvalid, n, PasswordMinLength)
	}
	if len(password) > 72 {
		return "", fmt.Errorf("%w: the password is over 72 bytes, which bcrypt ignores past", ErrInvalid)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash the password: %w", err)
	}
	return string(h), nil
}

// NewPassword returns a random password: 20 characters of base32, 100
// bits, which nobody guesses.
func NewPassword() string {
	return rand.Text()[:20]
}

// CreateUserParams are the inputs of CreateUser.
type CreateUserParams struct {
	// Email is the login. Required.
	Email string
	// Password is the password in clear; only its hash is kept. Required.
	Password string
	// Scope is what the user may do. Defaults to ScopeAdmin.
	Scope Scope
}

// CreateUser adds a user of the web UI to st.
func CreateUser(ctx context.Context, st store.Users, p *CreateUserParams) (*store.User, error) {
	scope := p.Scope
	if scope == "" {
		scope = ScopeAdmin
	}
	if !scope.Valid() {
		return nil, fmt.Errorf("create user %s: %w: scope %q is not one of %v", p.Email, ErrInvalid, scope, Scopes)
	}
	if !strings.Contains(p.Email, "@") {
		return nil, fmt.Errorf("create user %q: %w: the login must be an email address", p.Email, ErrInvalid)
	}
	hash, err := HashPassword(p.Password)
	if err != nil {
		return nil, fmt.Errorf("create user %s: %w", p.Email, err)
	}
	u, err := st.CreateUser(ctx, &store.CreateUserParams{Email: p.Email, PasswordHash: hash, Scope: string(scope)})
	if err != nil {
		return nil, storeErr(err)
	}
	return u, nil
}

// ErrBadLogin means no user has that email, or the password is wrong. The two
// are one error so that a login page does not tell which emails exist.
var ErrBadLogin = errors.New("wrong email or password")

// dummyHash is checked against when the email is unknown, so that a login
// takes as long whether the user exists or not. It is made at the first
// login, not at start: every command of the binary would pay for it.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcryptCost)
	return h
})

// CheckLogin returns the user whose email and password these are.
func CheckLogin(ctx context.Context, st store.Users, email, password string) (*store.User, error) {
	u, err := st.GetUserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return nil, ErrBadLogin
	}
	if err != nil {
		return nil, fmt.Errorf("log in %s: %w", email, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return nil, ErrBadLogin
	}
	return u, nil
}

// LogEmail is how an email address typed into the sign-in form appears in
// a log. A failed sign-in's field may hold anything: a password typed in
// the wrong box, an attempt to forge log lines. What looks like an address
// is logged quoted and cut at 64 bytes; anything else only by its length.
// Both carry a short hash, which tells repeated attempts apart.
func LogEmail(email string) string {
	sum := sha256.Sum256([]byte(email))
	if strings.Count(email, "@") == 1 && len(email) <= 254 && !strings.ContainsFunc(email, unicode.IsSpace) &&
		!strings.ContainsFunc(email, unicode.IsControl) {
		shown := email
		if len(shown) > 64 {
			shown = shown[:64] + "…"
		}
		return fmt.Sprintf("%q (sha256:%x)", shown, sum[:6])
	}
	return fmt.Sprintf("(not an address, %d bytes, sha256:%x)", len(email), sum[:6])
}

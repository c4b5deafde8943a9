package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/oklog/ulid/v2"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const tokenColumns = "id, name, scope, hash, created_at, expires_at, last_used_at"

func scanToken(row interface{ Scan(...any) error }) (*APIToken, error) {
	var t APIToken
	if err := row.Scan(&t.ID, &t.Name, &t.Scope, &t.Hash, tm{&t.CreatedAt}, tm{&t.ExpiresAt}, tm{&t.LastUsedAt}); err != nil {
		return nil, err
	}
	return &t, nil
}

// isUniqueViolation reports whether err is a duplicate primary or unique
// key.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func (s *sqlStore) CreateAPIToken(ctx context.Context, t *APIToken) error {
	if err := validateToken(t); err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	created := t.CreatedAt
	if created.IsZero() {
		created = s.nowUTC()
	}
	err := s.write(ctx, func(q queryer) error {
		_, err := q.ExecContext(ctx, `INSERT INTO api_tokens (id, name, scope, hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, t.Name, t.Scope, t.Hash, s.ts(created.UTC().Truncate(time.Microsecond)), s.ts(t.ExpiresAt))
		return err
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("create token %s: %w", t.ID, invalid(errors.New("the id is taken")))
	}
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	return nil
}

func (s *sqlStore) DeleteAPIToken(ctx context.Context, id string) error {
	if err := s.deleteByID(ctx, "api_tokens", id); err != nil {
		return fmt.Errorf("delete token %s: %w", id, err)
	}
	return nil
}

func (s *sqlStore) GetAPIToken(ctx context.Context, id string) (*APIToken, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("get token %s: %w", id, notFound(err))
	}
	return t, nil
}

func (s *sqlStore) ListAPITokens(ctx context.Context) ([]APIToken, error) {
	return listRows(ctx, s.r, "list tokens", scanToken, "SELECT "+tokenColumns+" FROM api_tokens ORDER BY created_at, id")
}

func (s *sqlStore) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	err := s.write(ctx, func(q queryer) error {
		return execRow(ctx, q, "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", id, s.ts(at.UTC().Truncate(time.Microsecond)))
	})
	if err != nil {
		return fmt.Errorf("touch token %s: %w", id, err)
	}
	return nil
}

const userColumns = "id, email, password_hash, scope, created_at"

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	if err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Scope, tm{&u.CreatedAt}); err != nil {
		return nil, err
	}
	return &u, nil
}

func (s *sqlStore) CreateUser(ctx context.Context, p *CreateUserParams) (*User, error) {
	email := NormalizeEmail(p.Email)
	if err := validateUser(p); err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	var u *User
	err := s.write(ctx, func(q queryer) error {
		var err error
		u, err = scanUser(q.QueryRowContext(ctx, `INSERT INTO users (id, email, password_hash, scope, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+userColumns,
			ulid.Make().String(), email, p.PasswordHash, p.Scope, s.ts(s.nowUTC())))
		return err
	})
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("create user %s: %w", email, invalid(errors.New("a user with this email exists")))
	}
	if err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}

func (s *sqlStore) GetUser(ctx context.Context, id string) (*User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, notFound(err))
	}
	return u, nil
}

func (s *sqlStore) GetUserByEmail(ctx context.Context, email string) (*User, error) {
	email = NormalizeEmail(email)
	u, err := scanUser(s.r.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE email = $1", email))
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", email, notFound(err))
	}
	return u, nil
}

func (s *sqlStore) ListUsers(ctx context.Context) ([]User, error) {
	return listRows(ctx, s.r, "list users", scanUser, "SELECT "+userColumns+" FROM users ORDER BY created_at, id")
}

func (s *sqlStore) SetUserPassword(ctx context.Context, id, passwordHash string) error {
	if passwordHash == "" {
		return fmt.Errorf("set password of user %s: %w", id, invalid(errors.New("the password hash is empty")))
	}
	// A new password ends every session the old one opened.
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := execRow(ctx, tx, "UPDATE users SET password_hash = $2 WHERE id = $1", id, passwordHash); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("set password of user %s: %w", id, err)
	}
	return nil
}

const sessionColumns = "id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at"

func scanSession(row interface{ Scan(...any) error }) (*Session, error) {
	var ss Session
	if err := row.Scan(&ss.IDHash, &ss.UserID, &ss.CSRFToken, tm{&ss.CreatedAt}, tm{&ss.LastSeenAt}, tm{&ss.ExpiresAt}); err != nil {
		return nil, err
	}
	return &ss, nil
}

func (s *sqlStore) CreateSession(ctx context.Context, ss *Session) error {
	if len(ss.IDHash) != 32 || ss.UserID == "" || ss.CSRFToken == "" || ss.ExpiresAt.IsZero() {
		return fmt.Errorf("create session: %w", invalid(errors.New("a session needs a 32-byte id hash, a user, a CSRF token and an expiry")))
	}
	now := s.nowUTC()
	created := cmpTime(ss.CreatedAt, now)
	err := s.write(ctx, func(q queryer) error {
		_, err := q.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			ss.IDHash, ss.UserID, ss.CSRFToken, s.ts(created), s.ts(cmpTime(ss.LastSeenAt, created)), s.ts(ss.ExpiresAt.UTC().Truncate(time.Microsecond)))
		return err
	})
	if isForeignKeyViolation(err) {
		return fmt.Errorf("create session for user %s: %w", ss.UserID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create session for user %s: %w", ss.UserID, err)
	}
	return nil
}

// cmpTime returns t in the database's precision, or def when t is zero.
func cmpTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t.UTC().Truncate(time.Microsecond)
}

func (s *sqlStore) GetSession(ctx context.Context, idHash []byte) (*Session, error) {
	ss, err := scanSession(s.r.QueryRowContext(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id_hash = $1", idHash))
	if err != nil {
		return nil, fmt.Errorf("get session: %w", notFound(err))
	}
	return ss, nil
}

func (s *sqlStore) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	err := s.write(ctx, func(q queryer) error {
		return execRow(ctx, q, "UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1", idHash, s.ts(at.UTC().Truncate(time.Microsecond)))
	})
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

func (s *sqlStore) DeleteSession(ctx context.Context, idHash []byte) error {
	err := s.write(ctx, func(q queryer) error {
		_, err := q.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = $1", idHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (s *sqlStore) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(q queryer) error {
		res, err := q.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= $1", s.ts(now.UTC().Truncate(time.Microsecond)))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(n), nil
}

package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseAccess(t *testing.T, h Harness) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 29, 6, 0, 0, 123456000, time.UTC)

	t.Run("Tokens", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		hash := sha256.Sum256([]byte("secret"))
		tok := &store.APIToken{ID: "0123456789abcdef", Name: "ci", Scope: "write", Hash: hash[:], CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		require.NoError(t, b.st.CreateAPIToken(ctx, tok))
		require.ErrorIs(t, b.st.CreateAPIToken(ctx, tok), store.ErrInvalid, "the id is taken")
		got, err := b.st.GetAPIToken(ctx, tok.ID)
		require.NoError(t, err)
		require.Equal(t, tok, got, "round trip, times included")
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM api_tokens"))

		never := &store.APIToken{ID: "fedcba9876543210", Name: "ops", Scope: "admin", Hash: bytes.Repeat([]byte{1}, 32), CreatedAt: t0.Add(time.Second)}
		require.NoError(t, b.st.CreateAPIToken(ctx, never))
		list, err := b.st.ListAPITokens(ctx)
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Equal(t, []string{tok.ID, never.ID}, []string{list[0].ID, list[1].ID}, "oldest first")
		require.True(t, list[1].ExpiresAt.IsZero())

		require.NoError(t, b.st.TouchAPIToken(ctx, tok.ID, t0.Add(time.Minute)))
		got, err = b.st.GetAPIToken(ctx, tok.ID)
		require.NoError(t, err)
		require.Equal(t, t0.Add(time.Minute), got.LastUsedAt)

		require.NoError(t, b.st.DeleteAPIToken(ctx, tok.ID))
		_, err = b.st.GetAPIToken(ctx, tok.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.st.DeleteAPIToken(ctx, tok.ID), store.ErrNotFound)
		require.ErrorIs(t, b.st.TouchAPIToken(ctx, tok.ID, t0), store.ErrNotFound)

		for name, bad := range map[string]*store.APIToken{
			"scope": {ID: "a", Name: "x", Scope: "root", Hash: hash[:]},
			"hash":  {ID: "b", Name: "x", Scope: "read", Hash: []byte("short")},
			"name":  {ID: "c", Name: " ", Scope: "read", Hash: hash[:]},
		} {
			require.ErrorIs(t, b.st.CreateAPIToken(ctx, bad), store.ErrInvalid, name)
		}
	})

	t.Run("UsersAndSessions", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		users, err := b.st.ListUsers(ctx)
		require.NoError(t, err)
		require.Empty(t, users)

		u, err := b.st.CreateUser(ctx, &store.CreateUserParams{Email: " Ada@Example.org ", PasswordHash: "$2a$10$x", Scope: "admin"})
		require.NoError(t, err)
		require.Equal(t, "ada@example.org", u.Email)
		_, err = b.st.CreateUser(ctx, &store.CreateUserParams{Email: "ADA@example.org", PasswordHash: "h", Scope: "read"})
		require.ErrorIs(t, err, store.ErrInvalid, "the email is taken, whatever its case")
		_, err = b.st.CreateUser(ctx, &store.CreateUserParams{Email: "bob@example.org", PasswordHash: "h", Scope: "root"})
		require.ErrorIs(t, err, store.ErrInvalid)
		got, err := b.st.GetUserByEmail(ctx, "ADA@example.ORG")
		require.NoError(t, err)
		require.Equal(t, u, got)
		got, err = b.st.GetUser(ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, u, got)
		_, err = b.st.GetUserByEmail(ctx, "eve@example.org")
		require.ErrorIs(t, err, store.ErrNotFound)

		idHash := sha256.Sum256([]byte("session id"))
		ss := &store.Session{IDHash: idHash[:], UserID: u.ID, CSRFToken: "csrf", CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour)}
		require.NoError(t, b.st.CreateSession(ctx, ss))
		gotS, err := b.st.GetSession(ctx, idHash[:])
		require.NoError(t, err)
		require.Equal(t, ss, gotS)
		require.NoError(t, b.st.TouchSession(ctx, idHash[:], t0.Add(time.Minute)))
		gotS, err = b.st.GetSession(ctx, idHash[:])
		require.NoError(t, err)
		require.Equal(t, t0.Add(time.Minute), gotS.LastSeenAt)
		require.ErrorIs(t, b.st.CreateSession(ctx, &store.Session{IDHash: bytes.Repeat([]byte{2}, 32), UserID: "nobody", CSRFToken: "c", ExpiresAt: t0}), store.ErrNotFound)

		// Expiry sweeps only the expired.
		other := bytes.Repeat([]byte{3}, 32)
		require.NoError(t, b.st.CreateSession(ctx, &store.Session{IDHash: other, UserID: u.ID, CSRFToken: "c2", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}))
		n, err := b.st.DeleteExpiredSessions(ctx, t0.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = b.st.GetSession(ctx, other)
		require.ErrorIs(t, err, store.ErrNotFound)

		// A new password ends the user's sessions.
		require.NoError(t, b.st.SetUserPassword(ctx, u.ID, "$2a$10$y"))
		_, err = b.st.GetSession(ctx, idHash[:])
		require.ErrorIs(t, err, store.ErrNotFound)
		got, err = b.st.GetUser(ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, "$2a$10$y", got.PasswordHash)
		require.ErrorIs(t, b.st.SetUserPassword(ctx, "nobody", "h"), store.ErrNotFound)

		require.NoError(t, b.st.CreateSession(ctx, ss))
		require.NoError(t, b.st.DeleteSession(ctx, idHash[:]))
		require.NoError(t, b.st.DeleteSession(ctx, idHash[:]), "ending an ended session")
		require.ErrorIs(t, b.st.TouchSession(ctx, idHash[:], t0), store.ErrNotFound)
	})
}

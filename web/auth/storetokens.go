package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quirehq/quire/store"
)

// StoreTokens is a TokenStore in Quire's store: tokens survive restarts and
// every replica of the web role sees the same ones.
type StoreTokens struct {
	// Store holds the api_tokens table. Required.
	Store store.APITokens
}

// storeErr maps the store's errors onto this package's.
func storeErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, store.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

// CreateToken implements TokenStore.
func (s *StoreTokens) CreateToken(ctx context.Context, t *Token) error {
	return storeErr(s.Store.CreateAPIToken(ctx, &store.APIToken{ID: t.ID, Name: t.Name, Scope: string(t.Scope),
		Hash: t.Hash, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}))
}

// DeleteToken implements TokenStore.
func (s *StoreTokens) DeleteToken(ctx context.Context, id string) error {
	return storeErr(s.Store.DeleteAPIToken(ctx, id))
}

// GetToken implements TokenStore.
func (s *StoreTokens) GetToken(ctx context.Context, id string) (*Token, error) {
	t, err := s.Store.GetAPIToken(ctx, id)
	if err != nil {
		return nil, storeErr(err)
	}
	return fromStore(t), nil
}

// ListTokens implements TokenStore.
func (s *StoreTokens) ListTokens(ctx context.Context) ([]Token, error) {
	list, err := s.Store.ListAPITokens(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	out := make([]Token, len(list))
	for i := range list {
		out[i] = *fromStore(&list[i])
	}
	return out, nil
}

// TouchToken implements TokenToucher.
func (s *StoreTokens) TouchToken(ctx context.Context, id string, at time.Time) error {
	return storeErr(s.Store.TouchAPIToken(ctx, id, at))
}

func fromStore(t *store.APIToken) *Token {
	return &Token{ID: t.ID, Name: t.Name, Scope: Scope(t.Scope), Hash: t.Hash, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
		LastUsedAt: t.LastUsedAt}
}

package auth

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Memory is a TokenStore in memory: its tokens go with the process. It
// serves tests.
type Memory struct {
	mu     sync.Mutex
	tokens map[string]Token // by ID
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{tokens: map[string]Token{}} }

// CreateToken implements TokenStore.
func (m *Memory) CreateToken(_ context.Context, t *Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tokens[t.ID]; ok {
		return fmt.Errorf("create token %s: %w: the id is taken", t.ID, ErrInvalid)
	}
	c := *t
	c.Hash = bytes.Clone(t.Hash)
	m.tokens[t.ID] = c
	return nil
}

// DeleteToken implements TokenStore.
func (m *Memory) DeleteToken(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tokens[id]; !ok {
		return fmt.Errorf("delete token %s: %w", id, ErrNotFound)
	}
	delete(m.tokens, id)
	return nil
}

// GetToken implements TokenStore.
func (m *Memory) GetToken(_ context.Context, id string) (*Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[id]
	if !ok {
		return nil, fmt.Errorf("get token %s: %w", id, ErrNotFound)
	}
	t.Hash = bytes.Clone(t.Hash)
	return &t, nil
}

// ListTokens implements TokenStore.
func (m *Memory) ListTokens(context.Context) ([]Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Token, 0, len(m.tokens))
	for _, t := range m.tokens {
		t.Hash = bytes.Clone(t.Hash)
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Token) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

package shopify

import (
	"context"
	"errors"
	"strings"
	"sync"
)

// ErrNoToken is what a [TokenStore] returns from Load for a shop it holds
// no token for.
var ErrNoToken = errors.New("shopify: no access token stored for the shop")

// ErrTokenExpired matches the error of a token source whose stored token
// has expired and cannot be refreshed (no refresh token): the app must go
// through install or token exchange again.
var ErrTokenExpired = errors.New("shopify: access token expired and cannot be refreshed")

// TokenStore keeps one access token per shop. An app serving many shops
// implements it over its database; it must be safe for concurrent use.
// Shops are lower-case domains (name.myshopify.com).
type TokenStore interface {
	// Load returns the shop's token, or an error matching ErrNoToken.
	Load(ctx context.Context, shop string) (*AccessToken, error)
	// Save stores t under t.Shop, replacing what was there.
	Save(ctx context.Context, t *AccessToken) error
	// Delete forgets the shop's token (for example on app/uninstalled).
	Delete(ctx context.Context, shop string) error
}

// MemoryTokenStore is a TokenStore in memory, for tests and single-process
// apps. The zero value is ready to use.
type MemoryTokenStore struct {
	mu sync.Mutex
	m  map[string]AccessToken
}

// NewMemoryTokenStore returns an empty MemoryTokenStore.
func NewMemoryTokenStore() *MemoryTokenStore { return &MemoryTokenStore{} }

// Load returns a copy of the shop's token.
func (s *MemoryTokenStore) Load(_ context.Context, shop string) (*AccessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[strings.ToLower(shop)]
	if !ok {
		return nil, ErrNoToken
	}
	return &t, nil
}

// Save stores a copy of t.
func (s *MemoryTokenStore) Save(_ context.Context, t *AccessToken) error {
	if t == nil || t.Shop == "" {
		return &InputError{Field: "AccessToken.Shop", Reason: "must not be empty"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]AccessToken{}
	}
	c := *t
	c.Scopes = append([]string(nil), t.Scopes...)
	s.m[strings.ToLower(t.Shop)] = c
	return nil
}

// Delete forgets the shop's token.
func (s *MemoryTokenStore) Delete(_ context.Context, shop string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, strings.ToLower(shop))
	return nil
}

// TokenSource returns a [TokenSource] yielding shop's access token from
// store, for [New]. An expiring token within the refresh margin of its
// expiry ([WithRefreshBefore]) is refreshed with [App.Refresh] and the new
// token saved before it is returned; concurrent calls on one source
// refresh once. When the refresh fails, a newer token another process
// stored meanwhile is used, else the old one while it is still valid. An
// expired token that cannot be refreshed gives an error matching
// ErrTokenExpired, or the refresh's error.
func (a *App) TokenSource(store TokenStore, shop string) TokenSource {
	return &storeSource{app: a, store: store, shop: strings.ToLower(shop)}
}

type storeSource struct {
	app   *App
	store TokenStore
	shop  string
	mu    sync.Mutex
}

// Token loads, and if due refreshes, the shop's token.
func (s *storeSource) Token(ctx context.Context) (Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.store.Load(ctx, s.shop)
	if err != nil {
		return Secret{}, err
	}
	if !t.Expiring() {
		return t.Token, nil
	}
	now := s.app.cfg.now()
	if now.Add(s.app.cfg.refreshBefore).Before(t.ExpiresAt) {
		return t.Token, nil
	}
	if t.RefreshToken.IsZero() || (!t.RefreshExpiresAt.IsZero() && !now.Before(t.RefreshExpiresAt)) {
		if now.Before(t.ExpiresAt) {
			return t.Token, nil
		}
		return Secret{}, ErrTokenExpired
	}
	nt, err := s.app.Refresh(ctx, s.shop, t.RefreshToken)
	if err != nil {
		// Another process may have refreshed first and spent the refresh
		// token: take what it stored.
		if cur, lerr := s.store.Load(ctx, s.shop); lerr == nil && cur.RefreshToken.Reveal() != t.RefreshToken.Reveal() && now.Before(cur.ExpiresAt) {
			return cur.Token, nil
		}
		if now.Before(t.ExpiresAt) {
			// Still good: use it and try again on the next call.
			return t.Token, nil
		}
		return Secret{}, err
	}
	if nt.Scopes == nil {
		nt.Scopes = t.Scopes
	}
	if err := s.store.Save(ctx, nt); err != nil {
		return Secret{}, err
	}
	return nt.Token, nil
}

package shopcrm

import (
	"context"
	"sync"
	"time"
)

// DedupeStore remembers the webhook events already handled, by a key the
// platform gives each event (LINE webhookEventId, Shopify
// X-Shopify-Event-Id), so that a redelivered or replayed event is handled
// once. A store shared by several processes (a database table with a
// unique key) makes that hold across them; it must be safe for concurrent
// use. The webhook handlers of the platform packages take one.
type DedupeStore interface {
	// Claim records key and reports whether it was new: false means the
	// event was handled (or is being handled) already.
	Claim(ctx context.Context, key string) (bool, error)
	// Release forgets key after its handling failed, so that the
	// platform's redelivery of the event is handled again.
	Release(ctx context.Context, key string) error
}

// MemoryDedupe is an in-process DedupeStore that keeps each key for a
// while, at most a bounded number of keys.
type MemoryDedupe struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time
}

// DefaultDedupeTTL is how long MemoryDedupe keeps a key when not told
// otherwise: a day, longer than Shopify's retries (8 over 4 hours) and
// than any LINE redelivery seen in practice (LINE documents no bound).
const DefaultDedupeTTL = 24 * time.Hour

// DefaultDedupeMax is how many keys MemoryDedupe keeps at most when not
// told otherwise.
const DefaultDedupeMax = 100_000

// NewMemoryDedupe returns a store keeping keys for ttl (DefaultDedupeTTL
// when ≤ 0) and at most max keys (DefaultDedupeMax when ≤ 0; the oldest go
// first).
func NewMemoryDedupe(ttl time.Duration, max int) *MemoryDedupe {
	if ttl <= 0 {
		ttl = DefaultDedupeTTL
	}
	if max <= 0 {
		max = DefaultDedupeMax
	}
	return &MemoryDedupe{ttl: ttl, max: max, now: time.Now, seen: map[string]time.Time{}}
}

// Claim implements DedupeStore.
func (m *MemoryDedupe) Claim(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if at, ok := m.seen[key]; ok && now.Sub(at) < m.ttl {
		return false, nil
	}
	if len(m.seen) >= m.max {
		m.evict(now)
	}
	m.seen[key] = now
	return true, nil
}

// Release implements DedupeStore.
func (m *MemoryDedupe) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, key)
	return nil
}

// evict drops expired keys, and the oldest ones while the store is full.
func (m *MemoryDedupe) evict(now time.Time) {
	for k, at := range m.seen {
		if now.Sub(at) >= m.ttl {
			delete(m.seen, k)
		}
	}
	for len(m.seen) >= m.max {
		var oldest string
		var at time.Time
		for k, t := range m.seen {
			if oldest == "" || t.Before(at) {
				oldest, at = k, t
			}
		}
		delete(m.seen, oldest)
	}
}

package shopcrm

import (
	"context"
	"testing"
	"time"
)

func TestMemoryDedupeTTLReleaseAndBound(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMemoryDedupe(time.Hour, 3)
	m.now = func() time.Time { return now }
	claim := func(k string) bool {
		ok, err := m.Claim(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("a") || claim("a") {
		t.Fatal("a second claim of a key must fail")
	}
	if err := m.Release(ctx, "a"); err != nil || !claim("a") {
		t.Fatal("a released key must be claimable again")
	}
	now = now.Add(time.Hour)
	if !claim("a") {
		t.Fatal("a key older than the TTL must be claimable again")
	}
	for i, k := range []string{"b", "c", "d", "e"} {
		now = now.Add(time.Minute)
		if !claim(k) {
			t.Fatalf("claim %d %q", i, k)
		}
	}
	if len(m.seen) > 3 {
		t.Fatalf("store holds %d keys, bound 3", len(m.seen))
	}
	if claim("e") {
		t.Fatal("the newest key was evicted")
	}
}

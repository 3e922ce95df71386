package bulk

import (
	"math/rand/v2"
	"testing"
)

func TestHashSet(t *testing.T) {
	var s hashSet
	if s.has(42) {
		t.Error("empty set has 42")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 7, 250, 500, 3} { // grows, then is reused smaller
		s.reset(n)
		in := map[uint64]bool{0: true} // the hash 0 is a key like any other
		s.add(0)
		for len(in) < n+1 {
			h := rng.Uint64() % 4096 // collisions in the table, and duplicates
			s.add(h)
			in[h] = true
		}
		for h := range uint64(4096) {
			if got := s.has(h); got != in[h] && h != 1 { // 1 may stand for 0
				t.Fatalf("n=%d: has(%d) = %v, want %v", n, h, got, in[h])
			}
		}
	}
}

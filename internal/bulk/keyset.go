package bulk

import "math/bits"

// hashSet is a set of key hashes for one chunk: open addressing with linear
// probing, kept at most half full. Chunks alive are few and their sets are
// reused, so testing a key against each of them costs a few nanoseconds and
// nothing is ever deleted key by key.
type hashSet struct {
	slots []uint64 // 0 marks an empty slot
	mask  uint64
}

// reset empties the set and sizes it for n keys.
func (s *hashSet) reset(n int) {
	size := 1 << bits.Len(uint(2*n)) // at least 2n slots, a power of two
	if cap(s.slots) >= size {
		s.slots = s.slots[:size]
		clear(s.slots)
	} else {
		s.slots = make([]uint64, size)
	}
	s.mask = uint64(size - 1)
}

// add puts h in the set.
func (s *hashSet) add(h uint64) {
	h = nonzero(h)
	for i := h & s.mask; ; i = (i + 1) & s.mask {
		switch s.slots[i] {
		case h:
			return
		case 0:
			s.slots[i] = h
			return
		}
	}
}

// has reports whether h is in the set.
func (s *hashSet) has(h uint64) bool {
	if len(s.slots) == 0 {
		return false
	}
	h = nonzero(h)
	for i := h & s.mask; ; i = (i + 1) & s.mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

// nonzero maps the hash 0, which marks empty slots, to 1: at worst two keys
// then share a hash, which only makes one chunk wait when it need not.
func nonzero(h uint64) uint64 { return h | uint64(b2u(h == 0)) }

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

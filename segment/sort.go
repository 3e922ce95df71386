package segment

import "slices"

// Memberships reach ten million ids, and a slice grown by append copies
// its contents about five times over on the way (large slices grow by a
// quarter each time) and leaves the old arrays as garbage. The types here
// store values in fixed blocks instead, so growing never copies.

// list is an append-only sequence in blocks that double in size up to
// maxBlock, so a small list stays small.
type list[T any] struct {
	blocks [][]T
	n      int
}

const (
	blockBits = 16
	maxBlock  = 1 << blockBits
)

func (l *list[T]) add(v T) {
	k := len(l.blocks)
	if k == 0 || len(l.blocks[k-1]) == cap(l.blocks[k-1]) {
		size := maxBlock
		if k < 10 {
			size = min(64<<k, maxBlock)
		}
		l.blocks = append(l.blocks, make([]T, 0, size))
		k++
	}
	l.blocks[k-1] = append(l.blocks[k-1], v)
	l.n++
}

// slice returns the values in one slice of exactly their length.
func (l *list[T]) slice() []T {
	if l.n == 0 {
		return nil
	}
	out := make([]T, 0, l.n)
	for _, b := range l.blocks {
		out = append(out, b...)
	}
	return out
}

// nums is a sequence of uint64 in blocks of exactly maxBlock values, so
// position i is blocks[i/maxBlock][i%maxBlock] and a radix sort can
// scatter into it.
type nums struct {
	blocks [][]uint64
	n      int
}

func (s *nums) add(v uint64) {
	k := s.n / maxBlock
	if k == len(s.blocks) {
		s.blocks = append(s.blocks, make([]uint64, maxBlock))
	}
	s.blocks[k][s.n%maxBlock] = v
	s.n++
}

// at returns the value at position i.
func (s *nums) at(i int) uint64 { return s.blocks[i>>blockBits][i&(maxBlock-1)] }

// firstDup returns a value that appears twice in a row, if any: in sorted
// numbers, a duplicate.
func (s *nums) firstDup() (uint64, bool) {
	first := true
	var last uint64
	var dup uint64
	found := false
	s.each(func(b []uint64) {
		for _, v := range b {
			if found {
				return
			}
			if !first && v == last {
				dup, found = v, true
				return
			}
			last, first = v, false
		}
	})
	return dup, found
}

// reset empties s, keeping its blocks for reuse.
func (s *nums) reset() { s.n = 0 }

// ensure gives s room for n values.
func (s *nums) ensure(n int) {
	for len(s.blocks)*maxBlock < n {
		s.blocks = append(s.blocks, make([]uint64, maxBlock))
	}
}

// each calls f with the filled part of every block in order.
func (s *nums) each(f func([]uint64)) {
	left := s.n
	for _, b := range s.blocks {
		if left <= 0 {
			return
		}
		if left < len(b) {
			b = b[:left]
		}
		f(b)
		left -= len(b)
	}
}

func (s *nums) sorted() bool {
	ok, first := true, true
	var last uint64
	s.each(func(b []uint64) {
		if !ok || len(b) == 0 {
			return
		}
		if !first && b[0] < last || !slices.IsSorted(b) {
			ok = false
		}
		last, first = b[len(b)-1], false
	})
	return ok
}

// radixSort sorts src ascending using scratch, which it grows as needed,
// and returns whichever of the two holds the result; the other is free.
// It goes least significant byte first and skips bytes that are the same
// in every value, which for Shopify ids (about 2^43) leaves five or six
// passes over the data.
func radixSort(src, scratch *nums) (sorted, free *nums) {
	n := src.n
	if n <= 1 || src.sorted() {
		return src, scratch
	}
	if n <= maxBlock {
		slices.Sort(src.blocks[0][:n])
		return src, scratch
	}
	var counts [8][256]uint
	src.each(func(b []uint64) {
		for _, v := range b {
			counts[0][byte(v)]++
			counts[1][byte(v>>8)]++
			counts[2][byte(v>>16)]++
			counts[3][byte(v>>24)]++
			counts[4][byte(v>>32)]++
			counts[5][byte(v>>40)]++
			counts[6][byte(v>>48)]++
			counts[7][byte(v>>56)]++
		}
	})
	scratch.ensure(n)
	scratch.n = n
	first := src.blocks[0][0]
	for pass := range 8 {
		shift := uint(8 * pass)
		c := &counts[pass]
		if c[byte(first>>shift)] == uint(n) {
			continue // every value has the same byte here
		}
		var sum uint
		for i, k := range c {
			c[i] = sum
			sum += k
		}
		dst := scratch.blocks
		src.each(func(b []uint64) {
			for _, v := range b {
				d := byte(v >> shift)
				p := c[d]
				dst[p>>blockBits][p&(maxBlock-1)] = v
				c[d] = p + 1
			}
		})
		src, scratch = scratch, src
	}
	return src, scratch
}

package segment

import (
	"iter"
	"slices"
	"strconv"

	"github.com/shopcrm/shopcrm/tagging"
)

// Delta is the difference between a previous and a current membership.
type Delta struct {
	Joined    []ID // in current only, ascending: they gain the segment tag
	Left      []ID // in previous only, ascending: they lose it
	Unchanged int  // in both
}

// Changes turns d into tag changes: add tag to every joined customer, then
// remove it from every leaver. Sync is a mirror, so leavers always lose the
// tag. The tag is written as given; definitions check theirs, and
// [CheckTag] checks any other.
func (d Delta) Changes(tag string) []tagging.Change {
	n := len(d.Joined) + len(d.Left)
	out := make([]tagging.Change, 0, n)
	// One backing array, a one-element window per change: no change can
	// see another's tag list, at the cost of a single allocation.
	tags := make([]string, n)
	for i := range tags {
		tags[i] = tag
	}
	for i, id := range d.Joined {
		out = append(out, tagging.Change{ID: id.GID(), Add: tags[i : i+1 : i+1]})
	}
	for i, id := range d.Left {
		k := len(d.Joined) + i
		out = append(out, tagging.Change{ID: id.GID(), Remove: tags[k : k+1 : k+1]})
	}
	return out
}

// CheckTag reports, as a [*TagError], why tag cannot be a segment tag: empty,
// surrounding spaces, a comma, a control character, invalid UTF-8, or more
// than [MaxTagLength] characters.
func CheckTag(tag string) error { return checkTag(tag) }

// Move is one entry of a streaming diff: a customer who joined (in current
// only) or left (in previous only).
type Move struct {
	ID     ID
	Joined bool // false: left
}

// Change returns the tag change for m: add tag when m joined, remove it
// when m left. The tag is written as given (see [CheckTag]).
func (m Move) Change(tag string) tagging.Change {
	if m.Joined {
		return tagging.Change{ID: m.ID.GID(), Add: []string{tag}}
	}
	return tagging.Change{ID: m.ID.GID(), Remove: []string{tag}}
}

// IDs returns ids as a sequence for [Diff] and [DiffSorted].
func IDs(ids []ID) iter.Seq2[ID, error] {
	return func(yield func(ID, error) bool) {
		for _, id := range ids {
			if !yield(id, nil) {
				return
			}
		}
	}
}

// ParseIDs parses each string of gids with [ParseID] as an id of kind k. It
// yields the first failure as an error and stops there.
func ParseIDs(k Kind, gids iter.Seq[string]) iter.Seq2[ID, error] {
	return func(yield func(ID, error) bool) {
		for s := range gids {
			id, err := ParseID(s, k)
			if !yield(id, err) || err != nil {
				return
			}
		}
	}
}

// seqCheck checks one side of a diff: valid ids, one kind shared by both
// sides, and, for sorted input, strictly ascending.
type seqCheck struct {
	input  string
	sorted bool
	kind   *Kind // shared between the two sides
	n      int
	last   ID
}

func (s *seqCheck) check(id ID) error {
	i := s.n
	s.n++
	if !id.Kind.valid() || id.Num <= 0 {
		return &IDError{Input: id.String(), Reason: "invalid id in " + s.input + " at index " + strconv.Itoa(i)}
	}
	if *s.kind == 0 {
		*s.kind = id.Kind
	} else if id.Kind != *s.kind {
		return &SequenceError{Input: s.input, Index: i, Prev: ID{Kind: *s.kind}, ID: id, Problem: MixedKinds}
	}
	if s.sorted && i > 0 {
		switch c := s.last.Compare(id); {
		case c == 0:
			return &SequenceError{Input: s.input, Index: i, Prev: s.last, ID: id, Problem: Duplicate}
		case c > 0:
			return &SequenceError{Input: s.input, Index: i, Prev: s.last, ID: id, Problem: OutOfOrder}
		}
	}
	s.last = id
	return nil
}

// DiffSorted compares prev and cur, both strictly ascending by id, in
// constant memory, yielding each move as soon as it is known: leavers and
// joiners interleaved in id order. An id out of order, a duplicate, ids of
// two resource types, an invalid id or an error from either input is
// yielded as the error and ends the sequence; moves yielded before it are
// correct but the diff is incomplete, so stop applying them.
func DiffSorted(prev, cur iter.Seq2[ID, error]) iter.Seq2[Move, error] {
	return func(yield func(Move, error) bool) {
		var kind Kind
		pc := seqCheck{input: "previous", sorted: true, kind: &kind}
		cc := seqCheck{input: "current", sorted: true, kind: &kind}
		next, stop := iter.Pull2(prev)
		defer stop()
		var p ID
		var pok bool
		advance := func() error {
			id, err, ok := next()
			if !ok {
				pok = false
				return nil
			}
			if err == nil {
				err = pc.check(id)
			}
			p, pok = id, err == nil
			return err
		}
		if err := advance(); err != nil {
			yield(Move{}, err)
			return
		}
		for c, err := range cur {
			if err == nil {
				err = cc.check(c)
			}
			if err != nil {
				yield(Move{}, err)
				return
			}
			for pok && p.Compare(c) < 0 {
				if !yield(Move{ID: p}, nil) {
					return
				}
				if err := advance(); err != nil {
					yield(Move{}, err)
					return
				}
			}
			if pok && p == c {
				if err := advance(); err != nil {
					yield(Move{}, err)
					return
				}
				continue
			}
			if !yield(Move{ID: c, Joined: true}, nil) {
				return
			}
		}
		for pok {
			if !yield(Move{ID: p}, nil) {
				return
			}
			if err := advance(); err != nil {
				yield(Move{}, err)
				return
			}
		}
	}
}

// Diff compares prev and cur given in any order. It holds both sides in
// memory as 8 bytes per id and sorts them with a radix sort, which is
// several times faster than a hash set of GID strings and a fraction of
// its memory. Joined and Left come out ascending.
//
// A duplicate within one side, ids of two resource types, an invalid id
// or an error from either input is returned as the error.
func Diff(prev, cur iter.Seq2[ID, error]) (Delta, error) {
	var kind Kind
	a, err := collect(prev, &seqCheck{input: "previous", kind: &kind})
	if err != nil {
		return Delta{}, err
	}
	b, err := collect(cur, &seqCheck{input: "current", kind: &kind})
	if err != nil {
		return Delta{}, err
	}
	buf := make([]uint64, max(len(a), len(b)))
	radixSort(a, buf)
	radixSort(b, buf)
	buf = nil
	for _, side := range []struct {
		name string
		v    []uint64
	}{{"previous", a}, {"current", b}} {
		for i := 1; i < len(side.v); i++ {
			if side.v[i] == side.v[i-1] {
				id := ID{Kind: kind, Num: int64(side.v[i])}
				return Delta{}, &SequenceError{Input: side.name, Index: -1, Prev: id, ID: id, Problem: Duplicate}
			}
		}
	}
	return mergeNums(kind, a, b), nil
}

// collect reads ids into numbers; the shared kind is checked as it goes.
func collect(seq iter.Seq2[ID, error], chk *seqCheck) ([]uint64, error) {
	var out []uint64
	for id, err := range seq {
		if err == nil {
			err = chk.check(id)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, uint64(id.Num))
	}
	return out, nil
}

// mergeNums diffs two ascending, duplicate-free lists of numbers of kind k.
func mergeNums(k Kind, a, b []uint64) Delta {
	var d Delta
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			d.Left = append(d.Left, ID{Kind: k, Num: int64(a[i])})
			i++
		case a[i] > b[j]:
			d.Joined = append(d.Joined, ID{Kind: k, Num: int64(b[j])})
			j++
		default:
			d.Unchanged++
			i++
			j++
		}
	}
	for ; i < len(a); i++ {
		d.Left = append(d.Left, ID{Kind: k, Num: int64(a[i])})
	}
	for ; j < len(b); j++ {
		d.Joined = append(d.Joined, ID{Kind: k, Num: int64(b[j])})
	}
	return d
}

// diffIDs diffs two ascending, duplicate-free id slices.
func diffIDs(prev, cur []ID) Delta {
	var d Delta
	i, j := 0, 0
	for i < len(prev) && j < len(cur) {
		switch c := prev[i].Compare(cur[j]); {
		case c < 0:
			d.Left = append(d.Left, prev[i])
			i++
		case c > 0:
			d.Joined = append(d.Joined, cur[j])
			j++
		default:
			d.Unchanged++
			i++
			j++
		}
	}
	d.Left = append(d.Left, prev[i:]...)
	d.Joined = append(d.Joined, cur[j:]...)
	return d
}

// checkSorted reports the first id of ids that is invalid, out of order or a
// duplicate, as the error for a sequence named input.
func checkSorted(input string, ids []ID) error {
	var kind Kind
	chk := seqCheck{input: input, sorted: true, kind: &kind}
	for _, id := range ids {
		if err := chk.check(id); err != nil {
			return err
		}
	}
	return nil
}

// radixSort sorts a ascending using buf (at least len(a) long) as scratch:
// least significant byte first, skipping bytes that are the same in every
// number, which for Shopify ids (about 2^43) leaves five or six passes.
func radixSort(a, buf []uint64) {
	n := len(a)
	if n < 256 {
		slices.Sort(a)
		return
	}
	if slices.IsSorted(a) {
		return
	}
	var counts [8][256]int
	for _, v := range a {
		counts[0][byte(v)]++
		counts[1][byte(v>>8)]++
		counts[2][byte(v>>16)]++
		counts[3][byte(v>>24)]++
		counts[4][byte(v>>32)]++
		counts[5][byte(v>>40)]++
		counts[6][byte(v>>48)]++
		counts[7][byte(v>>56)]++
	}
	src, dst := a, buf[:n]
	for pass := range 8 {
		shift := uint(8 * pass)
		c := &counts[pass]
		if c[byte(src[0]>>shift)] == n {
			continue
		}
		sum := 0
		for i, k := range c {
			c[i] = sum
			sum += k
		}
		for _, v := range src {
			b := byte(v >> shift)
			dst[c[b]] = v
			c[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

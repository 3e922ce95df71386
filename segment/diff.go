package segment

import (
	"iter"
	"slices"
	"strconv"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/tagging"
)

// Delta is the difference between a previous and a current membership.
type Delta struct {
	Joined    []gid.ID // in current only, ascending: they gain the segment tag
	Left      []gid.ID // in previous only, ascending: they lose it
	Unchanged int      // in both
}

// Changes turns d into tag changes: add tag to every joined customer, then
// remove it from every leaver. Sync is a mirror, so leavers always lose the
// tag. The tag is written as given; definitions check theirs, and
// [tagging.Check] checks any other.
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
		out = append(out, tagging.Change{ID: id.String(), Add: tags[i : i+1 : i+1]})
	}
	for i, id := range d.Left {
		k := len(d.Joined) + i
		out = append(out, tagging.Change{ID: id.String(), Remove: tags[k : k+1 : k+1]})
	}
	return out
}

// Move is one entry of a streaming diff: a customer who joined (in current
// only) or left (in previous only).
type Move struct {
	ID     gid.ID
	Joined bool // false: left
}

// Change returns the tag change for m: add tag when m joined, remove it
// when m left. The tag is written as given (see [tagging.Check]).
func (m Move) Change(tag string) tagging.Change {
	if m.Joined {
		return tagging.Change{ID: m.ID.String(), Add: []string{tag}}
	}
	return tagging.Change{ID: m.ID.String(), Remove: []string{tag}}
}

// IDs returns ids as a sequence for [Diff] and [DiffSorted].
func IDs(ids []gid.ID) iter.Seq2[gid.ID, error] {
	return func(yield func(gid.ID, error) bool) {
		for _, id := range ids {
			if !yield(id, nil) {
				return
			}
		}
	}
}

// ParseIDs parses each string of gids with [gid.ParseAs] as an id of type
// t. It yields the first failure as an error and stops there.
func ParseIDs(t gid.Type, gids iter.Seq[string]) iter.Seq2[gid.ID, error] {
	return func(yield func(gid.ID, error) bool) {
		for s := range gids {
			id, err := gid.ParseAs(s, t)
			if !yield(id, err) || err != nil {
				return
			}
		}
	}
}

// seqCheck checks one side of a diff: valid ids, one type shared by both
// sides, and, for sorted input, strictly ascending.
type seqCheck struct {
	input  string
	sorted bool
	typ    *gid.Type // shared between the two sides
	n      int
	last   gid.ID
}

func (s *seqCheck) check(id gid.ID) error {
	i := s.n
	s.n++
	// The type is checked in full once, for the first id: the others
	// must equal it, and then numbers alone order them.
	same := id.Type == *s.typ
	if id.Num <= 0 || !same && !id.Type.Valid() {
		return &gid.Error{Input: id.String(), Reason: "invalid id in " + s.input + " at index " + strconv.Itoa(i)}
	}
	if !same {
		if *s.typ != 0 {
			return &SequenceError{Input: s.input, Index: i, Prev: gid.ID{Type: *s.typ}, ID: id, Problem: MixedTypes}
		}
		*s.typ = id.Type
	}
	if s.sorted && i > 0 {
		switch {
		case s.last.Num == id.Num:
			return &SequenceError{Input: s.input, Index: i, Prev: s.last, ID: id, Problem: Duplicate}
		case s.last.Num > id.Num:
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
func DiffSorted(prev, cur iter.Seq2[gid.ID, error]) iter.Seq2[Move, error] {
	return diffSorted(prev, cur, diffSides)
}

// sides names the two inputs of a diff in its errors.
type sides struct{ prev, cur string }

// diffSides are the names of [Diff]'s and [DiffSorted]'s inputs.
var diffSides = sides{prev: "previous", cur: "current"}

// diffSorted is DiffSorted with the inputs named in errors as names says.
func diffSorted(prev, cur iter.Seq2[gid.ID, error], names sides) iter.Seq2[Move, error] {
	return func(yield func(Move, error) bool) {
		var typ gid.Type
		pc := seqCheck{input: names.prev, sorted: true, typ: &typ}
		cc := seqCheck{input: names.cur, sorted: true, typ: &typ}
		next, stop := iter.Pull2(batches(prev))
		defer stop()
		pp := puller{next: next, check: &pc}
		p, pok, err := pp.get()
		if err != nil {
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
			// Both sides are checked to hold one type: numbers decide.
			for pok && p.Num < c.Num {
				if !yield(Move{ID: p}, nil) {
					return
				}
				if p, pok, err = pp.get(); err != nil {
					yield(Move{}, err)
					return
				}
			}
			if pok && p.Num == c.Num {
				if p, pok, err = pp.get(); err != nil {
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
			if p, pok, err = pp.get(); err != nil {
				yield(Move{}, err)
				return
			}
		}
	}
}

// batchSize is how many ids cross from the pulled sequence at a time.
const batchSize = 1024

// batches groups seq into slices of up to batchSize ids, reusing one
// buffer: the consumer is done with a batch when it asks for the next. An
// error comes after the ids before it.
func batches(seq iter.Seq2[gid.ID, error]) iter.Seq2[[]gid.ID, error] {
	return func(yield func([]gid.ID, error) bool) {
		buf := make([]gid.ID, 0, batchSize)
		for id, err := range seq {
			if err != nil {
				if len(buf) > 0 && !yield(buf, nil) {
					return
				}
				yield(nil, err)
				return
			}
			buf = append(buf, id)
			if len(buf) == batchSize {
				if !yield(buf, nil) {
					return
				}
				buf = buf[:0]
			}
		}
		if len(buf) > 0 {
			yield(buf, nil)
		}
	}
}

// puller reads pulled batches one id at a time. Pulling through
// iter.Pull2 costs two coroutine switches, several times the rest of the
// work per id; batching pays them once per batchSize ids.
type puller struct {
	next  func() ([]gid.ID, error, bool)
	check *seqCheck
	batch []gid.ID
	i     int
	done  bool
}

// get returns the next checked id, false at the end, or the error that
// ends the sequence.
func (p *puller) get() (gid.ID, bool, error) {
	for p.i >= len(p.batch) {
		if p.done {
			return gid.ID{}, false, nil
		}
		b, err, ok := p.next()
		if !ok || err != nil {
			p.done = true
			return gid.ID{}, false, err
		}
		p.batch, p.i = b, 0
	}
	id := p.batch[p.i]
	p.i++
	if err := p.check.check(id); err != nil {
		p.done = true
		return gid.ID{}, false, err
	}
	return id, true, nil
}

// Diff compares prev and cur given in any order. It radix-sorts the
// previous ids, 8 bytes each in blocks that never need copying, then reads
// the current ids in large chunks, sorting each and walking it along the
// previous ones: several times faster than a hash set of GID strings, in
// about two thirds of the memory of sorting both sides whole. Joined and
// Left come out ascending.
//
// A duplicate within one side, ids of two resource types, an invalid id
// or an error from either input is returned as the error.
func Diff(prev, cur iter.Seq2[gid.ID, error]) (Delta, error) {
	return diffChunked(prev, cur, minChunk, diffSides)
}

// diffChunked is Diff with the smallest chunk as a parameter, so tests can
// cross chunk boundaries with few ids, and the inputs named in errors as
// names says.
func diffChunked(prev, cur iter.Seq2[gid.ID, error], minChunk int, names sides) (Delta, error) {
	var typ gid.Type
	var a, scratch nums
	if err := collect(prev, &seqCheck{input: names.prev, typ: &typ}, &a); err != nil {
		return Delta{}, err
	}
	p, free := radixSort(&a, &scratch)
	if v, ok := p.firstDup(); ok {
		return Delta{}, dupErr(names.prev, typ, v)
	}

	// The block set the sort left free holds each chunk and its scratch.
	w := walker{prev: p, found: make([]uint64, (p.n+63)/64)}
	half := len(free.blocks) / 2
	chunk := nums{blocks: free.blocks[:half:half]}
	chunkScratch := nums{blocks: free.blocks[half:len(free.blocks):len(free.blocks)]}
	limit := max(half*maxBlock, minChunk)
	chk := seqCheck{input: names.cur, typ: &typ}
	for id, err := range cur {
		if err == nil {
			err = chk.check(id)
		}
		if err != nil {
			return Delta{}, err
		}
		chunk.add(uint64(id.Num))
		if chunk.n == limit {
			if v, dup := w.walk(&chunk, &chunkScratch); dup {
				return Delta{}, dupErr(names.cur, typ, v)
			}
		}
	}
	if v, dup := w.walk(&chunk, &chunkScratch); dup {
		return Delta{}, dupErr(names.cur, typ, v)
	}
	return w.delta(typ, names.cur)
}

// minChunk is the smallest chunk of current ids Diff sorts at a time, for
// when there are few previous ids to make room.
const minChunk = 16 * maxBlock

// collect reads ids into numbers; the shared type is checked as it goes.
func collect(seq iter.Seq2[gid.ID, error], chk *seqCheck, out *nums) error {
	for id, err := range seq {
		if err == nil {
			err = chk.check(id)
		}
		if err != nil {
			return err
		}
		out.add(uint64(id.Num))
	}
	return nil
}

func dupErr(input string, k gid.Type, v uint64) error {
	id := gid.ID{Type: k, Num: int64(v)}
	return &SequenceError{Input: input, Index: -1, Prev: id, ID: id, Problem: Duplicate}
}

// walker matches sorted chunks of current ids against the sorted previous
// ids, marking the previous ids it finds.
type walker struct {
	prev   *nums
	found  []uint64 // a bit per previous id
	joined list[uint64]
}

// walk sorts chunk and matches it, then empties chunk and scratch for the
// next one. It reports a current id seen twice.
func (w *walker) walk(chunk, scratch *nums) (dup uint64, found bool) {
	if chunk.n == 0 {
		return 0, false
	}
	sorted, _ := radixSort(chunk, scratch)
	j, n := 0, w.prev.n
	var last uint64 // ids are positive, so no id equals the initial 0
	sorted.each(func(b []uint64) {
		for _, x := range b {
			if found {
				return
			}
			if x == last {
				dup, found = x, true
				return
			}
			last = x
			for j < n && w.prev.at(j) < x {
				j++
			}
			if j < n && w.prev.at(j) == x {
				if w.found[j/64]&(1<<(j%64)) != 0 {
					dup, found = x, true
					return
				}
				w.found[j/64] |= 1 << (j % 64)
				continue
			}
			w.joined.add(x)
		}
	})
	chunk.reset()
	scratch.reset()
	return dup, found
}

// delta finishes the diff: joined ids from different chunks are sorted
// together (a duplicate across chunks shows up here), leavers are the
// previous ids never found.
func (w *walker) delta(k gid.Type, cur string) (Delta, error) {
	joined := w.joined.slice()
	slices.Sort(joined)
	var d Delta
	if len(joined) > 0 {
		d.Joined = make([]gid.ID, len(joined))
	}
	for i, v := range joined {
		if i > 0 && v == joined[i-1] {
			return Delta{}, dupErr(cur, k, v)
		}
		d.Joined[i] = gid.ID{Type: k, Num: int64(v)}
	}
	var left list[gid.ID]
	for j := range w.prev.n {
		if w.found[j/64]&(1<<(j%64)) == 0 {
			left.add(gid.ID{Type: k, Num: int64(w.prev.at(j))})
		} else {
			d.Unchanged++
		}
	}
	d.Left = left.slice()
	return d, nil
}

// diffIDs diffs two ascending, duplicate-free id slices.
func diffIDs(prev, cur []gid.ID) Delta {
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
func checkSorted(input string, ids []gid.ID) error {
	var typ gid.Type
	chk := seqCheck{input: input, sorted: true, typ: &typ}
	for _, id := range ids {
		if err := chk.check(id); err != nil {
			return err
		}
	}
	return nil
}

package segment

import (
	"errors"
	"iter"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/tagging"
)

// diffBoth runs Diff and DiffSorted (on sorted copies) and checks they
// agree before returning Diff's answer.
func diffBoth(t *testing.T, prev, cur []gid.ID) Delta {
	t.Helper()
	d, err := Diff(IDs(prev), IDs(cur))
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	sp, sc := slices.Clone(prev), slices.Clone(cur)
	slices.SortFunc(sp, gid.ID.Compare)
	slices.SortFunc(sc, gid.ID.Compare)
	var s Delta
	for m, err := range DiffSorted(IDs(sp), IDs(sc)) {
		if err != nil {
			t.Fatalf("DiffSorted: %v", err)
		}
		if m.Joined {
			s.Joined = append(s.Joined, m.ID)
		} else {
			s.Left = append(s.Left, m.ID)
		}
	}
	s.Unchanged = len(cur) - len(s.Joined)
	diff(t, "DiffSorted vs Diff", d, s)
	return d
}

func TestDiff(t *testing.T) {
	cases := []struct {
		name      string
		prev, cur []gid.ID
		want      Delta
	}{
		{"both empty", nil, nil, Delta{}},
		{"first run", nil, cids(3, 1, 2), Delta{Joined: cids(1, 2, 3)}},
		{"everyone left", cids(2, 1), nil, Delta{Left: cids(1, 2)}},
		{"no change", cids(5, 9, 10), cids(10, 5, 9), Delta{Unchanged: 3}},
		{"churn", cids(1, 2, 3, 4), cids(3, 4, 5, 6), Delta{Joined: cids(5, 6), Left: cids(1, 2), Unchanged: 2}},
		{"numeric not lexical", cids(9, 100), cids(10, 100), Delta{Joined: cids(10), Left: cids(9), Unchanged: 1}},
		{"interleaved", cids(1, 3, 5, 7), cids(2, 3, 6, 7, 8), Delta{Joined: cids(2, 6, 8), Left: cids(1, 5), Unchanged: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			diff(t, "Delta", tc.want, diffBoth(t, tc.prev, tc.cur))
		})
	}
}

func TestDiffLarge(t *testing.T) {
	// Enough ids for the radix sort path (over a block), with values spread over
	// every byte, including ids near the int64 limit.
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[int64]bool{}
	var all []gid.ID
	for len(all) < 2*maxBlock+300 {
		n := r.Int64N(1<<63-1) + 1
		if len(all)%10 == 0 {
			n = r.Int64N(1<<20) + 1
		}
		if !seen[n] {
			seen[n] = true
			all = append(all, cid(n))
		}
	}
	third := len(all) / 3
	prev, cur := all[:2*third], all[third:]
	got := diffBoth(t, prev, cur)
	want := Delta{Joined: slices.Clone(all[2*third:]), Left: slices.Clone(all[:third]), Unchanged: third}
	slices.SortFunc(want.Joined, gid.ID.Compare)
	slices.SortFunc(want.Left, gid.ID.Compare)
	diff(t, "Delta", want, got)
	// Chunks as large as the sort of the previous ids leaves room for:
	// here, a block, so the current ids take two chunks.
	chunked, err := diffChunked(IDs(prev), IDs(cur), 1, diffSides)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "Delta in block-sized chunks", want, chunked)
}

func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// Sizes around the block size take both the one-block and the radix
	// path; the masks leave some bytes constant, which passes skip.
	for _, n := range []int{0, 1, 255, maxBlock, maxBlock + 1, 3*maxBlock + 17} {
		for _, mask := range []uint64{1<<63 - 1, 1<<43 - 1, 0xff00ff00} {
			var src, scratch nums
			want := make([]uint64, n)
			for i := range want {
				want[i] = r.Uint64() & mask
				src.add(want[i])
			}
			slices.Sort(want)
			sorted, free := radixSort(&src, &scratch)
			if sorted == free {
				t.Fatal("result and free space are the same")
			}
			var got []uint64
			sorted.each(func(b []uint64) { got = append(got, b...) })
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d mask=%x: not sorted", n, mask)
			}
		}
	}
}

func TestList(t *testing.T) {
	var l list[int]
	var want []int
	for i := range 100_000 {
		l.add(i)
		want = append(want, i)
	}
	if got := l.slice(); !slices.Equal(got, want) || cap(got) != len(want) {
		t.Errorf("slice: len %d cap %d", len(got), cap(got))
	}
	var empty list[int]
	if empty.slice() != nil {
		t.Error("empty list gives a non-nil slice")
	}
}

// TestDiffProperty: for random small memberships, applying the diff to the
// previous members gives the current ones, and the counts add up.
func TestDiffProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for iter := range 500 {
		universe := r.IntN(40) + 1
		var prev, cur []gid.ID
		for n := 1; n <= universe; n++ {
			if r.IntN(2) == 0 {
				prev = append(prev, cid(int64(n*7)))
			}
			if r.IntN(2) == 0 {
				cur = append(cur, cid(int64(n*7)))
			}
		}
		r.Shuffle(len(prev), func(i, j int) { prev[i], prev[j] = prev[j], prev[i] })
		r.Shuffle(len(cur), func(i, j int) { cur[i], cur[j] = cur[j], cur[i] })
		d := diffBoth(t, prev, cur)

		set := map[gid.ID]bool{}
		for _, id := range prev {
			set[id] = true
		}
		for _, ch := range d.Changes("seg") {
			id, err := gid.ParseAs(ch.ID, gid.Customer)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case slices.Equal(ch.Add, []string{"seg"}) && ch.Remove == nil:
				if set[id] {
					t.Fatalf("iteration %d: %v joined but was a member", iter, id)
				}
				set[id] = true
			case slices.Equal(ch.Remove, []string{"seg"}) && ch.Add == nil:
				if !set[id] {
					t.Fatalf("iteration %d: %v left but was not a member", iter, id)
				}
				delete(set, id)
			default:
				t.Fatalf("unexpected change %+v", ch)
			}
		}
		var got []gid.ID
		for id := range set {
			got = append(got, id)
		}
		slices.SortFunc(got, gid.ID.Compare)
		want := slices.Clone(cur)
		slices.SortFunc(want, gid.ID.Compare)
		diff(t, "applied diff vs current (iteration "+strconv.Itoa(iter)+")", want, got)
		if d.Unchanged+len(d.Left) != len(prev) || d.Unchanged+len(d.Joined) != len(cur) {
			t.Fatalf("counts do not add up: %+v for %d -> %d", d, len(prev), len(cur))
		}
		// applyMoves, which commits use, agrees too.
		sp := slices.Clone(prev)
		slices.SortFunc(sp, gid.ID.Compare)
		diff(t, "applyMoves", want, applyMoves(sp, slices.Clone(d.Joined), slices.Clone(d.Left)))
	}
}

func TestDeltaChanges(t *testing.T) {
	d := Delta{Joined: cids(1, 2), Left: cids(3)}
	got := d.Changes("ecp-first")
	want := []tagging.Change{
		{ID: "gid://shopify/Customer/1", Add: []string{"ecp-first"}},
		{ID: "gid://shopify/Customer/2", Add: []string{"ecp-first"}},
		{ID: "gid://shopify/Customer/3", Remove: []string{"ecp-first"}},
	}
	diff(t, "changes", want, got)
	// Changes do not share tag lists.
	got[0].Add = append(got[0].Add, "x")
	got[0].Add[0] = "changed"
	if got[1].Add[0] != "ecp-first" {
		t.Error("changes share a tag list")
	}
	diff(t, "move changes", want[2], Move{ID: cid(3)}.Change("ecp-first"))
	diff(t, "move changes", want[0], Move{ID: cid(1), Joined: true}.Change("ecp-first"))
}

func seqErr(ids []gid.ID, at int, err error) iter.Seq2[gid.ID, error] {
	return func(yield func(gid.ID, error) bool) {
		for i, id := range ids {
			if i == at {
				yield(gid.ID{}, err)
				return
			}
			if !yield(id, nil) {
				return
			}
		}
	}
}

func TestDiffErrors(t *testing.T) {
	boom := errors.New("source failed")
	cases := []struct {
		name      string
		prev, cur iter.Seq2[gid.ID, error]
		sortedErr func(error) bool // DiffSorted
		anyErr    func(error) bool // Diff; nil when Diff accepts the input
	}{
		{"out of order", IDs(cids(1, 3, 2)), IDs(nil), seqIs("previous", 2, OutOfOrder), nil},
		{"duplicate", IDs(nil), IDs(cids(1, 2, 2)), seqIs("current", 2, Duplicate), seqIs("current", -1, Duplicate)},
		{"mixed types within a side", IDs([]gid.ID{cid(1), oid(2)}), IDs(nil), seqIs("previous", 1, MixedTypes), seqIs("previous", 1, MixedTypes)},
		{"mixed types across sides", IDs(cids(1)), IDs([]gid.ID{oid(2)}), seqIs("current", 0, MixedTypes), seqIs("current", 0, MixedTypes)},
		{"invalid id", IDs([]gid.ID{{}}), IDs(nil), isIDError, isIDError},
		{"source error in previous", seqErr(cids(1, 2, 3), 1, boom), IDs(cids(1)), is(boom), is(boom)},
		{"source error in current", IDs(cids(1)), seqErr(cids(1, 2, 3), 2, boom), is(boom), is(boom)},
		{"parse error", IDs(nil), ParseIDs(gid.Customer, slices.Values([]string{"1", "gid://shopify/Order/2"})), isIDError, isIDError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			for _, e := range DiffSorted(tc.prev, tc.cur) {
				if e != nil {
					err = e
				}
			}
			if !tc.sortedErr(err) {
				t.Errorf("DiffSorted error = %v", err)
			}
			_, err = Diff(tc.prev, tc.cur)
			if tc.anyErr == nil {
				if err != nil {
					t.Errorf("Diff error = %v, want nil", err)
				}
			} else if !tc.anyErr(err) {
				t.Errorf("Diff error = %v", err)
			}
		})
	}
}

func seqIs(input string, index int, p Problem) func(error) bool {
	return func(err error) bool {
		var se *SequenceError
		return errors.As(err, &se) && se.Input == input && se.Index == index && se.Problem == p && se.Error() != ""
	}
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func isIDError(err error) bool {
	var ie *gid.Error
	return errors.As(err, &ie)
}

func TestDiffSortedStopsEarly(t *testing.T) {
	n := 0
	for range DiffSorted(IDs(cids(1, 2, 3)), IDs(cids(4, 5))) {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("got %d moves before break", n)
	}
	var got []Move
	for m, err := range DiffSorted(IDs(cids(1, 4)), IDs(cids(2, 4, 6))) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	want := []Move{{cid(1), false}, {cid(2), true}, {cid(6), true}}
	diff(t, "moves in id order", want, got)
}

func TestParseIDs(t *testing.T) {
	var got []gid.ID
	for id, err := range ParseIDs(gid.Customer, slices.Values([]string{"gid://shopify/Customer/5", "6"})) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	diff(t, "ids", cids(5, 6), got)
}

// TestDiffAcrossBlocks checks errors and duplicates where the sorted diff
// reads previous ids in batches and the unsorted diff sorts in blocks.
func TestDiffAcrossBlocks(t *testing.T) {
	n := 3*batchSize + 10
	ids := make([]gid.ID, n)
	for i := range ids {
		ids[i] = cid(int64(i + 1))
	}
	boom := errors.New("source failed")
	for _, at := range []int{batchSize - 1, batchSize, 2*batchSize + 3} {
		var moves int
		var err error
		for _, e := range DiffSorted(seqErr(ids, at, boom), IDs(nil)) {
			if e != nil {
				err = e
				break
			}
			moves++
		}
		if !errors.Is(err, boom) || moves != at {
			t.Errorf("error at %d: %d moves then %v", at, moves, err)
		}
		unsorted := slices.Clone(ids)
		unsorted[at], unsorted[at+1] = unsorted[at+1], unsorted[at]
		err = nil
		for _, e := range DiffSorted(IDs(unsorted), IDs(nil)) {
			if e != nil {
				err = e
			}
		}
		if !seqIs("previous", at+1, OutOfOrder)(err) {
			t.Errorf("out of order at %d: %v", at+1, err)
		}
	}
	big := make([]gid.ID, 0, maxBlock+100)
	for i := range maxBlock + 99 {
		big = append(big, cid(int64(maxBlock+100-i)))
	}
	big = append(big, cid(7))
	if _, err := Diff(IDs(nil), IDs(big)); !seqIs("current", -1, Duplicate)(err) {
		t.Errorf("duplicate among %d unsorted ids: %v", len(big), err)
	}
}

func TestTagDeltaWithoutTagged(t *testing.T) {
	r := Report{Members: cids(1, 2), TaggedNonMembers: cids(3)}
	diff(t, "delta", Delta{Joined: cids(1, 2), Left: cids(3)}, r.TagDelta())
	r.Tagged = []bool{true}
	diff(t, "delta", Delta{Joined: cids(2), Left: cids(3), Unchanged: 1}, r.TagDelta())
}

// TestDiffChunks runs the unsorted diff with tiny chunks, so current ids
// cross many chunk boundaries, and checks it against the sorted diff.
func TestDiffChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for iter := range 50 {
		var prev, cur []gid.ID
		for n := int64(1); n <= 600; n++ {
			if r.IntN(3) > 0 {
				prev = append(prev, cid(n))
			}
			if r.IntN(3) > 0 {
				cur = append(cur, cid(n))
			}
		}
		r.Shuffle(len(cur), func(i, j int) { cur[i], cur[j] = cur[j], cur[i] })
		want := diffBoth(t, prev, cur)
		got, err := diffChunked(IDs(prev), IDs(cur), 1+r.IntN(64), diffSides)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "chunked diff (iteration "+strconv.Itoa(iter)+")", want, got)
	}
	// A duplicate current id, in prev or not, in the same chunk or not.
	for _, tc := range []struct {
		cur   []gid.ID
		chunk int
	}{
		{cids(5, 1, 5), 10}, {cids(5, 1, 5), 1}, {cids(9, 1, 9), 10}, {cids(9, 1, 9), 1}, {cids(9, 1, 9), 2},
	} {
		_, err := diffChunked(IDs(cids(1, 5)), IDs(tc.cur), tc.chunk, diffSides)
		if !seqIs("current", -1, Duplicate)(err) {
			t.Errorf("cur %v in chunks of %d: %v", tc.cur, tc.chunk, err)
		}
	}
	if _, err := diffChunked(IDs(cids(3, 1, 3)), IDs(nil), 1, diffSides); !seqIs("previous", -1, Duplicate)(err) {
		t.Errorf("duplicate previous id: %v", err)
	}
}

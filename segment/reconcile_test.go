package segment

import (
	"context"
	"errors"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/tagging"
)

// TestReconcileRemovesStrays is the regression test for tags no checkpoint
// knows of: customer 7 was tagged by hand, customer 9 by a run whose
// snapshot was lost. A diff against the snapshot never sees them; a
// reconciliation starts from who carries the tag and strips it.
func TestReconcileRemovesStrays(t *testing.T) {
	ctx := context.Background()
	shop := &fakeShop{tags: map[gid.ID][]string{
		cid(1): {"ecp-first", "line"},
		cid(2): {"ecp-first"},
		cid(3): {"vip"},
		cid(7): {"ECP-First", "vip"}, // by hand, in other case
		cid(9): {"ecp-first", "line"},
	}}
	store := &MemoryStore{}
	if err := store.Save(ctx, "first", Snapshot{Tag: "ecp-first", Members: cids(1, 2)}); err != nil {
		t.Fatal(err)
	}
	rep := &Report{Name: "first", Tag: "ecp-first", Members: cids(1, 2, 3)}

	plan, err := rep.Reconcile(ctx, store, IDs(shop.tagged("ecp-first")))
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "summary", Summary{Segment: "first", Tag: "ecp-first", Source: SourceCarriers,
		Previous: 4, Current: 3, Joined: 1, Left: 2, Unchanged: 2}, plan.Summary())
	diff(t, "changes", []tagging.Change{
		{ID: cid(3).String(), Add: []string{"ecp-first"}},
		{ID: cid(7).String(), Remove: []string{"ecp-first"}},
		{ID: cid(9).String(), Remove: []string{"ecp-first"}},
	}, plan.Changes())
	if err := plan.Commit(ctx, shop.apply(t, plan.Changes())); err != nil {
		t.Fatal(err)
	}
	diff(t, "carriers after the sync", rep.Members, shop.tagged("ecp-first"))
	diff(t, "other tags", map[gid.ID][]string{
		cid(1): {"ecp-first", "line"}, cid(2): {"ecp-first"}, cid(3): {"vip", "ecp-first"},
		cid(7): {"vip"}, cid(9): {"line"},
	}, shop.tags)

	// The snapshot now is the truth: the next daily diff has nothing to do.
	next, err := rep.FromSnapshot(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "next day", Delta{Unchanged: 3}, next.Delta)
}

// TestReconcileFirstRun: a new installation's first run, with strays
// already in the shop and one change failing. What failed comes back in
// the next daily diff.
func TestReconcileFirstRun(t *testing.T) {
	for _, store := range []Store{&MemoryStore{}, &FileStore{Dir: t.TempDir()}} {
		ctx := context.Background()
		shop := &fakeShop{tags: map[gid.ID][]string{cid(2): {"t"}, cid(5): {"t"}, cid(6): {"t", "x"}}}
		rep := &Report{Name: "s", Tag: "t", Members: cids(1, 2, 3)}
		plan, err := rep.Reconcile(ctx, store, IDs(cids(6, 2, 5))) // any order
		if err != nil {
			t.Fatal(err)
		}
		if !plan.FirstRun || plan.Source != SourceCarriers {
			t.Errorf("summary %v", plan.Summary())
		}
		if got, want := plan.Summary().String(), "s (tag t, carriers, first run): 3 -> 3 members, +2 -2, 1 unchanged"; got != want {
			t.Errorf("summary %q, want %q", got, want)
		}
		// Customer 3's join and 6's removal fail.
		if err := plan.Commit(ctx, shop.apply(t, plan.Changes(), 3, 6)); err != nil {
			t.Fatal(err)
		}
		snap, _, _ := store.Load(ctx, "s")
		diff(t, "snapshot", shop.tagged("t"), snap.Members)
		next, err := rep.FromSnapshot(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "retried", Delta{Joined: cids(3), Left: cids(6), Unchanged: 2}, next.Delta)
	}
}

func TestReconcileWithoutStore(t *testing.T) {
	rep := &Report{Name: "s", Tag: "t", Members: cids(1)}
	plan, err := rep.Reconcile(context.Background(), nil, IDs(cids(2)))
	if err != nil {
		t.Fatal(err)
	}
	if plan.FirstRun {
		t.Error("FirstRun without a store")
	}
	if err := plan.Commit(context.Background(), plan.Changes()); err != nil {
		t.Fatal(err)
	}
	err = plan.Commit(context.Background(), []tagging.Change{{ID: cid(3).String(), Add: []string{"t"}}})
	if !errors.As(err, new(*CommitError)) {
		t.Errorf("foreign change: %v", err)
	}
}

func TestReconcileBadInput(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	store := &MemoryStore{}
	if err := store.Save(ctx, "s", Snapshot{Tag: "old"}); err != nil {
		t.Fatal(err)
	}
	rep := &Report{Name: "s", Tag: "t", Members: cids(1, 2)}
	cases := []struct {
		name     string
		rep      *Report
		store    Store
		carriers iter.Seq2[gid.ID, error]
		ok       func(error) bool
	}{
		{"duplicate carrier", rep, nil, IDs(cids(3, 1, 3)), seqIs("carriers", -1, Duplicate)},
		{"order ids", rep, nil, IDs([]gid.ID{oid(1), oid(2)}), seqIs("carriers", 0, MixedTypes)},
		{"mixed ids", rep, nil, IDs([]gid.ID{cid(1), oid(2)}), seqIs("carriers", 1, MixedTypes)},
		{"invalid id", rep, nil, IDs([]gid.ID{cid(0)}), func(err error) bool { return errors.As(err, new(*gid.Error)) }},
		{"read error", rep, nil, seqErr(cids(1, 2), 1, boom), func(err error) bool { return errors.Is(err, boom) }},
		{"bad members", &Report{Name: "s", Tag: "t", Members: cids(2, 1)}, nil, IDs(nil), func(err error) bool { return errors.As(err, new(*ConfigError)) }},
		{"other tag's snapshot", rep, store, IDs(nil), func(err error) bool {
			return errors.As(err, new(*SnapshotError)) && strings.Contains(err.Error(), `"old"`)
		}},
	}
	for _, tc := range cases {
		if _, err := tc.rep.Reconcile(ctx, tc.store, tc.carriers); !tc.ok(err) {
			t.Errorf("%s: error = %v", tc.name, err)
		}
	}
}

func TestReconcileNamesInputs(t *testing.T) {
	if _, err := Reconcile(IDs(cids(1, 1)), IDs(nil)); !seqIs("members", -1, Duplicate)(err) {
		t.Errorf("Reconcile: %v", err)
	}
	for _, err := range ReconcileSorted(IDs(cids(1)), IDs(cids(2, 1))) {
		if err != nil && !seqIs("carriers", 1, OutOfOrder)(err) {
			t.Errorf("ReconcileSorted: %v", err)
		}
	}
}

// TestReconcileProperty draws random shops (members, carriers, other tags,
// the segment's tag in any case) and checks that applying the
// reconciliation's changes makes the carriers exactly the members, leaves
// every other tag alone, and that both forms and the plan agree.
func TestReconcileProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	const tag = "ecp-first"
	spellings := []string{tag, "ECP-First", "Ecp-first"}
	others := []string{"line", "vip", "ecp-repeat", "ecp-first-x", "first"}
	for n := range 400 {
		shop := &fakeShop{tags: map[gid.ID][]string{}}
		var members []gid.ID
		customers := r.IntN(40)
		for i := range customers {
			id := cid(int64(1 + i*(1+r.IntN(3))))
			if _, dup := shop.tags[id]; dup {
				continue
			}
			var tags []string
			for _, o := range others {
				if r.IntN(3) == 0 {
					tags = append(tags, o)
				}
			}
			if r.IntN(2) == 0 {
				tags = slices.Insert(tags, r.IntN(len(tags)+1), spellings[r.IntN(len(spellings))])
			}
			shop.tags[id] = tags
			if r.IntN(2) == 0 {
				members = append(members, id)
			}
		}
		// A member need not be a customer the shop was seeded with.
		if r.IntN(4) == 0 {
			members = append(members, cid(int64(1000+n)))
			shop.tags[cid(int64(1000+n))] = nil
		}
		slices.SortFunc(members, gid.ID.Compare)
		carriers := shop.tagged(tag)
		before := map[gid.ID][]string{}
		for id, tags := range shop.tags {
			before[id] = slices.DeleteFunc(slices.Clone(tags), func(s string) bool { return tagEqual(s, tag) })
		}
		shuffled := slices.Clone(carriers)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })

		rep := &Report{Name: "s", Tag: tag, Members: members}
		plan, err := rep.Reconcile(context.Background(), nil, IDs(shuffled))
		if err != nil {
			t.Fatalf("case %d: %v", n, err)
		}
		d := plan.Delta
		// Reconcile is Diff's chunked walk, whose buffers take half a
		// megabyte however few the ids: one case in ten is enough to
		// check that it agrees, with small chunks crossing boundaries.
		if n%10 == 0 {
			got, err := diffChunked(IDs(shuffled), IDs(members), 1+r.IntN(16), reconcileSides)
			if n%20 == 0 {
				got, err = Reconcile(IDs(members), IDs(shuffled))
			}
			if err != nil {
				t.Fatalf("case %d: %v", n, err)
			}
			diff(t, "Reconcile", d, got)
		}
		var streamed []tagging.Change
		for m, err := range ReconcileSorted(IDs(members), IDs(carriers)) {
			if err != nil {
				t.Fatalf("case %d: %v", n, err)
			}
			streamed = append(streamed, m.Change(tag))
		}
		changes := plan.Changes()
		sortChanges(streamed)
		diff(t, "streamed", sortChanges(slices.Clone(changes)), streamed)
		for _, ch := range changes {
			if len(ch.Add)+len(ch.Remove) != 1 || !tagEqual(append(ch.Add, ch.Remove...)[0], tag) {
				t.Fatalf("case %d: change %+v touches another tag", n, ch)
			}
		}

		shop.apply(t, changes)
		diff(t, "carriers", members, shop.tagged(tag))
		for id, tags := range shop.tags {
			rest := slices.DeleteFunc(slices.Clone(tags), func(s string) bool { return tagEqual(s, tag) })
			if !slices.Equal(before[id], rest) {
				t.Errorf("other tags of %s: %q, were %q", id, rest, before[id])
			}
		}
		if t.Failed() {
			t.Fatalf("case %d: members %v, carriers %v", n, members, carriers)
		}
	}
}

// sortChanges orders changes by customer id.
func sortChanges(cs []tagging.Change) []tagging.Change {
	slices.SortFunc(cs, func(a, b tagging.Change) int {
		x, _ := gid.Parse(a.ID)
		y, _ := gid.Parse(b.ID)
		return x.Compare(y)
	})
	return cs
}

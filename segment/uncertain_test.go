package segment

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/tagging"
)

// testStores returns a MemoryStore and a FileStore in a fresh directory.
func testStores(t *testing.T) []namedStore {
	return []namedStore{{"memory", &MemoryStore{}}, {"file", &FileStore{Dir: t.TempDir()}}}
}

type namedStore struct {
	name  string
	store Store
}

// syncRun plans the segment's sync from store for members, lets apply
// decide each change's outcome (applying it to shop when Shopify makes
// it), and commits the applied and the unknown changes.
func syncRun(t *testing.T, store Store, members []gid.ID, shop *fakeShop, outcome func(tagging.Change) (shopcrm.Outcome, bool)) *Plan {
	t.Helper()
	ctx := context.Background()
	plan, err := (&Report{Name: "first", Tag: "ecp-first", Members: members}).FromSnapshot(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	var applied, unknown []tagging.Change
	for _, ch := range plan.Changes() {
		o, made := outcome(ch)
		if made {
			shop.apply(t, []tagging.Change{ch})
		}
		switch o {
		case shopcrm.Applied:
			applied = append(applied, ch)
		case shopcrm.Unknown:
			unknown = append(unknown, ch)
		}
	}
	if err := plan.Commit(ctx, applied); err != nil {
		t.Fatal(err)
	}
	if err := plan.CommitUnknown(ctx, unknown); err != nil {
		t.Fatal(err)
	}
	return plan
}

// allApplied is the outcome of a run without faults.
func allApplied(tagging.Change) (shopcrm.Outcome, bool) { return shopcrm.Applied, true }

// TestUnknownJoinThenLeave is the regression test for a stray tag: the
// tag was added but the reply was lost, then the customer left the
// segment. The next run must remove the tag although neither the snapshot
// nor the membership has the customer.
func TestUnknownJoinThenLeave(t *testing.T) {
	for _, st := range testStores(t) {
		t.Run(st.name, func(t *testing.T) {
			store := st.store
			shop := &fakeShop{tags: map[gid.ID][]string{}}
			syncRun(t, store, cids(1, 2), shop, func(ch tagging.Change) (shopcrm.Outcome, bool) {
				if ch.ID == cid(2).String() {
					return shopcrm.Unknown, true // made, reply lost
				}
				return shopcrm.Applied, true
			})
			snap, _, _ := store.Load(context.Background(), "first")
			diff(t, "snapshot after the unknown join", Snapshot{Tag: "ecp-first", Members: cids(1), Uncertain: cids(2)}, snap)

			plan := syncRun(t, store, cids(1), shop, allApplied) // 2 left
			diff(t, "delta", Delta{Left: cids(2), Unchanged: 1}, plan.Delta)
			diff(t, "summary", Summary{Segment: "first", Tag: "ecp-first", Source: SourceSnapshot,
				Previous: 1, Current: 1, Left: 1, Unchanged: 1, Uncertain: 1}, plan.Summary())
			diff(t, "carriers", cids(1), shop.tagged("ecp-first"))
			snap, _, _ = store.Load(context.Background(), "first")
			diff(t, "snapshot", Snapshot{Tag: "ecp-first", Members: cids(1)}, snap)
		})
	}
}

// TestUnknownLeaveThenRejoin is the mirror: the tag was removed but the
// reply was lost, then the customer came back. The next run must add the
// tag again although the snapshot still lists the customer as a member.
func TestUnknownLeaveThenRejoin(t *testing.T) {
	for _, st := range testStores(t) {
		t.Run(st.name, func(t *testing.T) {
			store := st.store
			shop := &fakeShop{tags: map[gid.ID][]string{}}
			syncRun(t, store, cids(1, 2), shop, allApplied)
			syncRun(t, store, cids(1), shop, func(tagging.Change) (shopcrm.Outcome, bool) {
				return shopcrm.Unknown, true // the removal was made, the reply lost
			})
			snap, _, _ := store.Load(context.Background(), "first")
			diff(t, "snapshot after the unknown leave", Snapshot{Tag: "ecp-first", Members: cids(1, 2), Uncertain: cids(2)}, snap)

			plan := syncRun(t, store, cids(1, 2), shop, allApplied) // 2 is back
			diff(t, "delta", Delta{Joined: cids(2), Unchanged: 1}, plan.Delta)
			if s := plan.Summary().String(); s != "first (tag ecp-first, snapshot): 2 -> 2 members, +1 -0, 1 unchanged, 1 uncertain" {
				t.Errorf("summary %q", s)
			}
			diff(t, "carriers", cids(1, 2), shop.tagged("ecp-first"))
			snap, _, _ = store.Load(context.Background(), "first")
			diff(t, "snapshot", Snapshot{Tag: "ecp-first", Members: cids(1, 2)}, snap)
		})
	}
}

// TestUncertainSurvivesFailures: a change re-sent for an uncertain
// customer that fails, or is not sent, leaves the doubt in place; an
// unknown outcome in a reconciliation starts a new doubt; a tags plan
// checks what it is given and records nothing.
func TestUncertainSurvivesFailures(t *testing.T) {
	ctx := context.Background()
	store := &MemoryStore{}
	if err := store.Save(ctx, "first", Snapshot{Tag: "ecp-first", Members: cids(1, 3), Uncertain: cids(1, 2)}); err != nil {
		t.Fatal(err)
	}
	rep := &Report{Name: "first", Tag: "ecp-first", Members: cids(1, 3)}
	plan, err := rep.FromSnapshot(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "delta", Delta{Joined: cids(1), Left: cids(2), Unchanged: 1}, plan.Delta)
	if err := plan.Commit(ctx, plan.Changes()[:1]); err != nil { // 1 applied, 2 failed
		t.Fatal(err)
	}
	snap, _, _ := store.Load(ctx, "first")
	diff(t, "snapshot", Snapshot{Tag: "ecp-first", Members: cids(1, 3), Uncertain: cids(2)}, snap)

	rec, err := rep.Reconcile(ctx, store, IDs(cids(2, 3)))
	if err != nil {
		t.Fatal(err)
	}
	ch := rec.Changes() // add to 1, remove from 2
	if err := rec.CommitUnknown(ctx, ch[1:]); err != nil {
		t.Fatal(err)
	}
	if err := rec.Commit(ctx, ch[:1]); err != nil {
		t.Fatal(err)
	}
	snap, _, _ = store.Load(ctx, "first")
	diff(t, "snapshot after reconciling", Snapshot{Tag: "ecp-first", Members: cids(1, 2, 3), Uncertain: cids(2)}, snap)

	tags := (&Report{Name: "first", Tag: "ecp-first", Members: cids(1), TaggedNonMembers: cids(4)}).FromTags()
	if err := tags.CommitUnknown(ctx, tags.Changes()); err != nil {
		t.Error(err)
	}
	var ce *CommitError
	if err := tags.CommitUnknown(ctx, []tagging.Change{{ID: cid(5).String(), Add: []string{"ecp-first"}}}); !errors.As(err, &ce) {
		t.Errorf("CommitUnknown of a change not planned = %v, want *CommitError", err)
	}
}

// TestUncertainProperty runs random membership changes through several
// syncs with random outcomes per change, modelling Shopify's tags in a
// map. After every run, each customer outside the snapshot's Uncertain
// list carries the tag exactly when the snapshot lists it as a member;
// after a final run without faults the carriers are the members. Every
// case runs on a MemoryStore, every tenth also on a FileStore, whose
// synced saves cost milliseconds each.
func TestUncertainProperty(t *testing.T) {
	const (
		cases     = 300
		fileEvery = 10
		customers = 12
		runs      = 6
	)
	ctx := context.Background()
	stores := testStores(t)
	for c := range cases {
		for _, st := range stores {
			if _, ok := st.store.(*FileStore); ok && c%fileEvery != 0 {
				continue
			}
			// Both stores see the same case.
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			name, store := st.name, st.store
			if err := store.Delete(ctx, "first"); err != nil {
				t.Fatal(err)
			}
			shop := &fakeShop{tags: map[gid.ID][]string{}}
			var members []gid.ID
			check := func(when string) {
				snap, _, err := store.Load(ctx, "first")
				if err != nil {
					t.Fatal(err)
				}
				for n := int64(1); n <= customers; n++ {
					id := cid(n)
					if slices.Contains(snap.Uncertain, id) {
						continue
					}
					if has, want := hasTag(shop.tags[id], "ecp-first"), slices.Contains(snap.Members, id); has != want {
						t.Fatalf("case %d (%s), %s: customer %d carries the tag: %v, snapshot says %v (%+v)", c, name, when, n, has, want, snap)
					}
				}
			}
			for run := range runs {
				members = members[:0:0]
				for n := int64(1); n <= customers; n++ {
					if rng.IntN(2) == 0 {
						members = append(members, cid(n))
					}
				}
				cut := -1 // the change at which the run is cut short
				if rng.IntN(4) == 0 {
					cut = rng.IntN(customers)
				}
				i := 0
				syncRun(t, store, members, shop, func(tagging.Change) (shopcrm.Outcome, bool) {
					i++
					if cut >= 0 && i > cut {
						return shopcrm.NotSent, false
					}
					switch rng.IntN(5) {
					case 0:
						return shopcrm.Failed, false
					case 1:
						return shopcrm.Unknown, true // made, reply lost
					case 2:
						return shopcrm.Unknown, false // not made
					}
					return shopcrm.Applied, true
				})
				check(fmt.Sprintf("run %d", run))
			}
			syncRun(t, store, members, shop, allApplied)
			check("final run")
			if got := shop.tagged("ecp-first"); !slices.Equal(got, members) {
				t.Fatalf("case %d (%s): carriers %v after a run without faults, want the members %v", c, name, got, members)
			}
		}
	}
}

// TestCommitOutcomes: one call commits applied changes, records unknown
// ones, leaves failed ones out, and refuses outcomes that do not line up
// with the changes.
func TestCommitOutcomes(t *testing.T) {
	ctx := context.Background()
	store := &MemoryStore{}
	ids := []gid.ID{gid.New(gid.Customer, 1), gid.New(gid.Customer, 2), gid.New(gid.Customer, 3)}
	rep := &Report{Name: "s", Tag: "t", Members: ids}
	plan, err := rep.FromSnapshot(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	changes := plan.Changes()
	if err := plan.CommitOutcomes(ctx, changes, []shopcrm.Outcome{shopcrm.Applied}); err == nil {
		t.Error("one outcome for three changes accepted")
	}
	if err := plan.CommitOutcomes(ctx, changes, []shopcrm.Outcome{shopcrm.Applied, shopcrm.Unknown, shopcrm.Failed}); err != nil {
		t.Fatal(err)
	}
	snap, _, err := store.Load(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(snap.Members, ids[:1]) || !slices.Equal(snap.Uncertain, ids[1:2]) {
		t.Errorf("snapshot members %v uncertain %v; want the applied one a member, the unknown one uncertain", snap.Members, snap.Uncertain)
	}
}

package segment

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/shopcrm/shopcrm/tagging"
)

// stalePlans makes two plans for segment "first" from the snapshot
// {1, 2} in store: the first adds 3, the second drops 2.
func stalePlans(t *testing.T, store Store) (*Plan, *Plan) {
	t.Helper()
	ctx := context.Background()
	if err := store.Save(ctx, "first", Snapshot{Tag: "ecp-first", Members: cids(1, 2)}); err != nil {
		t.Fatal(err)
	}
	a, err := (&Report{Name: "first", Tag: "ecp-first", Members: cids(1, 2, 3)}).FromSnapshot(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	b, err := (&Report{Name: "first", Tag: "ecp-first", Members: cids(1)}).FromSnapshot(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// wantStale fails t unless err is a *StalePlanError for segment "first".
func wantStale(t *testing.T, what string, err error) {
	t.Helper()
	var se *StalePlanError
	if !errors.As(err, &se) || !errors.Is(err, ErrStalePlan) || se.Segment != "first" {
		t.Errorf("%s: %v, want a *StalePlanError for \"first\" matching ErrStalePlan", what, err)
	}
}

// TestStalePlanOverlap: of two plans made from one snapshot, the first to
// commit wins; the second's commits, applied or unknown, save nothing.
func TestStalePlanOverlap(t *testing.T) {
	for _, st := range testStores(t) {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			a, b := stalePlans(t, st.store)
			if err := a.Commit(ctx, a.Changes()); err != nil {
				t.Fatal(err)
			}
			want, _, err := st.store.Load(ctx, "first")
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "first plan's snapshot", Snapshot{Tag: "ecp-first", Members: cids(1, 2, 3)}, want)
			wantStale(t, "second plan's Commit", b.Commit(ctx, b.Changes()))
			wantStale(t, "second plan's CommitUnknown", b.CommitUnknown(ctx, b.Changes()))
			wantStale(t, "second plan's empty Commit", b.Commit(ctx, nil))
			got, _, err := st.store.Load(ctx, "first")
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "snapshot after the stale commits", want, got)
			if got.Generation != want.Generation {
				t.Errorf("generation %d after the stale commits, want %d", got.Generation, want.Generation)
			}
			// The first plan goes on committing.
			if err := a.Commit(ctx, a.Changes()); err != nil {
				t.Errorf("first plan's second commit: %v", err)
			}
		})
	}
}

// TestStalePlanFirstRun: two first runs overlap; the second to commit
// must not replace the first's snapshot.
func TestStalePlanFirstRun(t *testing.T) {
	for _, st := range testStores(t) {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			a, err := (&Report{Name: "first", Tag: "ecp-first", Members: cids(1)}).FromSnapshot(ctx, st.store)
			if err != nil {
				t.Fatal(err)
			}
			b, err := (&Report{Name: "first", Tag: "ecp-first", Members: cids(2)}).FromSnapshot(ctx, st.store)
			if err != nil {
				t.Fatal(err)
			}
			if !a.FirstRun || !b.FirstRun {
				t.Fatal("not first runs")
			}
			if err := b.Commit(ctx, b.Changes()); err != nil {
				t.Fatal(err)
			}
			wantStale(t, "first plan's Commit", a.Commit(ctx, a.Changes()))
			got, _, _ := st.store.Load(ctx, "first")
			diff(t, "snapshot", Snapshot{Tag: "ecp-first", Members: cids(2)}, got)
		})
	}
}

// TestStalePlanAfterDelete: a Delete between making a plan and committing
// it makes the commit fail, also once later plans have saved as often as
// the deleted snapshot had been.
func TestStalePlanAfterDelete(t *testing.T) {
	for _, st := range testStores(t) {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			a, _ := stalePlans(t, st.store)
			if err := st.store.Delete(ctx, "first"); err != nil {
				t.Fatal(err)
			}
			wantStale(t, "Commit after Delete", a.Commit(ctx, a.Changes()))
			if _, ok, err := st.store.Load(ctx, "first"); ok || err != nil {
				t.Errorf("Load after a stale commit = %v, %v; want no snapshot", ok, err)
			}
			// A first run saves again, as often as the deleted snapshot
			// was: the old plan is still stale.
			c, err := (&Report{Name: "first", Tag: "ecp-first", Members: cids(5)}).FromSnapshot(ctx, st.store)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Commit(ctx, c.Changes()); err != nil {
				t.Fatal(err)
			}
			wantStale(t, "Commit after Delete and a new save", a.Commit(ctx, a.Changes()))
			got, _, _ := st.store.Load(ctx, "first")
			diff(t, "snapshot", Snapshot{Tag: "ecp-first", Members: cids(5)}, got)
		})
	}
}

// TestStalePlanAfterReconcile: a reconciliation committed after a plan was
// made replaces the snapshot, so the plan's commit fails; a reconciliation
// made before another plan's commit fails likewise.
func TestStalePlanAfterReconcile(t *testing.T) {
	for _, st := range testStores(t) {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			a, _ := stalePlans(t, st.store)
			rec, err := (&Report{Name: "first", Tag: "ecp-first", Members: cids(1, 2)}).Reconcile(ctx, st.store, IDs(cids(1, 2, 9)))
			if err != nil {
				t.Fatal(err)
			}
			if err := rec.Commit(ctx, rec.Changes()); err != nil {
				t.Fatal(err)
			}
			wantStale(t, "Commit after a reconciliation", a.Commit(ctx, a.Changes()))
			got, _, _ := st.store.Load(ctx, "first")
			diff(t, "snapshot", Snapshot{Tag: "ecp-first", Members: cids(1, 2)}, got)

			rec2, err := (&Report{Name: "first", Tag: "ecp-first", Members: cids(1)}).Reconcile(ctx, st.store, IDs(cids(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			c, err := (&Report{Name: "first", Tag: "ecp-first", Members: cids(1, 2, 4)}).FromSnapshot(ctx, st.store)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Commit(ctx, c.Changes()); err != nil {
				t.Fatal(err)
			}
			wantStale(t, "reconciliation's Commit after another plan's", rec2.Commit(ctx, rec2.Changes()))
		})
	}
}

// TestStalePlanOwnCommits: a plan's own successive commits, and many at
// once from several goroutines, all succeed and all count.
func TestStalePlanOwnCommits(t *testing.T) {
	for _, st := range testStores(t) {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			members := cids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
			plan, err := (&Report{Name: "first", Tag: "ecp-first", Members: members}).FromSnapshot(ctx, st.store)
			if err != nil {
				t.Fatal(err)
			}
			changes := plan.Changes()
			// Two in a row, the second repeating the first.
			for range 2 {
				if err := plan.Commit(ctx, changes[:2]); err != nil {
					t.Fatal(err)
				}
			}
			if err := plan.CommitUnknown(ctx, changes[2:3]); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, len(changes))
			for i := range changes {
				wg.Go(func() { errs[i] = plan.Commit(ctx, []tagging.Change{changes[i]}) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("concurrent commit %d: %v", i, err)
				}
			}
			got, _, err := st.store.Load(ctx, "first")
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "snapshot", Snapshot{Tag: "ecp-first", Members: members}, got)
		})
	}
}

// TestStoreGenerations: saves give new, nonzero generations; SaveIf
// compares them.
func TestStoreGenerations(t *testing.T) {
	for _, st := range testStores(t) {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			s := st.store
			g1, err := s.SaveIf(ctx, "x", 0, Snapshot{Tag: "t", Members: cids(1), Generation: 77})
			if err != nil || g1 == 0 {
				t.Fatalf("SaveIf of a new snapshot = %d, %v", g1, err)
			}
			if snap, _, _ := s.Load(ctx, "x"); snap.Generation != g1 {
				t.Errorf("loaded generation %d, want %d", snap.Generation, g1)
			}
			if _, err := s.SaveIf(ctx, "x", 0, Snapshot{Tag: "t"}); !errors.Is(err, ErrStalePlan) {
				t.Errorf("SaveIf(0) over a snapshot: %v", err)
			}
			if _, err := s.SaveIf(ctx, "x", g1+1, Snapshot{Tag: "t"}); !errors.Is(err, ErrStalePlan) {
				t.Errorf("SaveIf of a wrong generation: %v", err)
			}
			g2, err := s.SaveIf(ctx, "x", g1, Snapshot{Tag: "t", Members: cids(2)})
			if err != nil || g2 == g1 || g2 == 0 {
				t.Fatalf("SaveIf(%d) = %d, %v", g1, g2, err)
			}
			if err := s.Save(ctx, "x", Snapshot{Tag: "t", Members: cids(3)}); err != nil {
				t.Fatal(err)
			}
			snap, _, _ := s.Load(ctx, "x")
			if snap.Generation == g2 || snap.Generation == g1 || snap.Generation == 0 {
				t.Errorf("generation %d after Save, seen %d and %d before", snap.Generation, g1, g2)
			}
			diff(t, "snapshot", Snapshot{Tag: "t", Members: cids(3)}, snap)
			if _, err := s.SaveIf(ctx, "x", g2, Snapshot{Tag: "t"}); !errors.Is(err, ErrStalePlan) {
				t.Errorf("SaveIf after an unconditional Save: %v", err)
			}
		})
	}
}

// TestFileStoreStaleAcrossStores: two FileStores of one directory, as two
// processes would have, see each other's saves and deletes.
func TestFileStoreStaleAcrossStores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	one, two := &FileStore{Dir: dir}, &FileStore{Dir: dir}
	a, _ := stalePlans(t, one)
	b, err := (&Report{Name: "first", Tag: "ecp-first", Members: cids(1)}).FromSnapshot(ctx, two)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx, b.Changes()); err != nil {
		t.Fatal(err)
	}
	wantStale(t, "Commit after another store's", a.Commit(ctx, a.Changes()))
	// A damaged file is no snapshot a plan was made from.
	if err := os.WriteFile(one.path("first"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantStale(t, "Commit over a damaged file", b.Commit(ctx, b.Changes()))
}

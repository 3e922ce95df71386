package segment

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/tagging"
)

// fakeShop applies tag changes to customers' tags like Shopify would,
// failing the changes of the customers listed in fail.
type fakeShop struct {
	tags map[gid.ID][]string
}

func (s *fakeShop) apply(t *testing.T, changes []tagging.Change, fail ...int64) (applied []tagging.Change) {
	t.Helper()
	for _, ch := range changes {
		id, err := gid.ParseAs(ch.ID, gid.Customer)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(fail, id.Num) {
			continue
		}
		tags := s.tags[id]
		for _, tag := range ch.Remove {
			tags = slices.DeleteFunc(tags, func(x string) bool { return tagEqual(x, tag) })
		}
		for _, tag := range ch.Add {
			if !hasTag(tags, tag) {
				tags = append(tags, tag)
			}
		}
		s.tags[id] = tags
		applied = append(applied, ch)
	}
	return applied
}

// tagged lists the customers carrying tag.
func (s *fakeShop) tagged(tag string) []gid.ID {
	var out []gid.ID
	for id, tags := range s.tags {
		if hasTag(tags, tag) {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, gid.ID.Compare)
	return out
}

// day of a sync: the members, the customers whose changes fail, and what
// the plan must contain.
type syncDay struct {
	members  []gid.ID
	fail     []int64
	want     Summary
	joined   []gid.ID
	left     []gid.ID
	snapshot []gid.ID // after commit
}

func snapshotDays() []syncDay {
	sum := func(first bool, prev, cur, j, l, u int) Summary {
		return Summary{Segment: "first", Tag: "ecp-first", Source: SourceSnapshot, FirstRun: first,
			Previous: prev, Current: cur, Joined: j, Left: l, Unchanged: u}
	}
	return []syncDay{
		// First run: every member joins; customer 2's change fails.
		{cids(1, 2, 3), []int64{2}, sum(true, 0, 3, 3, 0, 0), cids(1, 2, 3), nil, cids(1, 3)},
		// 2 failed yesterday and is still a member: it joins again. Only 4 applies.
		{cids(2, 3, 4), []int64{1, 2}, sum(false, 2, 3, 2, 1, 1), cids(2, 4), cids(1), cids(1, 3, 4)},
		// Nothing changed in the segment, but the failures are still due.
		{cids(2, 3, 4), nil, sum(false, 3, 3, 1, 1, 2), cids(2), cids(1), cids(2, 3, 4)},
		// In step: nothing to send.
		{cids(2, 3, 4), nil, sum(false, 3, 3, 0, 0, 3), nil, nil, cids(2, 3, 4)},
	}
}

func TestSnapshotCarriesFailedChanges(t *testing.T) {
	stores := map[string]Store{"memory": &MemoryStore{}, "file": &FileStore{Dir: t.TempDir()}}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			shop := &fakeShop{tags: map[gid.ID][]string{}}
			for i, d := range snapshotDays() {
				rep := &Report{Name: "first", Tag: "ecp-first", Members: d.members}
				plan, err := rep.FromSnapshot(ctx, store)
				if err != nil {
					t.Fatalf("day %d: %v", i, err)
				}
				diff(t, "summary", d.want, plan.Summary())
				diff(t, "delta", Delta{Joined: d.joined, Left: d.left, Unchanged: d.want.Unchanged}, plan.Delta)
				applied := shop.apply(t, plan.Changes(), d.fail...)
				if err := plan.Commit(ctx, applied); err != nil {
					t.Fatalf("day %d: Commit: %v", i, err)
				}
				snap, ok, err := store.Load(ctx, "first")
				if err != nil || !ok {
					t.Fatalf("day %d: Load = %v, %v", i, ok, err)
				}
				diff(t, "snapshot", Snapshot{Tag: "ecp-first", Members: d.snapshot}, snap)
				// The snapshot is exactly who carries the tag.
				diff(t, "snapshot vs shop", shop.tagged("ecp-first"), snap.Members)
			}
		})
	}
}

func TestTagsCarryFailedChanges(t *testing.T) {
	// The shop's tags are the checkpoint: each day the customers are read
	// with today's tags and failed changes come back by themselves.
	shop := &fakeShop{tags: map[gid.ID][]string{cid(1): {"line"}, cid(2): {"ecp-line"}, cid(3): nil}}
	days := []struct {
		line         []int64 // who is LINE-linked today
		fail         []int64
		joined, left []gid.ID
	}{
		{[]int64{1, 3}, []int64{3}, cids(1, 3), cids(2)},
		{[]int64{1, 3}, nil, cids(3), nil},
		{[]int64{1}, nil, nil, cids(3)},
		{[]int64{1}, nil, nil, nil},
	}
	defs := []Definition{{Name: "line", Tag: "ecp-line", Rule: HasTag("line")}}
	for i, d := range days {
		var customers []Customer
		for _, id := range []gid.ID{cid(1), cid(2), cid(3)} {
			tags := slices.DeleteFunc(slices.Clone(shop.tags[id]), func(s string) bool { return s == "line" })
			if slices.Contains(d.line, id.Num) {
				tags = append(tags, "line")
			}
			shop.tags[id] = tags
			customers = append(customers, Customer{ID: id, Tags: tags})
		}
		res, err := Evaluate(slices.Values(customers), defs, Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		plan := res.Segments[0].FromTags()
		if plan.Source != SourceTags || plan.FirstRun {
			t.Errorf("day %d: plan %+v", i, plan.Summary())
		}
		diff(t, "joined", d.joined, plan.Delta.Joined)
		diff(t, "left", d.left, plan.Delta.Left)
		applied := shop.apply(t, plan.Changes(), d.fail...)
		if err := plan.Commit(context.Background(), applied); err != nil {
			t.Fatalf("day %d: Commit: %v", i, err)
		}
	}
	diff(t, "tagged at the end", cids(1), shop.tagged("ecp-line"))
}

func TestCommitInBatches(t *testing.T) {
	ctx := context.Background()
	store := &MemoryStore{}
	rep := &Report{Name: "s", Tag: "t", Members: cids(1, 2, 3, 4)}
	plan, err := rep.FromSnapshot(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	ch := plan.Changes()
	if err := plan.Commit(ctx, ch[:2]); err != nil {
		t.Fatal(err)
	}
	if err := plan.Commit(ctx, ch[3:]); err != nil {
		t.Fatal(err)
	}
	// Committing a batch again changes nothing.
	if err := plan.Commit(ctx, ch[3:]); err != nil {
		t.Fatal(err)
	}
	snap, _, _ := store.Load(ctx, "s")
	diff(t, "snapshot", cids(1, 2, 4), snap.Members)
}

func TestCommitRejectsForeignChanges(t *testing.T) {
	ctx := context.Background()
	store := &MemoryStore{}
	if err := store.Save(ctx, "s", Snapshot{Tag: "t", Members: cids(1)}); err != nil {
		t.Fatal(err)
	}
	rep := &Report{Name: "s", Tag: "t", Members: cids(2)}
	plan, err := rep.FromSnapshot(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	gid := func(n int64) string { return cid(n).String() }
	cases := []struct {
		name   string
		ch     tagging.Change
		reason string
	}{
		{"bad id", tagging.Change{ID: "x", Add: []string{"t"}}, "bad id"},
		{"order id", tagging.Change{ID: oid(2).String(), Add: []string{"t"}}, "bad id"},
		{"other tag", tagging.Change{ID: gid(2), Add: []string{"u"}}, `not a change of tag "t"`},
		{"both ways", tagging.Change{ID: gid(2), Add: []string{"t"}, Remove: []string{"t"}}, `not a change of tag "t"`},
		{"wrong direction", tagging.Change{ID: gid(2), Remove: []string{"t"}}, "not in the plan"},
		{"not planned", tagging.Change{ID: gid(3), Add: []string{"t"}}, "not in the plan"},
	}
	for _, tc := range cases {
		ok := tagging.Change{ID: gid(1), Remove: []string{" T "}} // tags compare as Shopify does
		err := plan.Commit(ctx, []tagging.Change{ok, tc.ch})
		var ce *CommitError
		if !errors.As(err, &ce) || ce.Index != 1 || ce.Reason != tc.reason {
			t.Errorf("%s: Commit error = %v, want *CommitError %q at 1", tc.name, err, tc.reason)
		}
	}
	snap, _, _ := store.Load(ctx, "s")
	diff(t, "snapshot untouched", cids(1), snap.Members)
}

func TestSnapshotTagChangeNeedsReset(t *testing.T) {
	ctx := context.Background()
	store := &MemoryStore{}
	if err := store.Save(ctx, "s", Snapshot{Tag: "old", Members: cids(1)}); err != nil {
		t.Fatal(err)
	}
	rep := &Report{Name: "s", Tag: "new", Members: cids(1, 2)}
	_, err := rep.FromSnapshot(ctx, store)
	var se *SnapshotError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), `"old"`) {
		t.Fatalf("error = %v, want *SnapshotError naming the old tag", err)
	}
	// Same tag in other case is the same tag.
	if _, err := (&Report{Name: "s", Tag: "OLD"}).FromSnapshot(ctx, store); err != nil {
		t.Errorf("case-only difference: %v", err)
	}
	if err := store.Delete(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	plan, err := rep.FromSnapshot(ctx, store)
	if err != nil || !plan.FirstRun || len(plan.Delta.Joined) != 2 {
		t.Fatalf("after reset: %+v, %v", plan, err)
	}
}

func TestFromSnapshotBadInput(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		rep  Report
	}{
		{"bad tag", Report{Name: "s", Tag: ""}},
		{"unsorted members", Report{Name: "s", Tag: "t", Members: cids(2, 1)}},
		{"order members", Report{Name: "s", Tag: "t", Members: []gid.ID{oid(1)}}},
	}
	for _, tc := range cases {
		var ce *ConfigError
		if _, err := tc.rep.FromSnapshot(ctx, &MemoryStore{}); !errors.As(err, &ce) {
			t.Errorf("%s: error = %v, want *ConfigError", tc.name, err)
		}
	}
	var se *SnapshotError
	if _, err := (&Report{Tag: "t"}).FromSnapshot(ctx, &MemoryStore{}); err != nil {
		t.Errorf("empty name with memory store: %v", err)
	}
	if _, err := (&Report{Tag: "t"}).FromSnapshot(ctx, &FileStore{Dir: t.TempDir()}); !errors.As(err, &se) {
		t.Errorf("empty name with file store: %v", err)
	}
	// A store that breaks its promises is caught.
	bad := badStore{Snapshot{Tag: "t", Members: cids(3, 2)}}
	if _, err := (&Report{Name: "s", Tag: "t"}).FromSnapshot(ctx, bad); !errors.As(err, &se) {
		t.Errorf("unsorted snapshot accepted: %v", err)
	}
}

type badStore struct{ snap Snapshot }

func (b badStore) Load(context.Context, string) (Snapshot, bool, error) { return b.snap, true, nil }
func (b badStore) Save(context.Context, string, Snapshot) error         { return nil }
func (b badStore) SaveIf(context.Context, string, uint64, Snapshot) (uint64, error) {
	return 1, nil
}
func (b badStore) Delete(context.Context, string) error { return nil }

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	var s MemoryStore
	if _, ok, err := s.Load(ctx, "x"); ok || err != nil {
		t.Fatalf("Load of nothing = %v, %v", ok, err)
	}
	members := cids(1, 2)
	if err := s.Save(ctx, "x", Snapshot{Tag: "t", Members: members}); err != nil {
		t.Fatal(err)
	}
	members[0] = cid(99) // the store keeps its own copy
	got, _, _ := s.Load(ctx, "x")
	got.Members[1] = cid(98) // and hands out copies
	again, _, _ := s.Load(ctx, "x")
	diff(t, "stored", Snapshot{Tag: "t", Members: cids(1, 2)}, again)
	var se *SnapshotError
	if err := s.Save(ctx, "x", Snapshot{Tag: "t", Members: cids(2, 2)}); !errors.As(err, &se) {
		t.Errorf("duplicate members accepted: %v", err)
	}
	if err := s.Save(ctx, "x", Snapshot{Tag: "t", Uncertain: cids(3, 2)}); !errors.As(err, &se) || se.Reason != "invalid uncertain ids" {
		t.Errorf("unsorted uncertain customers accepted: %v", err)
	}
	if err := s.Save(ctx, "x", Snapshot{Tag: "t", Uncertain: []gid.ID{oid(1)}}); !errors.As(err, &se) || se.Reason != "uncertain ids are not customer ids" {
		t.Errorf("uncertain order ids accepted: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.Load(cancelled, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context = %v", err)
	}
	if err := s.Save(cancelled, "x", Snapshot{Tag: "t"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a cancelled context = %v", err)
	}
	if err := s.Delete(cancelled, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context = %v", err)
	}
}

func TestSummaryString(t *testing.T) {
	s := Summary{Segment: "first", Tag: "ecp-first", Source: SourceSnapshot, FirstRun: true, Current: 3, Joined: 3}
	if got, want := s.String(), "first (tag ecp-first, snapshot, first run): 0 -> 3 members, +3 -0, 0 unchanged"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if Source(9).String() != "Source(9)" || SourceTags.String() != "tags" {
		t.Error("Source.String")
	}
}

// TestCommitConcurrent commits a plan's changes one by one from many
// goroutines: every one is in the saved snapshot.
func TestCommitConcurrent(t *testing.T) {
	ctx := context.Background()
	var store MemoryStore
	members := make([]gid.ID, 400)
	for i := range members {
		members[i] = gid.New(gid.Customer, int64(i+1))
	}
	r := &Report{Name: "vip", Tag: "vip", Members: members}
	p, err := r.FromSnapshot(ctx, &store)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, ch := range p.Changes() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Commit(ctx, []tagging.Change{ch}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	snap, ok, err := store.Load(ctx, "vip")
	if err != nil || !ok || len(snap.Members) != 400 {
		t.Fatalf("snapshot holds %d members (%v, %v), want 400", len(snap.Members), ok, err)
	}
}

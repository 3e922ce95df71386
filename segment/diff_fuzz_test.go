package segment_test

import (
	"iter"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/segment"
)

// FuzzDiff feeds two lists of customer ids as a platform gives them
// (whitespace-separated GIDs or numbers; seeds in testdata/fuzz/FuzzDiff:
// tag carriers and members, duplicates, other resource types, bad ids).
// When every id parses and neither side repeats one, Diff returns exactly
// the set differences, ascending, and DiffSorted the same moves from the
// sorted lists; otherwise Diff fails.
func FuzzDiff(f *testing.F) {
	f.Add("gid://shopify/Customer/1 gid://shopify/Customer/2", "2 3")
	f.Fuzz(func(t *testing.T, prevText, curText string) {
		prev, pok := parseAll(strings.Fields(prevText))
		cur, cok := parseAll(strings.Fields(curText))
		d, err := segment.Diff(segment.ParseIDs(gid.Customer, slices.Values(strings.Fields(prevText))),
			segment.ParseIDs(gid.Customer, slices.Values(strings.Fields(curText))))
		if !pok || !cok {
			if err == nil {
				t.Fatalf("Diff(%q, %q) accepted duplicate or invalid ids", prevText, curText)
			}
			return
		}
		if err != nil {
			t.Fatalf("Diff(%q, %q): %v", prevText, curText, err)
		}
		joined, left, same := []gid.ID{}, []gid.ID{}, 0
		for id := range cur {
			if prev[id] {
				same++
			} else {
				joined = append(joined, id)
			}
		}
		for id := range prev {
			if !cur[id] {
				left = append(left, id)
			}
		}
		slices.SortFunc(joined, gid.ID.Compare)
		slices.SortFunc(left, gid.ID.Compare)
		if !slices.Equal(joined, nonNil(d.Joined)) || !slices.Equal(left, nonNil(d.Left)) || same != d.Unchanged {
			t.Fatalf("Diff(%q, %q) = %+v; want joined %v left %v unchanged %d", prevText, curText, d, joined, left, same)
		}
		var moves []segment.Move
		for m, err := range segment.DiffSorted(sorted(prev), sorted(cur)) {
			if err != nil {
				t.Fatalf("DiffSorted: %v", err)
			}
			moves = append(moves, m)
		}
		if len(moves) != len(joined)+len(left) {
			t.Fatalf("DiffSorted gave %d moves, Diff %d", len(moves), len(joined)+len(left))
		}
		for i, m := range moves {
			if i > 0 && moves[i-1].ID.Compare(m.ID) >= 0 || m.Joined != cur[m.ID] || m.Joined == prev[m.ID] {
				t.Fatalf("DiffSorted move %d: %+v", i, m)
			}
		}
	})
}

// parseAll parses ids as customer ids; ok is false when one does not parse
// or repeats.
func parseAll(ss []string) (map[gid.ID]bool, bool) {
	m := map[gid.ID]bool{}
	for _, s := range ss {
		id, err := gid.ParseAs(s, gid.Customer)
		if err != nil || m[id] {
			return nil, false
		}
		m[id] = true
	}
	return m, true
}

func sorted(m map[gid.ID]bool) iter.Seq2[gid.ID, error] {
	return segment.IDs(slices.SortedFunc(maps.Keys(m), gid.ID.Compare))
}

func nonNil(ids []gid.ID) []gid.ID {
	if ids == nil {
		return []gid.ID{}
	}
	return ids
}

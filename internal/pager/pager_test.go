package pager_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/pager"
)

// pages is a fake server: pages[cursor] is the page at that cursor.
type pages map[string]struct {
	items []int
	next  string
	more  bool
}

type query struct {
	Status string
	Fields []string
}

// server returns a fetch over p that records the cursors it is asked for.
func server(p pages, calls *[]string) pager.Fetch[query, int, string] {
	return func(_ context.Context, _ query, cursor string) ([]int, string, bool, error) {
		*calls = append(*calls, cursor)
		pg, ok := p[cursor]
		if !ok {
			return nil, "", false, errors.New("no page at " + strconv.Quote(cursor))
		}
		return pg.items, pg.next, pg.more, nil
	}
}

// drain collects an iterator's items and errors.
func drain[T any](seq func(func(T, error) bool)) ([]T, []error) {
	var items []T
	var errs []error
	for it, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, it)
	}
	return items, errs
}

var threePages = pages{
	"":   {items: []int{1, 2}, next: "c1", more: true},
	"c1": {items: []int{3}, next: "c2", more: true},
	"c2": {items: []int{4, 5}, next: "c3", more: false}, // "c3" is ignored: no more
}

func TestAllPages(t *testing.T) {
	var calls []string
	items, errs := drain(pager.Seq(context.Background(), query{}, server(threePages, &calls)))
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, items); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"", "c1", "c2"}, calls); diff != "" {
		t.Errorf("cursors fetched (-want +got):\n%s", diff)
	}
}

func TestEmptyPageWithMoreGoesOn(t *testing.T) {
	p := pages{
		"":  {next: "a", more: true},
		"a": {items: []int{7}},
	}
	var calls []string
	items, errs := drain(pager.Seq(context.Background(), query{}, server(p, &calls)))
	if len(errs) != 0 || !slices.Equal(items, []int{7}) {
		t.Fatalf("got %v %v, want [7] and no error", items, errs)
	}
}

func TestParamsCopiedAndRangeRestarts(t *testing.T) {
	q := query{Status: "open"}
	var got []string
	fetch := func(_ context.Context, p query, cursor string) ([]int, string, bool, error) {
		got = append(got, p.Status+"@"+cursor)
		if cursor == "" {
			return []int{1}, "x", true, nil
		}
		return []int{2}, "", false, nil
	}
	seq := pager.Seq(context.Background(), q, fetch)
	q.Status = "closed" // after building: must not leak into the listing
	for range 2 {
		items, errs := drain(seq)
		if len(errs) != 0 || !slices.Equal(items, []int{1, 2}) {
			t.Fatalf("got %v %v", items, errs)
		}
	}
	if diff := cmp.Diff([]string{"open@", "open@x", "open@", "open@x"}, got); diff != "" {
		t.Errorf("fetches (-want +got):\n%s", diff)
	}
}

func TestErrorYieldedOnceThenStops(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	fetch := func(_ context.Context, _ query, cursor string) ([]int, string, bool, error) {
		calls++
		if cursor == "" {
			return []int{1, 2}, "b", true, nil
		}
		return []int{99}, "c", true, boom // items with an error are ignored
	}
	var items []int
	var errs []error
	for it, err := range pager.Seq(context.Background(), query{}, fetch) {
		if err != nil {
			errs = append(errs, err)
			continue // keep ranging: the iterator must end by itself
		}
		items = append(items, it)
	}
	if !slices.Equal(items, []int{1, 2}) {
		t.Errorf("items = %v, want [1 2]", items)
	}
	if len(errs) != 1 || !errors.Is(errs[0], boom) {
		t.Errorf("errors = %v, want boom once", errs)
	}
	if calls != 2 {
		t.Errorf("%d fetches, want 2", calls)
	}
}

func TestEarlyBreak(t *testing.T) {
	for _, stopAt := range []int{1, 2, 3} { // inside page 1, at its end, inside page 2
		var calls []string
		var items []int
		for it, err := range pager.Seq(context.Background(), query{}, server(threePages, &calls)) {
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, it)
			if it == stopAt {
				break
			}
		}
		wantCalls := 1
		if stopAt == 3 {
			wantCalls = 2
		}
		if len(calls) != wantCalls || len(items) != stopAt {
			t.Errorf("break at %d: %d fetches, items %v; want %d fetches", stopAt, len(calls), items, wantCalls)
		}
	}
}

func TestPageNumbers(t *testing.T) {
	fetch := func(_ context.Context, size int, page int) ([]string, int, bool, error) {
		all := []string{"a", "b", "c", "d", "e"}
		lo := min((page-1)*size, len(all))
		hi := min(lo+size, len(all))
		return all[lo:hi], page + 1, hi < len(all), nil
	}
	items, errs := drain(pager.From(context.Background(), 2, 1, fetch))
	if len(errs) != 0 || !slices.Equal(items, []string{"a", "b", "c", "d", "e"}) {
		t.Fatalf("got %v %v", items, errs)
	}
}

func TestContextEnded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	fetch := func(_ context.Context, _ query, cursor string) ([]int, string, bool, error) {
		calls++
		return []int{calls}, "n" + strconv.Itoa(calls), true, nil
	}
	var errs []error
	for it, err := range pager.Seq(ctx, query{}, fetch) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if it == 2 {
			cancel()
		}
	}
	if calls != 2 || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("%d fetches, errors %v; want 2 fetches then context.Canceled once", calls, errs)
	}
}

func TestStuckCursor(t *testing.T) {
	const secretish = "opaque-cursor-value"
	tests := []struct {
		name         string
		p            pages
		wantItems    []int
		page, repeat int
	}{
		{
			name: "same as the one just followed",
			p: pages{
				"":        {items: []int{1}, next: secretish, more: true},
				secretish: {items: []int{2}, next: secretish, more: true},
			},
			wantItems: []int{1, 2}, page: 2, repeat: 2,
		},
		{
			name: "alternating",
			p: pages{
				"":  {items: []int{1}, next: "a", more: true},
				"a": {items: []int{2}, next: "b", more: true},
				"b": {items: []int{3}, next: "a", more: true},
			},
			wantItems: []int{1, 2, 3}, page: 3, repeat: 2,
		},
		{
			name: "empty cursor with more pages",
			p: pages{
				"":  {items: []int{1}, next: "a", more: true},
				"a": {items: []int{2}, next: "", more: true},
			},
			wantItems: []int{1, 2}, page: 2, repeat: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			items, errs := drain(pager.Seq(context.Background(), query{}, server(tt.p, &calls)))
			if !slices.Equal(items, tt.wantItems) {
				t.Errorf("items = %v, want %v", items, tt.wantItems)
			}
			if len(errs) != 1 {
				t.Fatalf("errors = %v, want one", errs)
			}
			err := errs[0]
			if !errors.Is(err, shopcrm.ErrCursorStuck) {
				t.Errorf("%v does not match ErrCursorStuck", err)
			}
			var se *pager.StuckError
			if !errors.As(err, &se) || se.Page != tt.page || se.Repeats != tt.repeat {
				t.Errorf("error %#v, want page %d repeating page %d", err, tt.page, tt.repeat)
			}
			if strings.Contains(err.Error(), secretish) {
				t.Errorf("error %q shows the cursor", err)
			}
			if !strings.Contains(err.Error(), "page "+strconv.Itoa(tt.page)) {
				t.Errorf("error %q does not name page %d", err, tt.page)
			}
			if len(calls) != tt.page {
				t.Errorf("%d fetches, want %d", len(calls), tt.page)
			}
		})
	}
}

// A cycle longer than the cursors remembered still ends the listing,
// whether or not it passes through the start cursor.
func TestLongCycleEnds(t *testing.T) {
	for _, tc := range []struct{ from, length int }{{0, 20}, {5, 20}, {3, 100}, {40, 9}} {
		// Cursors 0, 1, ..., from+length-1, then back to from.
		fetch := func(_ context.Context, _ query, cursor int) ([]int, int, bool, error) {
			next := cursor + 1
			if next == tc.from+tc.length {
				next = tc.from
			}
			return []int{cursor}, next, true, nil
		}
		n := 0
		var last error
		for _, err := range pager.Seq(context.Background(), query{}, fetch) {
			n++
			if n > 4*(tc.from+tc.length)+50 {
				t.Fatalf("%+v: listing did not end", tc)
			}
			last = err
		}
		if !errors.Is(last, shopcrm.ErrCursorStuck) {
			t.Errorf("%+v: last = %v, want ErrCursorStuck", tc, last)
		}
	}
}

// A long listing of distinct cursors is never mistaken for a cycle.
func TestLongListingNotStuck(t *testing.T) {
	fetch := func(_ context.Context, _ query, cursor int) ([]int, int, bool, error) {
		return []int{cursor}, cursor + 1, cursor < 5000, nil
	}
	items, errs := drain(pager.Seq(context.Background(), query{}, fetch))
	if len(errs) != 0 || len(items) != 5001 {
		t.Fatalf("%d items, errors %v", len(items), errs)
	}
}

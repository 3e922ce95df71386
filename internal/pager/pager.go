// Package pager turns a function that fetches one page into the iterator
// the shopcrm clients return for paginated reads (iter.Seq2[T, error]), so
// that every client follows the same rules:
//
//   - the caller's parameters are copied when the iterator is built, so
//     changing them afterwards, or ranging twice, changes nothing;
//   - an error is yielded once, with the zero T, and ends the iteration;
//   - the iteration ends as soon as the loop body breaks (yield returns
//     false), without fetching another page;
//   - it ends when the server says there is no next page;
//   - a cursor that does not advance ends it with a *StuckError, which
//     matches shopcrm.ErrCursorStuck, instead of looping forever.
package pager

import (
	"context"
	"iter"

	"github.com/shopcrm/shopcrm"
)

// Fetch reads the page at cursor (the start cursor first, then the next
// cursor of the previous page) with the given parameters. It returns the
// page's items, the cursor of the next page and whether there is one.
// Items returned with an error are ignored.
type Fetch[P, T any, C comparable] func(ctx context.Context, params P, cursor C) (items []T, next C, more bool, err error)

// recent is how many of the latest cursors are remembered: the usual
// faults (the same cursor again, two alternating) are caught at once.
// Longer cycles are caught by a mark that moves at doubling intervals
// (Brent's cycle detection), so memory stays constant however long the
// listing and a cycle of any length ends it within a few rounds.
const recent = 8

// Seq returns an iterator over the items of every page, fetched as the
// loop goes, starting from the zero cursor. See [From].
func Seq[P, T any, C comparable](ctx context.Context, params P, fetch Fetch[P, T, C]) iter.Seq2[T, error] {
	var zero C
	return From(ctx, params, zero, fetch)
}

// From returns an iterator over the items of every page, fetched as the
// loop goes, starting from the page at start (a cursor kept from an
// earlier listing, or a first page number).
//
// params is passed by value and handed to every fetch as it was when From
// was called: pass the options struct itself, not a pointer to it, and
// clone slices or maps in it that the caller may change later. Each range
// over the iterator starts again from start.
func From[P, T any, C comparable](ctx context.Context, params P, start C, fetch Fetch[P, T, C]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		var seen [recent]C // ring of the latest cursors followed
		n := 0             // cursors in seen
		cursor := start
		mark, markPage, span, steps := start, 1, 2*recent, 0
		for page := 1; ; page++ {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			items, next, more, err := fetch(ctx, params, cursor)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if !more {
				return
			}
			seen[n%recent] = cursor
			n++
			at := repeat(seen[:], n, start, next)
			if at < 0 && next == mark {
				at = markPage
			}
			if at >= 0 {
				yield(zero, &StuckError{Page: page, Repeats: at})
				return
			}
			if steps++; steps == span {
				mark, markPage, span, steps = next, page+1, 2*span, 0
			}
			cursor = next
		}
	}
}

// repeat returns the page whose request used cursor next (0 for the start
// cursor when it is no longer in the ring), or -1 when next is new. seen
// holds the cursors of pages n-recent+1 .. n, page p at (p-1)%recent.
func repeat[C comparable](seen []C, n int, start, next C) int {
	for p := n; p > max(n-recent, 0); p-- {
		if seen[(p-1)%recent] == next {
			return p
		}
	}
	// The start cursor (often the zero value) must never come back: a
	// server answering "more" with an empty cursor would restart the list.
	if next == start {
		return 1
	}
	return -1
}

// StuckError ends a listing whose server answered with a cursor it had
// already given; see [shopcrm.CursorError].
type StuckError = shopcrm.CursorError

package segment

import (
	"iter"

	"github.com/shopcrm/shopcrm/gid"
)

// reconcileSides names the inputs of a reconciliation in its errors: the
// carriers stand where a diff has the previous membership.
var reconcileSides = sides{prev: "carriers", cur: "members"}

// Reconcile compares a segment's computed members with its carriers, the
// customers who carry the segment's tag in Shopify, both in any order. It
// is [Diff] with the carriers as the previous membership, so a daily diff
// and a reconciliation share one algorithm and one memory bound (8 bytes
// per carrier): Joined are the members missing the tag, Left every carrier
// who is not a member (a stray, whoever tagged it), Unchanged the members
// who carry it. [Delta.Changes] turns the result into the tag changes
// that make the carriers equal the members; tags other than the segment's
// are never part of them.
//
// Errors are Diff's, with the inputs named "members" and "carriers". To
// record the result as the segment's snapshot, use [Report.Reconcile].
func Reconcile(members, carriers iter.Seq2[gid.ID, error]) (Delta, error) {
	return diffChunked(carriers, members, minChunk, reconcileSides)
}

// ReconcileSorted is [Reconcile] for members and carriers both strictly
// ascending, streamed in constant memory like [DiffSorted]: each [Move] is
// yielded as soon as it is known, a join for a member missing the tag, a
// leave for a stray. An input out of order, a duplicate or any other error
// is yielded as the error and ends the sequence; moves before it are
// correct but the reconciliation is incomplete.
func ReconcileSorted(members, carriers iter.Seq2[gid.ID, error]) iter.Seq2[Move, error] {
	return diffSorted(carriers, members, reconcileSides)
}

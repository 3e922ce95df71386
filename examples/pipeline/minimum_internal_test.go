package pipeline

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/tagging"
)

// TestFloors checks the floors against values worked out by hand.
func TestFloors(t *testing.T) {
	for _, c := range []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		// 60 a minute: calls 1-60 at once, 61-120 a minute later, ...
		// 241-247 four minutes later.
		{"247 calls at 60/min", windowFloor(247, 60, time.Minute), 4 * time.Minute},
		{"60 calls at 60/min", windowFloor(60, 60, time.Minute), 0},
		{"61 calls at 60/min", windowFloor(61, 60, time.Minute), time.Minute},
		{"no limit", windowFloor(1000, 0, time.Minute), 0},
		// A full bucket of 2,000 points, then 100 a second: 23,490
		// points wait for 21,490 to be restored.
		{"23,490 points at 100/s, bucket 2,000", bucketFloor(23490, 2000, 100), 214900 * time.Millisecond},
		{"within the bucket", bucketFloor(1500, 2000, 100), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: %s, want %s", c.name, c.got, c.want)
		}
	}
}

// TestShopifyTags checks the two ways of sending tag changes.
func TestShopifyTags(t *testing.T) {
	adds := func(n int) []tagging.Change {
		out := make([]tagging.Change, n)
		for i := range out {
			out[i] = tagging.Change{ID: fmt.Sprint(i), Add: []string{"a"}}
		}
		return out
	}
	removes := func(n int) []tagging.Change {
		out := adds(n)
		for i := range out {
			out[i].Add, out[i].Remove = nil, out[i].Add
		}
		return out
	}
	for _, c := range []struct {
		name    string
		changes []tagging.Change
		want    shopifyNeed
	}{
		// 139 additions: 1,390 points in two aliased documents; a bulk
		// round takes three requests but only 20 paced points.
		{"139 additions", adds(139), shopifyNeed{requests: 2, points: 20}},
		// 2,349 additions: 24 documents, or one bulk round of three
		// requests whose only paced cost is two mutations.
		{"2,349 additions", adds(2349), shopifyNeed{requests: 3, points: 20}},
		// One addition and one removal on one resource: two
		// mutations, one document.
		{"add and remove", []tagging.Change{{ID: "1", Add: []string{"a"}, Remove: []string{"b"}}}, shopifyNeed{requests: 1, points: 20}},
		// 600 additions and 600 removals: 12 documents, or two bulk
		// rounds of three.
		{"both kinds", append(adds(600), removes(600)...), shopifyNeed{requests: 6, points: 40}},
		// 600 tags off each of 40 resources: three mutations of at most
		// 250 tags each, 1,200 points in two documents.
		{"many tags", slices.Repeat([]tagging.Change{{ID: "x", Remove: make([]string, 600)}}, 40), shopifyNeed{requests: 2, points: 20}},
	} {
		var n shopifyNeed
		n.tags(c.changes)
		if n != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, n, c.want)
		}
	}
}

// TestTagCalls checks the fewest Omnisend tag calls.
func TestTagCalls(t *testing.T) {
	many := func(n int, add ...string) []omnisend.TagChange {
		out := make([]omnisend.TagChange, n)
		for i := range out {
			out[i] = omnisend.TagChange{ContactID: fmt.Sprint(i), Add: add}
		}
		return out
	}
	for _, c := range []struct {
		name    string
		changes []omnisend.TagChange
		want    int
	}{
		{"none", nil, 0},
		// 251 contacts: two calls of at most 250.
		{"one tag", many(251, "a"), 2},
		// By set: {a,b} to 10, {a} to 10: two calls; by tag: a to 20,
		// b to 10: two calls.
		{"nested sets", append(many(10, "a", "b"), many(10, "a")...), 2},
		// Five get a, one loses it: additions and removals never
		// share a call.
		{"additions and removals", append(many(5, "a"), omnisend.TagChange{ContactID: "x", Remove: []string{"a"}}), 2},
		// 300 contacts get {a,b}: two calls by set, four by tag.
		{"set beats tags", many(300, "a", "b"), 2},
		// 240 get {a,b}, 240 {a,c}: by set two calls; by tag a to 480
		// (two), b (one), c (one): four.
		{"sets", append(many(240, "a", "b"), many(240, "a", "c")...), 2},
		// 10 each get {a,b}, {a,c}, {a,d}, {a,e}: by set four; by tag
		// a to 40 (one), b, c, d, e (one each): five.
		{"four sets", append(append(many(10, "a", "b"), many(10, "a", "c")...), append(many(10, "a", "d"), many(10, "a", "e")...)...), 4},
	} {
		if got := tagCalls(c.changes); got != c.want {
			t.Errorf("%s: %d calls, want %d", c.name, got, c.want)
		}
	}
}

package segment_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/tagging"
)

func ExampleQuery() {
	q, _ := segment.Query("ecp-first")
	fmt.Println(q)
	_, err := segment.Query("it's")
	fmt.Println(err != nil)
	// Output:
	// customer_tags CONTAINS 'ecp-first'
	// true
}

var (
	today = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	day   = 24 * time.Hour
)

func customer(n int64, tags ...string) segment.Customer {
	return segment.Customer{ID: gid.ID{Type: gid.Customer, Num: n}, Tags: tags}
}

func order(n int64, daysAgo int, yen int64, channel string) segment.Order {
	return segment.Order{
		ID:      gid.ID{Type: gid.Order, Num: n},
		Time:    today.Add(-time.Duration(daysAgo) * day),
		Total:   money.Amount{Minor: yen, Currency: "JPY"},
		Channel: channel,
		Items:   []segment.LineItem{{Product: gid.ID{Type: gid.Product, Num: 100 + n%2}, ProductType: "Coffee"}},
	}
}

// customers is what a Shopify export would give: a stream, one customer
// with its orders at a time.
func customers(yield func(segment.Customer) bool) {
	a := customer(1, "line")
	a.Orders = []segment.Order{order(11, 3, 4800, "web")}
	b := customer(2, "ecp-first")
	b.Orders = []segment.Order{order(21, 40, 3000, "line"), order(22, 2, 5200, "line")}
	c := customer(3, "ecp-first", "line")
	c.Orders = []segment.Order{order(31, 9, 2500, "pos")}
	for _, x := range []segment.Customer{a, b, c, customer(4)} {
		if !yield(x) {
			return
		}
	}
}

var definitions = []segment.Definition{
	{Name: "first", Tag: "ecp-first", Rule: segment.FirstTimeBuyer()},
	{Name: "repeat", Tag: "ecp-repeat", Rule: segment.RepeatBuyer()},
	{Name: "line", Tag: "ecp-line", Rule: segment.HasTag("line")},
}

func ExampleEvaluate() {
	res, err := segment.Evaluate(customers, definitions, segment.Options{
		Now:   today,
		Sends: []segment.Send{{Segment: "line", At: today.Add(-5 * day), Within: 7 * day}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Segments {
		m := r.Metrics
		fmt.Printf("%-6s members=%v repeat=%v revenue=%v ltv=%v aov=%v channels=%v\n",
			r.Name, len(r.Members), m.RepeatRate(), m.Revenue, m.LTV(), m.AOV(), r.Channels)
	}
	s := res.Sends[0]
	fmt.Printf("after the LINE send: %v converted, %v\n", s.Conversion(), s.Revenue)
	// Output:
	// first  members=2 repeat=0/2 (0.0%) revenue=7300 JPY ltv=[3650 JPY] aov=[3650 JPY] channels=[{pos 1} {web 1}]
	// repeat members=1 repeat=1/1 (100.0%) revenue=8200 JPY ltv=[8200 JPY] aov=[4100 JPY] channels=[{line 1}]
	// line   members=2 repeat=0/2 (0.0%) revenue=7300 JPY ltv=[3650 JPY] aov=[3650 JPY] channels=[{pos 1} {web 1}]
	// after the LINE send: 1/2 (50.0%) converted, 4800 JPY
}

// The tags customers carry are the checkpoint: nothing is stored, and a
// change that fails leaves the tag as it was, so tomorrow's diff has it
// again.
func ExampleReport_FromTags() {
	res, _ := segment.Evaluate(customers, definitions, segment.Options{Now: today})
	first, _ := res.Segment("first")
	plan := first.FromTags()
	fmt.Println(plan.Summary())
	for _, c := range plan.Changes() {
		fmt.Println(c.ID, "add", c.Add, "remove", c.Remove)
	}
	// Output:
	// first (tag ecp-first, tags): 2 -> 2 members, +1 -1, 1 unchanged
	// gid://shopify/Customer/1 add [ecp-first] remove []
	// gid://shopify/Customer/2 add [] remove [ecp-first]
}

// A stored snapshot is the checkpoint: it advances only by the changes
// reported applied, so a failure comes back in the next plan. (Changes
// with an unknown outcome go to Plan.CommitUnknown.)
func ExampleReport_FromSnapshot() {
	ctx := context.Background()
	store := &segment.MemoryStore{} // or &segment.FileStore{Dir: ...}
	res, _ := segment.Evaluate(customers, definitions, segment.Options{Now: today})
	line, _ := res.Segment("line")

	for run := 1; run <= 2; run++ {
		plan, err := line.FromSnapshot(ctx, store)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(plan.Summary())
		var applied []tagging.Change
		for _, c := range plan.Changes() {
			if run == 1 && c.ID == "gid://shopify/Customer/3" {
				continue // Shopify reported this one failed
			}
			applied = append(applied, c)
		}
		if err := plan.Commit(ctx, applied); err != nil {
			fmt.Println(err)
			return
		}
	}
	// Output:
	// line (tag ecp-line, snapshot, first run): 0 -> 2 members, +2 -0, 0 unchanged
	// line (tag ecp-line, snapshot): 1 -> 2 members, +1 -0, 1 unchanged
}

// A change whose outcome is unknown (the request was in flight at a
// deadline, or its reply was lost) is recorded as such. The next plan
// sends the customer a change whichever way membership went, so a tag
// Shopify may have added is removed once the customer has left.
func ExamplePlan_CommitUnknown() {
	ctx := context.Background()
	store := &segment.MemoryStore{}
	c1, c2 := gid.New(gid.Customer, 1), gid.New(gid.Customer, 2)

	day1 := &segment.Report{Name: "first", Tag: "ecp-first", Members: []gid.ID{c1, c2}}
	plan, err := day1.FromSnapshot(ctx, store)
	if err != nil {
		fmt.Println(err)
		return
	}
	changes := plan.Changes()
	// Customer 1's change was applied; customer 2's outcome is unknown.
	if err := plan.Commit(ctx, changes[:1]); err != nil {
		fmt.Println(err)
		return
	}
	if err := plan.CommitUnknown(ctx, changes[1:]); err != nil {
		fmt.Println(err)
		return
	}

	day2 := &segment.Report{Name: "first", Tag: "ecp-first", Members: []gid.ID{c1}} // 2 left
	next, err := day2.FromSnapshot(ctx, store)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(next.Summary())
	for _, c := range next.Changes() {
		fmt.Println(c.ID, "add", c.Add, "remove", c.Remove)
	}
	// Output:
	// first (tag ecp-first, snapshot): 1 -> 1 members, +0 -1, 1 unchanged, 1 uncertain
	// gid://shopify/Customer/2 add [] remove [ecp-first]
}

// A new installation's first run reconciles: it starts from the customers
// who carry the tag in Shopify (the Shopify client's
// SegmentsService.TaggedCustomers reads them, in any order), so a customer
// tagged by hand or by an earlier tool loses a tag no checkpoint knew of.
// The snapshot it records makes the next daily diff start from the truth.
// Any later run can reconcile the same way to repair drift.
func ExampleReport_Reconcile() {
	ctx := context.Background()
	store := &segment.MemoryStore{}
	res, _ := segment.Evaluate(customers, definitions, segment.Options{Now: today})
	first, _ := res.Segment("first")

	// Shopify says customers 8 (tagged by hand, never evaluated), 3 and 2
	// carry ecp-first.
	carriers := []gid.ID{{Type: gid.Customer, Num: 8}, {Type: gid.Customer, Num: 3}, {Type: gid.Customer, Num: 2}}
	plan, err := first.Reconcile(ctx, store, segment.IDs(carriers))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan.Summary())
	for _, c := range plan.Changes() {
		fmt.Println(c.ID, "add", c.Add, "remove", c.Remove)
	}
	// Shopify reported every change applied (see shopify.TagsService.Apply).
	if err := plan.Commit(ctx, plan.Changes()); err != nil {
		fmt.Println(err)
		return
	}

	next, _ := first.FromSnapshot(ctx, store)
	fmt.Println(next.Summary())
	// Output:
	// first (tag ecp-first, carriers, first run): 3 -> 2 members, +1 -2, 1 unchanged
	// gid://shopify/Customer/1 add [ecp-first] remove []
	// gid://shopify/Customer/2 add [] remove [ecp-first]
	// gid://shopify/Customer/8 add [] remove [ecp-first]
	// first (tag ecp-first, snapshot): 2 -> 2 members, +0 -0, 2 unchanged
}

// Reconciling ascending ids streams in constant memory, whatever their
// number: each move is known as soon as both inputs pass its id.
func ExampleReconcileSorted() {
	id := func(n int64) gid.ID { return gid.ID{Type: gid.Customer, Num: n} }
	members := []gid.ID{id(3), id(5), id(9)}
	carriers := []gid.ID{id(3), id(4), id(9)} // 4 is a stray
	var add, strays []gid.ID
	for m, err := range segment.ReconcileSorted(segment.IDs(members), segment.IDs(carriers)) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if m.Joined {
			add = append(add, m.ID)
		} else {
			strays = append(strays, m.ID)
		}
	}
	fmt.Println("add the tag to", add)
	fmt.Println("remove it from", strays)
	// Output:
	// add the tag to [gid://shopify/Customer/5]
	// remove it from [gid://shopify/Customer/4]
}

func ExampleFileStore() {
	dir, err := os.MkdirTemp("", "segments")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	store := &segment.FileStore{Dir: dir}
	members := []gid.ID{{Type: gid.Customer, Num: 1}, {Type: gid.Customer, Num: 3}}
	if err := store.Save(ctx, "first", segment.Snapshot{Tag: "ecp-first", Members: members}); err != nil {
		fmt.Println(err)
		return
	}
	snap, ok, err := store.Load(ctx, "first")
	fmt.Println(ok, err, snap.Tag, snap.Members)
	// Output: true <nil> ecp-first [gid://shopify/Customer/1 gid://shopify/Customer/3]
}

func ExampleDiffSorted() {
	yesterday := []string{"gid://shopify/Customer/1", "gid://shopify/Customer/5", "gid://shopify/Customer/9"}
	today := []string{"5", "9", "12"} // plain numbers work too
	moves := segment.DiffSorted(
		segment.ParseIDs(gid.Customer, slices.Values(yesterday)),
		segment.ParseIDs(gid.Customer, slices.Values(today)))
	for m, err := range moves {
		if err != nil {
			fmt.Println(err)
			return
		}
		c := m.Change("ecp-repeat")
		fmt.Println(c.ID, c.Add, c.Remove)
	}
	// Output:
	// gid://shopify/Customer/1 [] [ecp-repeat]
	// gid://shopify/Customer/12 [ecp-repeat] []
}

func ExampleDiff() {
	id := func(n int64) gid.ID { return gid.ID{Type: gid.Customer, Num: n} }
	d, err := segment.Diff(
		segment.IDs([]gid.ID{id(9), id(1), id(5)}),
		segment.IDs([]gid.ID{id(12), id(5), id(9)}))
	fmt.Println(d.Joined, d.Left, d.Unchanged, err)
	// Output: [gid://shopify/Customer/12] [gid://shopify/Customer/1] 2 <nil>
}

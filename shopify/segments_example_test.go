package shopify_test

import (
	"context"
	"fmt"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// A reconciliation reads who carries the segment's tag in Shopify and
// strips it from everyone who is not a member: here a customer tagged by
// hand. It is how a new installation starts, and how drift is repaired.
func ExampleSegmentsService_TaggedCustomers() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	member := srv.AddCustomer(shopifytest.Customer{FirstName: "Yui"})
	srv.AddCustomer(shopifytest.Customer{FirstName: "Ken", Tags: []string{"ecp-first", "line"}}) // tagged by hand
	c := srv.Client()
	ctx := context.Background()

	rep := &segment.Report{Name: "first", Tag: "ecp-first", Members: []gid.ID{gid.New(gid.Customer, member)}}
	store := &segment.MemoryStore{}
	plan, err := rep.Reconcile(ctx, store, c.Segments.TaggedCustomers(ctx, rep.Tag))
	if err != nil {
		fmt.Println(err) // a *shopify.PaginationLimitError past 25,000 carriers
		return
	}
	changes := plan.Changes()
	results, err := c.Tags.Apply(ctx, changes, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Applied changes advance the snapshot; unknown ones are sent again
	// next time; failed ones are left out and come back by themselves.
	outcomes := make([]shopcrm.Outcome, len(results))
	for i, r := range results {
		outcomes[i] = r.Outcome
	}
	if err := plan.CommitOutcomes(ctx, changes, outcomes); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan.Summary())
	for _, cu := range srv.Customers() {
		fmt.Println(cu.FirstName, cu.Tags)
	}
	// Output:
	// first (tag ecp-first, carriers, first run): 1 -> 1 members, +1 -1, 0 unchanged
	// Yui [ecp-first]
	// Ken [line]
}

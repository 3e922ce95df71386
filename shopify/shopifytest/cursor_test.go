package shopifytest_test

import (
	"context"
	"testing"

	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// TestCursorsSurviveChanges: Shopify's cursors name the last item's sort
// value and id, not its index, so a listing that changes what it lists as
// it goes skips no one. Removing the tag from each member of "tagged vip"
// as it is read shrinks the list behind the cursor; tagging each customer
// of a listing by UPDATED_AT moves it behind the cursor, where it is met
// again. With cursors counting positions, half the members and some
// customers were never read.
func TestCursorsSurviveChanges(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	const n = 9
	for range n {
		srv.AddCustomer(shopifytest.Customer{Email: "a@example.com", Tags: []string{"vip"}})
	}
	c := srv.Client()
	ctx := context.Background()

	seen := map[string]bool{}
	for m, err := range c.Segments.Members(ctx, shopify.MembersOptions{Query: "customer_tags CONTAINS 'vip'", PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		seen[m.ID] = true
		if _, err := c.Tags.Remove(ctx, m.ID, []string{"vip"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != n {
		t.Errorf("members read while untagging: %d, want %d", len(seen), n)
	}

	seen = map[string]bool{}
	reads := 0
	for cu, err := range c.Customers.List(ctx, &shopify.ListOptions{PageSize: 2, SortKey: "UPDATED_AT"}) {
		if err != nil {
			t.Fatal(err)
		}
		reads++
		if seen[cu.ID] {
			continue
		}
		seen[cu.ID] = true
		if _, err := c.Tags.Add(ctx, cu.ID, []string{"seen"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != n || reads <= n {
		t.Errorf("customers read while tagging: %d distinct in %d reads, want all %d, some twice", len(seen), reads, n)
	}
}

package main

import "context"

func Example() {
	if err := run(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// round 1: 2 changes
	//   gid://shopify/Customer/1001 +[subscription-1001-plan:bimonthly subscription-1002-skip-count:1 3rd-order subscription-1002-pause:2026-12-01] -[subscription-1001-plan:monthly]: applied
	//   gid://shopify/Order/1002 +[subscription-count:3 subscription-id:0000001001 delivery-1001:2026-12-05 14:00-16:00] -[]: applied
	// round 2: 0 changes
	// customer: [3rd-order VIP line subscription-1001-plan:bimonthly subscription-1001-product:coffee subscription-1002-pause:2026-12-01 subscription-1002-plan:monthly subscription-1002-product:tea subscription-1002-skip-count:1]
	// order: [delivery-1001:2026-12-05 14:00-16:00 subscription-count:3 subscription-id:0000001001]
}

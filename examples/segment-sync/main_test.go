package main

import (
	"context"
	"os"
)

func Example() {
	dir, err := os.MkdirTemp("", "segment-sync-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), dir); err != nil {
		panic(err)
	}
	// Output:
	// run 1: Repeat buyers (tag ecp-repeat, carriers, first run): 1 -> 1 members, +1 -1, 0 unchanged
	// run 2: Repeat buyers (tag ecp-repeat, snapshot): 1 -> 1 members, +0 -0, 1 unchanged
	// Ann: [ecp-repeat] Bo: []
	// Shopify segment: customer_tags CONTAINS 'ecp-repeat'
}

package main

import (
	"context"
	"os"
)

func Example() {
	dir, err := os.MkdirTemp("", "example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), dir); err != nil {
		panic(err)
	}
	// Output:
	// run 1:
	//   activity:cmp-7 2026-11-23: applied <nil>
	//   activity:grp-7a 2026-11-23: applied <nil>
	//   activity:ad-7a1 2026-11-23: applied <nil>
	// run 2:
	//   activity:cmp-7 2026-11-23: applied shopify: engagement day already sent
	//   activity:grp-7a 2026-11-23: applied shopify: engagement day already sent
	//   activity:ad-7a1 2026-11-23: applied shopify: engagement day already sent
	// 3 engagements in Shopify
}

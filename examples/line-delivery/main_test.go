package main

import (
	"context"
	"os"
)

func Example() {
	dir, err := os.MkdirTemp("", "line-delivery-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), dir); err != nil {
		panic(err)
	}
	// Output:
	// run 1: 3 recipients, 0 already sent, 0 unknown, 1 duplicate chunks
	// run 2: 4 recipients, 3 already sent, 0 unknown, 0 duplicate chunks
	// user …0001: 1 message(s)
	// user …0002: 1 message(s)
	// user …0003: 1 message(s)
	// user …0004: 1 message(s)
}

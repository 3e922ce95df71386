package main

import "context"

func Example() {
	if err := run(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// to add [ann@example.com], to remove 1
	// to add [], to remove 0
	// Repeat buyers: [ann@example.com bo@example.com]
}

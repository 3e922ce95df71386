package main

import "context"

func Example() {
	if err := run(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// ann@example.com: consent NEVER_SUBSCRIBED, can receive false, hard bounce false
	// bo@example.com: consent NEVER_SUBSCRIBED, can receive false, hard bounce true
	// Received Email in 90 days: 1
	// Opened Email in 90 days: 1
	// Clicked Email in 90 days: 0
	// Bounced Email in 90 days: 0
	// push ann@example.com: applied
	// push cy@example.com: failed (no profile: none created)
	// ann's properties: 48200 repeat 2024
	// cy has a profile: false
}

package main

import "context"

func Example() {
	if err := run(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// round 1: 4 of 4 events accepted
	// round 2: 4 of 4 events accepted
	// recorded: Loyalty Points Earned
	// recorded: Loyalty Reward Granted
	// recorded: Loyalty VIP Tier Reached
	// recorded: Loyalty Referral Completed
	// profile: 360 gold MIO-7Q2
}

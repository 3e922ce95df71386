// Command loyalty-events (W6) sends a loyalty program's events to Klaviyo
// (points earned on an order, a reward granted, a VIP tier reached, a
// referral completed) with the static profile properties that flows read
// (points balance, tier, referral code). Each event's unique_id comes from
// the member and the fact itself, so sending the same batch again (a retry
// after a lost answer, a replay after a crash) records every event once.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "loyalty-events:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	// The first bulk request is processed but its answer is lost.
	crm := klaviyotest.NewServer(klaviyotest.WithNow(now),
		klaviyotest.WithFaults(shopcrmtest.Fault{Op: string(klaviyo.EndpointBulkCreateEvents), Kind: shopcrmtest.FaultLostResponse}))
	defer crm.Close()
	c := crm.Client()

	member := klaviyo.ProfileInput{Email: "mio@example.com", FirstName: "Mio"}
	at := now.Add(-time.Hour)
	facts := []klaviyo.Loyalty{
		{Member: member, Points: 120, OrderID: "gid://shopify/Order/5001", Balance: 860, SetBalance: true, At: at},
		{Member: member, RewardID: "rw-500off", RewardName: "500 JPY off", Balance: 360, SetBalance: true, At: at},
		{Member: member, Tier: "gold", PreviousTier: "silver", At: at},
		{Member: member, ReferralCode: "MIO-7Q2", ReferredEmail: "ren@example.com", OrderID: "gid://shopify/Order/5002", At: at},
	}
	events := []klaviyo.Event{
		facts[0].PointsEarned(), facts[1].RewardGranted(), facts[2].VIPTierReached(), facts[3].ReferralCompleted(),
	}
	for round := 1; round <= 2; round++ { // the second round replays the batch
		res, err := c.Events.BulkCreate(ctx, events)
		if err != nil {
			return err
		}
		applied := 0
		for _, r := range res {
			if r.Outcome == klaviyo.Applied {
				applied++
			}
		}
		fmt.Printf("round %d: %d of %d events accepted\n", round, applied, len(events))
	}
	for _, e := range crm.Events() {
		fmt.Println("recorded:", e.Metric)
	}
	id, _ := crm.ProfileIDByEmail("mio@example.com")
	p, _ := crm.Profile(id)
	fmt.Println("profile:", p.Properties[klaviyo.PropPointsBalance], p.Properties[klaviyo.PropTier], p.Properties[klaviyo.PropReferralCode])
	return nil
}

// Command klaviyo-sync (W5) collects what Klaviyo knows about a list's
// profiles (email consent, suppressions such as a hard bounce, 90 days of
// email activity) and pushes values computed in the shop back as custom
// profile properties. The push is update only: a customer without a
// Klaviyo profile gets none, and a property the configuration stops
// pushing stays in Klaviyo as it was, never unset.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "klaviyo-sync:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	crm := klaviyotest.NewServer(klaviyotest.WithNow(now), klaviyotest.WithJobDuration(0))
	defer crm.Close()
	list := crm.AddList("Newsletter", klaviyo.SingleOptIn)
	ann := crm.AddProfile(klaviyo.ProfileInput{Email: "ann@example.com", Properties: map[string]any{"vip_since": "2024"}})
	bo := crm.AddProfile(klaviyo.ProfileInput{Email: "bo@example.com"})
	crm.AddListMembers(list, ann, bo)
	crm.SuppressProfile(bo, klaviyo.SuppressionHardBounce)
	crm.AddEvent("Received Email", ann, now.AddDate(0, 0, -3), nil)
	crm.AddEvent("Opened Email", ann, now.AddDate(0, 0, -2), nil)
	c := crm.Client()

	// Collect: the list's profiles with their consent and suppressions.
	for p, err := range c.Lists.Members(ctx, list, klaviyo.MemberOptions{Subscriptions: true}) {
		if err != nil {
			return err
		}
		e := p.Subscriptions.Email
		fmt.Printf("%s: consent %s, can receive %t, hard bounce %t\n",
			p.Email, e.Consent, e.CanReceive, e.Suppressed(klaviyo.SuppressionHardBounce))
	}
	activity, err := c.Metrics.EmailActivity(ctx, 90, now)
	if err != nil {
		return err
	}
	for _, name := range []string{"Received Email", "Opened Email", "Clicked Email", "Bounced Email"} {
		total := 0.0
		if a := activity[name]; a != nil {
			for _, n := range a.Count {
				total += n
			}
		}
		fmt.Printf("%s in 90 days: %.0f\n", name, total)
	}

	// Push back: computed in the shop, written only where a profile exists.
	push := []klaviyo.ProfileInput{
		{Email: "ann@example.com", Properties: map[string]any{"ltv_jpy": 48200, "segment": "repeat"}},
		{Email: "cy@example.com", Properties: map[string]any{"ltv_jpy": 2980, "segment": "first"}}, // no profile
	}
	res, err := c.Profiles.Import(ctx, push, klaviyo.ImportOptions{UpdateOnly: true})
	if err != nil {
		return err
	}
	for _, r := range res {
		fmt.Printf("push %s: %s", push[r.Index].Email, r.Outcome)
		if errors.Is(r.Err, klaviyo.ErrProfileNotFound) {
			fmt.Print(" (no profile: none created)")
		}
		fmt.Println()
	}
	id, _ := crm.ProfileIDByEmail("ann@example.com")
	p, _ := crm.Profile(id)
	fmt.Println("ann's properties:", p.Properties["ltv_jpy"], p.Properties["segment"], p.Properties["vip_since"])
	_, found := crm.ProfileIDByEmail("cy@example.com")
	fmt.Println("cy has a profile:", found)
	return nil
}

// Command subscription-tags (W1) writes a subscription app's events as
// Shopify tags: each event becomes the change it calls for on the tags the
// customer or order carries now, touching only that contract's tags and
// never another app's ("line", "VIP"). Applying the same events again
// changes nothing, so a retried or replayed batch is harmless.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "subscription-tags:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	store := shopifytest.NewServer()
	defer store.Close()
	shop := store.Client()

	// A subscriber with two contracts and tags of other apps.
	custID := store.AddCustomer(shopifytest.Customer{FirstName: "Aiko", Tags: []string{
		"line", "VIP",
		"subscription-1001-plan:monthly", "subscription-1001-product:coffee",
		"subscription-1002-plan:monthly", "subscription-1002-product:tea",
	}})
	orderID := store.AddOrder(shopifytest.Order{CustomerID: custID})
	cust, order := shopify.CustomerGID(custID), shopify.OrderGID(orderID)

	// The rank and purchase-count rules are the merchant's configuration.
	schema, err := tagging.NewSchema(tagging.WithRules(tagging.Rule{At: 3, Tag: "3rd-order"}))
	if err != nil {
		return err
	}
	events := []tagging.Event{
		tagging.PlanChanged{Contract: "1001", Plan: "bimonthly"}, // the product tag stays
		tagging.Skipped{Contract: "1002", Count: 1},              // Count makes it safe to replay
		tagging.OrderPlaced{Contract: "1001", Count: 3},          // earns the 3rd-order rule tag
		tagging.Paused{Contract: "1002", On: calendar.NewDate(2026, 12, 1)},
	}
	orderEvent := tagging.OrderPlaced{Contract: "1001", Count: 3, SubscriptionID: "0000001001",
		Delivery: calendar.NewDate(2026, 12, 5), Time: "14:00-16:00"}

	for round := 1; round <= 2; round++ {
		var changes []tagging.Change
		c, _, err := shop.Customers.Get(ctx, cust)
		if err != nil {
			return err
		}
		work := tagging.NewSet(c.Tags...)
		for _, e := range events {
			ch, err := schema.Apply(cust, work.Tags(), e)
			if err != nil {
				return err
			}
			work.Apply(ch)
		}
		if ch := tagging.Diff(cust, c.Tags, work.Tags()); !ch.Empty() {
			changes = append(changes, ch)
		}
		o, _, err := shop.Orders.Get(ctx, order)
		if err != nil {
			return err
		}
		if ch, err := schema.ApplyOrder(order, o.Tags, orderEvent); err != nil {
			return err
		} else if !ch.Empty() {
			changes = append(changes, ch)
		}

		results, err := shop.Tags.Apply(ctx, changes, nil)
		if err != nil {
			return err
		}
		fmt.Printf("round %d: %d changes\n", round, len(changes))
		for i, r := range results {
			fmt.Printf("  %s +%v -%v: %s\n", r.ID, changes[i].Add, changes[i].Remove, r.Outcome)
			if r.Outcome != shopcrm.Applied {
				return r.Err
			}
		}
	}
	fmt.Println("customer:", store.CustomerTags(custID))
	fmt.Println("order:", store.OrderTags(orderID))
	return nil
}

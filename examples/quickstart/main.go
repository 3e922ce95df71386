// Command quickstart runs a day of segment sync and a LINE send against the
// bundled fakes, offline:
//
//  1. read customers and orders from a Shopify store (shopifytest);
//  2. evaluate two segments: first-time buyers and LINE-linked repeat buyers;
//  3. diff today's members against the tags customers carry and apply the
//     tag changes in bulk, then keep a Shopify customer segment in step;
//  4. multicast a LINE message to the LINE-linked repeat buyers (linetest).
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func main() {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

	store := shopifytest.NewServer(shopifytest.WithNow(now))
	defer store.Close()
	lineUser := seed(store, now) // Shopify customer GID → LINE user id
	shop := store.Client()

	customers, err := load(ctx, shop)
	if err != nil {
		log.Fatal(err)
	}
	defs := []segment.Definition{
		{Name: "first-time buyers", Tag: "ecp-first", Rule: segment.FirstTimeBuyer()},
		{Name: "LINE repeat buyers", Tag: "ecp-line-repeat", Rule: segment.And(segment.HasTag("line"), segment.RepeatBuyer())},
	}
	res, err := segment.Evaluate(func(yield func(segment.Customer) bool) {
		for _, c := range customers {
			if !yield(c) {
				return
			}
		}
	}, defs, segment.Options{Now: now})
	if err != nil {
		log.Fatal(err)
	}

	for i := range res.Segments {
		rep := &res.Segments[i]
		plan := rep.FromTags()
		fmt.Println(plan.Summary())
		results, err := shop.Tags.Apply(ctx, plan.Changes(), nil)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range results {
			if !r.Applied {
				fmt.Println("  failed:", r.ID, r.Err)
			}
		}
		q, err := segment.Query(rep.Tag)
		if err != nil {
			log.Fatal(err)
		}
		if _, _, err := shop.Segments.Create(ctx, rep.Name, q); err != nil {
			log.Fatal(err)
		}
		m := rep.Metrics
		fmt.Printf("  customers %d, repeat rate %s, revenue %v\n", m.Customers, m.RepeatRate(), m.Revenue)
	}

	// W3: message the LINE-linked repeat buyers.
	chat := linetest.NewServer()
	defer chat.Close()
	var to []string
	rep, _ := res.Segment("LINE repeat buyers")
	for _, id := range rep.Members {
		to = append(to, lineUser[id.String()])
	}
	chat.AddFollowers(to...)
	sent, err := chat.Client().Messages.Multicast(ctx, &line.MulticastRequest{
		To:       to,
		Messages: []line.Message{line.TextMessage{Text: "Thanks for coming back! 10% off your next order."}},
		RetryKey: line.KeyFrom("repeat-buyers", now.Format(time.DateOnly)),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("LINE multicast: %d users in %d calls\n", len(to), len(sent.Chunks))
	for _, s := range store.Segments() {
		fmt.Printf("Shopify segment %q: %s\n", s.Name, s.Query)
	}
}

// seed fills the fake store: six customers, three of them linked to LINE
// (tag "line", set by another app and never touched), with their orders.
func seed(store *shopifytest.Server, now time.Time) map[string]string {
	lineUser := map[string]string{}
	orders := []int{1, 2, 3, 1, 0, 2}
	for i, n := range orders {
		c := shopifytest.Customer{FirstName: fmt.Sprintf("Customer %d", i+1), CreatedAt: now.AddDate(0, -6, 0)}
		if i%2 == 0 {
			c.Tags = []string{"line"}
		}
		id := store.AddCustomer(c)
		if i%2 == 0 {
			lineUser[shopify.CustomerGID(id)] = fmt.Sprintf("U%032x", i+1)
		}
		for k := range n {
			store.AddOrder(shopifytest.Order{
				CustomerID: id,
				CreatedAt:  now.AddDate(0, 0, -30*(k+1)),
				Total:      money.MustParse("4980", "JPY"),
				SourceName: "web",
			})
		}
	}
	return lineUser
}

// load reads every customer with its orders into segment's input shape.
func load(ctx context.Context, shop *shopify.Client) ([]segment.Customer, error) {
	byID := map[string]*segment.Customer{}
	var out []*segment.Customer
	for c, err := range shop.Customers.List(ctx, nil) {
		if err != nil {
			return nil, err
		}
		id, err := gid.Parse(c.ID)
		if err != nil {
			return nil, err
		}
		sc := &segment.Customer{ID: id, Tags: c.Tags, Created: c.CreatedAt}
		byID[c.ID] = sc
		out = append(out, sc)
	}
	for o, err := range shop.Orders.List(ctx, nil) {
		if err != nil {
			return nil, err
		}
		c, ok := byID[o.CustomerID]
		if !ok {
			continue // guest orders belong to no segment
		}
		oid, err := gid.Parse(o.ID)
		if err != nil {
			return nil, err
		}
		c.Orders = append(c.Orders, segment.Order{ID: oid, Time: o.ProcessedAt, Total: o.TotalPrice, Channel: o.SourceName, Tags: o.Tags})
	}
	res := make([]segment.Customer, len(out))
	for i, c := range out {
		res[i] = *c
	}
	return res, nil
}

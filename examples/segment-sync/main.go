// Command segment-sync (W2) mirrors a segment into a Shopify customer tag
// and keeps a Shopify segment on that tag. The first run reconciles with
// who carries the tag in Shopify (a customer tagged by hand loses it);
// later runs diff against the snapshot the previous run stored. A change
// whose answer was lost is sent again next run; one that failed comes back
// by itself.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func main() {
	dir, err := os.MkdirTemp("", "segment-sync-")
	if err == nil {
		defer os.RemoveAll(dir)
		err = run(context.Background(), dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "segment-sync:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, stateDir string) error {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	store := shopifytest.NewServer(shopifytest.WithNow(now))
	defer store.Close()
	shop := store.Client()
	ann := store.AddCustomer(shopifytest.Customer{FirstName: "Ann"})
	bo := store.AddCustomer(shopifytest.Customer{FirstName: "Bo", Tags: []string{"ecp-repeat"}}) // tagged by hand
	for _, daysAgo := range []int{3, 40} {
		store.AddOrder(shopifytest.Order{CustomerID: ann, CreatedAt: now.AddDate(0, 0, -daysAgo), Total: money.MustParse("30.00", "USD")})
	}

	def := segment.Definition{Name: "Repeat buyers", Tag: "ecp-repeat", Rule: segment.RepeatBuyer()}
	snapshots := &segment.FileStore{Dir: stateDir}
	for day := 1; day <= 2; day++ {
		customers, err := load(ctx, shop)
		if err != nil {
			return err
		}
		res, err := segment.Evaluate(slices.Values(customers), []segment.Definition{def}, segment.Options{Now: now})
		if err != nil {
			return err
		}
		rep := &res.Segments[0]
		var plan *segment.Plan
		if _, ok, err := snapshots.Load(ctx, rep.Name); err != nil {
			return err
		} else if ok {
			plan, err = rep.FromSnapshot(ctx, snapshots)
			if err != nil {
				return err
			}
		} else if plan, err = rep.Reconcile(ctx, snapshots, shop.Segments.TaggedCustomers(ctx, rep.Tag)); err != nil {
			return err
		}
		changes := plan.Changes()
		results, err := shop.Tags.Apply(ctx, changes, nil)
		if err != nil {
			return err
		}
		outcomes := make([]shopcrm.Outcome, len(results))
		for i, r := range results {
			outcomes[i] = r.Outcome
		}
		// Applied changes advance the snapshot, unknown ones are sent
		// again next run, failed ones come back by themselves.
		if err := plan.CommitOutcomes(ctx, changes, outcomes); err != nil {
			return err
		}
		fmt.Printf("run %d: %s\n", day, plan.Summary())
	}
	q, err := segment.Query(def.Tag)
	if err != nil {
		return err
	}
	if _, err := shop.Segments.FindByName(ctx, def.Name); errors.Is(err, shopcrm.ErrNotFound) {
		if _, _, err := shop.Segments.Create(ctx, def.Name, q); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	fmt.Println("Ann:", store.CustomerTags(ann), "Bo:", store.CustomerTags(bo))
	fmt.Println("Shopify segment:", q)
	return nil
}

// load reads every customer with their orders into segment's input.
func load(ctx context.Context, shop *shopify.Client) ([]segment.Customer, error) {
	var out []segment.Customer
	index := map[string]int{}
	for c, err := range shop.Customers.List(ctx, nil) {
		if err != nil {
			return nil, err
		}
		id, err := gid.ParseAs(c.ID, gid.Customer)
		if err != nil {
			return nil, err
		}
		index[c.ID] = len(out)
		out = append(out, segment.Customer{ID: id, Tags: c.Tags, Created: c.CreatedAt})
	}
	for o, err := range shop.Orders.List(ctx, &shopify.ListOptions{LineItems: -1}) {
		if err != nil {
			return nil, err
		}
		i, ok := index[o.CustomerID]
		if !ok {
			continue // a guest order
		}
		id, err := gid.ParseAs(o.ID, gid.Order)
		if err != nil {
			return nil, err
		}
		out[i].Orders = append(out[i].Orders, segment.Order{ID: id, Time: o.ProcessedAt, Total: o.TotalPrice, Channel: o.SourceName})
	}
	return out, nil
}

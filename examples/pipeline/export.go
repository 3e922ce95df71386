package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify"
)

// Export reads every customer with their orders into segment's input
// through two bulk operations (a few requests whatever the store's size,
// rather than pages costing up to 1,000 points each): the customers with
// their orders, then every order with its line items, which a customer
// export cannot nest. It also returns the customers' email addresses by
// GID, for the platforms that know customers by email. poll is how often
// an export's status is read (zero: the client's default). Orders are joined
// to their customer's orders by id; cancelled and test orders are left
// out.
func Export(ctx context.Context, c *shopify.Client, poll time.Duration) ([]segment.Customer, map[string]string, error) {
	wait := shopify.BulkQueryOptions{Wait: shopify.WaitOptions{Interval: poll}}
	var out []segment.Customer
	emails := map[string]string{}
	orderAt := map[gid.ID][2]int{} // order → customer index, order index
	for ec, err := range c.Bulk.ExportCustomers(ctx, &shopify.ExportOptions{Query: wait}) {
		if err != nil {
			return nil, nil, err
		}
		sc, err := ec.Segment()
		if err != nil {
			return nil, nil, err
		}
		for j, o := range sc.Orders {
			orderAt[o.ID] = [2]int{len(out), j}
		}
		if ec.Email != "" {
			emails[ec.ID] = ec.Email
		}
		out = append(out, sc)
	}
	drop := map[gid.ID]bool{}
	for o, err := range c.Bulk.ExportOrders(ctx, &shopify.ExportOptions{SkipScopeCheck: true, Query: wait}) {
		if err != nil {
			return nil, nil, err
		}
		id, err := gid.ParseAs(o.ID, gid.Order)
		if err != nil {
			return nil, nil, err
		}
		at, ok := orderAt[id]
		if !ok {
			continue // a guest order
		}
		if o.CancelledAt != nil || o.Test {
			drop[id] = true
			continue
		}
		so := &out[at[0]].Orders[at[1]]
		for _, li := range o.LineItems {
			var p gid.ID
			if li.ProductID != "" {
				if p, err = gid.ParseAs(li.ProductID, gid.Product); err != nil {
					return nil, nil, fmt.Errorf("order %s: %w", o.ID, err)
				}
			}
			so.Items = append(so.Items, segment.LineItem{Product: p})
		}
	}
	if len(drop) > 0 {
		for i := range out {
			out[i].Orders = deleteOrders(out[i].Orders, drop)
		}
	}
	return out, emails, nil
}

func deleteOrders(orders []segment.Order, drop map[gid.ID]bool) []segment.Order {
	kept := orders[:0]
	for _, o := range orders {
		if !drop[o.ID] {
			kept = append(kept, o)
		}
	}
	return kept
}

// applyOpts reports a tag send's progress under step.
func applyOpts(env *Env, step string) *shopify.ApplyOptions {
	return &shopify.ApplyOptions{Progress: func(p shopcrm.Progress) { env.progress(step, p) }}
}

// countResults adds per-change outcomes to rep, with a note for each
// change not applied (the first few).
func countResults(rep *StepReport, results []shopify.ChangeResult) {
	const maxNotes = 5
	noted := 0
	for _, r := range results {
		rep.add("tags "+r.Outcome.String(), 1)
		if r.Outcome != shopcrm.Applied && noted < maxNotes {
			rep.notef("%s %s: %v", r.ID, r.Outcome, r.Err)
			noted++
		}
	}
}

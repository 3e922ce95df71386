package pipeline

import (
	"context"
	"fmt"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify"
)

// Export reads every customer with their orders (and the orders' line
// items) into segment's input, ascending by customer id, and the
// customers' email addresses by GID (for the platforms that know
// customers by email). Guest orders belong to no customer and are left
// out.
func Export(ctx context.Context, c *shopify.Client) ([]segment.Customer, map[string]string, error) {
	var out []segment.Customer
	emails := map[string]string{}
	index := map[string]int{}
	for cu, err := range c.Customers.List(ctx, &shopify.ListOptions{SortKey: "ID"}) {
		if err != nil {
			return nil, nil, err
		}
		id, err := gid.ParseAs(cu.ID, gid.Customer)
		if err != nil {
			return nil, nil, err
		}
		index[cu.ID] = len(out)
		out = append(out, segment.Customer{ID: id, Tags: cu.Tags, Created: cu.CreatedAt})
		if cu.Email != "" {
			emails[cu.ID] = cu.Email
		}
	}
	for o, err := range c.Orders.List(ctx, &shopify.ListOptions{SortKey: "ID", LineItems: 5}) {
		if err != nil {
			return nil, nil, err
		}
		i, ok := index[o.CustomerID]
		if !ok || o.CancelledAt != nil || o.Test {
			continue
		}
		so, err := segmentOrder(ctx, c, o)
		if err != nil {
			return nil, nil, err
		}
		out[i].Orders = append(out[i].Orders, so)
	}
	return out, emails, nil
}

// segmentOrder converts an order, reading the rest of its line items when
// the page did not bring them all.
func segmentOrder(ctx context.Context, c *shopify.Client, o *shopify.Order) (segment.Order, error) {
	id, err := gid.ParseAs(o.ID, gid.Order)
	if err != nil {
		return segment.Order{}, err
	}
	so := segment.Order{ID: id, Time: o.ProcessedAt, Total: o.TotalPrice, Channel: o.SourceName, Tags: o.Tags}
	items := o.LineItems
	if o.MoreLineItems {
		items = items[:0:0]
		for li, err := range c.Orders.LineItems(ctx, o.ID) {
			if err != nil {
				return segment.Order{}, err
			}
			items = append(items, li)
		}
	}
	for _, li := range items {
		var p gid.ID
		if li.ProductID != "" {
			if p, err = gid.ParseAs(li.ProductID, gid.Product); err != nil {
				return segment.Order{}, fmt.Errorf("order %s: %w", o.ID, err)
			}
		}
		so.Items = append(so.Items, segment.LineItem{Product: p})
	}
	return so, nil
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

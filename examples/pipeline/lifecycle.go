package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/tagging"
)

// CustomerEvent is a subscription event on a customer (a Shopify GID).
type CustomerEvent struct {
	Customer string
	Event    tagging.Event
}

// OrderEvent is a subscription event on an order (a Shopify GID).
type OrderEvent struct {
	Order string
	Event tagging.OrderEvent
}

// Lifecycle (W1) writes the day's subscription events as tags. Each
// resource's events are applied in order to the tags it carries now, and
// the difference is sent as one change: applying the same events again
// finds the tags already there and sends nothing. Events must therefore
// say where they lead (tagging.Skipped with its Count), not only that
// something happened.
func Lifecycle(ctx context.Context, env *Env, customers []CustomerEvent, orders []OrderEvent) (*StepReport, error) {
	rep := newStep("lifecycle", !env.Apply)
	start := time.Now()
	defer func() { rep.Elapsed = time.Since(start) }()
	if err := env.check(); err != nil {
		return nil, err
	}
	if env.Shopify == nil {
		rep.Skipped = "no Shopify client"
		return rep, nil
	}
	schema := env.schema()
	// Many events read the tags from a bulk export (a few requests
	// however many customers), few read each customer.
	var reads lifecycleReads
	readCustomer := func(ctx context.Context, id string) ([]string, error) {
		reads.customerGets++
		c, _, err := env.Shopify.Customers.Get(ctx, id)
		return tagsOf(c, err, func(c *shopify.Customer) []string { return c.Tags })
	}
	if len(customers) > bulkReadAbove {
		reads.customersExported = true
		known, err := exportedTags(ctx, env)
		if err != nil {
			return nil, err
		}
		get := readCustomer
		readCustomer = func(ctx context.Context, id string) ([]string, error) {
			if tags, ok := known[id]; ok {
				return tags, nil
			}
			return get(ctx, id) // created since the export began
		}
	}
	cust, err := plan(ctx, rep, "customers", customers,
		func(e CustomerEvent) (string, tagging.Event) { return e.Customer, e.Event }, readCustomer, schema.Apply)
	if err != nil {
		return nil, err
	}
	readOrder := func(ctx context.Context, id string) ([]string, error) {
		reads.orderGets++
		o, _, err := env.Shopify.Orders.Get(ctx, id)
		return tagsOf(o, err, func(o *shopify.Order) []string { return o.Tags })
	}
	if len(orders) > bulkReadAbove {
		reads.ordersExported = true
		// Order events are mostly about the last week's orders; older
		// ones are read one by one.
		known, err := exportedOrderTags(ctx, env, env.dayStart().AddDate(0, 0, -7))
		if err != nil {
			return nil, err
		}
		get := readOrder
		readOrder = func(ctx context.Context, id string) ([]string, error) {
			if tags, ok := known[id]; ok {
				return tags, nil
			}
			return get(ctx, id)
		}
	}
	ord, err := plan(ctx, rep, "orders", orders,
		func(e OrderEvent) (string, tagging.OrderEvent) { return e.Order, e.Event }, readOrder, schema.ApplyOrder)
	if err != nil {
		return nil, err
	}
	changes := append(cust, ord...)

	rep.add("tag changes", len(changes))
	reads.customers, reads.orders = distinct(customers, func(e CustomerEvent) string { return e.Customer }), distinct(orders, func(e OrderEvent) string { return e.Order })
	if !env.Apply || len(changes) == 0 {
		rep.need(PlatformShopify, lifecycleMinimum(env, reads, nil))
		return rep, nil
	}
	results, err := env.Shopify.Tags.ApplyAuto(ctx, changes, applyOpts(env, "lifecycle"))
	countResults(rep, results)
	rep.need(PlatformShopify, lifecycleMinimum(env, reads, changes))
	return rep, err
}

// lifecycleReads is how Lifecycle read the tags: resources with events,
// whether an export read them, and the reads one by one it made.
type lifecycleReads struct {
	customers, orders                 int
	customersExported, ordersExported bool
	customerGets, orderGets           int
}

// lifecycleMinimum is what Lifecycle needs from Shopify: the tags of each
// resource with events (read one by one or by an export, whichever takes
// fewer requests) and the tag changes sent.
func lifecycleMinimum(env *Env, r lifecycleReads, sent []tagging.Change) Minimum {
	var n shopifyNeed
	for _, k := range []struct {
		ids, gets int
		exported  bool
	}{{r.customers, r.customerGets, r.customersExported}, {r.orders, r.orderGets, r.ordersExported}} {
		missed := 0
		if k.exported {
			missed = k.gets // resources the export did not have
		}
		n.reads(k.ids, missed)
	}
	n.tags(sent)
	return n.minimum(env.Shopify)
}

// distinct counts the different ids of items.
func distinct[T any](items []T, id func(T) string) int {
	seen := map[string]bool{}
	for _, it := range items {
		seen[id(it)] = true
	}
	return len(seen)
}

// bulkReadAbove is the number of customer events above which Lifecycle
// reads customers' tags from a bulk export rather than one by one.
var bulkReadAbove = 50

// exportedTags reads every customer's tags with a bulk export.
func exportedTags(ctx context.Context, env *Env) (map[string][]string, error) {
	tags := map[string][]string{}
	opts := &shopify.ExportOptions{Since: env.dayEnd(), Query: shopify.BulkQueryOptions{Wait: shopify.WaitOptions{Interval: env.BulkPoll}}}
	for c, err := range env.Shopify.Bulk.ExportCustomers(ctx, opts) {
		if err != nil {
			return nil, fmt.Errorf("lifecycle: export: %w", err)
		}
		tags[c.ID] = c.Tags
	}
	return tags, nil
}

// exportedOrderTags reads the tags of the orders created since since
// with a bulk export.
func exportedOrderTags(ctx context.Context, env *Env, since time.Time) (map[string][]string, error) {
	tags := map[string][]string{}
	opts := &shopify.ExportOptions{Since: since, Query: shopify.BulkQueryOptions{Wait: shopify.WaitOptions{Interval: env.BulkPoll}}}
	for o, err := range env.Shopify.Bulk.ExportOrders(ctx, opts) {
		if err != nil {
			return nil, fmt.Errorf("lifecycle: export: %w", err)
		}
		tags[o.ID] = o.Tags
	}
	return tags, nil
}

// plan groups the events by resource (in the order resources first
// appear), reads each resource's tags and replays its events on them,
// returning the changes to send. what names the input in errors and in
// the report.
func plan[T any, E comparable](ctx context.Context, rep *StepReport, what string, items []T, split func(T) (string, E),
	read func(context.Context, string) ([]string, error), apply func(string, []string, E) (tagging.Change, error)) ([]tagging.Change, error) {
	var zero E
	byID, order := map[string][]E{}, []string{}
	for i, it := range items {
		id, e := split(it)
		if id == "" || e == zero {
			return nil, &shopcrm.InputError{Field: fmt.Sprintf("%s[%d]", what, i), Reason: "needs a resource id and an event"}
		}
		if _, ok := byID[id]; !ok {
			order = append(order, id)
		}
		byID[id] = append(byID[id], e)
	}
	var changes []tagging.Change
	for _, id := range order {
		cur, err := read(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("lifecycle: read %s: %w", id, err)
		}
		ch, err := replay(id, cur, byID[id], func(cur []string, e E) (tagging.Change, error) { return apply(id, cur, e) })
		if err != nil {
			return nil, err
		}
		rep.add(strings.TrimSuffix(what, "s")+" events", len(byID[id]))
		if !ch.Empty() {
			changes = append(changes, ch)
		}
	}
	return changes, nil
}

// tagsOf returns the tags of a resource just read.
func tagsOf[R any](r *R, err error, tags func(*R) []string) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return tags(r), nil
}

// replay applies events in order to a working copy of current and returns
// the one change from current to the result.
func replay[E any](id string, current []string, events []E, apply func([]string, E) (tagging.Change, error)) (tagging.Change, error) {
	work := tagging.NewSet(current...)
	for _, e := range events {
		ch, err := apply(work.Tags(), e)
		if err != nil {
			return tagging.Change{}, fmt.Errorf("lifecycle: %s: %w", id, err)
		}
		work.Apply(ch)
	}
	return tagging.Diff(id, current, work.Tags()), nil
}

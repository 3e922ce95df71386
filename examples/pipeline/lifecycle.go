package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/shopcrm/shopcrm"
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
	var changes []tagging.Change

	byCustomer, custOrder := map[string][]tagging.Event{}, []string{}
	for i, e := range customers {
		if e.Customer == "" || e.Event == nil {
			return nil, &shopcrm.InputError{Field: fmt.Sprintf("customers[%d]", i), Reason: "needs a customer and an event"}
		}
		if _, ok := byCustomer[e.Customer]; !ok {
			custOrder = append(custOrder, e.Customer)
		}
		byCustomer[e.Customer] = append(byCustomer[e.Customer], e.Event)
	}
	for _, id := range custOrder {
		c, _, err := env.Shopify.Customers.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("lifecycle: read %s: %w", id, err)
		}
		ch, err := replay(id, c.Tags, byCustomer[id], func(cur []string, e tagging.Event) (tagging.Change, error) {
			return schema.Apply(id, cur, e)
		})
		if err != nil {
			return nil, err
		}
		rep.add("customer events", len(byCustomer[id]))
		if !ch.Empty() {
			changes = append(changes, ch)
		}
	}

	byOrder, orderOrder := map[string][]tagging.OrderEvent{}, []string{}
	for i, e := range orders {
		if e.Order == "" || e.Event == nil {
			return nil, &shopcrm.InputError{Field: fmt.Sprintf("orders[%d]", i), Reason: "needs an order and an event"}
		}
		if _, ok := byOrder[e.Order]; !ok {
			orderOrder = append(orderOrder, e.Order)
		}
		byOrder[e.Order] = append(byOrder[e.Order], e.Event)
	}
	for _, id := range orderOrder {
		o, _, err := env.Shopify.Orders.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("lifecycle: read %s: %w", id, err)
		}
		ch, err := replay(id, o.Tags, byOrder[id], func(cur []string, e tagging.OrderEvent) (tagging.Change, error) {
			return schema.ApplyOrder(id, cur, e)
		})
		if err != nil {
			return nil, err
		}
		rep.add("order events", len(byOrder[id]))
		if !ch.Empty() {
			changes = append(changes, ch)
		}
	}

	rep.add("tag changes", len(changes))
	if !env.Apply || len(changes) == 0 {
		return rep, nil
	}
	results, err := env.Shopify.Tags.ApplyAuto(ctx, changes, applyOpts(env, "lifecycle"))
	countResults(rep, results)
	return rep, err
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

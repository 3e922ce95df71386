package tagging

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shopcrm/shopcrm/calendar"
)

// Event is a subscription event on a customer, turned into a tag change by
// [Schema.Apply]. The events are [Created], [PlanChanged],
// [ProductChanged], [OrderPlaced], [Skipped], [Paused], [Cancelled],
// [Resumed], [RankChanged], [StatusChanged], [Deleted] and [RulesChanged].
// [DeliveryChanged] and OrderPlaced also go on orders ([Schema.ApplyOrder]).
//
// Each event touches only its own contract's tags of the kinds it is about
// (and the rule tags it names), so events on one contract never disturb
// another contract of the same customer, an event about the plan never
// touches the product tag, and tags the schema does not own are never
// touched at all.
type Event interface{ event() }

// OrderEvent is an event that writes an order's tags, turned into a change
// by [Schema.ApplyOrder]: [OrderPlaced] or [DeliveryChanged].
type OrderEvent interface{ orderEvent() }

// Created is a new subscription contract: the contract's plan and product
// tags are written. An empty Plan or Product writes no such tag and leaves
// any the contract has alone; use [PlanChanged] and [ProductChanged] for
// later changes.
type Created struct {
	Contract string
	Plan     string
	Product  string
}

// PlanChanged is a contract moved to another plan: its plan tag, and only
// that, is replaced.
type PlanChanged struct {
	Contract string
	Plan     string
}

// ProductChanged is a contract that now delivers another product: its
// product tag, and only that, is replaced.
type ProductChanged struct {
	Contract string
	Product  string
}

// OrderPlaced is an order of a contract; Count is the contract's order count
// including this order. On the customer ([Schema.Apply]) it adds the tags of
// the purchase-count rules the contract now qualifies for; on the order
// ([Schema.ApplyOrder]) it writes the subscription-count, subscription-id
// and delivery tags. SubscriptionID (10 digits) and Delivery are optional;
// Time is the delivery time slot, written verbatim.
type OrderPlaced struct {
	Contract       string
	Count          int
	SubscriptionID string
	Delivery       calendar.Date
	Time           string
}

// DeliveryChanged is a new delivery date (and optionally time slot) for the
// contract's next order. It is an order event: [Schema.ApplyOrder] replaces
// that order's delivery tag of the contract and leaves its
// subscription-count and subscription-id tags alone.
type DeliveryChanged struct {
	Contract string
	Delivery calendar.Date
	Time     string
}

// Skipped is a skipped delivery: the contract's skip-count tag is replaced
// by one with Count, or, when Count is 0, with one more than the current tag
// says. Setting Count makes the event safe to apply twice.
type Skipped struct {
	Contract string
	Count    int
}

// Paused is a paused contract: the pause tag is replaced. On is written
// when the pause template has {date}.
type Paused struct {
	Contract string
	On       calendar.Date
}

// Cancelled is a cancelled contract: the cancel tag is replaced by one dated
// On.
type Cancelled struct {
	Contract string
	On       calendar.Date
}

// Resumed is a contract that runs again after a pause or a cancellation:
// its cancel and pause tags are removed.
type Resumed struct {
	Contract string
}

// RankChanged replaces the member rank tag; an empty Rank removes it.
// Contract is used only when the rank template has {id}.
type RankChanged struct {
	Contract string
	Rank     string
}

// StatusChanged replaces the contract's purchase-status tag; an empty Status
// removes it.
type StatusChanged struct {
	Contract string
	Status   string
}

// Deleted is a contract that no longer exists (deleted, or merged into
// another): every customer tag of the contract is removed. Rule tags stay,
// since another contract may have earned them; re-plan them with
// [RulesChanged].
type Deleted struct {
	Contract string
}

// RulesChanged re-plans the purchase-count rule tags of a customer after the
// merchant added, changed or removed rules: apply it with a schema that has
// the new rules. Tags of the new rules that a contract qualifies for are
// added; tags of the Previous rules (and of the new ones) that no contract
// qualifies for any more are removed. A tag earned by one contract stays
// however the others stand.
//
// Orders holds the order count of every contract of the customer; a
// contract with tags on the customer but no count is an [*EventError],
// rather than a guess that could remove a tag it earned.
type RulesChanged struct {
	Previous []Rule
	Orders   map[string]int
}

func (Created) event()        {}
func (PlanChanged) event()    {}
func (ProductChanged) event() {}
func (OrderPlaced) event()    {}
func (Skipped) event()        {}
func (Paused) event()         {}
func (Cancelled) event()      {}
func (Resumed) event()        {}
func (RankChanged) event()    {}
func (StatusChanged) event()  {}
func (Deleted) event()        {}
func (RulesChanged) event()   {}

func (OrderPlaced) orderEvent()     {}
func (DeliveryChanged) orderEvent() {}

// Apply returns the change event e makes to a customer whose tags are
// current. Like [Schema.Plan] it is minimal, matches tags without regard to
// case and never removes a tag the schema does not own. A field that cannot
// be written returns a [*FormatError].
func (s *Schema) Apply(id string, current []string, e Event) (Change, error) {
	b := wants{s: s}
	var sc scope
	switch e := e.(type) {
	case Created:
		b.contract(KindPlan, e.Contract)
		sc = scope{contract: e.Contract}
		if e.Plan != "" {
			b.tag(Tag{Kind: KindPlan, Contract: e.Contract, Value: e.Plan})
			sc.kinds |= kindBits(KindPlan)
		}
		if e.Product != "" {
			b.tag(Tag{Kind: KindProduct, Contract: e.Contract, Value: e.Product})
			sc.kinds |= kindBits(KindProduct)
		}
	case PlanChanged:
		b.tag(Tag{Kind: KindPlan, Contract: e.Contract, Value: e.Plan})
		sc = scope{kinds: kindBits(KindPlan), contract: e.Contract}
	case ProductChanged:
		b.tag(Tag{Kind: KindProduct, Contract: e.Contract, Value: e.Product})
		sc = scope{kinds: kindBits(KindProduct), contract: e.Contract}
	case OrderPlaced:
		b.contract(KindPlan, e.Contract)
		b.count(e.Count)
		if b.err == nil {
			c, _ := s.Contract(current, e.Contract)
			plan := c.Plan
			for i := range s.rules {
				if r := &s.rules[i]; r.At <= e.Count && planMatches(r.Plan, plan) {
					b.add(r.Tag)
				}
			}
		}
	case Skipped:
		b.contract(KindSkipCount, e.Contract)
		n := e.Count
		if n == 0 {
			c, _ := s.Contract(current, e.Contract)
			n = c.Skips + 1
		}
		b.tag(Tag{Kind: KindSkipCount, Contract: e.Contract, Count: n})
		sc = scope{kinds: kindBits(KindSkipCount), contract: e.Contract}
	case Paused:
		t := Tag{Kind: KindPause, Contract: e.Contract}
		if s.uses(KindPause).date {
			t.Date = e.On
		}
		b.tag(t)
		sc = scope{kinds: kindBits(KindPause), contract: e.Contract}
	case Cancelled:
		b.tag(Tag{Kind: KindCancel, Contract: e.Contract, Date: e.On})
		sc = scope{kinds: kindBits(KindCancel), contract: e.Contract}
	case Resumed:
		b.contract(KindCancel, e.Contract)
		sc = scope{kinds: kindBits(KindCancel, KindPause), contract: e.Contract}
	case RankChanged:
		contract := ""
		if s.uses(KindRank).contract {
			contract = e.Contract
			b.contract(KindRank, contract)
		}
		b.text(Tag{Kind: KindRank, Contract: contract, Value: e.Rank})
		sc = scope{kinds: kindBits(KindRank), contract: contract}
	case StatusChanged:
		b.contract(KindStatus, e.Contract)
		b.text(Tag{Kind: KindStatus, Contract: e.Contract, Value: e.Status})
		sc = scope{kinds: kindBits(KindStatus), contract: e.Contract}
	case Deleted:
		b.contract(KindPlan, e.Contract)
		sc = scope{kinds: customerKinds, contract: e.Contract}
	case RulesChanged:
		extra, err := s.rulesChanged(&b, current, e)
		if err != nil {
			return Change{ID: id}, err
		}
		sc = scope{extra: extra}
	default:
		return Change{ID: id}, &EventError{Event: fmt.Sprintf("%T", e), Reason: "unknown event"}
	}
	if b.err != nil {
		return Change{ID: id}, b.err
	}
	return s.plan(id, current, b.ws, &sc)
}

// ApplyOrder returns the change an order event makes to the order id whose
// tags are current. [OrderPlaced] writes the order's tags (subscription
// count, subscription id, delivery), replacing any owned order tags that
// differ; [DeliveryChanged] replaces only the contract's delivery tag.
func (s *Schema) ApplyOrder(id string, current []string, e OrderEvent) (Change, error) {
	b := wants{s: s}
	var sc scope
	switch e := e.(type) {
	case OrderPlaced:
		b.count(e.Count)
		b.tag(Tag{Kind: KindOrderCount, Count: e.Count})
		if e.SubscriptionID != "" {
			b.tag(Tag{Kind: KindSubscriptionID, Value: e.SubscriptionID})
		}
		switch {
		case !e.Delivery.IsZero():
			b.tag(Tag{Kind: KindDelivery, Contract: e.Contract, Date: e.Delivery, Value: e.Time})
		case e.Time != "":
			b.fail(&FormatError{Kind: KindDelivery, Field: "Date", Value: e.Delivery.String(), Reason: "a time slot needs a delivery date"})
		}
		sc = scope{kinds: kindBits(KindOrderCount, KindSubscriptionID, KindDelivery)}
	case DeliveryChanged:
		b.tag(Tag{Kind: KindDelivery, Contract: e.Contract, Date: e.Delivery, Value: e.Time})
		sc = scope{kinds: kindBits(KindDelivery), contract: e.Contract}
	default:
		return Change{ID: id}, &EventError{Event: fmt.Sprintf("%T", e), Reason: "unknown order event"}
	}
	if b.err != nil {
		return Change{ID: id}, b.err
	}
	return s.plan(id, current, b.ws, &sc)
}

// wants collects the tags an event should leave, keeping the first error.
type wants struct {
	s   *Schema
	ws  []want
	err error
}

func (b *wants) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

func (b *wants) add(tag string) {
	b.ws = append(b.ws, want{tag: tag, plain: isPlain(tag)})
}

func (b *wants) tag(t Tag) {
	if b.err != nil {
		return
	}
	tag, err := b.s.Format(t)
	if err != nil {
		b.fail(err)
		return
	}
	b.add(tag)
}

// text writes t unless its Value is empty, which means "no such tag".
func (b *wants) text(t Tag) {
	if t.Value != "" {
		b.tag(t)
	}
}

// contract checks an event's contract id even when no tag will carry it.
func (b *wants) contract(k Kind, id string) {
	if !isContractID(id) {
		b.fail(&FormatError{Kind: k, Field: "Contract", Value: id, Reason: "expected a contract id (ASCII digits)"})
	}
}

func (b *wants) count(n int) {
	if n < 1 {
		b.fail(&FormatError{Kind: KindOrderCount, Field: "Count", Value: strconv.Itoa(n), Reason: "an order count starts at 1"})
	}
}

func planMatches(rulePlan, plan string) bool {
	return rulePlan == "" || strings.EqualFold(rulePlan, plan)
}

// rulesChanged adds the rule tags the customer's contracts earn under s's
// rules, and returns the rule tags the change may remove.
func (s *Schema) rulesChanged(b *wants, current []string, e RulesChanged) ([]string, error) {
	bad := func(contract, reason string) error {
		return &EventError{Event: "RulesChanged", Contract: contract, Reason: reason}
	}
	for c, n := range e.Orders {
		if !isContractID(c) {
			return nil, bad(c, "not a contract id (ASCII digits)")
		}
		if n < 0 {
			return nil, bad(c, "negative order count")
		}
	}
	// The contracts on the customer and their plans.
	plans := map[string]string{}
	for _, c := range s.Contracts(current) {
		if _, ok := e.Orders[c.ID]; !ok {
			return nil, bad(c.ID, "has tags on the customer but no order count")
		}
		plans[c.ID] = c.Plan
	}
	var extra []string
	for _, r := range e.Previous {
		if r.Tag = trimTag(r.Tag); r.Tag == "" {
			continue
		}
		if t, ok := s.parse(r.Tag, nil); ok {
			return nil, bad("", "previous rule tag "+strconv.Quote(r.Tag)+" is a "+t.Kind.String()+" tag of the schema")
		}
		extra = append(extra, r.Tag)
	}
	for i := range s.rules {
		r := &s.rules[i]
		extra = append(extra, r.Tag)
		for c, n := range e.Orders {
			if n >= r.At && planMatches(r.Plan, plans[c]) {
				b.add(r.Tag)
				break
			}
		}
	}
	return extra, nil
}

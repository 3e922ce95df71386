package segment

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/tagging"
)

// Rule decides whether a customer belongs to a segment as of now.
//
// Match must not modify or keep c. It returns an error, never false, when it
// cannot judge: a parameter out of range, or data it cannot compare (a total
// in another currency than a spend threshold). A Rule may also have a
// Validate() error method; definitions call it once before evaluating, so
// bad parameters fail before the first customer is read. The built-in rules
// have both, and a String method describing them.
//
// Built-in rules see the customer as of now: orders placed after now are
// ignored, and windows are half-open, (now-d, now].
type Rule interface {
	Match(c *Customer, now time.Time) (bool, error)
}

// RuleFunc adapts a function to a [Rule], for conditions the built-ins do
// not cover.
type RuleFunc func(c *Customer, now time.Time) (bool, error)

// Match calls f. A nil RuleFunc is an error.
func (f RuleFunc) Match(c *Customer, now time.Time) (bool, error) {
	if f == nil {
		return false, &RuleError{Rule: "func", Field: "func", Reason: "nil"}
	}
	return f(c, now)
}

// Validate reports a nil function.
func (f RuleFunc) Validate() error {
	if f == nil {
		return &RuleError{Rule: "func", Field: "func", Reason: "nil"}
	}
	return nil
}

// String returns "func", for rule descriptions.
func (f RuleFunc) String() string { return "func" }

// validateRule runs r's Validate method, if it has one, and checks r is
// not nil.
func validateRule(r Rule) error {
	if r == nil {
		return &RuleError{Rule: "nil", Field: "rule", Reason: "nil rule"}
	}
	if v, ok := r.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

func ruleName(r Rule) string {
	if s, ok := r.(interface{ String() string }); ok {
		return s.String()
	}
	return "rule"
}

// And matches when every rule matches. It stops at the first rule that does
// not match, so a later rule's error is not reached then: the answer is
// false whatever that rule would say. And of no rules is an error.
func And(rules ...Rule) Rule { return &logic{op: "and", rules: rules} }

// Or matches when some rule matches, stopping at the first that does. Or of
// no rules is an error.
func Or(rules ...Rule) Rule { return &logic{op: "or", rules: rules} }

// Not matches when r does not. An error from r stays an error.
func Not(r Rule) Rule { return &logic{op: "not", rules: []Rule{r}} }

type logic struct {
	op    string
	rules []Rule
}

func (l *logic) Validate() error {
	if len(l.rules) == 0 {
		return &RuleError{Rule: l.op, Field: "rules", Reason: "no rules"}
	}
	for i, r := range l.rules {
		if err := validateRule(r); err != nil {
			return &RuleError{Rule: l.op, Field: "rules[" + strconv.Itoa(i) + "]", Reason: "invalid", Err: err}
		}
	}
	return nil
}

func (l *logic) Match(c *Customer, now time.Time) (bool, error) { return matchOnce(l, c, now) }

func (l *logic) matchFacts(f *facts) (bool, error) {
	if len(l.rules) == 0 {
		return false, &RuleError{Rule: l.op, Field: "rules", Reason: "no rules"}
	}
	for i, r := range l.rules {
		if r == nil {
			return false, &RuleError{Rule: l.op, Field: "rules[" + strconv.Itoa(i) + "]", Reason: "nil rule"}
		}
		ok, err := match(r, f)
		if err != nil {
			return false, err
		}
		switch l.op {
		case "not":
			return !ok, nil
		case "and":
			if !ok {
				return false, nil
			}
		case "or":
			if ok {
				return true, nil
			}
		}
	}
	return l.op == "and", nil
}

func (l *logic) String() string {
	parts := make([]string, len(l.rules))
	for i, r := range l.rules {
		if r == nil {
			parts[i] = "nil"
		} else {
			parts[i] = ruleName(r)
		}
	}
	return l.op + "(" + strings.Join(parts, ", ") + ")"
}

// orderCount is the rule behind FirstTimeBuyer and RepeatBuyer.
type orderCount struct {
	name     string
	min, max int // max < 0: no maximum
}

// FirstTimeBuyer matches customers with exactly one order.
func FirstTimeBuyer() Rule { return orderCount{name: "first-time-buyer", min: 1, max: 1} }

// RepeatBuyer matches customers with two or more orders.
func RepeatBuyer() Rule { return orderCount{name: "repeat-buyer", min: 2, max: -1} }

func (r orderCount) Validate() error { return nil }

func (r orderCount) Match(c *Customer, now time.Time) (bool, error) { return matchOnce(r, c, now) }

func (r orderCount) matchFacts(f *facts) (bool, error) {
	f.load()
	return f.orders >= r.min && (r.max < 0 || f.orders <= r.max), nil
}

func (r orderCount) String() string { return r.name }

// Loyal matches customers with at least minOrders orders, or at least
// minSpent spent, within window (0: all time). Spent is net, refund entries
// included. A zero threshold is not used; at least one must be positive.
// With a spend threshold, an order in another currency is an error, since
// amounts in different currencies cannot be compared exactly.
func Loyal(minOrders int, minSpent money.Amount, window time.Duration) Rule {
	r := loyal{minOrders: minOrders, minSpent: minSpent, window: window}
	switch {
	case minOrders < 0:
		r.err = &RuleError{Rule: "loyal", Field: "minOrders", Reason: "negative"}
	case minSpent.Minor < 0:
		r.err = &RuleError{Rule: "loyal", Field: "minSpent", Reason: "negative"}
	case minSpent.Minor > 0 && !minSpent.Currency.Known():
		r.err = &RuleError{Rule: "loyal", Field: "minSpent", Reason: "unknown currency",
			Err: &money.UnknownCurrencyError{Code: string(minSpent.Currency)}}
	case minOrders == 0 && minSpent.Minor == 0:
		r.err = &RuleError{Rule: "loyal", Field: "minOrders", Reason: "neither an order count nor an amount is set"}
	case window < 0:
		r.err = &RuleError{Rule: "loyal", Field: "window", Reason: "negative"}
	}
	return r
}

type loyal struct {
	minOrders int
	minSpent  money.Amount
	window    time.Duration
	err       error
}

func (r loyal) Validate() error { return r.err }

func (r loyal) Match(c *Customer, now time.Time) (bool, error) { return matchOnce(r, c, now) }

func (r loyal) matchFacts(f *facts) (bool, error) {
	if r.err != nil {
		return false, r.err
	}
	f.load()
	c := f.c
	var since time.Time
	if r.window > 0 {
		since = f.now.Add(-r.window)
	}
	if r.minSpent.Minor == 0 && since.IsZero() {
		return f.orders >= r.minOrders, nil
	}
	n := 0
	spent := money.Zero(r.minSpent.Currency)
	for i := range c.Orders {
		o := &c.Orders[i]
		if !f.asOf[i] || !since.IsZero() && !o.Time.After(since) {
			continue
		}
		if f.counts[i] {
			n++
		}
		if r.minSpent.Minor > 0 {
			s, err := spent.Add(o.Total)
			if err != nil {
				return false, &RuleError{Rule: "loyal", Customer: c.ID,
					Field: "Orders[" + strconv.Itoa(i) + "].Total", Reason: "cannot add to spent", Err: err}
			}
			spent = s
		}
	}
	if r.minOrders > 0 && n >= r.minOrders {
		return true, nil
	}
	return r.minSpent.Minor > 0 && spent.Minor >= r.minSpent.Minor, nil
}

func (r loyal) String() string {
	var parts []string
	if r.minOrders > 0 {
		parts = append(parts, "orders>="+strconv.Itoa(r.minOrders))
	}
	if r.minSpent.Minor > 0 {
		parts = append(parts, "spent>="+r.minSpent.String())
	}
	s := "loyal(" + strings.Join(parts, " or ")
	if r.window > 0 {
		s += " within " + days(r.window)
	}
	return s + ")"
}

// days formats d in days when it is a whole number of them, as windows
// usually are.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// ProductMatch selects line items for [ProductFan]: every field that is set
// must match. Type and Vendor compare ignoring case and surrounding spaces.
type ProductMatch struct {
	Product gid.ID // a gid.Product id
	Type    string
	Vendor  string
}

// ProductFan matches customers who bought what m selects in at least k
// orders. Several matching items, or units, in one order count once: a fan
// comes back for the product line.
func ProductFan(m ProductMatch, k int) Rule {
	m.Type = strings.TrimSpace(m.Type)
	m.Vendor = strings.TrimSpace(m.Vendor)
	r := productFan{m: m, k: k}
	switch {
	case m.Product.IsZero() && m.Type == "" && m.Vendor == "":
		r.err = &RuleError{Rule: "product-fan", Field: "match", Reason: "no product, type or vendor"}
	case !m.Product.IsZero() && !m.Product.Is(gid.Product):
		r.err = &RuleError{Rule: "product-fan", Field: "match.Product", Reason: "not a product id"}
	case k < 1:
		r.err = &RuleError{Rule: "product-fan", Field: "k", Reason: "must be at least 1"}
	}
	return r
}

type productFan struct {
	m   ProductMatch
	k   int
	err error
}

func (r productFan) Validate() error { return r.err }

func (r productFan) Match(c *Customer, now time.Time) (bool, error) { return matchOnce(r, c, now) }

func (r productFan) matchFacts(f *facts) (bool, error) {
	if r.err != nil {
		return false, r.err
	}
	f.load()
	if f.orders < r.k {
		return false, nil
	}
	n := 0
	for i := range f.c.Orders {
		o := &f.c.Orders[i]
		if !f.counts[i] {
			continue
		}
		for j := range o.Items {
			if r.m.matches(&o.Items[j]) {
				n++
				break
			}
		}
		if n >= r.k {
			return true, nil
		}
	}
	return false, nil
}

func (m *ProductMatch) matches(it *LineItem) bool {
	if !m.Product.IsZero() && it.Product != m.Product {
		return false
	}
	if m.Type != "" && !foldEqual(it.ProductType, m.Type) {
		return false
	}
	if m.Vendor != "" && !foldEqual(it.Vendor, m.Vendor) {
		return false
	}
	return true
}

func (r productFan) String() string {
	var parts []string
	if !r.m.Product.IsZero() {
		parts = append(parts, "product="+strconv.FormatInt(r.m.Product.Num, 10))
	}
	if r.m.Type != "" {
		parts = append(parts, "type="+strconv.Quote(r.m.Type))
	}
	if r.m.Vendor != "" {
		parts = append(parts, "vendor="+strconv.Quote(r.m.Vendor))
	}
	return "product-fan(" + strings.Join(parts, " ") + " x" + strconv.Itoa(r.k) + ")"
}

// HasTag matches customers carrying tag, compared as Shopify compares tags:
// surrounding spaces trimmed, case ignored. HasTag("line") is the
// LINE-linked segment.
func HasTag(tag string) Rule {
	tag = strings.TrimSpace(tag)
	return hasTagRule{tag: tag, err: tagging.Check(tag)}
}

type hasTagRule struct {
	tag string
	err error
}

func (r hasTagRule) Validate() error { return ruleErr("has-tag", "tag", r.err) }

func (r hasTagRule) Match(c *Customer, now time.Time) (bool, error) {
	if r.err != nil {
		return false, r.Validate()
	}
	return hasTag(c.Tags, r.tag), nil
}

func (r hasTagRule) matchFacts(f *facts) (bool, error) { return r.Match(f.c, f.now) }

func (r hasTagRule) String() string { return "has-tag(" + strconv.Quote(r.tag) + ")" }

// The subscription rules read a customer's subscription tags per contract
// with [tagging.Schema.Contracts], so they follow the schema's grammar
// (prefix, templates) rather than a tag prefix. A contract is active when
// its tags show it neither cancelled nor paused. A nil schema means
// [tagging.Default].

// Subscriber matches active subscribers: customers with at least one
// active contract. A customer whose contracts are all cancelled or paused,
// or who only carries a purchase-count rule tag, is not one.
func Subscriber(schema *tagging.Schema) Rule {
	return newSubscription("subscriber", schema, "", (*tagging.Contract).Active, false)
}

// SubscriberOnPlan matches customers with an active contract on plan,
// compared as tags compare (trimmed, without regard to case).
func SubscriberOnPlan(schema *tagging.Schema, plan string) Rule {
	plan = strings.TrimSpace(plan)
	r := newSubscription("subscriber-on-plan", schema, plan, func(c *tagging.Contract) bool {
		return c.Active() && strings.EqualFold(c.Plan, plan)
	}, false)
	if plan == "" {
		r.err = &RuleError{Rule: r.name, Field: "plan", Reason: "empty"}
	}
	return r
}

// PausedSubscriber matches customers with a paused contract that is not
// cancelled.
func PausedSubscriber(schema *tagging.Schema) Rule {
	return newSubscription("paused-subscriber", schema, "", func(c *tagging.Contract) bool {
		return c.Paused && c.Cancelled.IsZero()
	}, false)
}

// CancelledSubscriber matches former subscribers, for win-back: customers
// with contracts, every one of them cancelled.
func CancelledSubscriber(schema *tagging.Schema) Rule {
	return newSubscription("cancelled-subscriber", schema, "", func(c *tagging.Contract) bool {
		return !c.Cancelled.IsZero()
	}, true)
}

// subscription is the rule behind the subscriber rules: some contract (or,
// with all, every contract and at least one) satisfies match.
type subscription struct {
	name   string
	schema *tagging.Schema
	plan   string // for String
	match  func(*tagging.Contract) bool
	all    bool
	err    error
}

func newSubscription(name string, schema *tagging.Schema, plan string, match func(*tagging.Contract) bool, all bool) subscription {
	if schema == nil {
		schema = tagging.Default()
	}
	return subscription{name: name, schema: schema, plan: plan, match: match, all: all}
}

func (r subscription) Validate() error { return r.err }

func (r subscription) Match(c *Customer, now time.Time) (bool, error) { return matchOnce(r, c, now) }

func (r subscription) matchFacts(f *facts) (bool, error) {
	if r.err != nil {
		return false, r.err
	}
	cs := f.contracts(r.schema)
	for i := range cs {
		if r.match(&cs[i]) != r.all {
			return !r.all, nil
		}
	}
	return r.all && len(cs) > 0, nil
}

func (r subscription) String() string {
	s := r.name + "(" + strconv.Quote(r.schema.Prefix())
	if r.plan != "" {
		s += ", " + strconv.Quote(r.plan)
	}
	return s + ")"
}

func ruleErr(rule, field string, err error) error {
	if err == nil {
		return nil
	}
	return &RuleError{Rule: rule, Field: field, Reason: "invalid", Err: err}
}

// Lapsed matches customers who have ordered before but not within d.
// Customers who never ordered are not lapsed.
func Lapsed(d time.Duration) Rule { return recency{name: "lapsed", d: d} }

// NewBuyer matches customers whose first order was placed within d.
func NewBuyer(d time.Duration) Rule { return recency{name: "new-buyer", d: d, first: true} }

type recency struct {
	name  string
	d     time.Duration
	first bool // NewBuyer: look at the first order; Lapsed: the last
}

func (r recency) Validate() error {
	if r.d <= 0 {
		return &RuleError{Rule: r.name, Field: "d", Reason: "must be positive"}
	}
	return nil
}

func (r recency) Match(c *Customer, now time.Time) (bool, error) { return matchOnce(r, c, now) }

func (r recency) matchFacts(f *facts) (bool, error) {
	if err := r.Validate(); err != nil {
		return false, err
	}
	f.load()
	if f.orders == 0 {
		return false, nil
	}
	since := f.now.Add(-r.d)
	if r.first {
		return f.c.Orders[f.first].Time.After(since), nil
	}
	return !f.c.Orders[f.last].Time.After(since), nil
}

func (r recency) String() string { return r.name + "(" + days(r.d) + ")" }

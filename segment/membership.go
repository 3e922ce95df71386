package segment

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/tagging"
)

// Definition is a segment: a name, the Shopify customer tag that mirrors its
// membership, and the rule that decides it.
type Definition struct {
	Name string // unique among the definitions evaluated together
	Tag  string // unique, ignoring case; see [tagging.Check]
	Rule Rule
}

// Options configure an evaluation.
type Options struct {
	// Now is the evaluation time, required. Rules, metrics and analyses
	// see orders placed at or before Now.
	Now time.Time
	// RepeatWindow is the window of [Metrics.WindowRepeatRate]; zero
	// means [DefaultRepeatWindow].
	RepeatWindow time.Duration
	// Sends are measured in the same pass.
	Sends []Send
}

// Evaluator computes memberships, metrics and analyses from customers
// pushed one at a time, for sources that are not an iter.Seq. It keeps
// members' ids and per-segment counters, plus 8 bytes per customer read to
// detect duplicates; never orders. An Evaluator is not safe for concurrent
// use.
//
// The first error is sticky: once Add fails, every later call returns it,
// so a caller cannot end up with a membership missing a customer. Failing
// instead of skipping is deliberate: a skipped member would lose the
// segment tag.
type Evaluator struct {
	now    time.Time
	window time.Duration
	segs   []*segState
	sends  []*sendState

	n         int
	last      gid.ID
	ascending bool
	seen      list[int64] // every customer id, checked for duplicates at the end when not ascending
	check     validator
	cur       Customer // Evaluate's copy, so rules get a pointer without an allocation per customer
	facts     facts    // the current customer as of now, for the built-in rules
	sendFacts facts    // the same as of a send's time
	sums      []currencySum

	// Products and channels are numbered once per evaluation so each
	// member segment counts them in a slice rather than a map of its own.
	products     map[int64]int32
	productIDs   []int64
	channels     map[string]int32
	channelNames []string
	firstItems   []int32
	secondItems  []int32

	err  error
	done *Result
}

type segState struct {
	def Definition
	// members holds each member's number with bit 63 set when the member
	// already carried the tag: 8 bytes a member until the report is built.
	members list[uint64]
	left    list[gid.ID] // tagged customers who are not members
	m       Metrics
	sums    []currencySum // revenue and orders per currency
	first   []int32       // members per product number, first purchase
	second  []int32       // the same for the second purchase
	// channels counts members per channel number.
	channels []int32
}

const taggedBit = 1 << 63

// currencySum is revenue and an order count in one currency.
type currencySum struct {
	cur    money.Currency
	sum    money.Amount
	orders int
}

// addSum adds a to the entry for its currency in sums; a customer or a
// segment rarely has more than one, so a slice beats a map.
func addSum(sums []currencySum, a money.Amount, orders int) ([]currencySum, error) {
	k := -1
	for i := range sums {
		if sums[i].cur == a.Currency {
			k = i
			break
		}
	}
	if k < 0 {
		sums = append(sums, currencySum{cur: a.Currency, sum: money.Zero(a.Currency)})
		k = len(sums) - 1
	}
	s, err := sums[k].sum.Add(a)
	if err != nil {
		return sums, err
	}
	sums[k].sum = s
	sums[k].orders += orders
	return sums, nil
}

// NewEvaluator checks defs and opts and returns an Evaluator ready for
// customers. Errors are [*ConfigError]s naming the field.
func NewEvaluator(defs []Definition, opts Options) (*Evaluator, error) {
	if opts.Now.IsZero() {
		return nil, &ConfigError{Field: "Options.Now", Reason: "missing"}
	}
	if opts.RepeatWindow < 0 {
		return nil, &ConfigError{Field: "Options.RepeatWindow", Reason: "negative"}
	}
	if len(defs) == 0 {
		return nil, &ConfigError{Field: "Definitions", Reason: "none"}
	}
	e := &Evaluator{
		now: opts.Now, window: opts.RepeatWindow, ascending: true,
		products: make(map[int64]int32), channels: make(map[string]int32),
	}
	if e.window == 0 {
		e.window = DefaultRepeatWindow
	}
	byName := make(map[string]*segState, len(defs))
	tags := make(map[string]string, len(defs))
	for i, d := range defs {
		field := "Definitions[" + strconv.Itoa(i) + "]"
		if d.Name == "" {
			return nil, &ConfigError{Field: field + ".Name", Reason: "empty"}
		}
		if _, dup := byName[d.Name]; dup {
			return nil, &ConfigError{Field: field + ".Name", Reason: "duplicate name " + strconv.Quote(d.Name)}
		}
		if err := tagging.Check(d.Tag); err != nil {
			return nil, &ConfigError{Field: field + ".Tag", Reason: "invalid", Err: err}
		}
		key := strings.ToLower(d.Tag)
		if other, dup := tags[key]; dup {
			return nil, &ConfigError{Field: field + ".Tag", Reason: "tag also used by " + strconv.Quote(other)}
		}
		tags[key] = d.Name
		if err := validateRule(d.Rule); err != nil {
			return nil, &ConfigError{Field: field + ".Rule", Reason: "invalid", Err: err}
		}
		s := &segState{def: d}
		s.m.Window = e.window
		byName[d.Name] = s
		e.segs = append(e.segs, s)
	}
	for i, s := range opts.Sends {
		field := "Sends[" + strconv.Itoa(i) + "]"
		seg, ok := byName[s.Segment]
		switch {
		case !ok:
			return nil, &ConfigError{Field: field + ".Segment", Reason: "no definition named " + strconv.Quote(s.Segment)}
		case s.At.IsZero():
			return nil, &ConfigError{Field: field + ".At", Reason: "missing"}
		case s.At.After(opts.Now):
			return nil, &ConfigError{Field: field + ".At", Reason: "after Options.Now"}
		case s.Within <= 0:
			return nil, &ConfigError{Field: field + ".Within", Reason: "must be positive"}
		}
		if s.Recipients != nil {
			if err := checkSorted(field+".Recipients", s.Recipients); err != nil {
				return nil, &ConfigError{Field: field + ".Recipients", Reason: "invalid", Err: err}
			}
			if len(s.Recipients) > 0 && s.Recipients[0].Type != gid.Customer {
				return nil, &ConfigError{Field: field + ".Recipients", Reason: "not customer ids"}
			}
		}
		e.sends = append(e.sends, &sendState{
			send: s,
			rule: seg.def.Rule,
			report: SendReport{
				Segment: s.Segment, At: s.At, Within: s.Within,
				Partial: s.At.Add(s.Within).After(opts.Now),
			},
		})
	}
	return e, nil
}

// Evaluate reads customers once and returns every definition's members,
// metrics and analyses, and the sends' reports. Only one customer's orders
// are in memory at a time. See [Evaluator] for what fails and why.
func Evaluate(customers iter.Seq[Customer], defs []Definition, opts Options) (*Result, error) {
	e, err := NewEvaluator(defs, opts)
	if err != nil {
		return nil, err
	}
	for c := range customers {
		e.cur = c
		if err := e.Add(&e.cur); err != nil {
			return nil, err
		}
	}
	e.cur = Customer{}
	return e.Result()
}

var errFinished = errors.New("segment: Evaluator: Add after Result")

// Add evaluates one customer. It returns an [*InputError] for unusable
// data, a [*SequenceError] for a customer id seen just before, and a rule's
// error wrapped with the definition's name.
func (e *Evaluator) Add(c *Customer) error {
	if e.err != nil {
		return e.err
	}
	if e.done != nil {
		return errFinished
	}
	if c == nil {
		e.err = &InputError{Field: "customer", Reason: "nil"}
		return e.err
	}
	if err := e.add(c); err != nil {
		e.err = err
		return err
	}
	return nil
}

func (e *Evaluator) add(c *Customer) error {
	if err := e.check.validate(c); err != nil {
		return err
	}
	var err error
	if e.n > 0 {
		switch order := e.last.Compare(c.ID); {
		case order == 0:
			return &SequenceError{Input: "customers", Index: e.n, Prev: e.last, ID: c.ID, Problem: Duplicate}
		case order > 0:
			e.ascending = false
		}
	}
	e.last = c.ID
	e.seen.add(c.ID.Num)
	e.n++

	// What every member segment adds, computed once per customer.
	now := e.now
	f := &e.facts
	f.reset(c, now)
	f.load()
	n, first, second := f.orders, f.first, f.second
	since := now.Add(-e.window)
	nw := 0
	e.sums = e.sums[:0]
	for i := range c.Orders {
		o := &c.Orders[i]
		if !f.asOf[i] {
			continue
		}
		orders := 0
		if f.counts[i] {
			orders = 1
			if o.Time.After(since) {
				nw++
			}
		}
		if e.sums, err = addSum(e.sums, o.Total, orders); err != nil {
			return &InputError{Customer: c.ID, Field: "Orders", Reason: "revenue overflows", Err: err}
		}
	}
	e.firstItems, e.secondItems = e.firstItems[:0], e.secondItems[:0]
	channel := int32(-1)
	if first >= 0 {
		e.firstItems = e.productNumbers(e.firstItems, &c.Orders[first])
		channel = e.channelNumber(c.Orders[first].Channel)
	}
	if second >= 0 {
		e.secondItems = e.productNumbers(e.secondItems, &c.Orders[second])
	}

	for _, s := range e.segs {
		ok, err := match(s.def.Rule, f)
		if err != nil {
			return fmt.Errorf("segment: definition %q: customer %s: %w", s.def.Name, c.ID, err)
		}
		tagged := hasTag(c.Tags, s.def.Tag)
		if !ok {
			if tagged {
				s.left.add(c.ID)
			}
			continue
		}
		v := uint64(c.ID.Num)
		if tagged {
			v |= taggedBit
		}
		s.members.add(v)
		m := &s.m
		m.Customers++
		m.Orders += n
		if n >= 1 {
			m.Buyers++
		}
		if n >= 2 {
			m.Repeaters++
		}
		if nw >= 1 {
			m.WindowBuyers++
		}
		if nw >= 2 {
			m.WindowRepeaters++
		}
		for _, cs := range e.sums {
			if s.sums, err = addSum(s.sums, cs.sum, cs.orders); err != nil {
				return fmt.Errorf("segment: definition %q: revenue: %w", s.def.Name, err)
			}
		}
		s.first = count(s.first, e.firstItems)
		s.second = count(s.second, e.secondItems)
		if channel >= 0 {
			s.channels = countOne(s.channels, channel)
		}
	}

	for _, st := range e.sends {
		if err := st.add(c, now, &e.sendFacts); err != nil {
			return err
		}
	}
	return nil
}

// Result is the outcome of one evaluation.
type Result struct {
	Now       time.Time
	Customers int          // customers read
	Segments  []Report     // in definition order
	Sends     []SendReport // in Options.Sends order
}

// Segment returns the report of the definition named name.
func (r *Result) Segment(name string) (*Report, bool) {
	for i := range r.Segments {
		if r.Segments[i].Name == name {
			return &r.Segments[i], true
		}
	}
	return nil, false
}

// Report is one segment's membership, metrics and analyses.
type Report struct {
	Name, Tag string
	// Members are the customers in the segment, ascending.
	Members []gid.ID
	// Tagged, as long as Members when set, reports which members carried
	// Tag when they were read, and TaggedNonMembers lists the customers
	// who carried it without being members, ascending. Together they are
	// the previous membership when the tags are the checkpoint: see
	// [Report.TagDelta] and [Report.FromTags].
	Tagged           []bool
	TaggedNonMembers []gid.ID
	Metrics          Metrics
	// FirstPurchase and SecondPurchase count, per product, the members
	// whose first (second) order contained it; each product counts once
	// per order, and items without a product are not counted. Most bought
	// first, ties by product id.
	FirstPurchase  []ProductCount
	SecondPurchase []ProductCount
	// Channels is the acquisition channel mix: members per channel of
	// their first order, largest first, ties by name. Members without
	// orders are not counted.
	Channels []ChannelCount
}

// Result finishes the evaluation. Members and deltas come out ascending
// whatever order customers arrived in; when they did not arrive ascending,
// duplicates are found here, as a [*SequenceError] with Index -1.
func (e *Evaluator) Result() (*Result, error) {
	if e.err != nil {
		return nil, e.err
	}
	if e.done != nil {
		return e.done, nil
	}
	if !e.ascending {
		seen := e.seen.slice()
		slices.Sort(seen)
		for i := 1; i < len(seen); i++ {
			if seen[i] == seen[i-1] {
				id := gid.ID{Type: gid.Customer, Num: seen[i]}
				e.err = &SequenceError{Input: "customers", Index: -1, Prev: id, ID: id, Problem: Duplicate}
				return nil, e.err
			}
		}
	}
	e.seen = list[int64]{}
	res := &Result{Now: e.now, Customers: e.n}
	for _, s := range e.segs {
		r := Report{
			Name:     s.def.Name,
			Tag:      s.def.Tag,
			Metrics:  s.m,
			Channels: channelCounts(s.channels, e.channelNames),
		}
		r.Members, r.Tagged = s.membership(!e.ascending)
		r.TaggedNonMembers = s.left.slice()
		r.FirstPurchase = productCounts(s.first, e.productIDs)
		r.SecondPurchase = productCounts(s.second, e.productIDs)
		for _, cs := range s.sums {
			if err := r.Metrics.Revenue.Add(cs.sum); err != nil {
				e.err = fmt.Errorf("segment: definition %q: revenue: %w", s.def.Name, err)
				return nil, e.err
			}
			if cs.orders > 0 {
				if r.Metrics.OrdersByCurrency == nil {
					r.Metrics.OrdersByCurrency = make(map[money.Currency]int)
				}
				r.Metrics.OrdersByCurrency[cs.cur] = cs.orders
			}
		}
		if !e.ascending {
			slices.SortFunc(r.TaggedNonMembers, gid.ID.Compare)
		}
		res.Segments = append(res.Segments, r)
	}
	for _, st := range e.sends {
		res.Sends = append(res.Sends, st.report)
	}
	e.done = res
	return res, nil
}

// membership returns the members, ascending, and which carried the tag,
// sorting first when customers did not arrive in order.
func (s *segState) membership(sort bool) ([]gid.ID, []bool) {
	if s.members.n == 0 {
		return nil, nil
	}
	vals := s.members.slice()
	s.members = list[uint64]{}
	if sort {
		slices.SortFunc(vals, func(a, b uint64) int { return cmp.Compare(a&^taggedBit, b&^taggedBit) })
	}
	members := make([]gid.ID, len(vals))
	tagged := make([]bool, len(vals))
	for i, v := range vals {
		members[i] = gid.ID{Type: gid.Customer, Num: int64(v &^ taggedBit)}
		tagged[i] = v&taggedBit != 0
	}
	return members, tagged
}

// TagDelta compares Members with the customers who carried Tag when they
// were read: the diff when the tags themselves are the checkpoint.
func (r *Report) TagDelta() Delta {
	d := Delta{Left: r.TaggedNonMembers}
	for i, id := range r.Members {
		if i < len(r.Tagged) && r.Tagged[i] {
			d.Unchanged++
		} else {
			d.Joined = append(d.Joined, id)
		}
	}
	return d
}

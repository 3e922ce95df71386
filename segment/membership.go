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

	"github.com/shopcrm/shopcrm/money"
)

// Definition is a segment: a name, the Shopify customer tag that mirrors its
// membership, and the rule that decides it.
type Definition struct {
	Name string // unique among the definitions evaluated together
	Tag  string // unique, ignoring case; see [CheckTag]
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
	last      ID
	ascending bool
	seen      []int64 // every customer id, checked for duplicates at the end when not ascending
	scratch   []int64
	cur       Customer // Evaluate's copy, so rules get a pointer without an allocation per customer
	sums      []currencySum

	err  error
	done *Result
}

type segState struct {
	def      Definition
	members  []ID
	tags     Delta
	m        Metrics
	first    map[ID]int
	second   map[ID]int
	channels map[string]int
}

type sendState struct {
	send   Send
	rule   Rule
	report SendReport
}

// currencySum is one customer's revenue and order count in one currency.
type currencySum struct {
	cur    money.Currency
	sum    money.Amount
	orders int
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
	e := &Evaluator{now: opts.Now, window: opts.RepeatWindow, ascending: true}
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
		if err := checkTag(d.Tag); err != nil {
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
		s := &segState{
			def:      d,
			first:    make(map[ID]int),
			second:   make(map[ID]int),
			channels: make(map[string]int),
		}
		s.m.Window = e.window
		s.m.OrdersByCurrency = make(map[money.Currency]int)
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
			if len(s.Recipients) > 0 && s.Recipients[0].Kind != KindCustomer {
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
	var err error
	if e.scratch, err = c.validate(e.scratch); err != nil {
		return err
	}
	if e.n > 0 {
		switch cmp := e.last.Compare(c.ID); {
		case cmp == 0:
			return &SequenceError{Input: "customers", Index: e.n, Prev: e.last, ID: c.ID, Problem: Duplicate}
		case cmp > 0:
			e.ascending = false
		}
	}
	e.last = c.ID
	e.seen = append(e.seen, c.ID.Num)
	e.n++

	// What every member segment adds, computed once per customer.
	now := e.now
	since := now.Add(-e.window)
	n, nw := 0, 0
	e.sums = e.sums[:0]
	for i := range c.Orders {
		o := &c.Orders[i]
		if o.Time.After(now) {
			continue
		}
		k := slices.IndexFunc(e.sums, func(s currencySum) bool { return s.cur == o.Total.Currency })
		if k < 0 {
			e.sums = append(e.sums, currencySum{cur: o.Total.Currency, sum: money.Zero(o.Total.Currency)})
			k = len(e.sums) - 1
		}
		s := &e.sums[k]
		if s.sum, err = s.sum.Add(o.Total); err != nil {
			return &InputError{Customer: c.ID, Field: "Orders", Reason: "revenue overflows", Err: err}
		}
		if o.isRefund() {
			continue
		}
		s.orders++
		n++
		if o.Time.After(since) {
			nw++
		}
	}
	first, second := firstTwo(c.Orders, now)

	for _, s := range e.segs {
		ok, err := s.def.Rule.Match(c, now)
		if err != nil {
			return fmt.Errorf("segment: definition %q: customer %s: %w", s.def.Name, c.ID, err)
		}
		tagged := hasTag(c.Tags, s.def.Tag)
		switch {
		case ok && tagged:
			s.tags.Unchanged++
		case ok:
			s.tags.Joined = append(s.tags.Joined, c.ID)
		case tagged:
			s.tags.Left = append(s.tags.Left, c.ID)
		}
		if !ok {
			continue
		}
		s.members = append(s.members, c.ID)
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
			if err := m.Revenue.Add(cs.sum); err != nil {
				return fmt.Errorf("segment: definition %q: revenue: %w", s.def.Name, err)
			}
			if cs.orders > 0 {
				m.OrdersByCurrency[cs.cur] += cs.orders
			}
		}
		if first >= 0 {
			countProducts(s.first, &c.Orders[first])
			s.channels[c.Orders[first].Channel]++
		}
		if second >= 0 {
			countProducts(s.second, &c.Orders[second])
		}
	}

	for _, st := range e.sends {
		if err := st.add(c, now); err != nil {
			return err
		}
	}
	return nil
}

// countProducts counts each distinct product of o once.
func countProducts(counts map[ID]int, o *Order) {
	for j := range o.Items {
		p := o.Items[j].Product
		if p.IsZero() {
			continue
		}
		dup := false
		for k := range j {
			if o.Items[k].Product == p {
				dup = true
				break
			}
		}
		if !dup {
			counts[p]++
		}
	}
}

func (st *sendState) add(c *Customer, now time.Time) error {
	s := &st.send
	var in bool
	if s.Recipients != nil {
		_, in = slices.BinarySearchFunc(s.Recipients, c.ID, ID.Compare)
	} else {
		var err error
		if in, err = st.rule.Match(c, s.At); err != nil {
			return fmt.Errorf("segment: send to %q at %s: customer %s: %w", s.Segment, s.At.Format(time.RFC3339), c.ID, err)
		}
	}
	if !in {
		return nil
	}
	r := &st.report
	r.Audience++
	end := s.At.Add(s.Within)
	if end.After(now) {
		end = now
	}
	converted := false
	for i := range c.Orders {
		o := &c.Orders[i]
		if !o.Time.After(s.At) || o.Time.After(end) {
			continue
		}
		if err := r.Revenue.Add(o.Total); err != nil {
			return fmt.Errorf("segment: send to %q: revenue: %w", s.Segment, err)
		}
		if !o.isRefund() {
			r.Orders++
			converted = true
		}
	}
	if converted {
		r.Converted++
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
	Members []ID
	// TagDelta compares Members with the customers carrying Tag when they
	// were read: the diff when the tags themselves are the checkpoint
	// (see [Report.FromTags]).
	TagDelta Delta
	Metrics  Metrics
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
		slices.Sort(e.seen)
		for i := 1; i < len(e.seen); i++ {
			if e.seen[i] == e.seen[i-1] {
				id := ID{Kind: KindCustomer, Num: e.seen[i]}
				e.err = &SequenceError{Input: "customers", Index: -1, Prev: id, ID: id, Problem: Duplicate}
				return nil, e.err
			}
		}
	}
	e.seen = nil
	res := &Result{Now: e.now, Customers: e.n}
	for _, s := range e.segs {
		if !e.ascending {
			slices.SortFunc(s.members, ID.Compare)
			slices.SortFunc(s.tags.Joined, ID.Compare)
			slices.SortFunc(s.tags.Left, ID.Compare)
		}
		res.Segments = append(res.Segments, Report{
			Name:           s.def.Name,
			Tag:            s.def.Tag,
			Members:        s.members,
			TagDelta:       s.tags,
			Metrics:        s.m,
			FirstPurchase:  productCounts(s.first),
			SecondPurchase: productCounts(s.second),
			Channels:       channelCounts(s.channels),
		})
	}
	for _, st := range e.sends {
		res.Sends = append(res.Sends, st.report)
	}
	e.done = res
	return res, nil
}

func productCounts(m map[ID]int) []ProductCount {
	out := make([]ProductCount, 0, len(m))
	for p, n := range m {
		out = append(out, ProductCount{Product: p, Customers: n})
	}
	slices.SortFunc(out, func(a, b ProductCount) int {
		if c := cmp.Compare(b.Customers, a.Customers); c != 0 {
			return c
		}
		return a.Product.Compare(b.Product)
	})
	return out
}

func channelCounts(m map[string]int) []ChannelCount {
	out := make([]ChannelCount, 0, len(m))
	for ch, n := range m {
		out = append(out, ChannelCount{Channel: ch, Customers: n})
	}
	slices.SortFunc(out, func(a, b ChannelCount) int {
		if c := cmp.Compare(b.Customers, a.Customers); c != 0 {
			return c
		}
		return strings.Compare(a.Channel, b.Channel)
	})
	return out
}

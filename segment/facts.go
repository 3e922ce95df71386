package segment

import (
	"time"

	"github.com/shopcrm/shopcrm/tagging"
)

// facts is what the built-in rules need to know about one customer as of
// one time. The Evaluator works it out once per customer and hands it to
// every built-in rule, instead of each rule scanning the orders and
// comparing times again; a direct call to Match works it out for itself.
// The fields below c and now are valid after load.
type facts struct {
	c    *Customer
	now  time.Time
	asOf []bool // per order: placed at or before now
	// counts is asOf without refund entries: the orders rules count.
	counts []bool
	orders int // how many orders count
	// Indexes of the first, second and latest counting orders in
	// sequence (time, then id), -1 when there is none.
	first, second, last int
	loaded              bool

	// The customer's subscription contracts as read by contractsOf, nil
	// until a subscription rule asks.
	contractsOf  *tagging.Schema
	contractList []tagging.Contract
}

// reset points f at c as of now; the order facts are worked out when a
// rule first needs them, so tag rules never pay for them.
func (f *facts) reset(c *Customer, now time.Time) {
	f.c, f.now, f.loaded, f.contractsOf = c, now, false, nil
}

// contracts returns the customer's contracts under schema, read once per
// reset and schema into a buffer reused from customer to customer.
func (f *facts) contracts(schema *tagging.Schema) []tagging.Contract {
	if f.contractsOf != schema {
		f.contractList = schema.AppendContracts(f.contractList[:0], f.c.Tags)
		f.contractsOf = schema
	}
	return f.contractList
}

// load works out the order facts, once per reset.
func (f *facts) load() {
	if f.loaded {
		return
	}
	f.loaded = true
	c, now := f.c, f.now
	n := len(c.Orders)
	if cap(f.counts) < n {
		f.asOf = make([]bool, n, max(n, 16))
		f.counts = make([]bool, n, max(n, 16))
	}
	f.asOf, f.counts = f.asOf[:n], f.counts[:n]
	f.orders, f.first, f.second, f.last = 0, -1, -1, -1
	for i := range c.Orders {
		o := &c.Orders[i]
		f.asOf[i] = !o.Time.After(now)
		f.counts[i] = f.asOf[i] && !o.isRefund()
		if !f.counts[i] {
			continue
		}
		f.orders++
		switch {
		case f.first < 0 || before(o, &c.Orders[f.first]):
			f.first, f.second = i, f.first
		case f.second < 0 || before(o, &c.Orders[f.second]):
			f.second = i
		}
		if f.last < 0 || before(&c.Orders[f.last], o) {
			f.last = i
		}
	}
}

// fastRule is implemented by the built-in rules.
type fastRule interface {
	matchFacts(f *facts) (bool, error)
}

// match evaluates r on f, through the shortcut when r has one.
func match(r Rule, f *facts) (bool, error) {
	if fr, ok := r.(fastRule); ok {
		return fr.matchFacts(f)
	}
	return r.Match(f.c, f.now)
}

// matchOnce is Match for a built-in rule called on its own.
func matchOnce(r fastRule, c *Customer, now time.Time) (bool, error) {
	var f facts
	f.reset(c, now)
	return r.matchFacts(&f)
}

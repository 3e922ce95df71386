package segment

import (
	"time"

	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/ratio"
)

// DefaultRepeatWindow is the window of [Metrics.WindowRepeatRate] when
// [Options] sets none.
const DefaultRepeatWindow = 365 * 24 * time.Hour

// Metrics are one segment's figures over its members, as of the evaluation
// time. Orders are orders, not refund entries; revenue is net (what each
// order's Total holds, after discounts and refunds) and includes refund
// entries. Money is per currency and exact.
type Metrics struct {
	Customers int // members
	Buyers    int // members with at least one order
	Repeaters int // members with two or more orders

	// Window is the repeat-rate window, (now-Window, now]; the window
	// counts consider only orders placed in it.
	Window          time.Duration
	WindowBuyers    int // members with at least one order in the window
	WindowRepeaters int // members with two or more orders in the window

	Orders           int                    // all orders of members
	OrdersByCurrency map[money.Currency]int // the same, per currency
	Revenue          money.Totals           // net revenue per currency
}

// RepeatRate is the all-time repeat rate: members with two or more orders
// ÷ members with at least one.
func (m Metrics) RepeatRate() ratio.Ratio { return counts(m.Repeaters, m.Buyers) }

// WindowRepeatRate is the repeat rate within the window, both orders inside
// it (the "repeat purchase rate" of retail reports): members with two or
// more orders in the window ÷ members with at least one there.
func (m Metrics) WindowRepeatRate() ratio.Ratio { return counts(m.WindowRepeaters, m.WindowBuyers) }

// OrdersPerCustomer is orders ÷ members.
func (m Metrics) OrdersPerCustomer() ratio.Ratio { return counts(m.Orders, m.Customers) }

// counts is the ratio of two counts.
func counts(num, den int) ratio.Ratio { return ratio.Of(int64(num), int64(den)) }

// LTV is the historical lifetime value: revenue ÷ members, per currency,
// rounded half to even in the currency's minor unit. Every member counts in
// the denominator, buyer or not. It is empty for an empty segment.
func (m Metrics) LTV() []money.Amount {
	if m.Customers == 0 {
		return nil
	}
	var out []money.Amount
	for _, a := range m.Revenue.Amounts() {
		out = append(out, divide(a, m.Customers))
	}
	return out
}

// AOV is the average order value: revenue ÷ orders, per currency, rounded
// half to even. A currency with refund entries but no orders is left out.
func (m Metrics) AOV() []money.Amount {
	var out []money.Amount
	for _, a := range m.Revenue.Amounts() {
		if n := m.OrdersByCurrency[a.Currency]; n > 0 {
			out = append(out, divide(a, n))
		}
	}
	return out
}

// divide returns a ÷ n for n > 0. Dividing by a positive count cannot
// overflow, so MulDiv's error cannot happen here.
func divide(a money.Amount, n int) money.Amount {
	q, _ := a.MulDiv(1, int64(n))
	return q
}

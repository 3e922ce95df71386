package segment

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
)

// Customer is one customer with its orders, filled from any source: a
// Shopify bulk export, a database, a test.
//
// The package never modifies or keeps a Customer or its slices after the
// call that received it returns, so a source may reuse its buffers from one
// customer to the next.
type Customer struct {
	ID      gid.ID    // a gid.Customer id
	Tags    []string  // as stored; matching trims and ignores case, as Shopify does
	Created time.Time // zero when unknown; no built-in rule needs it
	Orders  []Order   // in any order; see Order
}

// Order is one order, or one refund entry, of a customer.
//
// Total is what the order brought in, net of discounts and refunds (in
// Shopify, currentTotalPriceSet.shopMoney). A source that records refunds
// as entries of their own gives them a negative Total: such an entry
// lowers revenue on its date but is not an order, so it counts toward no
// order count, purchase sequence or average order value.
//
// Orders may come in any order: wherever sequence matters ("first order")
// this package orders them by Time, then by ID. An order placed after the
// evaluation time is ignored everywhere, so evaluating with a past time
// gives the membership as it was then (tags excepted: only today's are
// known).
type Order struct {
	ID      gid.ID       // a gid.Order id, unique within the customer
	Time    time.Time    // when it was placed (Shopify processedAt); required
	Total   money.Amount // net total in a known currency; negative for a refund entry
	Channel string       // sales channel or source name ("web", "pos", "line"); "" when unknown
	Tags    []string
	Items   []LineItem
}

// LineItem is what an order contained. Product is zero for custom items
// and deleted products; such items match no product rule.
type LineItem struct {
	Product     gid.ID // a gid.Product id, or zero
	ProductType string
	Vendor      string
}

// isRefund reports whether o is a refund entry rather than an order.
func (o *Order) isRefund() bool { return o.Total.Minor < 0 }

// validator checks customers, keeping what it can reuse from one to the
// next.
type validator struct {
	scratch []int64        // for the duplicate-order check of many orders
	known   money.Currency // the last currency found known: most stores have one
}

// validate checks one customer.
func (v *validator) validate(c *Customer) error {
	if !c.ID.Is(gid.Customer) {
		return &InputError{Customer: c.ID, Field: "ID", Reason: "not a customer id"}
	}
	for i := range c.Orders {
		o := &c.Orders[i]
		if !o.ID.Is(gid.Order) {
			return c.orderErr(i, "ID", "not an order id", nil)
		}
		if o.Time.IsZero() {
			return c.orderErr(i, "Time", "missing", nil)
		}
		if cur := o.Total.Currency; cur != v.known || cur == "" {
			if !cur.Known() {
				return c.orderErr(i, "Total.Currency", "unknown currency",
					&money.UnknownCurrencyError{Code: string(cur)})
			}
			v.known = cur
		}
		for j := range o.Items {
			if p := o.Items[j].Product; !p.IsZero() && !p.Is(gid.Product) {
				return c.orderErr(i, "Items["+strconv.Itoa(j)+"].Product", "not a product id", nil)
			}
		}
	}
	// Duplicate order ids: quadratic for the usual handful of orders, sorted
	// scratch beyond that.
	if n := len(c.Orders); n <= 16 {
		for i := 1; i < n; i++ {
			for j := 0; j < i; j++ {
				if c.Orders[i].ID == c.Orders[j].ID {
					return c.orderErr(i, "ID", "duplicate order id "+c.Orders[i].ID.String(), nil)
				}
			}
		}
		return nil
	}
	v.scratch = v.scratch[:0]
	for i := range c.Orders {
		v.scratch = append(v.scratch, c.Orders[i].ID.Num)
	}
	slices.Sort(v.scratch)
	for i := 1; i < len(v.scratch); i++ {
		if v.scratch[i] == v.scratch[i-1] {
			dup := gid.ID{Type: gid.Order, Num: v.scratch[i]}
			for k := range c.Orders {
				if c.Orders[k].ID == dup {
					return c.orderErr(k, "ID", "duplicate order id "+dup.String(), nil)
				}
			}
		}
	}
	return nil
}

func (c *Customer) orderErr(i int, field, reason string, err error) error {
	return &InputError{Customer: c.ID, Field: "Orders[" + strconv.Itoa(i) + "]." + field, Reason: reason, Err: err}
}

// before reports whether a comes before b in purchase sequence.
func before(a, b *Order) bool {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c < 0
	}
	return a.ID.Num < b.ID.Num
}

// tagEqual compares a stored tag with a wanted one the way Shopify matches
// tags: surrounding spaces trimmed, case ignored.
func tagEqual(stored, want string) bool {
	return foldEqual(stored, want)
}

// foldEqual reports whether s, trimmed, equals want (already trimmed)
// ignoring case. It runs for every tag and line item of every customer,
// so the usual cases are checked before the general one.
func foldEqual(s, want string) bool {
	if s == want {
		return true
	}
	return strings.EqualFold(trim(s), want)
}

// trim is strings.TrimSpace with a shortcut for the usual string that has
// no space at either end.
func trim(s string) string {
	if n := len(s); n > 0 && s[0] > ' ' && s[0] < 0x80 && s[n-1] > ' ' && s[n-1] < 0x80 {
		return s
	}
	return strings.TrimSpace(s)
}

// hasTag reports whether tags holds want.
func hasTag(tags []string, want string) bool {
	for _, t := range tags {
		if tagEqual(t, want) {
			return true
		}
	}
	return false
}

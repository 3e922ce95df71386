package segment

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
)

// now is the evaluation time of the tests; day is a day.
var (
	now = time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	day = 24 * time.Hour
)

func cid(n int64) gid.ID { return gid.ID{Type: gid.Customer, Num: n} }
func oid(n int64) gid.ID { return gid.ID{Type: gid.Order, Num: n} }
func pid(n int64) gid.ID { return gid.ID{Type: gid.Product, Num: n} }

func cids(ns ...int64) []gid.ID {
	var out []gid.ID
	for _, n := range ns {
		out = append(out, cid(n))
	}
	return out
}

func jpy(minor int64) money.Amount { return money.Amount{Minor: minor, Currency: "JPY"} }
func usd(minor int64) money.Amount { return money.Amount{Minor: minor, Currency: "USD"} }

// ago is a time d before now.
func ago(d time.Duration) time.Time { return now.Add(-d) }

// ord is an order of n at t for total, with items.
func ord(n int64, t time.Time, total money.Amount, items ...LineItem) Order {
	return Order{ID: oid(n), Time: t, Total: total, Items: items}
}

// via sets an order's channel.
func via(o Order, ch string) Order { o.Channel = ch; return o }

func item(p int64, typ, vendor string) LineItem {
	return LineItem{Product: pid(p), ProductType: typ, Vendor: vendor}
}

func cust(n int64, tags []string, orders ...Order) Customer {
	return Customer{ID: cid(n), Tags: tags, Orders: orders}
}

// diff fails t with a go-cmp diff when want and got differ; nil and empty
// slices and maps count as equal, and so do the generations of snapshots,
// which tests of generations check themselves.
func diff(t *testing.T, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	opts = append(opts, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Snapshot{}, "Generation"))
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

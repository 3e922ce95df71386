package shopify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func TestExportCustomersIntoSegment(t *testing.T) {
	srv, c := setup(t)
	now := srv.Now()
	a := srv.AddCustomer(shopifytest.Customer{FirstName: "A", Email: "a@example.com", EmailState: "SUBSCRIBED", Phone: "+15555550100", Tags: []string{"line"}})
	b := srv.AddCustomer(shopifytest.Customer{FirstName: "B", Tags: []string{}})
	o1 := srv.AddOrder(shopifytest.Order{CustomerID: a, CreatedAt: now.AddDate(0, 0, -400), SourceName: "web", Total: money.MustParse("10.00", "USD")})
	o2 := srv.AddOrder(shopifytest.Order{CustomerID: a, CreatedAt: now.AddDate(0, 0, -3), SourceName: "pos", Tags: []string{"x"}, Total: money.MustParse("2.50", "USD")})
	var got []segment.Customer
	var first *shopify.ExportedCustomer
	for ec, err := range c.Bulk.ExportCustomers(context.Background(), &shopify.ExportOptions{Query: shopify.BulkQueryOptions{Wait: fastWait}}) {
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = ec
		}
		sc, err := ec.Segment()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, sc)
	}
	if first.EmailConsent == nil || first.EmailConsent.State != "SUBSCRIBED" || first.SMSConsent == nil || first.NumberOfOrders != 2 ||
		first.AmountSpent != money.MustParse("12.50", "USD") || first.CreatedAt.IsZero() {
		t.Errorf("first customer %+v", first.Customer)
	}
	ca, _ := srv.Customer(a)
	cb, _ := srv.Customer(b)
	want := []segment.Customer{
		{ID: gid.New(gid.Customer, a), Tags: []string{"line"}, Created: ca.CreatedAt.Truncate(time.Second), Orders: []segment.Order{
			{ID: gid.New(gid.Order, o1), Time: now.AddDate(0, 0, -400).Truncate(time.Second), Total: money.MustParse("10.00", "USD"), Channel: "web", Tags: []string{}},
			{ID: gid.New(gid.Order, o2), Time: now.AddDate(0, 0, -3).Truncate(time.Second), Total: money.MustParse("2.50", "USD"), Channel: "pos", Tags: []string{"x"}},
		}},
		{ID: gid.New(gid.Customer, b), Tags: []string{}, Created: cb.CreatedAt.Truncate(time.Second), Orders: []segment.Order{}},
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); d != "" {
		t.Errorf("segment inputs (-want +got):\n%s", d)
	}
	res, err := segment.Evaluate(func(yield func(segment.Customer) bool) {
		for _, c := range got {
			if !yield(c) {
				return
			}
		}
	}, []segment.Definition{{Name: "LINE", Tag: "ecp-line", Rule: segment.HasTag("line")}}, segment.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := res.Segment("LINE"); len(r.Members) != 1 {
		t.Errorf("members %v", r.Members)
	}

	// Since limits the orders read.
	for ec, err := range c.Bulk.ExportCustomers(context.Background(), &shopify.ExportOptions{Since: now.AddDate(0, 0, -10), Query: shopify.BulkQueryOptions{Wait: fastWait}}) {
		if err != nil {
			t.Fatal(err)
		}
		if ec.ID == shopify.CustomerGID(a) && (len(ec.Orders) != 1 || ec.Orders[0].ID != shopify.OrderGID(o2)) {
			t.Errorf("orders since 10 days: %+v", ec.Orders)
		}
	}
}

func TestExportScopesCheckedFirst(t *testing.T) {
	srv, c := setup(t, shopifytest.WithAccessScopes(shopify.ScopeWriteCustomers, shopify.ScopeWriteOrders))
	seedShop(srv, 1, 1)
	ctx := context.Background()
	for _, export := range []func() error{
		func() error { _, err := firstErr(c.Bulk.ExportCustomers(ctx, nil)); return err },
		func() error { _, err := firstErr(c.Bulk.ExportOrders(ctx, nil)); return err },
	} {
		err := export()
		var ms *shopify.MissingScopesError
		if !errors.As(err, &ms) || !errors.Is(err, shopify.ErrUnauthorized) || len(ms.Missing) != 1 || ms.Missing[0] != shopify.ScopeReadAllOrders {
			t.Errorf("got %v, want read_all_orders missing", err)
		}
	}
	if n := len(srv.BulkOperations()); n != 0 {
		t.Errorf("%d bulk operations started without the scopes", n)
	}
	// Recent orders need no read_all_orders.
	for _, err := range c.Bulk.ExportOrders(ctx, &shopify.ExportOptions{Since: time.Now().AddDate(0, 0, -30), Query: shopify.BulkQueryOptions{Wait: fastWait}}) {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestExportOrdersIntoAttribution(t *testing.T) {
	srv, c := setup(t)
	now := srv.Now()
	cu := srv.AddCustomer(shopifytest.Customer{FirstName: "A"})
	mail := &shopifytest.Visit{OccurredAt: now.Add(-48 * time.Hour), UTMSource: "klaviyo", UTMMedium: "email", UTMCampaign: "spring", MarketingEventType: "NEWSLETTER"}
	ad := &shopifytest.Visit{OccurredAt: now.Add(-2 * time.Hour), UTMSource: "facebook", UTMMedium: "cpc", UTMCampaign: "retarget"}
	oid := srv.AddOrder(shopifytest.Order{CustomerID: cu, CreatedAt: now.Add(-time.Hour), FirstVisit: mail, LastVisit: ad, LineItems: []shopifytest.LineItem{
		{ProductID: 1, VariantID: 11, Title: "Tea", Quantity: 2, Price: money.MustParse("5.00", "USD")},
		{ProductID: 2, VariantID: 22, Title: "Cup", Quantity: 1, Price: money.MustParse("8.00", "USD")},
	}})
	srv.AddOrder(shopifytest.Order{CustomerID: cu, CreatedAt: now.AddDate(0, 0, -90)})
	var orders []*shopify.ExportedOrder
	for o, err := range c.Bulk.ExportOrders(context.Background(), &shopify.ExportOptions{Since: now.AddDate(0, 0, -30), Query: shopify.BulkQueryOptions{Wait: fastWait}}) {
		if err != nil {
			t.Fatal(err)
		}
		orders = append(orders, o)
	}
	if len(orders) != 1 {
		t.Fatalf("%d orders since 30 days", len(orders))
	}
	o := orders[0]
	if len(o.LineItems) != 2 || o.LineItems[1].ProductID != "gid://shopify/Product/2" || o.LineItems[1].VariantID != "gid://shopify/ProductVariant/22" || o.MoreLineItems {
		t.Errorf("line items %+v", o.LineItems)
	}
	conv := o.Conversion()
	wantConv := attribution.Conversion{Order: shopify.OrderGID(oid), Customer: shopify.CustomerGID(cu), Time: o.ProcessedAt,
		Revenue: money.MustParse("18.00", "USD"), FirstTime: false}
	if d := cmp.Diff(wantConv, conv); d != "" {
		t.Errorf("conversion (-want +got):\n%s", d)
	}
	tps := o.Touchpoints()
	if len(tps) != 2 || tps[0].Action != attribution.EmailClicked || tps[1].Action != attribution.AdClick ||
		tps[0].UTM.Campaign != "spring" || tps[1].UTM.Source != "facebook" || tps[0].Customer != conv.Customer {
		t.Fatalf("touchpoints %+v", tps)
	}
	parts, err := attribution.Config{Model: attribution.LastClick, Lookback: 30 * 24 * time.Hour}.Attribute(conv, tps)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || parts[0].Key.Channel != "facebook" {
		t.Errorf("last click credits %+v", parts)
	}
}

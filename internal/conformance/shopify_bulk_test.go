package conformance

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/money"
	shopifyapi "github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

// TestShopifyBulkDocuments runs the bulk operations of the Shopify client
// against the fake (queries, exports, staged uploads, bulk tag mutations,
// status reads, cancel) and validates every document the fake received,
// the bulk queries and mutations it ran included, against the real
// 2025-01 Admin schema.
func TestShopifyBulkDocuments(t *testing.T) {
	schema := ShopifySchema(t)
	srv, c := shopifyFake(t)
	ctx := context.Background()
	cust := srv.AddCustomer(shopifytest.Customer{FirstName: "A", Email: "a@example.com", Tags: []string{"old"}})
	visit := &shopifytest.Visit{OccurredAt: srv.Now().AddDate(0, 0, -1), UTMSource: "klaviyo", UTMMedium: "email"}
	srv.AddOrder(shopifytest.Order{CustomerID: cust, FirstVisit: visit, LastVisit: visit,
		LineItems: []shopifytest.LineItem{{ProductID: 1, VariantID: 2, Title: "Tea", Quantity: 1, Price: money.MustParse("5.00", "USD")}}})
	wait := shopifyapi.BulkQueryOptions{Wait: shopifyapi.WaitOptions{Interval: 5 * time.Millisecond}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range c.Bulk.ExportCustomers(ctx, &shopifyapi.ExportOptions{Query: wait}) {
		must(err)
	}
	for _, err := range c.Bulk.ExportCustomers(ctx, &shopifyapi.ExportOptions{Since: time.Now().AddDate(0, -1, 0), Query: wait}) {
		must(err)
	}
	for _, err := range c.Bulk.ExportOrders(ctx, &shopifyapi.ExportOptions{Since: time.Now().AddDate(0, -1, 0), Query: wait}) {
		must(err)
	}
	_, _, err := c.Bulk.Current(ctx, shopifyapi.BulkMutation)
	must(err)
	_, err = c.Tags.ApplyBulk(ctx, []tagging.Change{{ID: shopifyapi.CustomerGID(cust), Add: []string{"vip"}, Remove: []string{"old"}}},
		&shopifyapi.BulkApplyOptions{Wait: wait.Wait})
	must(err)
	op, _, err := c.Bulk.RunQuery(ctx, shopifyapi.ExportOrdersQuery(time.Time{}))
	must(err)
	_, _, err = c.Bulk.Cancel(ctx, op.ID)
	must(err)

	docs := srv.Documents()
	var bulkDocs int
	for _, d := range docs {
		if strings.HasPrefix(strings.TrimSpace(d), "{") || strings.Contains(d, "mutation tags") {
			bulkDocs++ // run by a bulk operation, not sent as a request
		}
	}
	if len(docs) < 15 || bulkDocs < 6 {
		t.Fatalf("%d documents recorded, %d of bulk operations", len(docs), bulkDocs)
	}
	checkDocuments(t, schema, docs)
}

package shopify_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

// Export every customer with its orders through a bulk query, waiting for
// the bulk_operations/finish webhook rather than polling, and evaluate
// segments on the stream.
func ExampleBulkService_ExportCustomers() {
	finished := make(chan string, 1)
	hook := httptest.NewServer(&shopify.WebhookHandler{
		Secrets: []shopcrm.Secret{shopify.NewSecret(shopifytest.DefaultClientSecret)},
		Handle: func(ctx context.Context, w *shopify.Webhook) error {
			if p, ok := w.Payload.(*shopify.BulkOperationFinishPayload); ok {
				finished <- p.GID
			}
			return nil
		},
	})
	defer hook.Close()
	srv := shopifytest.NewServer(shopifytest.WithBulkFinishWebhook(hook.URL))
	defer srv.Close()
	a := srv.AddCustomer(shopifytest.Customer{FirstName: "Aiko", Tags: []string{"line"}})
	srv.AddOrder(shopifytest.Order{CustomerID: a, Total: money.MustParse("3200", "JPY")})
	srv.AddCustomer(shopifytest.Customer{FirstName: "Ben"})
	c := srv.Client()

	ev, _ := segment.NewEvaluator([]segment.Definition{
		{Name: "first-time", Tag: "ecp-first", Rule: segment.FirstTimeBuyer()},
	}, segment.Options{Now: time.Now()})
	opts := &shopify.ExportOptions{Query: shopify.BulkQueryOptions{Wait: shopify.WaitOptions{Finished: finished}}}
	for ec, err := range c.Bulk.ExportCustomers(context.Background(), opts) {
		if err != nil {
			fmt.Println(err)
			return
		}
		in, err := ec.Segment()
		if err == nil {
			err = ev.Add(&in)
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(ec.FirstName, ec.Tags, len(ec.Orders), ec.AmountSpent)
	}
	res, _ := ev.Result()
	r, _ := res.Segment("first-time")
	fmt.Println("first-time buyers:", len(r.Members))
	// Output:
	// Aiko [line] 1 3200 JPY
	// Ben [] 0 0.00 USD
	// first-time buyers: 1
}

// Apply tag changes through bulk mutations: the removals run as one
// operation, then the additions as another, and the results read back
// like Apply's.
func ExampleTagsService_ApplyBulk() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	a := srv.AddCustomer(shopifytest.Customer{Tags: []string{"ecp-old"}})
	b := srv.AddCustomer(shopifytest.Customer{})
	c := srv.Client()

	res, err := c.Tags.ApplyBulk(context.Background(), []tagging.Change{
		{ID: shopify.CustomerGID(a), Add: []string{"ecp-first"}, Remove: []string{"ecp-old"}},
		{ID: shopify.CustomerGID(b), Add: []string{"ecp-first"}},
	}, &shopify.BulkApplyOptions{Wait: shopify.WaitOptions{Interval: 10 * time.Millisecond}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		fmt.Println(r.ID, r.Outcome)
	}
	for _, op := range srv.BulkOperations() {
		fmt.Println(op.Type, op.Status, op.Lines, "line(s)")
	}
	fmt.Println(srv.CustomerTags(a), srv.CustomerTags(b))
	// Output:
	// gid://shopify/Customer/1001 applied
	// gid://shopify/Customer/1002 applied
	// MUTATION COMPLETED 1 line(s)
	// MUTATION COMPLETED 2 line(s)
	// [ecp-first] [ecp-first]
}

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

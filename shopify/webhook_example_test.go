package shopify_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// A webhook endpoint: verified, decoded and deduplicated deliveries reach
// Handle once each. The fake sends a signed customers/redact and then
// retries it, as Shopify does.
func ExampleWebhookHandler() {
	srv := shopifytest.NewServer()
	defer srv.Close()

	h := &shopify.WebhookHandler{
		Secrets: []shopcrm.Secret{srv.ClientSecret()}, // the app's client secret
		Handle: func(ctx context.Context, w *shopify.Webhook) error {
			switch p := w.Payload.(type) {
			case *shopify.CustomersRedactPayload:
				fmt.Println(w.Topic, w.ShopDomain, "customer", p.Customer.ID, "orders", p.OrdersToRedact)
			default:
				fmt.Println("other topic", w.Topic)
			}
			return nil
		},
	}
	endpoint := httptest.NewServer(h)
	defer endpoint.Close()

	ctx := context.Background()
	d, err := srv.SendWebhook(ctx, endpoint.URL, shopify.TopicCustomersRedact, map[string]any{
		"shop_id": 1, "shop_domain": shopifytest.Shop,
		"customer": map[string]any{"id": 42, "email": "ann@example.com"}, "orders_to_redact": []int{7, 8},
	})
	if err != nil {
		panic(err)
	}
	again, _ := srv.Redeliver(ctx, d) // same event id: answered 200, not handled again
	fmt.Println(d.Status, again.Status)
	// Output:
	// customers/redact shopcrm-test.myshopify.com customer 42 orders [7 8]
	// 200 200
}

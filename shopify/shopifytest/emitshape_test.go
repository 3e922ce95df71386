package shopifytest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// TestEmitRefusesUnshapedSubscriptions: a subscription asking for a
// payload shaped otherwise than the fake's full JSON (some fields only,
// metafields, XML) gets a failed delivery naming what is not modelled,
// never the full JSON payload as if it had been honoured.
func TestEmitRefusesUnshapedSubscriptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   shopify.WebhookSubscriptionInput
		want string
	}{
		{"includeFields", shopify.WebhookSubscriptionInput{IncludeFields: []string{"customerId"}}, "includeFields are"},
		{"metafieldNamespaces", shopify.WebhookSubscriptionInput{MetafieldNamespaces: []string{"loyalty"}}, "metafieldNamespaces are"},
		{"XML", shopify.WebhookSubscriptionInput{Format: shopify.WebhookFormatXML}, "XML payloads are"},
		{"plain JSON", shopify.WebhookSubscriptionInput{Format: shopify.WebhookFormatJSON}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
			defer ts.Close()
			srv := shopifytest.NewServer(shopifytest.WithWebhookClient(ts.Client()))
			defer srv.Close()
			in := tc.in
			in.CallbackURL = ts.URL
			sent := tagWithSubscription(t, srv, in)
			if tc.want == "" {
				if len(sent) != 1 || sent[0].Status != 200 || hits.Load() != 1 {
					t.Fatalf("plain subscription: %+v, %d hits", sent, hits.Load())
				}
				return
			}
			if len(sent) != 1 || sent[0].Status != 0 || !strings.Contains(sent[0].Err, tc.want+" not modelled") || hits.Load() != 0 {
				t.Fatalf("deliveries %+v, %d hits; want one failed delivery naming %s and nothing sent", sent, hits.Load(), tc.want)
			}
		})
	}
}

// tagWithSubscription creates the subscription in (its topic set to
// customer tags added), tags a new customer and returns the deliveries
// the fake made once they settled.
func tagWithSubscription(t *testing.T, srv *shopifytest.Server, in shopify.WebhookSubscriptionInput) []shopifytest.WebhookDelivery {
	t.Helper()
	ctx := context.Background()
	c := srv.Client()
	in.Topic = shopify.TopicCustomerTagsAdded
	if _, _, err := c.Webhooks.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Email: "a@example.com"}))
	if _, err := c.Tags.Add(ctx, id, []string{"vip"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	return srv.EmittedWebhooks()
}

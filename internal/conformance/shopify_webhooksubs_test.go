package conformance

import (
	"context"
	"testing"

	shopifyapi "github.com/shopcrm/shopcrm/shopify"
)

// TestShopifyWebhookSubscriptionDocuments runs the webhook subscription
// operations of the Shopify client against the fake, validates each
// document the fake received against the real 2025-01 Admin schema, and
// checks that every topic the client maps is a WebhookSubscriptionTopic.
func TestShopifyWebhookSubscriptionDocuments(t *testing.T) {
	schema := ShopifySchema(t)
	srv, c := shopifyFake(t)
	ctx := context.Background()
	w, _, err := c.Webhooks.Create(ctx, shopifyapi.WebhookSubscriptionInput{Topic: shopifyapi.TopicOrdersCreate, CallbackURL: "https://hooks.example.com/o",
		Format: shopifyapi.WebhookFormatJSON, IncludeFields: []string{"id"}, MetafieldNamespaces: []string{"crm"}, Filter: "total_price:>100"})
	if err != nil {
		t.Fatal(err)
	}
	for _, topics := range [][]string{nil, {shopifyapi.TopicOrdersCreate}} {
		for _, err := range c.Webhooks.List(ctx, topics...) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, err := c.Webhooks.Delete(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	docs := srv.Documents()
	if len(docs) != 4 {
		t.Fatalf("%d documents recorded, want 4", len(docs))
	}
	checkDocuments(t, schema, docs)

	enum := schema.Types["WebhookSubscriptionTopic"]
	for _, topic := range []string{
		shopifyapi.TopicCustomersCreate, shopifyapi.TopicCustomersUpdate, shopifyapi.TopicOrdersCreate, shopifyapi.TopicOrdersPaid,
		shopifyapi.TopicCustomerTagsAdded, shopifyapi.TopicCustomerTagsRemoved, shopifyapi.TopicCustomerJoinedSeg,
		shopifyapi.TopicCustomerLeftSeg, shopifyapi.TopicBulkOperationsFinish, shopifyapi.TopicAppUninstalled,
	} {
		e, ok := shopifyapi.WebhookTopicEnum(topic)
		if !ok || enum.EnumValues.ForName(e) == nil {
			t.Errorf("topic %s maps to %q, not a WebhookSubscriptionTopic value", topic, e)
		}
	}
}

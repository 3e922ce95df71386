package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func listSubs(t *testing.T, c *shopify.Client, topics ...string) []*shopify.WebhookSubscription {
	t.Helper()
	var out []*shopify.WebhookSubscription
	for w, err := range c.Webhooks.List(context.Background(), topics...) {
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		out = append(out, w)
	}
	return out
}

func TestWebhookSubscriptionRoundTrip(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	in := shopify.WebhookSubscriptionInput{Topic: shopify.TopicCustomerTagsAdded, CallbackURL: "https://hooks.example.com/shopify",
		Format: shopify.WebhookFormatJSON, IncludeFields: []string{"id", "tags"}, MetafieldNamespaces: []string{"crm"}}
	w, resp, err := c.Webhooks.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if resp == nil || resp.Cost.RequestedQueryCost == 0 {
		t.Errorf("response %+v, want the call's cost", resp)
	}
	if w.Topic != shopify.TopicCustomerTagsAdded || w.CallbackURL != in.CallbackURL || w.Format != shopify.WebhookFormatJSON ||
		!slices.Equal(w.IncludeFields, in.IncludeFields) || !slices.Equal(w.MetafieldNamespaces, in.MetafieldNamespaces) || w.CreatedAt.IsZero() || w.ID == "" {
		t.Errorf("created %+v", w)
	}
	held := srv.WebhookSubscriptions()
	if len(held) != 1 || held[0].Topic != "CUSTOMER_TAGS_ADDED" || held[0].CallbackURL != in.CallbackURL || held[0].GID() != w.ID {
		t.Fatalf("fake holds %+v", held)
	}
	if _, _, err := c.Webhooks.Create(ctx, shopify.WebhookSubscriptionInput{Topic: shopify.TopicOrdersPaid, CallbackURL: in.CallbackURL}); err != nil {
		t.Fatal(err)
	}

	all := listSubs(t, c)
	if len(all) != 2 || all[0].ID != w.ID || all[1].Topic != shopify.TopicOrdersPaid || all[1].Format != shopify.WebhookFormatJSON {
		t.Fatalf("list %+v", all)
	}
	if got := listSubs(t, c, shopify.TopicOrdersPaid); len(got) != 1 || got[0].Topic != shopify.TopicOrdersPaid {
		t.Errorf("list by topic %+v", got)
	}

	id, resp, err := c.Webhooks.Delete(ctx, w.ID)
	if err != nil || id != w.ID || resp == nil {
		t.Fatalf("delete: %q %v %v", id, resp, err)
	}
	if got := srv.WebhookSubscriptions(); len(got) != 1 || got[0].Topic != "ORDERS_PAID" {
		t.Errorf("after delete the fake holds %+v", got)
	}
	_, _, err = c.Webhooks.Delete(ctx, w.ID)
	var ue *shopify.UserErrors
	if !errors.As(err, &ue) || ue.Mutation != "webhookSubscriptionDelete" || ue.Errors[0].Message != shopifytest.MsgWebhookSubNotFound {
		t.Errorf("second delete: %v", err)
	}
}

func TestWebhookSubscriptionDuplicateRefused(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	in := shopify.WebhookSubscriptionInput{Topic: shopify.TopicOrdersCreate, CallbackURL: "https://hooks.example.com/o"}
	if _, _, err := c.Webhooks.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
	w, resp, err := c.Webhooks.Create(ctx, in)
	var ue *shopify.UserErrors
	if !errors.As(err, &ue) || w != nil || resp == nil {
		t.Fatalf("duplicate: %v, %v", w, err)
	}
	if u := ue.Errors[0]; u.Message != shopifytest.MsgWebhookSubTaken || !slices.Equal(u.Field, []string{"webhookSubscription", "callbackUrl"}) {
		t.Errorf("userError %+v", u)
	}
	if n := len(srv.WebhookSubscriptions()); n != 1 {
		t.Errorf("fake holds %d subscriptions, want 1", n)
	}
	// Another topic at the same URL is a new subscription.
	in.Topic = shopify.TopicOrdersPaid
	if _, _, err := c.Webhooks.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
}

func TestWebhookSubscriptionInputRefusedBeforeSending(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	ok := shopify.WebhookSubscriptionInput{Topic: shopify.TopicOrdersCreate, CallbackURL: "https://hooks.example.com/o"}
	bad := map[string]func(in *shopify.WebhookSubscriptionInput){
		"no topic":        func(in *shopify.WebhookSubscriptionInput) { in.Topic = "" },
		"unknown topic":   func(in *shopify.WebhookSubscriptionInput) { in.Topic = "products/create" },
		"enum name":       func(in *shopify.WebhookSubscriptionInput) { in.Topic = "ORDERS_CREATE" },
		"compliance":      func(in *shopify.WebhookSubscriptionInput) { in.Topic = shopify.TopicShopRedact },
		"no url":          func(in *shopify.WebhookSubscriptionInput) { in.CallbackURL = "" },
		"http":            func(in *shopify.WebhookSubscriptionInput) { in.CallbackURL = "http://hooks.example.com/o" },
		"relative":        func(in *shopify.WebhookSubscriptionInput) { in.CallbackURL = "/hooks" },
		"no host":         func(in *shopify.WebhookSubscriptionInput) { in.CallbackURL = "https:///x" },
		"bad format":      func(in *shopify.WebhookSubscriptionInput) { in.Format = "YAML" },
		"empty namespace": func(in *shopify.WebhookSubscriptionInput) { in.MetafieldNamespaces = []string{""} },
	}
	for name, mut := range bad {
		in := ok
		mut(&in)
		_, resp, err := c.Webhooks.Create(ctx, in)
		var ie *shopify.InputError
		if !errors.As(err, &ie) || resp != nil {
			t.Errorf("%s: %v, want *InputError", name, err)
		}
	}
	for _, id := range []string{"", "123", "gid://shopify/Customer/1", "gid://shopify/WebhookSubscription/0", "gid://shopify/WebhookSubscription/01", "gid://shopify/WebhookSubscription/x"} {
		var ie *shopify.InputError
		if _, _, err := c.Webhooks.Delete(ctx, id); !errors.As(err, &ie) {
			t.Errorf("delete %q: %v, want *InputError", id, err)
		}
	}
	for _, err := range c.Webhooks.List(ctx, shopify.TopicOrdersCreate, "nope") {
		var ie *shopify.InputError
		if !errors.As(err, &ie) {
			t.Errorf("list with a bad topic: %v, want *InputError", err)
		}
	}
	if n := len(srv.Documents()); n != 0 {
		t.Errorf("%d requests sent, want 0", n)
	}
}

func TestWebhookSubscriptionListPaginates(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	const n = 101 // one more than a page
	for i := range n {
		if _, _, err := c.Webhooks.Create(ctx, shopify.WebhookSubscriptionInput{Topic: shopify.TopicCustomersUpdate, CallbackURL: fmt.Sprintf("https://h.example.com/%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	got := listSubs(t, c)
	if len(got) != n || got[n-1].CallbackURL != fmt.Sprintf("https://h.example.com/%d", n-1) {
		t.Fatalf("listed %d", len(got))
	}
	if pages := srv.OpCount("webhookSubscriptions"); pages != 2 {
		t.Errorf("%d pages, want 2", pages)
	}
}

func TestWebhookTopicEnum(t *testing.T) {
	for _, tc := range []struct{ wire, enum string }{
		{shopify.TopicCustomersCreate, "CUSTOMERS_CREATE"},
		{shopify.TopicCustomerTagsRemoved, "CUSTOMER_TAGS_REMOVED"},
		{shopify.TopicCustomerJoinedSeg, "CUSTOMER_JOINED_SEGMENT"},
		{shopify.TopicBulkOperationsFinish, "BULK_OPERATIONS_FINISH"},
		{shopify.TopicAppUninstalled, "APP_UNINSTALLED"},
	} {
		if e, ok := shopify.WebhookTopicEnum(tc.wire); !ok || e != tc.enum {
			t.Errorf("WebhookTopicEnum(%q) = %q, %v", tc.wire, e, ok)
		}
		if w, ok := shopify.WebhookTopicFromEnum(tc.enum); !ok || w != tc.wire {
			t.Errorf("WebhookTopicFromEnum(%q) = %q, %v", tc.enum, w, ok)
		}
	}
	for _, w := range []string{shopify.TopicCustomersRedact, shopify.TopicCustomersDataRequest, shopify.TopicShopRedact, "orders/cancelled"} {
		if _, ok := shopify.WebhookTopicEnum(w); ok {
			t.Errorf("WebhookTopicEnum(%q) ok", w)
		}
	}
}

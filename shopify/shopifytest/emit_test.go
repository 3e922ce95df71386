package shopifytest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// receiver is an https endpoint verifying deliveries with the fake's
// client secret; it refuses the first delivery of every topic once.
type receiver struct {
	mu      sync.Mutex
	handled []string // topic and a detail, in order
	refused map[string]bool
	hits    atomic.Int32
}

func (r *receiver) start(t *testing.T, secret shopcrm.Secret) *httptest.Server {
	r.refused = map[string]bool{}
	h := &shopify.WebhookHandler{Secrets: []shopcrm.Secret{secret}, Handle: func(_ context.Context, w *shopify.Webhook) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		var detail string
		switch p := w.Payload.(type) {
		case *shopify.CustomerTagsPayload:
			detail = p.CustomerID + " " + p.Tags[0]
		case *shopify.CustomerSegmentPayload:
			detail = p.CustomerID + " " + p.SegmentID
		default:
			t.Errorf("payload %T, decode error %v", w.Payload, w.DecodeErr)
		}
		r.handled = append(r.handled, w.Topic+" "+detail)
		return nil
	}}
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		topic := req.Header.Get(shopify.HeaderTopic)
		r.mu.Lock()
		first := !r.refused[topic]
		r.refused[topic] = true
		r.mu.Unlock()
		if first {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestEmitsWebhooksOnCustomerChanges(t *testing.T) {
	const clientSecret = "app-client-secret"
	var rcv receiver
	ts := rcv.start(t, shopcrm.NewSecret(clientSecret))
	srv := shopifytest.NewServer(shopifytest.WithWebhookRetries(3, time.Millisecond), shopifytest.WithWebhookClient(ts.Client()),
		shopifytest.WithOAuthClient("app-client-id", clientSecret))
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client()
	for _, topic := range []string{shopify.TopicCustomerTagsAdded, shopify.TopicCustomerTagsRemoved, shopify.TopicCustomerJoinedSeg, shopify.TopicCustomerLeftSeg} {
		if _, _, err := c.Webhooks.Create(ctx, shopify.WebhookSubscriptionInput{Topic: topic, CallbackURL: ts.URL + "/hooks"}); err != nil {
			t.Fatal(err)
		}
	}
	seg := srv.AddSegment(shopifytest.Segment{Name: "VIP", Query: "customer_tags CONTAINS 'vip'"})
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Email: "a@example.com", Tags: []string{"old"}}))
	if _, err := c.Tags.Add(ctx, id, []string{"VIP"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Tags.Add(ctx, id, []string{"vip"}); err != nil { // already there: no event
		t.Fatal(err)
	}
	if _, err := c.Tags.Remove(ctx, id, []string{"vip", "absent"}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := srv.WaitWebhooks(wctx); err != nil {
		t.Fatal(err)
	}
	segID := gid.New(gid.Segment, seg).String()
	want := []string{
		"customer.tags_added " + id + " VIP",
		"customer.joined_segment " + id + " " + segID,
		"customer.tags_removed " + id + " VIP",
		"customer.left_segment " + id + " " + segID,
	}
	if d := cmp.Diff(want, rcv.handled); d != "" {
		t.Errorf("handled (-want +got):\n%s", d)
	}
	// Each topic's first attempt was refused and retried with the same
	// event id: 4 events, 8 attempts.
	sent := srv.EmittedWebhooks()
	if len(sent) != 8 || rcv.hits.Load() != 8 {
		t.Fatalf("attempts = %d (receiver saw %d), want 8", len(sent), rcv.hits.Load())
	}
	byEvent := map[string][]int{}
	for _, d := range sent {
		byEvent[d.EventID] = append(byEvent[d.EventID], d.Status)
	}
	for ev, st := range byEvent {
		if d := cmp.Diff([]int{503, 200}, st); d != "" {
			t.Errorf("event %s statuses (-want +got):\n%s", ev, d)
		}
	}
}

func TestEmitRefusesFilteredSubscriptions(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	sent := tagWithSubscription(t, srv, shopify.WebhookSubscriptionInput{CallbackURL: "https://example.invalid/hooks", Filter: "tags:vip"})
	if len(sent) != 1 || sent[0].Err == "" || sent[0].Status != 0 {
		t.Fatalf("a filtered subscription must fail visibly, got %+v", sent)
	}
}

func TestEmitGivesUpAfterRetries(t *testing.T) {
	var hits atomic.Int32
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer ts.Close()
	srv := shopifytest.NewServer(shopifytest.WithWebhookRetries(2, time.Millisecond), shopifytest.WithWebhookClient(ts.Client()))
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client()
	if _, _, err := c.Webhooks.Create(ctx, shopify.WebhookSubscriptionInput{Topic: shopify.TopicCustomerTagsAdded, CallbackURL: ts.URL}); err != nil {
		t.Fatal(err)
	}
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Email: "a@example.com"}))
	if _, err := c.Tags.Add(ctx, id, []string{"vip"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 3 || len(srv.EmittedWebhooks()) != 3 {
		t.Fatalf("attempts = %d, want 1 + 2 retries", hits.Load())
	}
}

package shopifytest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

type captured struct {
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
}

func (c *captured) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.reqs, c.body = append(c.reqs, r), append(c.body, b)
	c.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func TestSendWebhookSignsLikeShopify(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		opts   []shopifytest.Option
		secret string
	}{
		{"default secret", nil, shopifytest.DefaultClientSecret},
		{"WithOAuthClient", []shopifytest.Option{shopifytest.WithOAuthClient("id", "shpss_other")}, "shpss_other"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := shopifytest.NewServer(append(tt.opts, shopifytest.WithNow(now))...)
			t.Cleanup(srv.Close)
			rec := &captured{}
			hs := httptest.NewServer(rec)
			t.Cleanup(hs.Close)
			d, err := srv.SendWebhook(context.Background(), hs.URL, shopify.TopicShopRedact, map[string]any{"shop_id": 1, "shop_domain": shopifytest.Shop})
			if err != nil || d.Status != http.StatusAccepted {
				t.Fatalf("SendWebhook: %v, status %d", err, d.Status)
			}
			r, body := rec.reqs[0], rec.body[0]
			if err := shopify.VerifyWebhook(body, r.Header.Get(shopify.HeaderHmac), shopcrm.NewSecret(tt.secret)); err != nil {
				t.Fatalf("signature: %v", err)
			}
			w, err := shopify.ParseWebhook(r.Header, body)
			if err != nil {
				t.Fatal(err)
			}
			if w.Topic != shopify.TopicShopRedact || w.ShopDomain != shopifytest.Shop || w.APIVersion == "" ||
				w.EventID != d.EventID || w.WebhookID != d.WebhookID || w.EventID == w.WebhookID ||
				w.TriggeredAt.Sub(now).Abs() > time.Minute {
				t.Fatalf("envelope %+v", w)
			}
			if p, ok := w.Payload.(*shopify.ShopRedactPayload); !ok || p.ShopDomain != shopifytest.Shop {
				t.Fatalf("payload %#v", w.Payload)
			}
			again, err := srv.Redeliver(context.Background(), d)
			if err != nil || again.Status != http.StatusAccepted || len(rec.reqs) != 2 {
				t.Fatalf("Redeliver: %v, status %d", err, again.Status)
			}
			if rec.reqs[1].Header.Get(shopify.HeaderEventID) != d.EventID || string(rec.body[1]) != string(body) ||
				rec.reqs[1].Header.Get(shopify.HeaderHmac) != r.Header.Get(shopify.HeaderHmac) {
				t.Fatal("redelivery differs from the original")
			}
			d2, _ := srv.SendWebhook(context.Background(), hs.URL, shopify.TopicShopRedact, []byte(`{}`))
			if d2.EventID == d.EventID {
				t.Fatal("a new webhook reused the event id")
			}
		})
	}
}

func TestSendWebhookUnreachable(t *testing.T) {
	srv := shopifytest.NewServer()
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(http.NotFoundHandler())
	hs.Close()
	if _, err := srv.SendWebhook(context.Background(), hs.URL, "orders/create", []byte(`{}`)); err == nil {
		t.Fatal("delivery to a closed server succeeded")
	}
	if _, err := srv.SendWebhook(context.Background(), hs.URL, "orders/create", func() {}); err == nil {
		t.Fatal("unencodable payload accepted")
	}
}

package shopify_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/webhooksec"
	"github.com/shopcrm/shopcrm/shopify"
)

// shopifyDelivery is a customers/create delivery of event id signed with
// secret, as Shopify sends it.
func shopifyDelivery(id string, secret shopcrm.Secret) (http.Header, []byte) {
	body := []byte(`{"id":706405506930370000,"email":"bob@example.com","first_name":"Bob","note":"` + id + `","state":"enabled"}`)
	h := http.Header{}
	h.Set(shopify.HeaderTopic, shopify.TopicCustomersCreate)
	h.Set(shopify.HeaderShopDomain, "example.myshopify.com")
	h.Set(shopify.HeaderAPIVersion, "2025-01")
	h.Set(shopify.HeaderWebhookID, "wh-"+id)
	h.Set(shopify.HeaderEventID, id)
	h.Set(shopify.HeaderTriggeredAt, time.Now().UTC().Format(time.RFC3339Nano))
	h.Set(shopify.HeaderHmac, shopify.SignWebhook(body, secret))
	return h, body
}

var shopifyPlatform = webhooksec.Platform{
	Name:      "shopify",
	Delivery:  shopifyDelivery,
	SigHeader: shopify.HeaderHmac,
	Verify: func(h http.Header, body []byte, secrets ...shopcrm.Secret) error {
		if err := shopify.VerifyWebhook(body, h.Get(shopify.HeaderHmac), secrets...); err != nil {
			return err
		}
		_, err := shopify.ParseWebhook(h, body)
		return err
	},
	Handler: func(c webhooksec.HandlerConfig) http.Handler {
		return &shopify.WebhookHandler{Secrets: c.Secrets, MaxBody: c.MaxBody, OnError: c.OnError,
			Handle: func(_ context.Context, w *shopify.Webhook) error { c.Handled(w.DedupeKey()); return nil }}
	},
	DefaultMaxBody: shopify.DefaultMaxWebhookBody,
}

// TestWebhookSecurity runs the attacks every platform's webhooks face.
func TestWebhookSecurity(t *testing.T) { webhooksec.Run(t, shopifyPlatform) }

// TestWebhookSecurityEventID: Shopify sends one delivery per subscription
// and retries with new X-Shopify-Webhook-Id values but the same
// X-Shopify-Event-Id, which is the dedupe key; without it the webhook id
// is. The headers are not signed, so a replay with a fresh Triggered-At
// verifies: the dedupe stops it, MaxAge does not.
func TestWebhookSecurityEventID(t *testing.T) {
	secret := shopcrm.NewSecret("s3cr3t-shopify")
	var calls atomic.Int32
	store := shopcrm.NewMemoryDedupe(0, 0)
	h := &shopify.WebhookHandler{Secrets: []shopcrm.Secret{secret}, Dedupe: store, MaxAge: time.Hour,
		Handle: func(context.Context, *shopify.Webhook) error { calls.Add(1); return nil }}
	post := func(hd http.Header, body []byte) int {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = hd
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	hd, body := shopifyDelivery("evt-9", secret)
	if st := post(hd, body); st != http.StatusOK || calls.Load() != 1 {
		t.Fatalf("first delivery: %d, %d calls", st, calls.Load())
	}
	// Another subscription's delivery of the event, and a replay with a
	// fresh timestamp (the headers are not signed): both verify, neither
	// is handled again.
	edit := func(k, v string) http.Header {
		x := hd.Clone()
		x.Set(k, v)
		return x
	}
	for name, x := range map[string]http.Header{
		"other subscription": edit(shopify.HeaderWebhookID, "wh-other-subscription"),
		"fresh timestamp":    edit(shopify.HeaderTriggeredAt, time.Now().Add(time.Second).UTC().Format(time.RFC3339)),
	} {
		if err := shopify.VerifyWebhook(body, x.Get(shopify.HeaderHmac), secret); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if st := post(x, body); st != http.StatusOK || calls.Load() != 1 {
			t.Errorf("%s: %d, %d calls", name, st, calls.Load())
		}
	}
	// Without an event id, the webhook id is the key.
	noEvent, nbody := shopifyDelivery("evt-lonely", secret)
	noEvent.Del(shopify.HeaderEventID)
	noEvent.Set(shopify.HeaderWebhookID, "wh-lonely")
	for range 2 {
		post(noEvent, nbody)
	}
	if calls.Load() != 2 {
		t.Errorf("a delivery keyed by its webhook id, twice: %d calls, want 2", calls.Load())
	}
	if ok, _ := store.Claim(context.Background(), "wh-lonely"); ok {
		t.Error("the webhook id was not claimed in the caller's store")
	}
	// A retry past MaxAge (by Triggered-At) is acknowledged, not handled.
	stale, sbody := shopifyDelivery("evt-stale", secret)
	stale.Set(shopify.HeaderTriggeredAt, time.Now().Add(-2*time.Hour).UTC().Format(time.RFC3339))
	if st := post(stale, sbody); st != http.StatusOK || calls.Load() != 2 {
		t.Errorf("stale retry: %d, %d calls", st, calls.Load())
	}
}

// TestWebhookSecurityMalformed: a signed delivery Shopify would not send
// (no topic, a body that is not a JSON object) is a 400 with a typed
// error.
func TestWebhookSecurityMalformed(t *testing.T) {
	var leaks webhooksec.Leaks
	secret := leaks.NewSecret("shpss_")
	var got error
	h := &shopify.WebhookHandler{Secrets: []shopcrm.Secret{secret}, OnError: func(_ *http.Request, err error) { got = err }}
	for name, c := range map[string]struct {
		body  string
		topic string
	}{
		"no topic":     {`{"id":1}`, ""},
		"array body":   {`[{"id":1}]`, shopify.TopicOrdersCreate},
		"invalid JSON": {`{"id":`, shopify.TopicOrdersCreate},
	} {
		body := []byte(c.body)
		hd := http.Header{}
		hd.Set(shopify.HeaderHmac, shopify.SignWebhook(body, secret))
		hd.Set(shopify.HeaderEventID, name)
		if c.topic != "" {
			hd.Set(shopify.HeaderTopic, c.topic)
		}
		_, err := shopify.ParseWebhook(hd, body)
		webhooksec.AssertRefused(t, name+": ParseWebhook", err, "shopify", shopify.ErrMalformedWebhook, http.StatusBadRequest)
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = hd
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, w.Code)
		}
		webhooksec.AssertRefused(t, name+": OnError", got, "shopify", shopify.ErrMalformedWebhook, http.StatusBadRequest)
		leaks.Add(hd.Get(shopify.HeaderHmac))
		leaks.CheckErr(t, name, err)
		leaks.CheckErr(t, name, got)
	}
}

// TestWebhookSecurityHandleFails: a failing Handle answers 500 (so Shopify
// retries), reports the error, and releases the event for the retry.
func TestWebhookSecurityHandleFails(t *testing.T) {
	secret := shopcrm.NewSecret("s3cr3t-shopify")
	boom := errors.New("downstream down")
	var fails atomic.Int32
	fails.Store(1)
	var got error
	var handled atomic.Int32
	h := &shopify.WebhookHandler{Secrets: []shopcrm.Secret{secret}, OnError: func(_ *http.Request, err error) { got = err },
		Handle: func(context.Context, *shopify.Webhook) error {
			if fails.Add(-1) >= 0 {
				return boom
			}
			handled.Add(1)
			return nil
		}}
	hd, body := shopifyDelivery("evt-retry", secret)
	for i, want := range []int{http.StatusInternalServerError, http.StatusOK, http.StatusOK} {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = hd
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("attempt %d: %d, want %d", i+1, w.Code, want)
		}
	}
	if !errors.Is(got, boom) || handled.Load() != 1 {
		t.Errorf("OnError %v, handled %d times", got, handled.Load())
	}
}

// TestProxySecurity: an app proxy request's signature and timestamp.
func TestProxySecurity(t *testing.T) {
	var leaks webhooksec.Leaks
	secret := leaks.NewSecret("proxy-")
	now := time.Now()
	q := map[string][]string{"shop": {"example.myshopify.com"}, "path_prefix": {"/apps/x"}, "timestamp": {strconv.FormatInt(now.Unix(), 10)}}
	sign := func(v map[string][]string, s shopcrm.Secret) string {
		return leaks.Add(shopify.SignProxy(v, s))
	}
	good := cloneQuery(q)
	good["signature"] = []string{sign(q, secret)}
	if err := shopify.VerifyProxy(good, secret); err != nil {
		t.Fatalf("valid: %v", err)
	}
	forged := cloneQuery(good)
	forged["shop"] = []string{"evil.myshopify.com"}
	wrong := cloneQuery(q)
	wrong["signature"] = []string{sign(q, leaks.NewSecret("wrong-"))}
	old := cloneQuery(q)
	old["timestamp"] = []string{strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)}
	old["signature"] = []string{sign(old, secret)}
	for name, c := range map[string]struct {
		q    map[string][]string
		want error
	}{
		"forged shop":  {forged, shopify.ErrInvalidSignature},
		"wrong secret": {wrong, shopify.ErrInvalidSignature},
		"no signature": {q, shopify.ErrInvalidSignature},
		"an hour old":  {old, shopify.ErrStaleRequest},
	} {
		err := (&shopify.ProxyVerifier{Secrets: []shopcrm.Secret{secret}}).Verify(c.q)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
		leaks.CheckErr(t, name, err)
	}
}

func cloneQuery(q map[string][]string) map[string][]string {
	out := make(map[string][]string, len(q))
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// TestWebhookSecurityOtherShop: X-Shopify-Shop-Domain is not signed. A
// signed shop/redact (or app/uninstalled) of the attacker's own shop,
// replayed with the victim's domain in the header, is refused: the body
// names the shop. Shopify's samples name "{shop}.myshopify.com", which
// names no shop and is let through.
func TestWebhookSecurityOtherShop(t *testing.T) {
	var leaks webhooksec.Leaks
	secret := leaks.NewSecret("shpss_")
	var handled atomic.Int32
	var got error
	h := &shopify.WebhookHandler{Secrets: []shopcrm.Secret{secret}, OnError: func(_ *http.Request, err error) { got = err },
		Handle: func(context.Context, *shopify.Webhook) error { handled.Add(1); return nil }}
	for _, c := range []struct {
		topic, body, header string
		want                int
	}{
		{shopify.TopicShopRedact, `{"shop_id":1,"shop_domain":"attacker.myshopify.com"}`, "victim.myshopify.com", 400},
		{shopify.TopicCustomersRedact, `{"shop_id":1,"shop_domain":"attacker.myshopify.com","customer":{"id":7}}`, "victim.myshopify.com", 400},
		{shopify.TopicCustomersDataRequest, `{"shop_id":1,"shop_domain":"attacker.myshopify.com"}`, "victim.myshopify.com", 400},
		{shopify.TopicAppUninstalled, `{"id":1,"myshopify_domain":"attacker.myshopify.com"}`, "victim.myshopify.com", 400},
		{shopify.TopicShopRedact, `{"shop_id":1,"shop_domain":"Victim.myshopify.com"}`, "victim.myshopify.com", 200},
		{shopify.TopicShopRedact, `{"shop_id":1,"shop_domain":"{shop}.myshopify.com"}`, "victim.myshopify.com", 200},
	} {
		body := []byte(c.body)
		hd := http.Header{}
		hd.Set(shopify.HeaderTopic, c.topic)
		hd.Set(shopify.HeaderShopDomain, c.header)
		hd.Set(shopify.HeaderEventID, c.topic+c.body)
		hd.Set(shopify.HeaderHmac, shopify.SignWebhook(body, secret))
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = hd
		w := httptest.NewRecorder()
		got = nil
		h.ServeHTTP(w, req)
		if w.Code != c.want {
			t.Errorf("%s %s: %d, want %d", c.topic, c.body, w.Code, c.want)
		}
		if c.want == 400 {
			webhooksec.AssertRefused(t, c.topic, got, "shopify", shopify.ErrMalformedWebhook, http.StatusBadRequest)
		}
		leaks.Add(hd.Get(shopify.HeaderHmac))
		leaks.CheckErr(t, c.topic, got)
	}
	if handled.Load() != 2 {
		t.Errorf("%d handled, want 2", handled.Load())
	}
}

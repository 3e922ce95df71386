package klaviyo_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
)

// webhookSetup creates a webhook through the API and returns the fake, the
// webhook's id and a delivered event.
func webhookSetup(t *testing.T, secret string, opts ...klaviyotest.Option) (*klaviyotest.Server, string, klaviyotest.WebhookEvent) {
	t.Helper()
	srv, c := setup(t, opts...)
	ctx := context.Background()
	topics, _, err := c.Webhooks.Topics(ctx)
	if err != nil || len(topics) == 0 {
		t.Fatal(topics, err)
	}
	h, _, err := c.Webhooks.Create(ctx, klaviyo.WebhookInput{Name: "sync", EndpointURL: "https://app.example.com/klaviyo",
		Secret: klaviyo.NewSecret(secret), Topics: []string{"event:klaviyo.email_delivered"}})
	if err != nil {
		t.Fatal(err)
	}
	p := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	srv.AddEvent("Received Email", p, time.Now(), map[string]any{"Subject": "Hi"})
	return srv, h.ID, klaviyotest.WebhookEvent{Topic: "event:klaviyo.email_delivered", ExternalID: "ext-1", Event: srv.Events()[0]}
}

func TestWebhookVerify(t *testing.T) {
	srv, id, ev := webhookSetup(t, "whsec-new")
	body, h, _ := srv.WebhookDelivery(id, ev)
	// Rotation: the old secret first, the new one second.
	v := klaviyo.WebhookVerifier{Secrets: []klaviyo.Secret{klaviyo.NewSecret("whsec-old"), klaviyo.NewSecret("whsec-new")}}
	d, err := v.Verify(h, body)
	if err != nil {
		t.Fatal(err)
	}
	if d.WebhookID != id || d.AccountID != klaviyotest.AccountID || len(d.Events) != 1 || d.Events[0].ExternalID != "ext-1" ||
		d.Events[0].Event.ID != ev.Event.ID || d.Events[0].Event.Properties["Subject"] != "Hi" || d.Events[0].Event.ProfileID != ev.Event.ProfileID {
		t.Errorf("delivery %+v", d)
	}
	// The signature is SignWebhook's over the raw body and the timestamp.
	if got := klaviyo.SignWebhook(klaviyo.NewSecret("whsec-new"), body, h.Get(klaviyo.HeaderTimestamp)); got != h.Get(klaviyo.HeaderSignature) {
		t.Errorf("SignWebhook = %s, header %s", got, h.Get(klaviyo.HeaderSignature))
	}
	forged := append([]byte(nil), body...)
	forged[len(forged)-2] ^= 1
	for name, c := range map[string]struct {
		h    func() http.Header
		body []byte
		v    klaviyo.WebhookVerifier
		sig  bool
	}{
		"wrong secret": {func() http.Header { return h }, body, klaviyo.WebhookVerifier{Secrets: []klaviyo.Secret{klaviyo.NewSecret("whsec-old")}}, true},
		"forged body":  {func() http.Header { return h }, forged, v, true},
		"replay": {func() http.Header { return h }, body,
			klaviyo.WebhookVerifier{Secrets: v.Secrets, Now: func() time.Time { return time.Now().Add(time.Hour) }}, false},
		"id mismatch": {func() http.Header {
			x := h.Clone()
			x.Set(klaviyo.HeaderWebhookID, "someone-else")
			return x
		}, body, v, false},
		"timestamp swapped": {func() http.Header {
			x := h.Clone()
			ts, err := http.ParseTime(h.Get(klaviyo.HeaderTimestamp))
			if err != nil {
				t.Fatalf("the fake's %s: %v", klaviyo.HeaderTimestamp, err)
			}
			x.Set(klaviyo.HeaderTimestamp, ts.Add(time.Second).Format(http.TimeFormat))
			return x
		}, body, v, true},
		"no signature": {func() http.Header {
			x := h.Clone()
			x.Del(klaviyo.HeaderSignature)
			return x
		}, body, v, true},
	} {
		_, err := c.v.Verify(c.h(), c.body)
		var we *klaviyo.WebhookError
		if !errors.As(err, &we) || errors.Is(err, klaviyo.ErrInvalidSignature) != c.sig {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestWebhookHeaderClockOff: a delivery whose Klaviyo-Timestamp is hours
// off, as has been reported of Klaviyo's, is accepted by its body's time;
// the same delivery replayed an hour later is not.
func TestWebhookHeaderClockOff(t *testing.T) {
	srv, id, ev := webhookSetup(t, "whsec", klaviyotest.WithWebhookTimestampSkew(5*time.Hour))
	body, h, _ := srv.WebhookDelivery(id, ev)
	at, err := http.ParseTime(h.Get(klaviyo.HeaderTimestamp))
	if err != nil || at.Sub(time.Now()) < 4*time.Hour {
		t.Fatalf("%s %q: not an HTTP-date five hours ahead (%v)", klaviyo.HeaderTimestamp, h.Get(klaviyo.HeaderTimestamp), err)
	}
	v := klaviyo.WebhookVerifier{Secrets: []klaviyo.Secret{klaviyo.NewSecret("whsec")}}
	d, err := v.Verify(h, body)
	if err != nil {
		t.Fatal(err)
	}
	if age := time.Since(d.Timestamp); age < 0 || age > time.Minute {
		t.Errorf("Timestamp %s: not the body's time", d.Timestamp)
	}
	v.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if _, err := v.Verify(h, body); !errors.Is(err, klaviyo.ErrStaleWebhook) {
		t.Errorf("replayed an hour later: %v", err)
	}
}

func TestWebhookHandlerDedupes(t *testing.T) {
	srv, id, ev := webhookSetup(t, "whsec")
	var calls, fail atomic.Int32
	store := shopcrm.NewMemoryDedupe(0, 0)
	hs := httptest.NewServer(&klaviyo.WebhookHandler{Secrets: []klaviyo.Secret{klaviyo.NewSecret("whsec")}, Dedupe: store,
		Handle: func(ctx context.Context, e klaviyo.WebhookEvent) error {
			if fail.Load() > 0 {
				fail.Add(-1)
				return errors.New("downstream down")
			}
			calls.Add(1)
			return nil
		}})
	defer hs.Close()
	ctx := context.Background()
	post := func() int {
		resp, err := srv.SendWebhook(ctx, hs.Client(), hs.URL, id, ev)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fail.Store(1)
	if st := post(); st != http.StatusInternalServerError {
		t.Errorf("failing handler: %d", st)
	}
	if st := post(); st != http.StatusOK || calls.Load() != 1 {
		t.Errorf("redelivery after a failure: %d, %d calls", st, calls.Load())
	}
	if st := post(); st != http.StatusOK || calls.Load() != 1 {
		t.Errorf("duplicate: %d, %d calls", st, calls.Load())
	}
	resp, err := http.Post(hs.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", resp.StatusCode)
	}
}

func TestWebhookSubscriptions(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	h, _, err := c.Webhooks.Create(ctx, klaviyo.WebhookInput{Name: "n", EndpointURL: "https://x.example.com/h", Secret: klaviyo.NewSecret("s"),
		Topics: []string{"event:klaviyo.bounced_email"}})
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := c.Webhooks.All(ctx)
	if err != nil || len(all) != 1 || all[0].ID != h.ID || all[0].Topics[0] != "event:klaviyo.bounced_email" {
		t.Fatalf("%+v %v", all, err)
	}
	if _, err := c.Webhooks.Delete(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Webhooks.Delete(ctx, h.ID); !errors.Is(err, klaviyo.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if len(srv.Webhooks()) != 0 {
		t.Error("webhook still stored")
	}
	if _, _, err := c.Webhooks.Create(ctx, klaviyo.WebhookInput{Name: "n", EndpointURL: "http://x.example.com/h", Secret: klaviyo.NewSecret("s"),
		Topics: []string{"t"}}); !errors.Is(err, klaviyo.ErrInvalidInput) {
		t.Errorf("http endpoint: %v", err)
	}
}

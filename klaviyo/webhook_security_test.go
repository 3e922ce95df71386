package klaviyo_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/webhooksec"
	"github.com/shopcrm/shopcrm/klaviyo"
)

const securityHookID = "01JWEBHOOKSECURITY"

// klaviyoBody is a delivery of one email_delivered event per external id.
func klaviyoBody(ids ...string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"topic":"event:klaviyo.email_delivered","external_id":%q,"payload":{"data":{"type":"event","id":"ev-%s",`+
			`"attributes":{"timestamp":1767225600,"datetime":"2026-01-01T00:00:00+00:00","event_properties":{"Subject":"Hi"},"uuid":"ev-%s"}}}}`, id, id, id)
	}
	fmt.Fprintf(&b, `],"meta":{"klaviyo_account_id":"KSEC","klaviyo_webhook_id":%q,"timestamp":"2026-01-01T00:00:00+00:00"}}`, securityHookID)
	return b.Bytes()
}

// klaviyoSigned returns the headers of body signed with secret at t.
func klaviyoSigned(body []byte, secret shopcrm.Secret, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(klaviyo.HeaderWebhookID, securityHookID)
	h.Set(klaviyo.HeaderTimestamp, ts)
	h.Set(klaviyo.HeaderSignature, klaviyo.SignWebhook(secret, body, ts))
	return h
}

var klaviyoPlatform = webhooksec.Platform{
	Name: "klaviyo",
	Delivery: func(id string, secret shopcrm.Secret) (http.Header, []byte) {
		body := klaviyoBody(id)
		return klaviyoSigned(body, secret, time.Now()), body
	},
	SigHeader: klaviyo.HeaderSignature,
	Hex:       true,
	Verify: func(h http.Header, body []byte, secrets ...shopcrm.Secret) error {
		_, err := klaviyo.WebhookVerifier{Secrets: secrets}.Verify(h, body)
		return err
	},
	Handler: func(c webhooksec.HandlerConfig) http.Handler {
		return &klaviyo.WebhookHandler{Secrets: c.Secrets, MaxBody: c.MaxBody, OnError: c.OnError,
			Handle: func(_ context.Context, e klaviyo.WebhookEvent) error { c.Handled(e.ExternalID); return nil }}
	},
	DefaultMaxBody: klaviyo.DefaultMaxWebhookBody,
}

// TestWebhookSecurity runs the attacks every platform's webhooks face.
func TestWebhookSecurity(t *testing.T) { webhooksec.Run(t, klaviyoPlatform) }

// TestWebhookSecurityTimestamp: Klaviyo signs the timestamp with the body,
// so a captured delivery replayed later, or a timestamp edited to look
// fresh, is refused: the first as stale, the second as forged.
func TestWebhookSecurityTimestamp(t *testing.T) {
	var leaks webhooksec.Leaks
	secret := leaks.NewSecret("whsec-")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	v := klaviyo.WebhookVerifier{Secrets: []shopcrm.Secret{secret}, Now: func() time.Time { return now }}
	body := klaviyoBody("ext-1")
	var onErr error
	var handled atomic.Int32
	h := &klaviyo.WebhookHandler{Secrets: v.Secrets, Now: v.Now, OnError: func(_ *http.Request, err error) { onErr = err },
		Handle: func(context.Context, klaviyo.WebhookEvent) error { handled.Add(1); return nil }}
	serve := func(hd http.Header, body []byte) int {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = hd
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	edited := klaviyoSigned(body, secret, now.Add(-time.Hour))
	edited.Set(klaviyo.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	rfc := klaviyoSigned(body, secret, now)
	rfc.Set(klaviyo.HeaderTimestamp, now.Add(-time.Hour).Format(time.RFC3339))
	rfc.Set(klaviyo.HeaderSignature, klaviyo.SignWebhook(secret, body, rfc.Get(klaviyo.HeaderTimestamp)))
	unreadable := klaviyoSigned(body, secret, now)
	unreadable.Set(klaviyo.HeaderTimestamp, "yesterday")
	unreadable.Set(klaviyo.HeaderSignature, klaviyo.SignWebhook(secret, body, "yesterday"))
	noID := klaviyoSigned(body, secret, now)
	noID.Del(klaviyo.HeaderWebhookID)
	otherID := klaviyoSigned(body, secret, now)
	otherID.Set(klaviyo.HeaderWebhookID, "01JSOMEONEELSE")
	for name, c := range map[string]struct {
		h      http.Header
		want   error
		status int
	}{
		"an hour old":               {klaviyoSigned(body, secret, now.Add(-time.Hour)), klaviyo.ErrStaleWebhook, 401},
		"just past the window":      {klaviyoSigned(body, secret, now.Add(-klaviyo.DefaultWebhookMaxAge-time.Second)), klaviyo.ErrStaleWebhook, 401},
		"an hour ahead":             {klaviyoSigned(body, secret, now.Add(time.Hour)), klaviyo.ErrStaleWebhook, 401},
		"RFC 3339, an hour old":     {rfc, klaviyo.ErrStaleWebhook, 401},
		"unreadable timestamp":      {unreadable, klaviyo.ErrStaleWebhook, 401},
		"timestamp edited to fresh": {edited, klaviyo.ErrInvalidSignature, 401},
		"no webhook id header":      {noID, klaviyo.ErrInvalidSignature, 401},
		"webhook id of another":     {otherID, klaviyo.ErrMalformedWebhook, 400},
	} {
		leaks.Add(c.h.Get(klaviyo.HeaderSignature))
		_, err := v.Verify(c.h, body)
		webhooksec.AssertRefused(t, name+": Verify", err, "klaviyo", c.want, c.status)
		if st := serve(c.h, body); st != c.status {
			t.Errorf("%s: handler answered %d, want %d", name, st, c.status)
		}
		webhooksec.AssertRefused(t, name+": OnError", onErr, "klaviyo", c.want, c.status)
		leaks.CheckErr(t, name, err)
		leaks.CheckErr(t, name, onErr)
	}
	if handled.Load() != 0 {
		t.Errorf("%d refused events handled", handled.Load())
	}
	// Within the window: accepted, either side of now; the window is
	// overridable, and off when negative.
	for _, d := range []time.Duration{-klaviyo.DefaultWebhookMaxAge + time.Second, klaviyo.DefaultWebhookMaxAge - time.Second} {
		if _, err := v.Verify(klaviyoSigned(body, secret, now.Add(d)), body); err != nil {
			t.Errorf("%s from now: %v", d, err)
		}
	}
	old := klaviyoSigned(body, secret, now.Add(-time.Hour))
	if _, err := (klaviyo.WebhookVerifier{Secrets: v.Secrets, Now: v.Now, MaxAge: 2 * time.Hour}).Verify(old, body); err != nil {
		t.Errorf("MaxAge 2h, an hour old: %v", err)
	}
	if _, err := (klaviyo.WebhookVerifier{Secrets: v.Secrets, Now: v.Now, MaxAge: -1}).Verify(old, body); err != nil {
		t.Errorf("MaxAge off, an hour old: %v", err)
	}
}

// TestWebhookSecurityExternalID: within the window a replay verifies; the
// dedupe by external_id drops it, and a delivery mixing handled and new
// events hands Handle the new ones only.
func TestWebhookSecurityExternalID(t *testing.T) {
	secret := shopcrm.NewSecret("whsec-dedupe")
	var got []string
	store := shopcrm.NewMemoryDedupe(0, 0)
	h := &klaviyo.WebhookHandler{Secrets: []shopcrm.Secret{secret}, Dedupe: store,
		Handle: func(_ context.Context, e klaviyo.WebhookEvent) error { got = append(got, e.ExternalID); return nil }}
	for _, ids := range [][]string{{"a"}, {"a"}, {"a", "b"}, {"b", "a"}} {
		body := klaviyoBody(ids...)
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = klaviyoSigned(body, secret, time.Now())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Errorf("%v: %d", ids, w.Code)
		}
	}
	if fmt.Sprint(got) != "[a b]" {
		t.Errorf("handled %v, want [a b]", got)
	}
	if ok, _ := store.Claim(context.Background(), klaviyo.WebhookEvent{ExternalID: "a"}.DedupeKey()); ok {
		t.Error("the event's DedupeKey is not what the handler claimed")
	}
}

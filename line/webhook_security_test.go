package line_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/webhooksec"
	"github.com/shopcrm/shopcrm/line"
)

// lineBody is a callback with one follow event per id.
func lineBody(redelivery bool, ids ...string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"destination":"Ubot","events":[`)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"follow","mode":"active","timestamp":%d,"webhookEventId":%q,"deliveryContext":{"isRedelivery":%t},`+
			`"source":{"type":"user","userId":"U4af4980629"},"replyToken":"rt-%s","follow":{"isUnblocked":false}}`,
			time.Now().UnixMilli(), id, redelivery, id)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func lineDelivery(id string, secret shopcrm.Secret) (http.Header, []byte) {
	body := lineBody(false, id)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(line.SignatureHeader, line.Sign(body, secret))
	return h, body
}

var linePlatform = webhooksec.Platform{
	Name:      "line",
	Delivery:  lineDelivery,
	SigHeader: line.SignatureHeader,
	Verify: func(h http.Header, body []byte, secrets ...shopcrm.Secret) error {
		if err := line.Verify(body, h.Get(line.SignatureHeader), secrets...); err != nil {
			return err
		}
		_, err := line.Parse(body)
		return err
	},
	Handler: func(c webhooksec.HandlerConfig) http.Handler {
		return &line.WebhookHandler{Secrets: c.Secrets, MaxBody: c.MaxBody, OnError: c.OnError,
			Handle: func(_ context.Context, cb *line.Callback) error {
				for _, e := range cb.Events {
					c.Handled(e.Base().DedupeKey())
				}
				return nil
			}}
	},
	DefaultMaxBody: line.DefaultMaxWebhookBody,
}

// TestWebhookSecurity runs the attacks every platform's webhooks face.
func TestWebhookSecurity(t *testing.T) { webhooksec.Run(t, linePlatform) }

// TestWebhookSecurityRedelivery: LINE's signature has no timestamp, so a
// replayed body verifies; events are deduplicated by webhookEventId. A
// redelivery (isRedelivery true, same id) after a failed handling is
// handled; a redelivery of a handled event, or a replay mixing old and new
// events, hands Handle only the new ones.
func TestWebhookSecurityRedelivery(t *testing.T) {
	secret := shopcrm.NewSecret("s3cr3t-line")
	var mu sync.Mutex
	var got []string
	var redeliveries int
	fail := true
	h := &line.WebhookHandler{Secrets: []shopcrm.Secret{secret}, Handle: func(_ context.Context, cb *line.Callback) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return fmt.Errorf("downstream down")
		}
		for _, e := range cb.Events {
			got = append(got, e.Base().WebhookEventID)
			if e.Base().IsRedelivery {
				redeliveries++
			}
		}
		return nil
	}}
	post := func(body []byte) int {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set(line.SignatureHeader, line.Sign(body, secret))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	steps := []struct {
		body []byte
		want int
	}{
		{lineBody(false, "E1"), http.StatusInternalServerError}, // handling fails: E1 released
		{lineBody(true, "E1"), http.StatusOK},                   // LINE's redelivery: handled
		{lineBody(true, "E1"), http.StatusOK},                   // again: dropped
		{lineBody(false, "E1"), http.StatusOK},                  // a replay of the original: dropped
		{lineBody(false, "E1", "E2"), http.StatusOK},            // a replay with a new event: E2 only
		{lineBody(false), http.StatusOK},                        // LINE's connectivity check: no events
	}
	for i, s := range steps {
		if st := post(s.body); st != s.want {
			t.Errorf("step %d: %d, want %d", i+1, st, s.want)
		}
	}
	if fmt.Sprint(got) != "[E1 E2]" || redeliveries != 1 {
		t.Errorf("handled %v with %d redeliveries, want [E1 E2] with 1", got, redeliveries)
	}
}

// TestWebhookSecurityMalformed: a signed body that is not a callback is a
// 400 with a typed error.
func TestWebhookSecurityMalformed(t *testing.T) {
	var leaks webhooksec.Leaks
	secret := leaks.NewSecret("line-secret-")
	var got error
	h := &line.WebhookHandler{Secrets: []shopcrm.Secret{secret}, OnError: func(_ *http.Request, err error) { got = err }}
	for _, body := range []string{`{"destination":"U1"}`, `[]`, `{"events":`} {
		_, err := line.Parse([]byte(body))
		webhooksec.AssertRefused(t, body+": Parse", err, "line", line.ErrMalformedWebhook, http.StatusBadRequest)
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
		req.Header.Set(line.SignatureHeader, line.Sign([]byte(body), secret))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", body, w.Code)
		}
		webhooksec.AssertRefused(t, body+": OnError", got, "line", line.ErrMalformedWebhook, http.StatusBadRequest)
		leaks.Add(req.Header.Get(line.SignatureHeader))
		leaks.CheckErr(t, body, err)
		leaks.CheckErr(t, body, got)
	}
}

// TestWebhookSecurityMaxAge: with MaxAge set, events older than it are
// acknowledged and not handled (the signature has no timestamp; the
// event's own timestamp is inside the signed body).
func TestWebhookSecurityMaxAge(t *testing.T) {
	secret := shopcrm.NewSecret("s3cr3t-line")
	var got []string
	h := &line.WebhookHandler{Secrets: []shopcrm.Secret{secret}, MaxAge: time.Hour, Handle: func(_ context.Context, cb *line.Callback) error {
		for _, e := range cb.Events {
			got = append(got, e.Base().WebhookEventID)
		}
		return nil
	}}
	body := []byte(fmt.Sprintf(`{"destination":"Ubot","events":[`+
		`{"type":"unfollow","mode":"active","timestamp":%d,"webhookEventId":"OLD","deliveryContext":{"isRedelivery":true},"source":{"type":"user","userId":"U1"}},`+
		`{"type":"unfollow","mode":"active","timestamp":%d,"webhookEventId":"NEW","deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"U2"}}]}`,
		time.Now().Add(-2*time.Hour).UnixMilli(), time.Now().UnixMilli()))
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set(line.SignatureHeader, line.Sign(body, secret))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK || fmt.Sprint(got) != "[NEW]" {
		t.Errorf("%d, handled %v, want 200 and [NEW]", w.Code, got)
	}
}

package klaviyo_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/webhooksec"
	"github.com/shopcrm/shopcrm/klaviyo"
)

const securityHookID = "01JWEBHOOKSECURITY"

// klaviyoBody is a delivery of one email_delivered event per external id,
// sent at at: its meta.timestamp, none when at is zero.
func klaviyoBody(at time.Time, ids ...string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"topic":"event:klaviyo.email_delivered","external_id":%q,"payload":{"data":{"type":"event","id":"ev-%s",`+
			`"attributes":{"timestamp":1767225600,"datetime":"2026-01-01T00:00:00+00:00","event_properties":{"Subject":"Hi"},"uuid":"ev-%s"}}}}`, id, id, id)
	}
	fmt.Fprintf(&b, `],"meta":{"klaviyo_account_id":"KSEC","klaviyo_webhook_id":%q`, securityHookID)
	if !at.IsZero() {
		fmt.Fprintf(&b, `,"timestamp":%q`, at.UTC().Format("2006-01-02T15:04:05.000000-07:00"))
	}
	b.WriteString(`}}`)
	return b.Bytes()
}

// klaviyoSigned returns the headers of body signed with secret, with
// Klaviyo-Timestamp ts.
func klaviyoSigned(body []byte, secret shopcrm.Secret, ts string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(klaviyo.HeaderWebhookID, securityHookID)
	h.Set(klaviyo.HeaderTimestamp, ts)
	h.Set(klaviyo.HeaderSignature, klaviyo.SignWebhook(secret, body, ts))
	return h
}

// httpDate is t as an HTTP-date, the format of Klaviyo-Timestamp in
// deliveries seen by others.
func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// klaviyoDelivery is a delivery sent at at as Klaviyo sends one: the time
// in meta.timestamp and, as an HTTP-date, in Klaviyo-Timestamp.
func klaviyoDelivery(secret shopcrm.Secret, at time.Time, ids ...string) (http.Header, []byte) {
	body := klaviyoBody(at, ids...)
	return klaviyoSigned(body, secret, httpDate(at)), body
}

var klaviyoPlatform = webhooksec.Platform{
	Name: "klaviyo",
	Delivery: func(id string, secret shopcrm.Secret) (http.Header, []byte) {
		return klaviyoDelivery(secret, time.Now(), id)
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

// TestWebhookSecurityTimestamp: Klaviyo signs the body, whose
// meta.timestamp says when it was sent, and Klaviyo-Timestamp with it. A
// captured delivery replayed later is refused as stale; a time edited to
// look fresh, in the body or the header, as forged. The header's clock
// only counts when the body has no time: it has been seen hours off.
func TestWebhookSecurityTimestamp(t *testing.T) {
	var leaks webhooksec.Leaks
	secret := leaks.NewSecret("whsec-")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	v := klaviyo.WebhookVerifier{Secrets: []shopcrm.Secret{secret}, Now: func() time.Time { return now }}
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
	sent := func(at time.Time) delivery {
		h, b := klaviyoDelivery(secret, at, "ext-1")
		return delivery{h, b}
	}
	// Signed without meta.timestamp, with the header ts.
	bare := func(ts string) delivery {
		b := klaviyoBody(time.Time{}, "ext-1")
		return delivery{klaviyoSigned(b, secret, ts), b}
	}
	headerEdited := sent(now.Add(-time.Hour))
	headerEdited.h.Set(klaviyo.HeaderTimestamp, httpDate(now))
	bodyEdited := sent(now.Add(-time.Hour))
	bodyEdited.body = klaviyoBody(now, "ext-1")
	oldBody := klaviyoBody(now.Add(-time.Hour), "ext-1")
	oldBodyFreshHeader := delivery{klaviyoSigned(oldBody, secret, httpDate(now)), oldBody}
	badMeta := []byte(strings.Replace(string(klaviyoBody(now, "ext-1")), `"timestamp":"2026-03-01T12:00:00.000000+00:00"`, `"timestamp":"noon"`, 1))
	noID := sent(now)
	noID.h.Del(klaviyo.HeaderWebhookID)
	otherID := sent(now)
	otherID.h.Set(klaviyo.HeaderWebhookID, "01JSOMEONEELSE")
	for name, c := range map[string]struct {
		d      delivery
		want   error
		status int
	}{
		"an hour old":                             {sent(now.Add(-time.Hour)), klaviyo.ErrStaleWebhook, 401},
		"just past the window":                    {sent(now.Add(-klaviyo.DefaultWebhookMaxAge - time.Second)), klaviyo.ErrStaleWebhook, 401},
		"an hour ahead":                           {sent(now.Add(time.Hour)), klaviyo.ErrStaleWebhook, 401},
		"an hour old, header made fresh":          {oldBodyFreshHeader, klaviyo.ErrStaleWebhook, 401},
		"header edited to fresh":                  {headerEdited, klaviyo.ErrInvalidSignature, 401},
		"meta.timestamp edited to fresh":          {bodyEdited, klaviyo.ErrInvalidSignature, 401},
		"meta.timestamp not a time":               {delivery{klaviyoSigned(badMeta, secret, httpDate(now)), badMeta}, klaviyo.ErrMalformedWebhook, 400},
		"no meta.timestamp, Unix an hour old":     {bare(strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)), klaviyo.ErrStaleWebhook, 401},
		"no meta.timestamp, RFC 3339 an hour old": {bare(now.Add(-time.Hour).Format(time.RFC3339)), klaviyo.ErrStaleWebhook, 401},
		"no meta.timestamp, unreadable header":    {bare("yesterday"), klaviyo.ErrStaleWebhook, 401},
		"no webhook id header":                    {noID, klaviyo.ErrInvalidSignature, 401},
		"webhook id of another":                   {otherID, klaviyo.ErrMalformedWebhook, 400},
	} {
		leaks.Add(c.d.h.Get(klaviyo.HeaderSignature))
		_, err := v.Verify(c.d.h, c.d.body)
		webhooksec.AssertRefused(t, name+": Verify", err, "klaviyo", c.want, c.status)
		if st := serve(c.d.h, c.d.body); st != c.status {
			t.Errorf("%s: handler answered %d, want %d", name, st, c.status)
		}
		webhooksec.AssertRefused(t, name+": OnError", onErr, "klaviyo", c.want, c.status)
		leaks.CheckErr(t, name, err)
		leaks.CheckErr(t, name, onErr)
	}
	if handled.Load() != 0 {
		t.Errorf("%d refused events handled", handled.Load())
	}
	// Accepted: within the window either side of now; with the header
	// hours off (local time labelled GMT) while the body's time is right;
	// without meta.timestamp, by a header in any of the formats read.
	for name, c := range map[string]struct {
		d    delivery
		want time.Time
	}{
		"4m59s ago":                       {sent(now.Add(-klaviyo.DefaultWebhookMaxAge + time.Second)), now.Add(-klaviyo.DefaultWebhookMaxAge + time.Second)},
		"in 4m59s":                        {sent(now.Add(klaviyo.DefaultWebhookMaxAge - time.Second)), now.Add(klaviyo.DefaultWebhookMaxAge - time.Second)},
		"header five hours ahead":         {delivery{klaviyoSigned(klaviyoBody(now, "ext-1"), secret, httpDate(now.Add(5*time.Hour))), klaviyoBody(now, "ext-1")}, now},
		"no meta.timestamp, HTTP-date":    {bare(httpDate(now.Add(-time.Minute))), now.Add(-time.Minute)},
		"no meta.timestamp, Unix seconds": {bare(strconv.FormatInt(now.Unix(), 10)), now},
		"no meta.timestamp, RFC 3339":     {bare(now.Add(time.Minute).Format(time.RFC3339)), now.Add(time.Minute)},
	} {
		d, err := v.Verify(c.d.h, c.d.body)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !d.Timestamp.Equal(c.want) {
			t.Errorf("%s: Timestamp %s, want %s", name, d.Timestamp, c.want)
		}
	}
	old := sent(now.Add(-time.Hour))
	if _, err := (klaviyo.WebhookVerifier{Secrets: v.Secrets, Now: v.Now, MaxAge: 2 * time.Hour}).Verify(old.h, old.body); err != nil {
		t.Errorf("MaxAge 2h, an hour old: %v", err)
	}
	for name, d := range map[string]delivery{"an hour old": old, "unreadable time": bare("yesterday")} {
		if _, err := (klaviyo.WebhookVerifier{Secrets: v.Secrets, Now: v.Now, MaxAge: -1}).Verify(d.h, d.body); err != nil {
			t.Errorf("MaxAge off, %s: %v", name, err)
		}
	}
}

// delivery is a delivery's headers and body.
type delivery struct {
	h    http.Header
	body []byte
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
		hd, body := klaviyoDelivery(secret, time.Now(), ids...)
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = hd
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

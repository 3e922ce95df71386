package shopify_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/answertest"
	"github.com/shopcrm/shopcrm/shopify"
)

// macOf is HMAC-SHA256(key, msg), computed here rather than by the package.
func macOf(key string, msg []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(msg)
	return m.Sum(nil)
}

// FuzzVerifyWebhook feeds bodies and X-Shopify-Hmac-Sha256 values (seeds in
// testdata/fuzz/FuzzVerifyWebhook: the webhook fixtures with their real
// signatures under "hush", and broken headers). For any body:
//   - its own signature verifies, with one secret or during a rotation;
//   - the body with any one byte changed, or one byte more, does not;
//   - a header that verifies decodes to the MAC of the body, computed here;
//   - every refusal matches ErrInvalidSignature.
func FuzzVerifyWebhook(f *testing.F) {
	secret, old := shopcrm.NewSecret("hush"), shopcrm.NewSecret("previous-secret")
	f.Add([]byte(`{"id":1}`), "", uint32(0))
	f.Fuzz(func(t *testing.T, body []byte, header string, flip uint32) {
		sig := shopify.SignWebhook(body, secret)
		if err := shopify.VerifyWebhook(body, sig, secret); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		if err := shopify.VerifyWebhook(body, sig, old, secret); err != nil {
			t.Fatalf("own signature refused during a rotation: %v", err)
		}
		refused := func(what string, b []byte, h string) {
			t.Helper()
			if err := shopify.VerifyWebhook(b, h, secret, old); !errors.Is(err, shopify.ErrInvalidSignature) {
				t.Fatalf("%s: err = %v, want ErrInvalidSignature", what, err)
			}
		}
		if len(body) > 0 {
			b := slices.Clone(body)
			b[int(flip)%len(b)] ^= byte(flip>>8) | 1
			refused("a changed byte", b, sig)
		}
		refused("a byte more", append(slices.Clone(body), ' '), sig)
		refused("another secret", body, shopify.SignWebhook(body, shopcrm.NewSecret("attacker")))

		err := shopify.VerifyWebhook(body, header, secret)
		if err != nil {
			if !errors.Is(err, shopify.ErrInvalidSignature) {
				t.Fatalf("header %q: err = %v, want ErrInvalidSignature", header, err)
			}
			return
		}
		got, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
		if derr != nil || !hmac.Equal(got, macOf("hush", body)) {
			t.Fatalf("header %q accepted for body %q", header, body)
		}
	})
}

// proxyNow is the clock of the proxy fuzz target: the timestamp of
// Shopify's documented example.
const proxyNow = 1317327555

// proxyMessage is the message an app proxy signature covers, computed as
// Shopify documents it: every parameter but signature as key=value (the
// values of a repeated key joined by commas), sorted, concatenated.
func proxyMessage(q url.Values) []byte {
	var parts []string
	for k, vs := range q {
		if k != "signature" {
			parts = append(parts, k+"="+strings.Join(vs, ","))
		}
	}
	slices.Sort(parts)
	return []byte(strings.Join(parts, ""))
}

// FuzzVerifyProxy feeds raw app proxy queries (seeds in
// testdata/fuzz/FuzzVerifyProxy: Shopify's documented example and broken
// ones). A query that verifies carries the signature computed here and a
// fresh timestamp; a refusal is typed. The query re-signed here verifies,
// and once any value changes it no longer does.
func FuzzVerifyProxy(f *testing.F) {
	f.Add("shop=shop-name.myshopify.com&timestamp=1317327555&signature=00")
	v := &shopify.ProxyVerifier{Secrets: []shopcrm.Secret{shopcrm.NewSecret("hush")}, Now: func() time.Time { return time.Unix(proxyNow, 0) }}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		err = v.Verify(q)
		if err == nil {
			if !strings.EqualFold(q.Get("signature"), hex.EncodeToString(macOf("hush", proxyMessage(q)))) {
				t.Fatalf("accepted %q with a wrong signature", raw)
			}
			ts, perr := strconv.ParseInt(q.Get("timestamp"), 10, 64)
			if perr != nil || ts < proxyNow-300 || ts > proxyNow+300 {
				t.Fatalf("accepted %q with timestamp %q", raw, q.Get("timestamp"))
			}
		} else if !errors.Is(err, shopify.ErrInvalidSignature) && !errors.Is(err, shopify.ErrStaleRequest) {
			t.Fatalf("%q: untyped error %v", raw, err)
		}

		q.Set("timestamp", strconv.Itoa(proxyNow))
		q.Set("signature", hex.EncodeToString(macOf("hush", proxyMessage(q))))
		if err := v.Verify(q); err != nil {
			t.Fatalf("%q re-signed: %v", raw, err)
		}
		for k, vs := range q {
			if k == "signature" {
				continue
			}
			vs[0] += "x"
			if err := v.Verify(q); !errors.Is(err, shopify.ErrInvalidSignature) {
				t.Fatalf("%q with %s changed: err = %v", raw, k, err)
			}
			break
		}
	})
}

// FuzzWebhookHandler posts deliveries (seeds in
// testdata/fuzz/FuzzWebhookHandler: the webhook fixtures under their
// topics, signed and not, with event ids) to a WebhookHandler. Handle runs
// only for a delivery whose signature verifies and that parses, once per
// event id however often it is replayed; any other delivery gets a 4xx.
func FuzzWebhookHandler(f *testing.F) {
	f.Add("orders/create", "01HZX0000000000000000000EV", []byte(`{"id":1}`), "")
	secret := shopcrm.NewSecret("hush")
	f.Fuzz(func(t *testing.T, topic, eventID string, body []byte, sig string) {
		if !answertest.HeaderValues(topic, eventID, sig) {
			return
		}
		calls := map[string]int{}
		h := &shopify.WebhookHandler{Secrets: []shopcrm.Secret{secret}, Handle: func(_ context.Context, w *shopify.Webhook) error {
			if w == nil || !bytes.Equal(w.Body, body) {
				t.Fatalf("handled %+v for %q", w, body)
			}
			if k := w.DedupeKey(); k != "" {
				if calls[k]++; calls[k] > 1 {
					t.Fatalf("event %q handled twice", k)
				}
			}
			return nil
		}}
		post := func(s string) int {
			r := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
			r.Header.Set(shopify.HeaderTopic, topic)
			r.Header.Set(shopify.HeaderHmac, s)
			r.Header.Set(shopify.HeaderShopDomain, "some-shop.myshopify.com")
			r.Header.Set(shopify.HeaderEventID, eventID)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w.Code
		}
		valid := shopify.VerifyWebhook(body, sig, secret) == nil
		hdr := http.Header{}
		hdr.Set(shopify.HeaderTopic, topic)
		_, perr := shopify.ParseWebhook(hdr, body)
		code := post(sig)
		switch {
		case !valid && (code != http.StatusUnauthorized || len(calls) > 0):
			t.Fatalf("unsigned %q: %d, %d handled", body, code, len(calls))
		case valid && perr != nil && code != http.StatusBadRequest:
			t.Fatalf("signed unparsable %q: %d", body, code)
		case valid && perr == nil && code != http.StatusOK:
			t.Fatalf("signed %q: %d", body, code)
		}
		own := shopify.SignWebhook(body, secret)
		post(own)
		post(own) // a replay: Handle checks it is not handled again
	})
}

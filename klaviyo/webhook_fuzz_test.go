package klaviyo_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/answertest"
	"github.com/shopcrm/shopcrm/klaviyo"
)

const (
	fuzzWebhookSecret = "whsec_7f3a9c0d2b1e4f5a6b7c8d9e0f1a2b3c"
	webhookNow        = 1764480000 // the fuzz targets' clock, Unix seconds
)

// FuzzVerifyWebhook feeds deliveries (seeds in
// testdata/fuzz/FuzzVerifyWebhook: system webhook bodies with their
// headers, stale, skewed and forged ones). A delivery that verifies
// carries the signature computed here over body and timestamp, a
// timestamp within MaxAge, the header's webhook id in its meta, and an
// external_id on every event. The body signed here with any byte changed
// fails as ErrInvalidSignature. Every refusal is a *WebhookError.
func FuzzVerifyWebhook(f *testing.F) {
	f.Add([]byte(`{"data":[],"meta":{"klaviyo_account_id":"XyZ123","klaviyo_webhook_id":"wh1","timestamp":"2025-11-30T05:20:00+00:00"}}`), "", "1764480000", "wh1", uint32(0))
	v := klaviyo.WebhookVerifier{
		Secrets: []klaviyo.Secret{klaviyo.NewSecret("previous-secret"), klaviyo.NewSecret(fuzzWebhookSecret)},
		Now:     func() time.Time { return time.Unix(webhookNow, 0) },
	}
	secret := klaviyo.NewSecret(fuzzWebhookSecret)
	f.Fuzz(func(t *testing.T, body []byte, sig, ts, id string, flip uint32) {
		h := http.Header{}
		h.Set(klaviyo.HeaderSignature, sig)
		h.Set(klaviyo.HeaderTimestamp, ts)
		h.Set(klaviyo.HeaderWebhookID, id)
		d, err := v.Verify(h, body)
		if err != nil {
			var we *klaviyo.WebhookError
			if !errors.As(err, &we) {
				t.Fatalf("untyped %T %v", err, err)
			}
		} else {
			m := hmac.New(sha256.New, []byte(fuzzWebhookSecret))
			m.Write(body)
			m.Write([]byte(h.Get(klaviyo.HeaderTimestamp)))
			got, derr := hex.DecodeString(h.Get(klaviyo.HeaderSignature))
			if derr != nil || !hmac.Equal(got, m.Sum(nil)) {
				t.Fatalf("accepted signature %q", sig)
			}
			if age := time.Unix(webhookNow, 0).Sub(d.Timestamp); age > klaviyo.DefaultWebhookMaxAge || age < -klaviyo.DefaultWebhookMaxAge {
				t.Fatalf("accepted timestamp %q (%s)", ts, d.Timestamp)
			}
			var meta struct {
				Meta struct {
					ID string `json:"klaviyo_webhook_id"`
				} `json:"meta"`
			}
			if json.Unmarshal(body, &meta) != nil || meta.Meta.ID != d.WebhookID || d.WebhookID != h.Get(klaviyo.HeaderWebhookID) {
				t.Fatalf("accepted webhook id %q for %q", d.WebhookID, body)
			}
			for _, e := range d.Events {
				if e.ExternalID == "" {
					t.Fatalf("an event without external_id from %q", body)
				}
			}
		}

		// The body signed here, then changed.
		if len(body) == 0 {
			return
		}
		now := strconv.Itoa(webhookNow)
		h.Set(klaviyo.HeaderTimestamp, now)
		h.Set(klaviyo.HeaderSignature, klaviyo.SignWebhook(secret, body, now))
		if h.Get(klaviyo.HeaderWebhookID) == "" {
			h.Set(klaviyo.HeaderWebhookID, "wh")
		}
		if _, err := v.Verify(h, body); errors.Is(err, klaviyo.ErrInvalidSignature) {
			t.Fatalf("own signature refused: %v", err)
		}
		b := slices.Clone(body)
		b[int(flip)%len(b)] ^= byte(flip>>8) | 1
		if _, err := v.Verify(h, b); !errors.Is(err, klaviyo.ErrInvalidSignature) {
			t.Fatalf("a changed byte: err = %v, want ErrInvalidSignature", err)
		}
	})
}

// refusal is the status a delivery refused with err is answered: the
// *shopcrm.WebhookError's (401 for a signature or a stale timestamp, 400
// for a body that does not decode).
func refusal(err error) int {
	var we *shopcrm.WebhookError
	if errors.As(err, &we) {
		return we.Status
	}
	return http.StatusInternalServerError
}

// FuzzWebhookHandler posts the deliveries of FuzzVerifyWebhook's corpus
// (seeds in testdata/fuzz/FuzzWebhookHandler) to WebhookHandler. Only a
// delivery that verifies reaches the handler, each external_id once
// however often the delivery is replayed; any other gets the status of
// its refusal.
func FuzzWebhookHandler(f *testing.F) {
	f.Add([]byte(`{"data":[],"meta":{"klaviyo_webhook_id":"wh1"}}`), "", "1764480000", "wh1")
	v := klaviyo.WebhookVerifier{Secrets: []klaviyo.Secret{klaviyo.NewSecret(fuzzWebhookSecret)},
		Now: func() time.Time { return time.Unix(webhookNow, 0) }}
	f.Fuzz(func(t *testing.T, body []byte, sig, ts, id string) {
		if !answertest.HeaderValues(sig, ts, id) {
			return
		}
		seen := map[string]int{}
		h := &klaviyo.WebhookHandler{Secrets: v.Secrets, Now: v.Now, Handle: func(_ context.Context, e klaviyo.WebhookEvent) error {
			if seen[e.ExternalID]++; seen[e.ExternalID] > 1 {
				t.Fatalf("event %q handled twice", e.ExternalID)
			}
			return nil
		}}
		hdr := http.Header{}
		hdr.Set(klaviyo.HeaderSignature, sig)
		hdr.Set(klaviyo.HeaderTimestamp, ts)
		hdr.Set(klaviyo.HeaderWebhookID, id)
		_, verr := v.Verify(hdr, body)
		for range 3 { // the delivery, then replays
			r := httptest.NewRequest(http.MethodPost, "/klaviyo", bytes.NewReader(body))
			r.Header = hdr.Clone()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			switch {
			case verr != nil && (w.Code != refusal(verr) || len(seen) > 0):
				t.Fatalf("refused delivery %q (%v): %d, %d handled", body, verr, w.Code, len(seen))
			case verr == nil && w.Code != http.StatusOK:
				t.Fatalf("verified delivery %q: %d", body, w.Code)
			}
		}
	})
}

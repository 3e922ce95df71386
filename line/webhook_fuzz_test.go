package line_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/shopcrm/shopcrm/line"
)

// fuzzSecret is the channel secret of the webhook fuzz targets.
const fuzzSecret = "8c570fa6dd201bb328f1c1eac23a96d8"

// lineMAC is base64(HMAC-SHA256(fuzzSecret, body)), computed here.
func lineMAC(body []byte) []byte {
	m := hmac.New(sha256.New, []byte(fuzzSecret))
	m.Write(body)
	return m.Sum(nil)
}

// FuzzVerify feeds bodies and x-line-signature values (seeds in
// testdata/fuzz/FuzzVerify: webhook bodies with their signatures, and
// broken signatures). A body's own signature verifies, during a rotation
// too; the body with any byte changed or added does not; a signature that
// verifies decodes to the MAC computed here; refusals match
// ErrInvalidSignature.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"destination":"U1","events":[]}`), "", uint32(0))
	secret, old := line.NewSecret(fuzzSecret), line.NewSecret("previous-channel-secret")
	f.Fuzz(func(t *testing.T, body []byte, sig string, flip uint32) {
		own := line.Sign(body, secret)
		if err := line.Verify(body, own, old, secret); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		refused := func(what string, b []byte, s string) {
			t.Helper()
			if err := line.Verify(b, s, secret, old); !errors.Is(err, line.ErrInvalidSignature) {
				t.Fatalf("%s: err = %v, want ErrInvalidSignature", what, err)
			}
		}
		if len(body) > 0 {
			b := slices.Clone(body)
			b[int(flip)%len(b)] ^= byte(flip>>8) | 1
			refused("a changed byte", b, own)
		}
		refused("a byte more", append(slices.Clone(body), '\n'), own)
		refused("another secret", body, line.Sign(body, line.NewSecret("attacker")))
		if err := line.Verify(body, sig, secret); err == nil {
			got, derr := base64.StdEncoding.DecodeString(sig)
			if derr != nil || !hmac.Equal(got, lineMAC(body)) {
				t.Fatalf("signature %q accepted for %q", sig, body)
			}
		} else if !errors.Is(err, line.ErrInvalidSignature) {
			t.Fatalf("signature %q: err = %v", sig, err)
		}
	})
}

// FuzzWebhookHandler posts bodies with signatures (seeds in
// testdata/fuzz/FuzzWebhookHandler) to a WebhookHandler: Handle runs
// only for a body whose signature verifies and that parses, each event id
// at most once however often the delivery is replayed, and every other
// request gets a 4xx.
func FuzzWebhookHandler(f *testing.F) {
	f.Add([]byte(`{"destination":"U1","events":[]}`), "")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		seen := map[string]int{}
		calls := 0
		h := &line.WebhookHandler{Secrets: []line.Secret{line.NewSecret(fuzzSecret)}, Handle: func(_ context.Context, cb *line.Callback) error {
			calls++
			for _, e := range cb.Events {
				if e == nil || e.Base() == nil {
					t.Fatalf("nil event from %q", body)
				}
				if id := e.Base().WebhookEventID; id != "" {
					if seen[id]++; seen[id] > 1 {
						t.Fatalf("event %s handled twice", id)
					}
				}
			}
			return nil
		}}
		post := func(s string) int {
			r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
			r.Header.Set(line.SignatureHeader, s)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w.Code
		}
		valid := line.Verify(body, sig, line.NewSecret(fuzzSecret)) == nil
		_, perr := line.Parse(body)
		code := post(sig)
		switch {
		case !valid && (code < 400 || code >= 500 || calls > 0):
			t.Fatalf("unsigned %q: %d, %d calls", body, code, calls)
		case valid && perr != nil && code != http.StatusBadRequest:
			t.Fatalf("signed unparsable %q: %d", body, code)
		case valid && perr == nil && code != http.StatusOK:
			t.Fatalf("signed %q: %d", body, code)
		}
		// Replays of the signed delivery: events with an id are not
		// handled again (Handle checks).
		own := line.Sign(body, line.NewSecret(fuzzSecret))
		post(own)
		post(own)
	})
}

package shopify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/internal/answertest"
	"github.com/shopcrm/shopcrm/shopify"
)

// The secrets a token request carries.
const (
	fuzzClientSecret = "shpss_0123456789abcdef0123456789abcdef"
	fuzzCode         = "0907a61c0c8d55e99db179b68161bc00"
	fuzzRefresh      = "shprt_0123456789abcdef0123456789abcdef"
)

// FuzzTokenAnswer serves arbitrary statuses and bodies (seeds in
// testdata/fuzz/FuzzTokenAnswer: offline, online and expiring token
// answers, OAuth error bodies, Shopify's "errors") to a code exchange and
// a refresh. A token comes only from a 2xx with an access token, and
// expires in the future or never; a failure is typed; no secret the
// request carried (client secret, code, refresh token) appears in an
// error, even quoted by the answer.
func FuzzTokenAnswer(f *testing.F) {
	f.Add(uint16(0), []byte(`{"access_token":"shpat_x","scope":"read_customers"}`))
	hs := answertest.New(f)
	noRetry := shopify.RetryPolicy{MaxRetries: 0, MaxWait: time.Millisecond}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		st := answertest.Status(status)
		hs.Set(answertest.Answer{Status: st, Body: body})
		now := time.Now()
		a, err := shopify.NewApp("client-1", shopify.NewSecret(fuzzClientSecret), shopify.WithAppBaseURL(hs.URL),
			shopify.WithAppHTTPClient(hs.Client()), shopify.WithAppRetryPolicy(noRetry), shopify.WithAppClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		check := func(tok *shopify.AccessToken, err error, secrets ...string) {
			t.Helper()
			if err == nil {
				if st >= 300 || tok.Token.IsZero() {
					t.Fatalf("token from status %d body %q", st, body)
				}
				for _, at := range []time.Time{tok.ExpiresAt, tok.RefreshExpiresAt} {
					if !at.IsZero() && !at.After(now) {
						t.Fatalf("body %q: token expiring at %s, before it was issued", body, at)
					}
				}
				return
			}
			var ae *shopify.APIError
			answertest.Check(t, st, body, err, secrets, &ae)
			for _, s := range secrets {
				if ae != nil && strings.Contains(ae.Message, s) {
					t.Fatalf("a secret leaked into %q", ae.Message)
				}
			}
		}
		cb := &shopify.Callback{Shop: "some-shop.myshopify.com", Code: shopify.NewSecret(fuzzCode)}
		tok, err := a.ExchangeCode(ctx, cb, true)
		check(tok, err, fuzzClientSecret, fuzzCode)
		tok, err = a.Refresh(ctx, "some-shop.myshopify.com", shopify.NewSecret(fuzzRefresh))
		check(tok, err, fuzzClientSecret, fuzzRefresh)
	})
}

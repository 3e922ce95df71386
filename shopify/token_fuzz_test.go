package shopify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
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
	hs, ans := answerServer(f)
	noRetry := shopify.RetryPolicy{MaxRetries: 0, MaxWait: time.Millisecond}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		st := 200 + int(status)%400
		ans.Store(&answer{status: st, body: body})
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
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("status %d body %q: hung: %v", st, body, err)
			}
			var (
				ae  *shopify.APIError
				rle *shopify.RateLimitError
				re  *shopcrm.ResponseError
			)
			if !errors.As(err, &ae) && !errors.As(err, &rle) && !errors.As(err, &re) && !errors.Is(err, shopcrm.ErrBodyTooLarge) {
				t.Fatalf("status %d body %q: untyped %T %v", st, body, err, err)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) || ae != nil && strings.Contains(ae.Message, s) {
					t.Fatalf("a secret leaked into %q", err)
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

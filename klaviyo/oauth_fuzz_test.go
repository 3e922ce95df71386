package klaviyo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/internal/answertest"
	"github.com/shopcrm/shopcrm/klaviyo"
)

// The secrets a token request carries.
const (
	fuzzClientSecret = "cs_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	fuzzVerifier     = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	fuzzRefresh      = "rt_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	fuzzCode         = "ac_5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
)

// FuzzOAuthToken serves arbitrary statuses and bodies (seeds in
// testdata/fuzz/FuzzOAuthToken: token answers, OAuth error answers) to a
// code exchange and a refresh. A token comes only from a 200 with an
// access token, and expires in the future or never; every failure is an
// *OAuthError with the answer's status; no secret the request carried
// (client secret, code and PKCE verifier, or refresh token) appears in an
// error, even when the answer quotes it.
func FuzzOAuthToken(f *testing.F) {
	f.Add(uint16(0), []byte(`{"access_token":"at","refresh_token":"rt","expires_in":3600,"token_type":"Bearer","scope":"profiles:read"}`))
	hs := answerServer(f)
	cfg := klaviyo.OAuthConfig{ClientID: "client-1", ClientSecret: klaviyo.NewSecret(fuzzClientSecret),
		RedirectURI: "https://app.example/callback", TokenURL: hs.URL + "/oauth/token", HTTPClient: hs.Client()}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		st := answertest.Status(status)
		hs.Set(answertest.Answer{Status: st, Body: body})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		before := time.Now()
		check := func(tok *klaviyo.OAuthToken, err error, secrets ...string) {
			t.Helper()
			if err == nil {
				if st != 200 || tok.AccessToken.IsZero() {
					t.Fatalf("token from status %d body %q", st, body)
				}
				if !tok.Expiry.IsZero() && !tok.Expiry.After(before) {
					t.Fatalf("body %q: token expired at %s, before it was issued", body, tok.Expiry)
				}
				return
			}
			var oe *klaviyo.OAuthError
			if !errors.As(err, &oe) || oe.Status != st {
				t.Fatalf("status %d body %q: %T %v", st, body, err, err)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("a secret leaked into %q", err)
				}
			}
		}
		tok, err := cfg.Exchange(ctx, fuzzCode, klaviyo.NewSecret(fuzzVerifier))
		check(tok, err, fuzzClientSecret, fuzzCode, fuzzVerifier)
		tok, err = cfg.Refresh(ctx, klaviyo.NewSecret(fuzzRefresh))
		check(tok, err, fuzzClientSecret, fuzzRefresh)
	})
}

package shopify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/webhooksec"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// oauthRig is the fake with random app credentials, a counter of the
// requests that reach its token endpoint, and a log, all checked for
// leaks.
type oauthRig struct {
	srv      *shopifytest.Server
	leaks    webhooksec.Leaks
	secret   shopcrm.Secret
	previous shopcrm.Secret
	sent     atomic.Int32
	log      bytes.Buffer
	base     string
}

func newOAuthRig(t *testing.T) *oauthRig {
	t.Helper()
	r := &oauthRig{}
	r.secret, r.previous = r.leaks.NewSecret("shpss_"), r.leaks.NewSecret("shpss_old_")
	r.srv = shopifytest.NewServer(shopifytest.WithOAuthClient(shopifytest.DefaultClientID, r.secret.Reveal()),
		shopifytest.WithNow(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	t.Cleanup(r.srv.Close)
	target, _ := url.Parse(r.srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.sent.Add(1)
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(counting.Close)
	r.base = counting.URL
	return r
}

// app is an App of the rig's client, through the counter, rotating from
// the previous secret.
func (r *oauthRig) app(t *testing.T, opts ...shopify.AppOption) *shopify.App {
	t.Helper()
	base := []shopify.AppOption{shopify.WithAppBaseURL(r.base), shopify.WithAppClock(r.srv.Now),
		shopify.WithAppLogger(slog.New(slog.NewTextHandler(&r.log, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		shopify.WithPreviousClientSecret(r.previous), shopify.WithAppRetryPolicy(shopcrm.RetryPolicy{})}
	a, err := shopify.NewApp(shopifytest.DefaultClientID, r.secret, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// approve is the query of the redirect after the merchant approves, with
// state.
func (r *oauthRig) approve(t *testing.T, a *shopify.App, state string) url.Values {
	t.Helper()
	u, err := a.AuthorizeURL(shopifytest.Shop, shopify.AuthorizeRequest{Scopes: []string{"read_customers"},
		RedirectURI: "https://app.example.com/auth/callback", State: state})
	if err != nil {
		t.Fatal(err)
	}
	q, err := r.srv.Approve(u)
	if err != nil {
		t.Fatal(err)
	}
	r.leaks.Add(q.Get("code"))
	r.leaks.Add(q.Get("hmac"))
	return q
}

// sign sets q's hmac as Shopify would with secret.
func (r *oauthRig) sign(q url.Values, secret shopcrm.Secret) url.Values {
	q.Del("hmac")
	q.Set("hmac", r.leaks.Add(shopifytest.SignQuery(q, secret.Reveal())))
	return q
}

// TestOAuthCallbackSecurity: every tampering with the install callback is
// refused by VerifyCallback with a *CallbackError naming the check, and
// nothing reaches the token endpoint; a code is exchanged once.
func TestOAuthCallbackSecurity(t *testing.T) {
	r := newOAuthRig(t)
	a := r.app(t)
	state, _ := shopify.NewState()
	wrong := r.leaks.NewSecret("shpss_wrong_")
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	edits := map[string]struct {
		edit  func(q url.Values) url.Values
		state string
		check shopify.CallbackCheck
	}{
		"hmac flipped": {func(q url.Values) url.Values {
			h := []byte(q.Get("hmac"))
			h[3] ^= 1
			q.Set("hmac", string(h))
			return q
		}, state, shopify.CheckHMAC},
		"hmac missing":         {func(q url.Values) url.Values { q.Del("hmac"); return q }, state, shopify.CheckParams},
		"hmac base64":          {func(q url.Values) url.Values { q.Set("hmac", b64(q.Get("hmac"))); return q }, state, shopify.CheckHMAC},
		"hmac of wrong secret": {func(q url.Values) url.Values { return r.sign(q, wrong) }, state, shopify.CheckHMAC},
		"code swapped":         {func(q url.Values) url.Values { q.Set("code", "attacker-code"); return q }, state, shopify.CheckHMAC},
		"shop swapped":         {func(q url.Values) url.Values { q.Set("shop", "victim.myshopify.com"); return q }, state, shopify.CheckHMAC},
		"host swapped":         {func(q url.Values) url.Values { q.Set("host", b64("evil.example.com/admin")); return q }, state, shopify.CheckHMAC},
		"shop not myshopify, signed": {func(q url.Values) url.Values { q.Set("shop", "evil.example.com"); return r.sign(q, r.secret) },
			state, shopify.CheckShop},
		"shop myshopify suffix, signed": {func(q url.Values) url.Values {
			q.Set("shop", "x.myshopify.com.evil.io")
			return r.sign(q, r.secret)
		}, state, shopify.CheckShop},
		"host elsewhere, signed": {func(q url.Values) url.Values {
			q.Set("host", b64("evil.example.com/admin"))
			return r.sign(q, r.secret)
		},
			state, shopify.CheckHost},
		"host lookalike, signed": {func(q url.Values) url.Values {
			q.Set("host", b64("admin.shopify.com.evil.io/store/x"))
			return r.sign(q, r.secret)
		}, state, shopify.CheckHost},
		"host with credentials, signed": {func(q url.Values) url.Values {
			q.Set("host", b64("evil.io@admin.shopify.com/store/x"))
			return r.sign(q, r.secret)
		}, state, shopify.CheckHost},
		"host not base64, signed":  {func(q url.Values) url.Values { q.Set("host", "%%%"); return r.sign(q, r.secret) }, state, shopify.CheckHost},
		"state of another session": {func(q url.Values) url.Values { return q }, "another-nonce", shopify.CheckState},
		"state not kept":           {func(q url.Values) url.Values { return q }, "", shopify.CheckState},
		"state repeated":           {func(q url.Values) url.Values { q.Add("state", state); return q }, state, shopify.CheckParams},
		"timestamp too old, signed": {func(q url.Values) url.Values {
			q.Set("timestamp", strconv.FormatInt(r.srv.Now().Add(-shopify.DefaultCallbackMaxAge-time.Second).Unix(), 10))
			return r.sign(q, r.secret)
		}, state, shopify.CheckTimestamp},
		"timestamp in the future, signed": {func(q url.Values) url.Values {
			q.Set("timestamp", strconv.FormatInt(r.srv.Now().Add(time.Hour).Unix(), 10))
			return r.sign(q, r.secret)
		}, state, shopify.CheckTimestamp},
	}
	for name, e := range edits {
		q := e.edit(r.approve(t, a, state))
		_, err := a.VerifyCallback(q, e.state)
		var ce *shopify.CallbackError
		if !errors.As(err, &ce) || ce.Check != e.check || !errors.Is(err, shopify.ErrInvalidCallback) {
			t.Errorf("%s: %v, want the %s check", name, err, e.check)
		}
		r.leaks.CheckErr(t, name, err)
	}
	// The real host forms pass: the fake's, and the unified admin's.
	for _, host := range []string{base64.RawStdEncoding.EncodeToString([]byte(shopifytest.Shop + "/admin")), b64("admin.shopify.com/store/example")} {
		q := r.approve(t, a, state)
		q.Set("host", host)
		if _, err := a.VerifyCallback(r.sign(q, r.secret), state); err != nil {
			t.Errorf("host %s: %v", host, err)
		}
	}
	// Signed with the previous secret during a rotation: accepted.
	if _, err := a.VerifyCallback(r.sign(r.approve(t, a, state), r.previous), state); err != nil {
		t.Errorf("signed with the previous secret: %v", err)
	}
	if r.sent.Load() != 0 {
		t.Errorf("%d requests reached the token endpoint while verifying callbacks", r.sent.Load())
	}

	// Code replay: this app refuses it before sending; another app's
	// request is refused by Shopify.
	ctx := context.Background()
	cb, err := a.VerifyCallback(r.approve(t, a, state), state)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.ExchangeCode(ctx, cb, false)
	if err != nil {
		t.Fatal(err)
	}
	r.leaks.Add(tok.Token.Reveal())
	sent := r.sent.Load()
	_, err = a.ExchangeCode(ctx, cb, false)
	var ce *shopify.CallbackError
	if !errors.As(err, &ce) || ce.Check != shopify.CheckReplay || r.sent.Load() != sent {
		t.Errorf("replayed code: %v, %d requests sent", err, r.sent.Load()-sent)
	}
	r.leaks.CheckErr(t, "replayed code", err)
	_, err = r.app(t).ExchangeCode(ctx, cb, false)
	var ae *shopify.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("replayed code, another app: %v", err)
	}
	r.leaks.CheckErr(t, "replayed code, another app", err)
	// A code whose exchange failed may be tried again, by any app sharing
	// the store.
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	codes := shopcrm.NewMemoryDedupe(0, 0)
	cb2, _ := a.VerifyCallback(r.approve(t, a, state), state)
	if _, err := r.app(t, shopify.WithAppBaseURL(down.URL), shopify.WithCodeDedupe(codes)).ExchangeCode(ctx, cb2, false); err == nil {
		t.Fatal("exchange through a 503 succeeded")
	}
	shared := r.app(t, shopify.WithCodeDedupe(codes))
	if _, err := shared.ExchangeCode(ctx, cb2, false); err != nil {
		t.Errorf("retrying a code whose exchange failed: %v", err)
	}
	if _, err := r.app(t, shopify.WithCodeDedupe(codes)).ExchangeCode(ctx, cb2, false); !errors.As(err, &ce) || ce.Check != shopify.CheckReplay {
		t.Errorf("a code exchanged by another app sharing the store: %v", err)
	}
	r.leaks.Check(t, "the app's log", r.log.String())
}

// TestOAuthSessionTokenSecurity: forged and expired session tokens are
// refused by VerifySessionToken with a *SessionTokenError naming the
// check, and ExchangeSessionToken sends nothing for them.
func TestOAuthSessionTokenSecurity(t *testing.T) {
	r := newOAuthRig(t)
	a := r.app(t)
	now := r.srv.Now()
	wrong := r.leaks.NewSecret("shpss_wrong_")
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{
			"iss": "https://" + shopifytest.Shop + "/admin", "dest": "https://" + shopifytest.Shop, "aud": shopifytest.DefaultClientID,
			"sub": "42", "exp": now.Add(time.Minute).Unix(), "nbf": now.Add(-time.Second).Unix(), "iat": now.Unix(), "jti": "j1", "sid": "s1",
		}
		if edit != nil {
			edit(c)
		}
		return c
	}
	sign := func(secret shopcrm.Secret, c map[string]any) string {
		return r.leaks.Add(shopifytest.SignSessionToken(secret.Reveal(), c))
	}
	good := sign(r.secret, claims(nil))
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + strings.Split(good, ".")[1] + "."
	leeway := shopify.DefaultSessionTokenLeeway
	cases := map[string]struct {
		tok   string
		check shopify.SessionTokenCheck
	}{
		"signed with the wrong secret": {sign(wrong, claims(nil)), shopify.CheckSignature},
		"alg none":                     {none, shopify.CheckAlg},
		"wrong aud":                    {sign(r.secret, claims(func(c map[string]any) { c["aud"] = "another-app" })), shopify.CheckAudience},
		"wrong iss":                    {sign(r.secret, claims(func(c map[string]any) { c["iss"] = "https://evil.myshopify.com/admin" })), shopify.CheckIssuer},
		"iss over http":                {sign(r.secret, claims(func(c map[string]any) { c["iss"] = "http://" + shopifytest.Shop + "/admin" })), shopify.CheckIssuer},
		"iss missing":                  {sign(r.secret, claims(func(c map[string]any) { delete(c, "iss") })), shopify.CheckIssuer},
		"wrong dest":                   {sign(r.secret, claims(func(c map[string]any) { c["dest"] = "https://evil.example.com" })), shopify.CheckDest},
		"expired":                      {sign(r.secret, claims(func(c map[string]any) { c["exp"] = now.Add(-leeway - time.Second).Unix() })), shopify.CheckExpiry},
		"nbf in the future":            {sign(r.secret, claims(func(c map[string]any) { c["nbf"] = now.Add(leeway + time.Minute).Unix() })), shopify.CheckNotBefore},
	}
	ctx := context.Background()
	for name, c := range cases {
		_, err := a.VerifySessionToken(shopcrm.NewSecret(c.tok))
		var se *shopify.SessionTokenError
		if !errors.As(err, &se) || se.Check != c.check || !errors.Is(err, shopify.ErrInvalidSessionToken) {
			t.Errorf("%s: %v, want the %s check", name, err, c.check)
		}
		r.leaks.CheckErr(t, name, err)
		_, err = a.ExchangeSessionToken(ctx, shopcrm.NewSecret(c.tok), shopify.ExchangeOptions{})
		if !errors.As(err, &se) || se.Check != c.check {
			t.Errorf("%s: ExchangeSessionToken: %v", name, err)
		}
		r.leaks.CheckErr(t, name+": exchange", err)
	}
	if n := r.sent.Load(); n != 0 {
		t.Errorf("%d token requests sent for refused session tokens", n)
	}
	// The previous secret is accepted during a rotation, and only with
	// WithPreviousClientSecret.
	old := sign(r.previous, claims(nil))
	if _, err := a.VerifySessionToken(shopcrm.NewSecret(old)); err != nil {
		t.Errorf("signed with the previous secret: %v", err)
	}
	plain, err := shopify.NewApp(shopifytest.DefaultClientID, r.secret, shopify.WithAppClock(r.srv.Now))
	if err != nil {
		t.Fatal(err)
	}
	var se *shopify.SessionTokenError
	if _, err := plain.VerifySessionToken(shopcrm.NewSecret(old)); !errors.As(err, &se) || se.Check != shopify.CheckSignature {
		t.Errorf("previous secret without the option: %v", err)
	}
	tok, err := a.ExchangeSessionToken(ctx, shopcrm.NewSecret(good), shopify.ExchangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.leaks.Add(tok.Token.Reveal())
	r.leaks.Check(t, "the app's log", r.log.String())
}

// TestOAuthTokenEndpointEchoes: a token endpoint that quotes the request
// (client secret, code) in its error does not make them reach the error.
func TestOAuthTokenEndpointEchoes(t *testing.T) {
	var leaks webhooksec.Leaks
	secret := leaks.NewSecret("shpss_")
	code := leaks.NewSecret("code-")
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":` + strconv.Quote(string(b)) + `}`))
	}))
	defer echo.Close()
	now := time.Now()
	a, err := shopify.NewApp("client", secret, shopify.WithAppBaseURL(echo.URL), shopify.WithAppClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.ExchangeCode(context.Background(), &shopify.Callback{Shop: "a.myshopify.com", Code: code}, false)
	if err == nil {
		t.Fatal("no error")
	}
	leaks.CheckErr(t, "ExchangeCode", err)
	var ae *shopify.APIError
	if errors.As(err, &ae) {
		leaks.Check(t, "APIError.Body", string(ae.Body))
	}
}

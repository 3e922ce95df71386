package shopify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// Known answers. shopify.md quotes no published test vectors, so the
// expected signatures here are computed in the test with crypto/hmac over
// literal messages written out by hand, never through the package's own
// signing code.
const (
	kaSecret   = "hush"
	kaClientID = "test-client-id"
	kaNow      = 1337178173
)

func hexHMAC(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func testApp(t testing.TB, now time.Time, opts ...shopify.AppOption) *shopify.App {
	t.Helper()
	a, err := shopify.NewApp(kaClientID, shopify.NewSecret(kaSecret), append([]shopify.AppOption{shopify.WithAppClock(func() time.Time { return now })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// kaQuery is a callback whose hmac is computed over the literal sorted
// message, not by the package.
func kaQuery() url.Values {
	msg := "code=0907a61c0c8d55e99db179b68161bc00&host=c29tZS1zaG9wLm15c2hvcGlmeS5jb20vYWRtaW4&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"
	q, _ := url.ParseQuery(msg)
	q.Set("hmac", hexHMAC(kaSecret, msg))
	return q
}

func TestVerifyCallbackKnownAnswer(t *testing.T) {
	a := testApp(t, time.Unix(kaNow+30, 0))
	cb, err := a.VerifyCallback(kaQuery(), "0.6784241404160823")
	if err != nil {
		t.Fatal(err)
	}
	if cb.Shop != "some-shop.myshopify.com" || cb.Code.Reveal() != "0907a61c0c8d55e99db179b68161bc00" || !cb.Timestamp.Equal(time.Unix(kaNow, 0)) {
		t.Fatalf("callback = %+v", cb)
	}
	// The legacy signature parameter is left out of the message too.
	q := kaQuery()
	q.Set("signature", "legacy")
	if _, err := a.VerifyCallback(q, "0.6784241404160823"); err != nil {
		t.Fatalf("with signature: %v", err)
	}
	// Decoded values are signed: a value needing escapes in the URL.
	msg := "code=abc&shop=some-shop.myshopify.com&state=a b&c=d&timestamp=1337178173"
	q = url.Values{"code": {"abc"}, "shop": {"some-shop.myshopify.com"}, "state": {"a b&c=d"}, "timestamp": {"1337178173"}}
	q.Set("hmac", hexHMAC(kaSecret, msg))
	if _, err := a.VerifyCallback(q, "a b&c=d"); err != nil {
		t.Fatalf("decoded values: %v", err)
	}
}

// resign sets q's hmac the way Shopify does, computed here independently.
func resign(q url.Values) url.Values {
	var keys []string
	for k := range q {
		if k != "hmac" && k != "signature" {
			keys = append(keys, k)
		}
	}
	// sort by hand: insertion sort keeps this independent of the package
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+q.Get(k))
	}
	q.Set("hmac", hexHMAC(kaSecret, strings.Join(parts, "&")))
	return q
}

func TestVerifyCallbackRejects(t *testing.T) {
	const state = "0.6784241404160823"
	a := testApp(t, time.Unix(kaNow, 0))
	tests := []struct {
		name  string
		edit  func(q url.Values) url.Values
		state string
		check shopify.CallbackCheck
	}{
		{"tampered code", func(q url.Values) url.Values { q.Set("code", "other"); return q }, state, shopify.CheckHMAC},
		{"tampered shop", func(q url.Values) url.Values { q.Set("shop", "other.myshopify.com"); return q }, state, shopify.CheckHMAC},
		{"added param", func(q url.Values) url.Values { q.Set("extra", "1"); return q }, state, shopify.CheckHMAC},
		{"flipped hmac", func(q url.Values) url.Values {
			h := []byte(q.Get("hmac"))
			h[0] ^= 1
			q.Set("hmac", string(h))
			return q
		}, state, shopify.CheckHMAC},
		{"upper-case hex hmac signs nothing else", func(q url.Values) url.Values { q.Set("hmac", "zz"); return q }, state, shopify.CheckHMAC},
		{"hmac with another secret", func(q url.Values) url.Values {
			q.Set("hmac", hexHMAC("other", "code=0907a61c0c8d55e99db179b68161bc00&host=c29tZS1zaG9wLm15c2hvcGlmeS5jb20vYWRtaW4&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"))
			return q
		}, state, shopify.CheckHMAC},
		{"missing hmac", func(q url.Values) url.Values { q.Del("hmac"); return q }, state, shopify.CheckParams},
		{"missing timestamp", func(q url.Values) url.Values { q.Del("timestamp"); return resign(q) }, state, shopify.CheckParams},
		{"repeated param", func(q url.Values) url.Values { q.Add("state", "x"); return q }, state, shopify.CheckParams},
		{"shop not myshopify", func(q url.Values) url.Values { q.Set("shop", "evil.example.com"); return resign(q) }, state, shopify.CheckShop},
		{"shop suffix attack", func(q url.Values) url.Values { q.Set("shop", "a.myshopify.com.evil.com"); return resign(q) }, state, shopify.CheckShop},
		{"shop leading hyphen", func(q url.Values) url.Values { q.Set("shop", "-a.myshopify.com"); return resign(q) }, state, shopify.CheckShop},
		{"shop with path", func(q url.Values) url.Values { q.Set("shop", "a.myshopify.com/x"); return resign(q) }, state, shopify.CheckShop},
		{"wrong state", func(q url.Values) url.Values { return q }, "another-nonce", shopify.CheckState},
		{"no state issued", func(q url.Values) url.Values { return q }, "", shopify.CheckState},
		{"stale timestamp", func(q url.Values) url.Values { q.Set("timestamp", fmt.Sprint(kaNow-91)); return resign(q) }, state, shopify.CheckTimestamp},
		{"future timestamp", func(q url.Values) url.Values { q.Set("timestamp", fmt.Sprint(kaNow+91)); return resign(q) }, state, shopify.CheckTimestamp},
		{"timestamp not a number", func(q url.Values) url.Values { q.Set("timestamp", "soon"); return resign(q) }, state, shopify.CheckTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.VerifyCallback(tt.edit(kaQuery()), tt.state)
			var ce *shopify.CallbackError
			if !errors.As(err, &ce) || ce.Check != tt.check || !errors.Is(err, shopify.ErrInvalidCallback) {
				t.Fatalf("err = %v, want the %s check", err, tt.check)
			}
			if strings.Contains(err.Error(), "0907a61c") || strings.Contains(err.Error(), kaSecret) {
				t.Fatalf("error leaks the code or secret: %v", err)
			}
		})
	}
	// The window is overridable.
	wide := testApp(t, time.Unix(kaNow+600, 0), shopify.WithCallbackMaxAge(time.Hour))
	if _, err := wide.VerifyCallback(kaQuery(), state); err != nil {
		t.Fatalf("wide window: %v", err)
	}
}

func TestAuthorizeURL(t *testing.T) {
	a := testApp(t, time.Now())
	s, err := a.AuthorizeURL("Some-Shop.myshopify.com", shopify.AuthorizeRequest{
		Scopes: []string{"read_customers", "write_orders"}, RedirectURI: "https://app.example.com/auth/callback", State: "nonce-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s)
	q := u.Query()
	if u.Scheme != "https" || u.Host != "some-shop.myshopify.com" || u.Path != "/admin/oauth/authorize" ||
		q.Get("client_id") != kaClientID || q.Get("scope") != "read_customers,write_orders" ||
		q.Get("redirect_uri") != "https://app.example.com/auth/callback" || q.Get("state") != "nonce-1" || q.Has("grant_options[]") {
		t.Fatalf("offline URL = %s", s)
	}
	s, _ = a.AuthorizeURL("some-shop.myshopify.com", shopify.AuthorizeRequest{RedirectURI: "https://x.example/cb", State: "n", Online: true})
	if u, _ := url.Parse(s); u.Query().Get("grant_options[]") != "per-user" {
		t.Fatalf("online URL = %s", s)
	}
	for _, tc := range []struct {
		shop string
		r    shopify.AuthorizeRequest
		f    string
	}{
		{"evil.com", shopify.AuthorizeRequest{RedirectURI: "https://x/cb", State: "n"}, "shop"},
		{"a.myshopify.com", shopify.AuthorizeRequest{RedirectURI: "https://x/cb"}, "State"},
		{"a.myshopify.com", shopify.AuthorizeRequest{RedirectURI: "/cb", State: "n"}, "RedirectURI"},
		{"a.myshopify.com", shopify.AuthorizeRequest{RedirectURI: "https://x/cb", State: "n", Scopes: []string{"a,b"}}, "Scopes[0]"},
	} {
		var ie *shopify.InputError
		if _, err := a.AuthorizeURL(tc.shop, tc.r); !errors.As(err, &ie) || ie.Field != tc.f {
			t.Errorf("%s %+v: err = %v, want field %s", tc.shop, tc.r, err, tc.f)
		}
	}
	s1, _ := shopify.NewState()
	s2, _ := shopify.NewState()
	if len(s1) < 40 || s1 == s2 {
		t.Fatalf("NewState = %q, %q", s1, s2)
	}
}

// jwt builds a token from literal header and payload JSON, signed here with
// crypto/hmac (independently of the package) when secret is not empty.
func jwt(header, payload, secret string) string {
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	if secret == "" {
		return signed + "."
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(m.Sum(nil))
}

const (
	hs256   = `{"alg":"HS256","typ":"JWT"}`
	payload = `{"iss":"https://some-shop.myshopify.com/admin","dest":"https://some-shop.myshopify.com","aud":"test-client-id","sub":"42","exp":1337178233,"nbf":1337178113,"iat":1337178113,"jti":"f8912129-1af6-4cad-9ca3-76b0f7621087","sid":"aaea182f2732d44c23057c0fea584021a4485b2bd25d3eb7fd349313ad24c685"}`
)

func TestVerifySessionToken(t *testing.T) {
	a := testApp(t, time.Unix(kaNow, 0))
	st, err := a.VerifySessionToken(shopify.NewSecret(jwt(hs256, payload, kaSecret)))
	if err != nil {
		t.Fatal(err)
	}
	want := shopify.SessionToken{
		Shop: "some-shop.myshopify.com", UserID: "42", SessionID: "aaea182f2732d44c23057c0fea584021a4485b2bd25d3eb7fd349313ad24c685",
		Issuer: "https://some-shop.myshopify.com/admin", ID: "f8912129-1af6-4cad-9ca3-76b0f7621087",
		ExpiresAt: time.Unix(1337178233, 0), NotBefore: time.Unix(1337178113, 0), IssuedAt: time.Unix(1337178113, 0),
	}
	if *st != want {
		t.Fatalf("claims = %+v\nwant %+v", *st, want)
	}
	// Within the leeway on both ends.
	if _, err := testApp(t, time.Unix(1337178233+9, 0)).VerifySessionToken(shopify.NewSecret(jwt(hs256, payload, kaSecret))); err != nil {
		t.Fatalf("exp within leeway: %v", err)
	}
	if _, err := testApp(t, time.Unix(1337178113-9, 0)).VerifySessionToken(shopify.NewSecret(jwt(hs256, payload, kaSecret))); err != nil {
		t.Fatalf("nbf within leeway: %v", err)
	}
	// aud as an array holding the client id.
	arr := strings.Replace(payload, `"aud":"test-client-id"`, `"aud":["other","test-client-id"]`, 1)
	if _, err := a.VerifySessionToken(shopify.NewSecret(jwt(hs256, arr, kaSecret))); err != nil {
		t.Fatalf("aud array: %v", err)
	}
}

func TestVerifySessionTokenRejects(t *testing.T) {
	good := jwt(hs256, payload, kaSecret)
	parts := strings.Split(good, ".")
	tests := []struct {
		name  string
		tok   string
		now   int64
		check shopify.SessionTokenCheck
	}{
		{"expired", good, 1337178233 + 11, shopify.CheckExpiry},
		{"no exp", jwt(hs256, strings.Replace(payload, `"exp":1337178233,`, "", 1), kaSecret), kaNow, shopify.CheckExpiry},
		{"not yet valid", good, 1337178113 - 11, shopify.CheckNotBefore},
		{"wrong audience", jwt(hs256, strings.Replace(payload, `"aud":"test-client-id"`, `"aud":"other-app"`, 1), kaSecret), kaNow, shopify.CheckAudience},
		{"no audience", jwt(hs256, strings.Replace(payload, `"aud":"test-client-id",`, "", 1), kaSecret), kaNow, shopify.CheckAudience},
		{"wrong signature", jwt(hs256, payload, "not-the-secret"), kaNow, shopify.CheckSignature},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(payload, `"sub":"42"`, `"sub":"1"`, 1))) + "." + parts[2], kaNow, shopify.CheckSignature},
		{"empty signature", parts[0] + "." + parts[1] + ".", kaNow, shopify.CheckSignature},
		{"alg none", jwt(`{"alg":"none","typ":"JWT"}`, payload, ""), kaNow, shopify.CheckAlg},
		{"alg none signed", jwt(`{"alg":"none"}`, payload, kaSecret), kaNow, shopify.CheckAlg},
		{"alg RS256", jwt(`{"alg":"RS256","typ":"JWT"}`, payload, kaSecret), kaNow, shopify.CheckAlg},
		{"alg lower case", jwt(`{"alg":"hs256"}`, payload, kaSecret), kaNow, shopify.CheckAlg},
		{"alg missing", jwt(`{"typ":"JWT"}`, payload, kaSecret), kaNow, shopify.CheckAlg},
		{"dest elsewhere", jwt(hs256, strings.Replace(payload, `"dest":"https://some-shop.myshopify.com"`, `"dest":"https://evil.example.com"`, 1), kaSecret), kaNow, shopify.CheckDest},
		{"dest http", jwt(hs256, strings.Replace(payload, `"dest":"https://`, `"dest":"http://`, 1), kaSecret), kaNow, shopify.CheckDest},
		{"two parts", parts[0] + "." + parts[1], kaNow, shopify.CheckFormat},
		{"header not json", jwt(`alg=HS256`, payload, kaSecret), kaNow, shopify.CheckFormat},
		{"payload not json", jwt(hs256, `[1]`, kaSecret), kaNow, shopify.CheckFormat},
		{"empty", "", kaNow, shopify.CheckFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testApp(t, time.Unix(tt.now, 0)).VerifySessionToken(shopify.NewSecret(tt.tok))
			var se *shopify.SessionTokenError
			if !errors.As(err, &se) || se.Check != tt.check || !errors.Is(err, shopify.ErrInvalidSessionToken) {
				t.Fatalf("err = %v, want the %s check", err, tt.check)
			}
		})
	}
}

func newOAuthFake(t *testing.T) (*shopifytest.Server, *shopify.App) {
	t.Helper()
	srv := shopifytest.NewServer(shopifytest.WithNow(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	t.Cleanup(srv.Close)
	return srv, srv.App()
}

func TestInstallEndToEnd(t *testing.T) {
	srv, app := newOAuthFake(t)
	ctx := context.Background()
	state, err := shopify.NewState()
	if err != nil {
		t.Fatal(err)
	}
	authURL, err := app.AuthorizeURL(shopifytest.Shop, shopify.AuthorizeRequest{
		Scopes: []string{shopify.ScopeWriteCustomers}, RedirectURI: "https://app.example.com/cb", State: state,
	})
	if err != nil {
		t.Fatal(err)
	}
	q, err := srv.Approve(authURL)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := app.VerifyCallback(q, state)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := app.ExchangeCode(ctx, cb, true)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Shop != shopifytest.Shop || tok.Token.Reveal() != shopifytest.DefaultToken || !tok.Expiring() || tok.RefreshToken.IsZero() || len(tok.Scopes) == 0 {
		t.Fatalf("token = %+v", tok)
	}
	if !near(tok.ExpiresAt, srv.Now().Add(time.Hour)) {
		t.Fatalf("ExpiresAt = %v, want an hour from %v", tok.ExpiresAt, srv.Now())
	}
	// The code is good once: the app refuses it locally, Shopify (another
	// process's app) with a 400.
	var ce *shopify.CallbackError
	if _, err := app.ExchangeCode(ctx, cb, true); !errors.As(err, &ce) || ce.Check != shopify.CheckReplay {
		t.Fatalf("second exchange: %v", err)
	}
	if _, err := srv.App().ExchangeCode(ctx, cb, true); !isStatus(err, 400) {
		t.Fatalf("second exchange elsewhere: %v", err)
	}

	store := shopify.NewMemoryTokenStore()
	if err := store.Save(ctx, tok); err != nil {
		t.Fatal(err)
	}
	c, err := shopify.New(shopifytest.Shop, app.TokenSource(store, shopifytest.Shop), shopify.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	srv.AddCustomer(shopifytest.Customer{FirstName: "Aino", Email: "aino@example.com"})
	count := func() int {
		n := 0
		for _, err := range c.Customers.List(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	if count() != 1 {
		t.Fatal("customers")
	}
	// Not yet due: the token is used as is. (The token source is called
	// directly from here on: the client's pacing runs on the wall clock.)
	ts := app.TokenSource(store, shopifytest.Shop)
	before, _ := store.Load(ctx, shopifytest.Shop)
	srv.Advance(54 * time.Minute)
	if _, err := ts.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if mid, _ := store.Load(ctx, shopifytest.Shop); mid.RefreshToken.Reveal() != before.RefreshToken.Reveal() {
		t.Fatal("refreshed too early")
	}
	// Within five minutes of expiry: refreshed and saved.
	srv.Advance(2 * time.Minute)
	if tok, err := ts.Token(ctx); err != nil || tok.Reveal() != shopifytest.DefaultToken {
		t.Fatal(err)
	}
	after, _ := store.Load(ctx, shopifytest.Shop)
	if after.RefreshToken.Reveal() == before.RefreshToken.Reveal() || !near(after.ExpiresAt, srv.Now().Add(time.Hour)) || len(after.Scopes) == 0 {
		t.Fatalf("not refreshed: %+v", after)
	}
	// The old refresh token is spent.
	if _, err := app.Refresh(ctx, shopifytest.Shop, before.RefreshToken); !isStatus(err, 400) {
		t.Fatalf("old refresh token: %v", err)
	}
}

// near compares times on the fake's running clock.
func near(a, b time.Time) bool { d := a.Sub(b); return d < 5*time.Second && d > -5*time.Second }

func isStatus(err error, status int) bool {
	var ae *shopify.APIError
	return errors.As(err, &ae) && ae.Status == status
}

func TestTokenExchange(t *testing.T) {
	srv, app := newOAuthFake(t)
	ctx := context.Background()
	st := shopify.NewSecret(srv.SessionToken("42", time.Minute))

	off, err := app.ExchangeSessionToken(ctx, st, shopify.ExchangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if off.Online || off.Expiring() || off.Token.Reveal() != shopifytest.DefaultToken {
		t.Fatalf("offline = %+v", off)
	}
	exp, err := app.ExchangeSessionToken(ctx, st, shopify.ExchangeOptions{Expiring: true})
	if err != nil || !exp.Expiring() || exp.RefreshToken.IsZero() {
		t.Fatalf("expiring = %+v, %v", exp, err)
	}
	on, err := app.ExchangeSessionToken(ctx, st, shopify.ExchangeOptions{Online: true})
	if err != nil || !on.Online || !on.Expiring() || on.UserID != 42 {
		t.Fatalf("online = %+v, %v", on, err)
	}
	// An expired session token is refused before any request.
	srv.Advance(2 * time.Minute)
	before := srv.Stats().Requests
	if _, err := app.ExchangeSessionToken(ctx, st, shopify.ExchangeOptions{}); !errors.Is(err, shopify.ErrInvalidSessionToken) {
		t.Fatalf("expired: %v", err)
	}
	if srv.Stats().Requests != before {
		t.Fatal("expired session token was sent")
	}
}

func TestTokenEndpointRejectsWrongSecret(t *testing.T) {
	srv := shopifytest.NewServer(shopifytest.WithOAuthClient(shopifytest.DefaultClientID, "the-real-secret-0123"))
	defer srv.Close()
	app := srv.App()
	st := shopify.NewSecret(shopifytest.SignSessionToken("the-real-secret-0123", map[string]any{
		"iss": "https://" + shopifytest.Shop + "/admin", "dest": "https://" + shopifytest.Shop, "aud": shopifytest.DefaultClientID,
		"exp": srv.Now().Add(time.Minute).Unix(),
	}))
	if _, err := app.ExchangeSessionToken(context.Background(), st, shopify.ExchangeOptions{}); err != nil {
		t.Fatalf("right secret: %v", err)
	}
	wrong, err := shopify.NewApp(shopifytest.DefaultClientID, shopify.NewSecret("wrong-secret-0123456"), shopify.WithAppBaseURL(srv.URL()), shopify.WithAppClock(srv.Now))
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Refresh(context.Background(), shopifytest.Shop, shopify.NewSecret("some-refresh-token"))
	if !isStatus(err, 401) || !errors.Is(err, shopify.ErrUnauthorized) || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") || strings.Contains(err.Error(), "some-refresh-token") {
		t.Fatalf("error leaks a secret: %v", err)
	}
}

func TestTokenSourceExpiredWithoutRefresh(t *testing.T) {
	now := time.Unix(kaNow, 0)
	a := testApp(t, now)
	store := shopify.NewMemoryTokenStore()
	ctx := context.Background()
	if _, err := a.TokenSource(store, "a.myshopify.com").Token(ctx); !errors.Is(err, shopify.ErrNoToken) {
		t.Fatalf("empty store: %v", err)
	}
	_ = store.Save(ctx, &shopify.AccessToken{Shop: "a.myshopify.com", Token: shopify.NewSecret("tok"), ExpiresAt: now.Add(time.Minute)})
	if tok, err := a.TokenSource(store, "A.myshopify.com").Token(ctx); err != nil || tok.Reveal() != "tok" {
		t.Fatalf("still valid: %v", err)
	}
	_ = store.Save(ctx, &shopify.AccessToken{Shop: "a.myshopify.com", Token: shopify.NewSecret("tok"), ExpiresAt: now})
	if _, err := a.TokenSource(store, "a.myshopify.com").Token(ctx); !errors.Is(err, shopify.ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
	_ = store.Save(ctx, &shopify.AccessToken{Shop: "a.myshopify.com", Token: shopify.NewSecret("forever")})
	if tok, err := a.TokenSource(store, "a.myshopify.com").Token(ctx); err != nil || tok.Reveal() != "forever" {
		t.Fatalf("non-expiring: %v", err)
	}
	if err := store.Delete(ctx, "a.myshopify.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load(ctx, "a.myshopify.com"); !errors.Is(err, shopify.ErrNoToken) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestOAuthSecretsNeverPrint(t *testing.T) {
	a := testApp(t, time.Now())
	tok := &shopify.AccessToken{Shop: "a.myshopify.com", Token: shopify.NewSecret("shpat_secret_value"), RefreshToken: shopify.NewSecret("shprt_secret_value")}
	cb := &shopify.Callback{Shop: "a.myshopify.com", Code: shopify.NewSecret("code_secret_value")}
	for _, v := range []any{a, tok, *tok, cb} {
		for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(f, v)
			for _, s := range []string{kaSecret + "\"", "shpat_secret_value", "shprt_secret_value", "code_secret_value"} {
				if strings.Contains(out, s) {
					t.Errorf("%s of %T prints %q: %s", f, v, s, out)
				}
			}
		}
	}
}

func TestNewAppValidates(t *testing.T) {
	var ie *shopify.InputError
	if _, err := shopify.NewApp("", shopify.NewSecret("s")); !errors.As(err, &ie) || ie.Field != "clientID" {
		t.Errorf("empty id: %v", err)
	}
	if _, err := shopify.NewApp("id", shopify.Secret{}); !errors.As(err, &ie) || ie.Field != "clientSecret" {
		t.Errorf("empty secret: %v", err)
	}
	if _, err := shopify.NewApp("id", shopify.NewSecret("s"), shopify.WithCallbackMaxAge(0)); !errors.As(err, &ie) || ie.Field != "WithCallbackMaxAge" {
		t.Errorf("max age: %v", err)
	}
}

func TestOAuthErrorTypes(t *testing.T) {
	err := errors.New("unrelated")
	for _, target := range []any{new(*shopify.CallbackError), new(*shopify.SessionTokenError)} {
		if errors.As(err, target) {
			t.Errorf("errors.As matched %T on an unrelated error", target)
		}
	}
	if errors.Is(&shopify.CallbackError{}, shopify.ErrInvalidSessionToken) || errors.Is(&shopify.SessionTokenError{}, shopify.ErrInvalidCallback) {
		t.Error("the sentinels cross-match")
	}
}

func TestTokenSourceRefreshesOnce(t *testing.T) {
	srv, app := newOAuthFake(t)
	ctx := context.Background()
	tok, err := app.ExchangeSessionToken(ctx, shopify.NewSecret(srv.SessionToken("42", time.Minute)), shopify.ExchangeOptions{Expiring: true})
	if err != nil {
		t.Fatal(err)
	}
	store := shopify.NewMemoryTokenStore()
	_ = store.Save(ctx, tok)
	srv.Advance(58 * time.Minute)
	ts := app.TokenSource(store, shopifytest.Shop)
	before := srv.Stats().Requests
	done := make(chan error)
	for range 8 {
		go func() { _, err := ts.Token(ctx); done <- err }()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Stats().Requests - before; n != 1 {
		t.Fatalf("%d refresh requests, want 1", n)
	}
	// A second source (another process) holding the spent refresh token
	// takes the token the first one stored.
	stale := *tok
	other := &racedStore{MemoryTokenStore: store, first: &stale}
	srv.Advance(2 * time.Minute) // past the old token's expiry
	if got, err := app.TokenSource(other, shopifytest.Shop).Token(ctx); err != nil || got.Reveal() != shopifytest.DefaultToken {
		t.Fatalf("raced refresh: %v", err)
	}
}

// racedStore answers the first Load with a stale token, as a store read
// just before another process refreshed would.
type racedStore struct {
	*shopify.MemoryTokenStore
	first *shopify.AccessToken
}

func (s *racedStore) Load(ctx context.Context, shop string) (*shopify.AccessToken, error) {
	if f := s.first; f != nil {
		s.first = nil
		return f, nil
	}
	return s.MemoryTokenStore.Load(ctx, shop)
}

// TestTokenEndpointHostile: a token endpoint that echoes the credentials
// in its error must not get them printed, and one that redirects must not
// get the request followed to another host.
func TestTokenEndpointHostile(t *testing.T) {
	const secret, refresh = "client-secret-never-print", "refresh-never-print-123"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, b)
	}))
	defer echo.Close()
	a, _ := shopify.NewApp("id", shopify.NewSecret(secret), shopify.WithAppBaseURL(echo.URL))
	_, err := a.Refresh(context.Background(), "a.myshopify.com", shopify.NewSecret(refresh))
	if !isStatus(err, 400) {
		t.Fatalf("err = %v", err)
	}
	js, _ := json.Marshal(map[string]any{"err": err})
	all := fmt.Sprintf("%v %+v %#v %s", err, err, err, js)
	if strings.Contains(all, secret) || strings.Contains(all, refresh) {
		t.Fatalf("a secret printed: %s", all)
	}

	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { leaked.Add(1) }))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	a, _ = shopify.NewApp("id", shopify.NewSecret(secret), shopify.WithAppBaseURL(redirect.URL))
	if _, err := a.Refresh(context.Background(), "a.myshopify.com", shopify.NewSecret(refresh)); err == nil {
		t.Fatal("redirect followed to a token")
	}
	if leaked.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
}

// TestClientSecretRotation: during a rotation Shopify may still sign with
// the old secret; an App given it as the previous secret accepts both,
// and nothing else.
func TestClientSecretRotation(t *testing.T) {
	const fresh = "fresh-secret"
	now := time.Unix(kaNow, 0)
	rotating := func(t *testing.T) *shopify.App {
		t.Helper()
		a, err := shopify.NewApp(kaClientID, shopify.NewSecret(fresh),
			shopify.WithAppClock(func() time.Time { return now }),
			shopify.WithPreviousClientSecret(shopify.NewSecret(kaSecret)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	signed := func(secret string) url.Values {
		q := kaQuery()
		q.Del("hmac")
		msg := "code=0907a61c0c8d55e99db179b68161bc00&host=c29tZS1zaG9wLm15c2hvcGlmeS5jb20vYWRtaW4&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"
		q.Set("hmac", hexHMAC(secret, msg))
		return q
	}
	for _, secret := range []string{fresh, kaSecret} {
		if _, err := rotating(t).VerifyCallback(signed(secret), "0.6784241404160823"); err != nil {
			t.Errorf("callback signed with %q: %v", secret, err)
		}
		if _, err := rotating(t).VerifySessionToken(shopify.NewSecret(jwt(hs256, payload, secret))); err != nil {
			t.Errorf("session token signed with %q: %v", secret, err)
		}
	}
	var ce *shopify.CallbackError
	if _, err := rotating(t).VerifyCallback(signed("third-secret"), "0.6784241404160823"); !errors.As(err, &ce) || ce.Check != shopify.CheckHMAC {
		t.Errorf("callback signed with an unknown secret: %v", err)
	}
	var se *shopify.SessionTokenError
	if _, err := rotating(t).VerifySessionToken(shopify.NewSecret(jwt(hs256, payload, "third-secret"))); !errors.As(err, &se) || se.Check != shopify.CheckSignature {
		t.Errorf("session token signed with an unknown secret: %v", err)
	}
	// Without the option the old secret is refused.
	a, err := shopify.NewApp(kaClientID, shopify.NewSecret(fresh), shopify.WithAppClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.VerifyCallback(signed(kaSecret), "0.6784241404160823"); !errors.As(err, &ce) {
		t.Errorf("old secret accepted without the option: %v", err)
	}
	if _, err := shopify.NewApp(kaClientID, shopify.NewSecret(fresh), shopify.WithPreviousClientSecret(shopify.Secret{})); err == nil {
		t.Error("empty previous secret accepted")
	}
}

// TestTokenEndpointRefusesUnknownParams: the fake takes only the
// documented parameters of each grant, so a client that invented one
// would fail here.
func TestTokenEndpointRefusesUnknownParams(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	for _, body := range []string{
		`{"client_id":"x","client_secret":"y","code":"z","scope":"read_orders"}`,
		`{"client_id":"x","client_secret":"y","grant_type":"refresh_token","refresh_token":"r","expiring":1}`,
	} {
		resp, err := http.Post(srv.URL()+shopify.AccessTokenPath, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "invalid_request") {
			t.Errorf("%s: %d %s", body, resp.StatusCode, b)
		}
	}
}

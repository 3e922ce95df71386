package klaviyo_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/webhooksec"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
)

// TestOAuthSecurity: a tampered or declined redirect is refused by
// VerifyCallback with a *CallbackError, a malformed verifier and (with
// Codes) a replayed code before any token request; a wrong verifier and a
// spent code by the token endpoint, as an *OAuthError. No error holds a
// secret, a code, a verifier or a token.
func TestOAuthSecurity(t *testing.T) {
	var leaks webhooksec.Leaks
	app := klaviyotest.DefaultOAuthApp()
	app.ClientSecret = leaks.NewSecret("kl-client-secret-").Reveal()
	srv := klaviyotest.NewServer(klaviyotest.WithOAuthApp(app))
	defer srv.Close()
	var sent atomic.Int32
	target, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	defer counting.Close()
	cfg := srv.OAuthConfig("profiles:read")
	cfg.TokenURL = counting.URL + "/oauth/token"
	ctx := context.Background()
	var errs []error

	pkce, err := klaviyo.NewPKCE()
	if err != nil {
		t.Fatal(err)
	}
	leaks.Add(pkce.Verifier.Reveal())
	state := leaks.Add("state-" + strconv.Itoa(int(sent.Load())) + "-kept-in-the-session")
	redirect := func() url.Values {
		code := leaks.Add(srv.Authorize(pkce.Challenge, cfg.RedirectURI, "profiles:read"))
		return url.Values{"code": {code}, "state": {state}}
	}
	for name, c := range map[string]struct {
		q     func() url.Values
		want  string
		check klaviyo.CallbackCheck
	}{
		"state of another request": {redirect, "another-state", klaviyo.CheckState},
		"state not kept":           {redirect, "", klaviyo.CheckState},
		"state missing": {func() url.Values {
			q := redirect()
			q.Del("state")
			return q
		}, state, klaviyo.CheckState},
		"state repeated": {func() url.Values {
			q := redirect()
			q.Add("state", state)
			return q
		}, state, klaviyo.CheckParams},
		"declined": {func() url.Values {
			return url.Values{"error": {"access_denied"}, "error_description": {"The user denied access"}, "state": {state}}
		}, state, klaviyo.CheckDenied},
		"no code": {func() url.Values { return url.Values{"state": {state}} }, state, klaviyo.CheckParams},
	} {
		_, err := cfg.VerifyCallback(c.q(), c.want)
		var ce *klaviyo.CallbackError
		if !errors.As(err, &ce) || ce.Check != c.check || ce.Platform != "klaviyo" || !errors.Is(err, klaviyo.ErrInvalidCallback) {
			t.Errorf("%s: %v, want the %s check", name, err, c.check)
		}
		errs = append(errs, err)
	}
	code, err := cfg.VerifyCallback(redirect(), state)
	if err != nil {
		t.Fatal(err)
	}
	// A verifier that is not one: refused before sending.
	for _, v := range []string{"short", strings.Repeat("a", 129), strings.Repeat("a", 42) + "/"} {
		_, err := cfg.Exchange(ctx, code, klaviyo.NewSecret(v))
		if !errors.Is(err, klaviyo.ErrInvalidInput) {
			t.Errorf("verifier %q: %v", v, err)
		}
		errs = append(errs, err)
	}
	if sent.Load() != 0 {
		t.Errorf("%d token requests sent for refused redirects and verifiers", sent.Load())
	}
	// The verifier of another request: the token endpoint refuses it.
	other, _ := klaviyo.NewPKCE()
	leaks.Add(other.Verifier.Reveal())
	_, err = cfg.Exchange(ctx, code, other.Verifier)
	var oe *klaviyo.OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_grant" || !errors.Is(err, klaviyo.ErrUnauthorized) {
		t.Errorf("verifier mismatch: %v", err)
	}
	errs = append(errs, err)
	tok, err := cfg.Exchange(ctx, code, pkce.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	leaks.Add(tok.AccessToken.Reveal())
	leaks.Add(tok.RefreshToken.Reveal())
	// The code again: refused by the token endpoint...
	_, err = cfg.Exchange(ctx, code, pkce.Verifier)
	if !errors.As(err, &oe) || oe.Code != "invalid_grant" || !errors.Is(err, klaviyo.ErrUnauthorized) {
		t.Errorf("code reused: %v", err)
	}
	errs = append(errs, err)
	// ...and, with a store of codes, before anything is sent.
	cfg.Codes = shopcrm.NewMemoryDedupe(0, 0)
	code2, _ := cfg.VerifyCallback(redirect(), state)
	if _, err := cfg.Exchange(ctx, code2, other.Verifier); err == nil { // fails: released for a retry
		t.Fatal("verifier mismatch accepted")
	}
	if _, err := cfg.Exchange(ctx, code2, pkce.Verifier); err != nil {
		t.Fatalf("retry after a failed exchange: %v", err)
	}
	before := sent.Load()
	_, err = cfg.Exchange(ctx, code2, pkce.Verifier)
	var ce *klaviyo.CallbackError
	if !errors.As(err, &ce) || ce.Check != klaviyo.CheckReplay || sent.Load() != before {
		t.Errorf("code replayed with Codes set: %v, %d requests sent", err, sent.Load()-before)
	}
	errs = append(errs, err)
	for _, err := range errs {
		leaks.CheckErr(t, "error", err)
	}
}

// TestOAuthTokenEndpointEchoes: a token endpoint quoting the request in
// its error does not make the client secret, the code or the verifier
// reach the error.
func TestOAuthTokenEndpointEchoes(t *testing.T) {
	var leaks webhooksec.Leaks
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f, _ := url.ParseQuery(string(b))
		_, secret, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		desc := "got " + f.Get("code") + " " + f.Get("code_verifier") + " " + f.Get("refresh_token") + " from " + secret
		_, _ = io.WriteString(w, `{"error":"invalid_grant `+f.Get("code")+`","error_description":`+strconv.Quote(desc)+`}`)
	}))
	defer echo.Close()
	cfg := klaviyo.OAuthConfig{ClientID: "c", ClientSecret: leaks.NewSecret("kl-secret-"), RedirectURI: "https://app.example.com/cb",
		TokenURL: echo.URL + "/oauth/token"}
	p, _ := klaviyo.NewPKCE()
	leaks.Add(p.Verifier.Reveal())
	_, err := cfg.Exchange(context.Background(), leaks.Add("code-abcdef123456"), p.Verifier)
	var oe *klaviyo.OAuthError
	if !errors.As(err, &oe) {
		t.Fatalf("%v", err)
	}
	leaks.CheckErr(t, "Exchange", err)
	_, err = cfg.Refresh(context.Background(), leaks.NewSecret("kl-refresh-"))
	if err == nil {
		t.Fatal("refresh accepted")
	}
	leaks.CheckErr(t, "Refresh", err)
}

package klaviyo_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"

	"github.com/shopcrm/shopcrm/klaviyo"
)

// TestPKCEKnownAnswer checks the S256 challenge against RFC 7636,
// Appendix B.
func TestPKCEKnownAnswer(t *testing.T) {
	if got := klaviyo.PKCEChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("challenge %s", got)
	}
	p, err := klaviyo.NewPKCE()
	if err != nil || len(p.Verifier.Reveal()) != 43 || p.Challenge != klaviyo.PKCEChallenge(p.Verifier.Reveal()) {
		t.Errorf("NewPKCE: %v %v", p, err)
	}
}

func TestOAuthFlow(t *testing.T) {
	srv, _ := setup(t)
	ctx := context.Background()
	cfg := srv.OAuthConfig("profiles:read", "events:write")
	p, _ := klaviyo.NewPKCE()
	u, err := cfg.AuthCodeURL("st-1", p)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.Parse(u)
	if v := q.Query(); v.Get("code_challenge_method") != "S256" || v.Get("code_challenge") != p.Challenge || v.Get("state") != "st-1" ||
		v.Get("scope") != "profiles:read events:write" {
		t.Errorf("authorize URL %s", u)
	}
	code := srv.Authorize(p.Challenge, cfg.RedirectURI, "profiles:read events:write")
	other, _ := klaviyo.NewPKCE()
	if _, err := cfg.Exchange(ctx, code, other.Verifier); !errors.Is(err, klaviyo.ErrUnauthorized) {
		t.Errorf("wrong verifier: %v", err)
	}
	code = srv.Authorize(p.Challenge, cfg.RedirectURI, "profiles:read")
	tok, err := cfg.Exchange(ctx, code, p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Exchange(ctx, code, p.Verifier); err == nil {
		t.Error("a code was accepted twice")
	}
	var stored []klaviyo.OAuthToken
	var mu sync.Mutex
	ts := klaviyo.NewOAuthTokenSource(cfg, *tok, func(t klaviyo.OAuthToken) { mu.Lock(); stored = append(stored, t); mu.Unlock() })
	oc, err := klaviyo.New(klaviyo.OAuth(ts), klaviyo.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	id := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	if _, _, err := oc.Profiles.Get(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	// Expired: invalidate and refresh; concurrent callers refresh once.
	srv.ExpireAccessTokens()
	if _, _, err := oc.Profiles.Get(ctx, id, false); !errors.Is(err, klaviyo.ErrUnauthorized) {
		t.Fatalf("expired token: %v", err)
	}
	ts.Invalidate()
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := oc.Profiles.Get(ctx, id, false); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(stored) != 1 || stored[0].AccessToken.Reveal() == tok.AccessToken.Reveal() || stored[0].RefreshToken.IsZero() {
		t.Errorf("refreshes %d", len(stored))
	}
	bad := cfg
	bad.ClientSecret = klaviyo.NewSecret("nope")
	if _, err := bad.Refresh(ctx, tok.RefreshToken); !errors.Is(err, klaviyo.ErrUnauthorized) {
		t.Errorf("bad client: %v", err)
	}
}

package omnisend_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/webhooksec"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
)

// Omnisend's 2026-03-15 API has no webhooks and no OAuth endpoint the SDK
// calls: an App Market app brings its access tokens through a
// TokenSource. These tests attack that handling: tokens that are empty,
// that would split the header, that an answer quotes back, and rotated
// ones, none of which may reach an error or the wire unchecked.

// TestOAuthTokenSecurity: a bad token from the source is refused before
// anything is sent, with a typed error that does not hold it.
func TestOAuthTokenSecurity(t *testing.T) {
	var leaks webhooksec.Leaks
	good := leaks.NewSecret("omni-oauth-")
	srv := omnisendtest.NewServer(omnisendtest.WithOAuthToken(good.Reveal()))
	defer srv.Close()
	ctx := context.Background()
	for name, tok := range map[string]string{
		"empty":           "",
		"CRLF injection":  good.Reveal() + "\r\nX-Injected: 1",
		"LF":              good.Reveal() + "\nx",
		"space inside":    "omni oauth",
		"control":         good.Reveal() + "\x00",
		"trailing tab":    good.Reveal() + "\t",
		"DEL":             good.Reveal() + "\x7f",
		"only whitespace": "   ",
	} {
		leaks.Add(tok)
		before := srv.Stats().Requests
		c, err := omnisend.New(omnisend.OAuth(shopcrm.StaticToken(tok)), omnisend.WithBaseURL(srv.URL()))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Contacts.Get(ctx, "c-1")
		var ie *omnisend.InputError
		if !errors.As(err, &ie) || ie.Field != "credentials" {
			t.Errorf("%s: %v, want an *InputError on credentials", name, err)
		}
		if n := srv.Stats().Requests - before; n != 0 {
			t.Errorf("%s: %d requests sent", name, n)
		}
		leaks.CheckErr(t, name, err)
	}
	// A source that fails: its error is wrapped, with the tokens seen so
	// far redacted.
	var calls atomic.Int32
	src := shopcrm.TokenFunc(func(context.Context) (shopcrm.Secret, error) {
		if calls.Add(1) == 1 {
			return good, nil
		}
		return shopcrm.Secret{}, fmt.Errorf("vault: token %s revoked", good.Reveal())
	})
	c, err := omnisend.New(omnisend.OAuth(src), omnisend.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Contacts.Get(ctx, "c-1"); errors.Is(err, omnisend.ErrUnauthorized) {
		t.Fatalf("the good token was refused: %v", err)
	}
	_, _, err = c.Contacts.Get(ctx, "c-1")
	if err == nil {
		t.Fatal("a failing source gave no error")
	}
	leaks.CheckErr(t, "failing source", err)
	leaks.Check(t, "client", fmt.Sprintf("%v %+v %#v %s", c, c, c, c))
}

// TestOAuthTokenEchoed: an answer quoting the Authorization header back,
// before and after the source rotates the token, never puts a token in
// the error.
func TestOAuthTokenEchoed(t *testing.T) {
	var leaks webhooksec.Leaks
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"type":"about:blank","title":"Unauthorized","status":401,"detail":"bad token %s"}`, r.Header.Get("Authorization"))
	}))
	defer echo.Close()
	toks := []shopcrm.Secret{leaks.NewSecret("omni-first-"), leaks.NewSecret("omni-second-")}
	var n atomic.Int32
	src := shopcrm.TokenFunc(func(context.Context) (shopcrm.Secret, error) {
		return toks[min(int(n.Add(1))-1, 1)], nil
	})
	c, err := omnisend.New(omnisend.OAuth(src), omnisend.WithBaseURL(echo.URL))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, _, err := c.Contacts.Get(context.Background(), "c-1")
		if !errors.Is(err, omnisend.ErrUnauthorized) {
			t.Errorf("call %d: %v", i+1, err)
		}
		leaks.CheckErr(t, fmt.Sprintf("call %d", i+1), err)
		var ae *omnisend.APIError
		if errors.As(err, &ae) {
			leaks.Check(t, fmt.Sprintf("call %d: APIError", i+1), fmt.Sprintf("%+v", *ae))
		}
	}
}

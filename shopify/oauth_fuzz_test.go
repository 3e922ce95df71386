package shopify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/shopify"
)

// FuzzVerifyCallback feeds raw callback queries (seeds in
// testdata/fuzz/FuzzVerifyCallback). Whatever the input, the verifier
// returns a *CallbackError or a callback that passes every check as
// recomputed here.
func FuzzVerifyCallback(f *testing.F) {
	f.Add(kaQuery().Encode())
	shopRe := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$`)
	a := testApp(f, time.Unix(kaNow, 0))
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		cb, err := a.VerifyCallback(q, "0.6784241404160823")
		if err != nil {
			var ce *shopify.CallbackError
			if !errors.As(err, &ce) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		want := url.Values{}
		for k, v := range q {
			if k != "hmac" && k != "signature" {
				want[k] = v
			}
		}
		resign(want)
		if !strings.EqualFold(want.Get("hmac"), q.Get("hmac")) {
			t.Fatalf("accepted %q with a wrong hmac", raw)
		}
		if !shopRe.MatchString(q.Get("shop")) || cb.Shop != strings.ToLower(q.Get("shop")) {
			t.Fatalf("accepted shop %q", q.Get("shop"))
		}
	})
}

// FuzzVerifySessionToken feeds raw session tokens (seeds in
// testdata/fuzz/FuzzVerifySessionToken). An accepted token must carry
// alg HS256 and a signature recomputed here.
func FuzzVerifySessionToken(f *testing.F) {
	f.Add(jwt(hs256, payload, kaSecret))
	a := testApp(f, time.Unix(kaNow, 0))
	f.Fuzz(func(t *testing.T, tok string) {
		st, err := a.VerifySessionToken(shopify.NewSecret(tok))
		if err != nil {
			var se *shopify.SessionTokenError
			if !errors.As(err, &se) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		parts := strings.Split(tok, ".")
		m := hmac.New(sha256.New, []byte(kaSecret))
		m.Write([]byte(parts[0] + "." + parts[1]))
		if parts[2] != base64.RawURLEncoding.EncodeToString(m.Sum(nil)) {
			t.Fatalf("accepted %q with a wrong signature", tok)
		}
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		if !strings.Contains(string(h), `"HS256"`) || !strings.HasSuffix(st.Shop, ".myshopify.com") {
			t.Fatalf("accepted %q", tok)
		}
	})
}

// FuzzSessionTokenFromRequest feeds Authorization headers (seeds in
// testdata/fuzz/FuzzSessionTokenFromRequest). A token is found only in a
// Bearer header, non-empty, with no surrounding space, and is exactly what
// follows the scheme.
func FuzzSessionTokenFromRequest(f *testing.F) {
	f.Add("Bearer " + jwt(hs256, payload, kaSecret))
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest(http.MethodGet, "/app", nil)
		r.Header.Set("Authorization", h)
		tok, ok := shopify.SessionTokenFromRequest(r)
		if !ok {
			if !tok.IsZero() {
				t.Fatalf("%q: a token without ok", h)
			}
			return
		}
		v := tok.Reveal()
		if v == "" || v != strings.TrimSpace(v) || !strings.EqualFold(h[:7], "Bearer ") || strings.TrimSpace(h[7:]) != v {
			t.Fatalf("%q gave token %q", h, v)
		}
	})
}

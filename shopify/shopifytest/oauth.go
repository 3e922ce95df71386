package shopifytest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm/internal/fake"
	"github.com/shopcrm/shopcrm/shopify"
)

// The app credentials the fake's token endpoint accepts unless
// [WithOAuthClient] says otherwise.
const (
	DefaultClientID     = "fake-client-id"
	DefaultClientSecret = "fake-client-secret-0123456789"
)

// ExpiringTokenTTL is the lifetime the fake gives an expiring offline
// token (expires_in), as Shopify does: one hour.
const ExpiringTokenTTL = time.Hour

// oauthConfig is the app the fake's token endpoint serves.
type oauthConfig struct {
	clientID, secret string
}

// oauthState is what the token endpoint issued. The zero value is ready.
type oauthState struct {
	mu      sync.Mutex
	codes   map[string]bool // issued and not yet used
	refresh map[string]bool // live refresh tokens
}

// issue adds a new random single-use token to *m and returns it.
func (o *oauthState) issue(m *map[string]bool) string {
	tok := randomToken()
	o.mu.Lock()
	defer o.mu.Unlock()
	if *m == nil {
		*m = map[string]bool{}
	}
	(*m)[tok] = true
	return tok
}

// take spends tok from *m, reporting whether it was there.
func (o *oauthState) take(m *map[string]bool, tok string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	ok := (*m)[tok]
	delete(*m, tok)
	return ok
}

// WithOAuthClient sets the client id and secret of the app the fake's
// token endpoint serves (default [DefaultClientID], [DefaultClientSecret]).
func WithOAuthClient(clientID, clientSecret string) Option {
	return func(c *config) { c.oauth = oauthConfig{clientID, clientSecret} }
}

func (s *Server) oauthApp() (id, secret string) {
	if s.cfg.oauth.clientID == "" {
		return DefaultClientID, DefaultClientSecret
	}
	return s.cfg.oauth.clientID, s.cfg.oauth.secret
}

// App returns a real shopify.App with the fake's client credentials,
// pointed at its token endpoint and on its clock.
func (s *Server) App(opts ...shopify.AppOption) *shopify.App {
	id, secret := s.oauthApp()
	base := []shopify.AppOption{shopify.WithAppBaseURL(s.URL()), shopify.WithAppClock(s.Now)}
	a, err := shopify.NewApp(id, shopify.NewSecret(secret), append(base, opts...)...)
	if err != nil {
		panic("shopifytest: " + err.Error())
	}
	return a
}

// Approve plays the merchant approving an install: it reads an authorize
// URL made by [shopify.App.AuthorizeURL] for [Shop] and returns the query
// Shopify would send to the redirect URI (code, hmac, host, shop, state,
// timestamp), signed with the fake's client secret. It fails on a URL for
// another shop or client id, or without a redirect URI or state.
func (s *Server) Approve(authorizeURL string) (url.Values, error) {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return nil, err
	}
	id, secret := s.oauthApp()
	q := u.Query()
	switch {
	case u.Path != shopify.AuthorizePath:
		return nil, errors.New("shopifytest: not an authorize URL")
	case u.Host != Shop:
		return nil, errors.New("shopifytest: authorize URL for another shop")
	case q.Get("client_id") != id:
		return nil, errors.New("shopifytest: unknown client_id")
	case q.Get("redirect_uri") == "" || q.Get("state") == "":
		return nil, errors.New("shopifytest: redirect_uri and state are required")
	}
	code := s.oauth.issue(&s.oauth.codes)
	cb := url.Values{
		"code":      {code},
		"host":      {base64.RawStdEncoding.EncodeToString([]byte(Shop + "/admin"))},
		"shop":      {Shop},
		"state":     {q.Get("state")},
		"timestamp": {strconv.FormatInt(s.Now().Unix(), 10)},
	}
	cb.Set("hmac", SignQuery(cb, secret))
	return cb, nil
}

// SignQuery returns the hex HMAC-SHA256, keyed with secret, of q's
// parameters but hmac and signature, sorted by key and joined as
// k=v&k=v: the hmac parameter of an install callback.
func SignQuery(q url.Values, secret string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "hmac" && k != "signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + q.Get(k)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strings.Join(parts, "&")))
	return hex.EncodeToString(m.Sum(nil))
}

// SessionToken mints an App Bridge session token for [Shop] and user sub,
// valid for ttl on the fake's clock, signed HS256 with the fake's client
// secret.
func (s *Server) SessionToken(sub string, ttl time.Duration) string {
	id, secret := s.oauthApp()
	now := s.Now()
	return SignSessionToken(secret, map[string]any{
		"iss":  "https://" + Shop + "/admin",
		"dest": "https://" + Shop,
		"aud":  id,
		"sub":  sub,
		"exp":  now.Add(ttl).Unix(),
		"nbf":  now.Unix(),
		"iat":  now.Unix(),
		"jti":  randomToken(),
		"sid":  randomToken(),
	})
}

// SignSessionToken encodes claims as an HS256 JWT signed with secret.
func SignSessionToken(secret string, claims map[string]any) string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p, _ := json.Marshal(claims)
	signed := h + "." + enc.EncodeToString(p)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(m.Sum(nil))
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tokenParams are the parameters each grant of the token endpoint takes,
// as shopify.md documents them (expiring: the newer libraries' flag for
// expiring offline tokens).
var tokenParams = map[string][]string{
	"": {"client_id", "client_secret", "code", "expiring"},
	"urn:ietf:params:oauth:grant-type:token-exchange": {"client_id", "client_secret", "grant_type", "subject_token",
		"subject_token_type", "requested_token_type", "expiring"},
	"refresh_token": {"client_id", "client_secret", "grant_type", "refresh_token"},
}

// unknownTokenParam returns a parameter of p its grant does not take, so
// that a client sending an invented one fails against the fake.
func unknownTokenParam(p map[string]any) string {
	gt, _ := p["grant_type"].(string)
	allowed, ok := tokenParams[gt]
	if !ok {
		return "" // the grant_type check answers
	}
	for k := range p {
		if !slices.Contains(allowed, k) {
			return k
		}
	}
	return ""
}

// oauthError is the fake's body for a refused token request.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	fake.WriteJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

// serveOAuth answers POST /admin/oauth/access_token: the code exchange
// (code), token exchange (grant_type token-exchange with a session token)
// and refresh (grant_type refresh_token). Every token it hands out is the
// one the fake's Admin API accepts ([WithToken]); expiry is reported, not
// enforced. An online token reports a 24-hour expires_in (the fake's
// choice) and the session token's numeric sub as associated_user.id.
// Refusals are 400 or 401 with an OAuth error body (error,
// error_description), the fake's choice of shape.
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		fake.WriteJSON(w, http.StatusMethodNotAllowed, errorBody(http.StatusMethodNotAllowed))
		return
	}
	p := map[string]any{}
	if err := json.Unmarshal(body, &p); err != nil {
		form, ferr := url.ParseQuery(string(body))
		if ferr != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "body must be JSON or a form")
			return
		}
		for k := range form {
			p[k] = form.Get(k)
		}
	}
	str := func(k string) string {
		switch v := p[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	if k := unknownTokenParam(p); k != "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "parameter "+strconv.Quote(k)+" is not one this grant takes")
		return
	}
	id, secret := s.oauthApp()
	if str("client_id") != id || !hmac.Equal([]byte(str("client_secret")), []byte(secret)) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client_id or wrong client_secret")
		return
	}
	expiring := str("expiring") == "1"
	online, userID := false, int64(0)
	switch gt := str("grant_type"); gt {
	case "":
		if !s.oauth.take(&s.oauth.codes, str("code")) {
			oauthError(w, http.StatusBadRequest, "invalid_request", "the authorization code was not found or was already used")
			return
		}
	case "urn:ietf:params:oauth:grant-type:token-exchange":
		if str("subject_token_type") != "urn:ietf:params:oauth:token-type:id_token" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "subject_token_type must be an id_token")
			return
		}
		st, err := s.App().VerifySessionToken(shopify.NewSecret(str("subject_token")))
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_subject_token", "the session token is invalid or expired")
			return
		}
		switch str("requested_token_type") {
		case "urn:shopify:params:oauth:token-type:offline-access-token":
		case "urn:shopify:params:oauth:token-type:online-access-token":
			online = true
			userID, _ = strconv.ParseInt(st.UserID, 10, 64)
		default:
			oauthError(w, http.StatusBadRequest, "invalid_request", "unknown requested_token_type")
			return
		}
	case "refresh_token":
		if !s.oauth.take(&s.oauth.refresh, str("refresh_token")) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token was not found or was already used")
			return
		}
		expiring = true
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type not supported by the fake")
		return
	}
	resp := map[string]any{"access_token": s.cfg.token, "scope": strings.Join(s.cfg.scopes, ",")}
	switch {
	case online:
		resp["expires_in"] = int64(24 * time.Hour / time.Second)
		resp["associated_user_scope"] = resp["scope"]
		resp["associated_user"] = map[string]any{"id": userID}
	case expiring:
		resp["expires_in"] = int64(ExpiringTokenTTL / time.Second)
		resp["refresh_token"] = s.oauth.issue(&s.oauth.refresh)
	}
	fake.WriteJSON(w, http.StatusOK, resp)
}

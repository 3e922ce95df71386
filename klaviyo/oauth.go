package klaviyo

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// Klaviyo's OAuth endpoints. Token traffic must go to a.klaviyo.com:
// since 2025-03-31 Klaviyo blocks it on www.klaviyo.com.
const (
	DefaultAuthorizeURL = "https://klaviyo.com/oauth/authorize"
	DefaultTokenURL     = DefaultBaseURL + "/oauth/token"
)

// OAuthConfig is an OAuth app: the authorization-code flow with PKCE
// (S256) and refresh tokens.
type OAuthConfig struct {
	ClientID     string
	ClientSecret Secret
	RedirectURI  string
	Scopes       []string // "profiles:read", "events:write", ...
	AuthorizeURL string   // default DefaultAuthorizeURL
	TokenURL     string   // default DefaultTokenURL
	HTTPClient   *http.Client
	// Codes, when set, remembers the authorization codes exchanged (by a
	// hash, never the code), so that Exchange refuses a replayed code
	// locally with a [CheckReplay] *CallbackError instead of sending it.
	// Without it the token endpoint refuses a spent code (invalid_grant:
	// an *OAuthError matching ErrUnauthorized).
	Codes shopcrm.DedupeStore
}

// ErrInvalidCallback matches every *CallbackError; see
// [shopcrm.ErrInvalidCallback].
var ErrInvalidCallback = shopcrm.ErrInvalidCallback

// CallbackError reports an authorization redirect (or its code) refused
// before any token request; see [shopcrm.CallbackError]. It never holds
// the code or the state.
type CallbackError = shopcrm.CallbackError

// CallbackCheck names the check a redirect failed.
type CallbackCheck = shopcrm.CallbackCheck

// The checks of [OAuthConfig.VerifyCallback] (in this order) and
// [OAuthConfig.Exchange].
const (
	CheckParams CallbackCheck = "params" // a parameter repeated, or the code missing
	CheckState  CallbackCheck = "state"  // state is not the one the request was made with
	CheckDenied CallbackCheck = "denied" // the redirect carries an error: the merchant declined
	CheckReplay CallbackCheck = "replay" // the code was exchanged (or is being exchanged) already
)

func callbackError(check CallbackCheck, reason string) *CallbackError {
	return &CallbackError{Platform: "klaviyo", Check: check, Reason: reason}
}

// VerifyCallback checks the query of the redirect to RedirectURI and
// returns its authorization code: no parameter repeated, state equal to
// wantState (the one given to AuthCodeURL, kept with the merchant's
// session; compared in constant time), no error parameter (RFC 6749
// §4.1.2.1: the merchant declined, or the request was refused), and a
// code. The first failing check comes back as a *CallbackError. Then give
// the code and the PKCE verifier kept with the state to Exchange.
func (c OAuthConfig) VerifyCallback(query url.Values, wantState string) (string, error) {
	for k, vs := range query {
		if len(vs) != 1 {
			return "", callbackError(CheckParams, "parameter "+strconv.Quote(shorten(k))+" given more than once")
		}
	}
	if wantState == "" || !hmac.Equal([]byte(query.Get("state")), []byte(wantState)) {
		return "", callbackError(CheckState, "does not match the state of the authorization request")
	}
	if e := query.Get("error"); e != "" {
		return "", callbackError(CheckDenied, "the authorization server answered "+strconv.Quote(shorten(e)))
	}
	code := query.Get("code")
	if code == "" {
		return "", callbackError(CheckParams, "missing code")
	}
	return code, nil
}

func shorten(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// validVerifier reports whether v is a PKCE code verifier: 43 to 128
// unreserved characters (RFC 7636 §4.1).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
			return false
		}
	}
	return true
}

// PKCE is a code verifier and its S256 challenge. Keep the verifier with
// the state of the authorization request; send the challenge.
type PKCE struct {
	Verifier  Secret
	Challenge string
}

// NewPKCE returns a fresh verifier (43 characters from 32 random bytes,
// as RFC 7636 recommends) and its challenge.
func NewPKCE() (PKCE, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return PKCE{}, err
	}
	v := base64.RawURLEncoding.EncodeToString(b[:])
	return PKCE{Verifier: NewSecret(v), Challenge: PKCEChallenge(v)}, nil
}

// PKCEChallenge is the S256 challenge of a verifier:
// BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2).
func PKCEChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// AuthCodeURL is where to send the merchant to approve the app, with
// state (to check on the redirect) and the PKCE challenge.
func (c OAuthConfig) AuthCodeURL(state string, p PKCE) (string, error) {
	if c.ClientID == "" || c.RedirectURI == "" {
		return "", invalid("OAuthConfig", "", "ClientID and RedirectURI are required")
	}
	if state == "" {
		return "", invalid("state", "", "empty: it is what ties the redirect to this request")
	}
	base := c.AuthorizeURL
	if base == "" {
		base = DefaultAuthorizeURL
	}
	q := url.Values{"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {c.RedirectURI},
		"scope": {strings.Join(c.Scopes, " ")}, "state": {state}, "code_challenge_method": {"S256"}, "code_challenge": {p.Challenge}}
	return base + "?" + q.Encode(), nil
}

// OAuthToken is what the token endpoint issues.
type OAuthToken struct {
	AccessToken  Secret
	RefreshToken Secret
	Expiry       time.Time
	Scope        string
}

// OAuthError is an error answer of the token endpoint.
type OAuthError struct {
	Status      int
	Code        string // "invalid_grant", "invalid_client", ...
	Description string
}

// Error describes the answer.
func (e *OAuthError) Error() string {
	return fmt.Sprintf("klaviyo: oauth token endpoint: %d %s: %s", e.Status, e.Code, e.Description)
}

// Is matches ErrUnauthorized for a refused client or grant.
func (e *OAuthError) Is(target error) bool {
	return target == ErrUnauthorized && (e.Code == "invalid_client" || e.Code == "invalid_grant" || e.Status == http.StatusUnauthorized)
}

// Exchange trades an authorization code and its PKCE verifier for tokens.
// A verifier that is not 43 to 128 unreserved characters is an
// *InputError, and a code already exchanged is a [CheckReplay]
// *CallbackError when Codes is set, both before anything is sent. A code
// whose exchange failed is forgotten again, so that it may be retried.
func (c OAuthConfig) Exchange(ctx context.Context, code string, verifier Secret) (*OAuthToken, error) {
	if code == "" || verifier.IsZero() {
		return nil, invalid("code", "", "the code and the PKCE verifier are required")
	}
	if !validVerifier(verifier.Reveal()) {
		return nil, invalid("verifier", "", "not a PKCE code verifier: 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
	}
	var key string
	if c.Codes != nil {
		sum := sha256.Sum256([]byte(c.ClientID + "\x00" + code))
		key = "klaviyo-code:" + base64.RawURLEncoding.EncodeToString(sum[:])
		fresh, err := c.Codes.Claim(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("klaviyo: code store: %w", err)
		}
		if !fresh {
			return nil, callbackError(CheckReplay, "the code was exchanged already")
		}
	}
	t, err := c.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {verifier.Reveal()}, "redirect_uri": {c.RedirectURI}})
	if err != nil && key != "" {
		_ = c.Codes.Release(context.WithoutCancel(ctx), key)
	}
	return t, err
}

// Refresh trades a refresh token for a new access token.
func (c OAuthConfig) Refresh(ctx context.Context, refresh Secret) (*OAuthToken, error) {
	if refresh.IsZero() {
		return nil, invalid("refresh", "", "empty refresh token")
	}
	t, err := c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh.Reveal()}})
	if err == nil && t.RefreshToken.IsZero() {
		t.RefreshToken = refresh
	}
	return t, err
}

// token posts a grant with the client's Basic credentials; it is sent
// once (a code is single-use).
func (c OAuthConfig) token(ctx context.Context, form url.Values) (*OAuthToken, error) {
	if c.ClientID == "" || c.ClientSecret.IsZero() {
		return nil, invalid("OAuthConfig", "", "ClientID and ClientSecret are required")
	}
	u := c.TokenURL
	if u == "" {
		u = DefaultTokenURL
	}
	if _, err := transport.CheckBaseURL("OAuthConfig.TokenURL", u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.ClientID, c.ClientSecret.Reveal())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := c.HTTPClient
	if hc == nil {
		hc = transport.NewHTTPClient(1)
	}
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	now := time.Now()
	resp, err := noRedirect.Do(req)
	if err != nil {
		// The form carried secrets; the *url.Error names only the URL.
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var w struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
		Scope        string `json:"scope"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	_ = json.Unmarshal(b, &w)
	if resp.StatusCode != http.StatusOK || w.AccessToken == "" {
		code := w.Error
		if code == "" {
			code = http.StatusText(resp.StatusCode)
		}
		// The answer may quote what the request carried: the client
		// secret, the code and its verifier, the refresh token.
		red := transport.NewRedactor()
		red.Add(c.ClientSecret.Reveal(), form.Get("code"), form.Get("code_verifier"), form.Get("refresh_token"))
		return nil, &OAuthError{Status: resp.StatusCode, Code: red.String(code), Description: red.String(w.Description)}
	}
	t := &OAuthToken{AccessToken: NewSecret(w.AccessToken), Scope: w.Scope}
	if w.RefreshToken != "" {
		t.RefreshToken = NewSecret(w.RefreshToken)
	}
	if w.ExpiresIn > 0 {
		// Bounded: a huge expires_in would overflow into an expiry in
		// the past, and every use of the token would refresh it.
		t.Expiry = now.Add(time.Duration(min(w.ExpiresIn, maxExpiresIn)) * time.Second)
	}
	return t, nil
}

// maxExpiresIn bounds the expires_in of a token answer, in seconds: a
// year, far beyond the hour Klaviyo's access tokens last.
const maxExpiresIn = 365 * 24 * 3600

// OAuthTokenSource is a TokenSource that refreshes its access token a
// minute before it expires, one refresh at a time, and reports each new
// token to OnRefresh (to store it: Klaviyo may rotate the refresh token).
// It is safe for concurrent use.
type OAuthTokenSource struct {
	cfg       OAuthConfig
	onRefresh func(OAuthToken)
	mu        sync.Mutex
	tok       OAuthToken
}

// NewOAuthTokenSource starts from tok (from Exchange, or stored).
func NewOAuthTokenSource(cfg OAuthConfig, tok OAuthToken, onRefresh func(OAuthToken)) *OAuthTokenSource {
	return &OAuthTokenSource{cfg: cfg, tok: tok, onRefresh: onRefresh}
}

// Token returns a valid access token, refreshing it when needed.
func (s *OAuthTokenSource) Token(ctx context.Context) (Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tok.AccessToken.IsZero() && (s.tok.Expiry.IsZero() || time.Until(s.tok.Expiry) > time.Minute) {
		return s.tok.AccessToken, nil
	}
	t, err := s.cfg.Refresh(ctx, s.tok.RefreshToken)
	if err != nil {
		return Secret{}, err
	}
	s.tok = *t
	if s.onRefresh != nil {
		s.onRefresh(*t)
	}
	return t.AccessToken, nil
}

// Invalidate drops the access token, so the next Token refreshes: call it
// after a 401.
func (s *OAuthTokenSource) Invalidate() {
	s.mu.Lock()
	s.tok.AccessToken = Secret{}
	s.mu.Unlock()
}

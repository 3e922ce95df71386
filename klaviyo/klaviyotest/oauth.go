package klaviyotest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"time"

	"github.com/shopcrm/shopcrm/internal/fake"
	"github.com/shopcrm/shopcrm/klaviyo"
)

// OAuthApp is the OAuth app the server's token endpoint knows.
type OAuthApp struct {
	ClientID     string
	ClientSecret string
	RedirectURI  string
}

// DefaultOAuthApp is the app a new Server knows.
func DefaultOAuthApp() OAuthApp {
	return OAuthApp{ClientID: "klaviyotest-client", ClientSecret: "klaviyotest-client-secret", RedirectURI: "https://app.example.com/oauth/callback"}
}

// WithOAuthApp sets the OAuth app the token endpoint accepts.
func WithOAuthApp(a OAuthApp) Option { return func(c *config) { c.oauth = a } }

// AccessTokenTTL is how long the server's access tokens live.
const AccessTokenTTL = time.Hour

type grant struct {
	challenge, redirect, scope string
	used                       bool
}

type oauthState struct {
	codes   map[string]*grant
	access  map[string]time.Time // token → expiry
	refresh map[string]string    // refresh token → scope
}

func newOAuthState() *oauthState {
	return &oauthState{codes: map[string]*grant{}, access: map[string]time.Time{}, refresh: map[string]string{}}
}

func (o *oauthState) valid(tok string, now time.Time) bool {
	exp, ok := o.access[tok]
	return ok && now.Before(exp)
}

// Authorize stands for a merchant approving the app on Klaviyo's consent
// page: it returns the authorization code the redirect would carry, bound
// to the PKCE S256 challenge and the redirect URI.
func (s *Server) Authorize(challenge, redirectURI, scope string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := "code-" + newUUID()
	s.oauth.codes[code] = &grant{challenge: challenge, redirect: redirectURI, scope: scope}
	return code
}

// OAuthApp returns the app the token endpoint accepts.
func (s *Server) OAuthApp() OAuthApp { return s.cfg.oauth }

// ExpireAccessTokens makes every access token issued so far invalid, as
// when an hour has passed.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.oauth.access {
		s.oauth.access[t] = time.Time{}
	}
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	fake.WriteJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

// tokenEndpoint serves POST /oauth/token: the client authenticates with
// HTTP Basic (client id and secret); grant_type authorization_code needs
// the code, the redirect URI it was issued for and the PKCE verifier whose
// S256 hash is the challenge; refresh_token needs a refresh token.
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request, body []byte) {
	id, secret, ok := r.BasicAuth()
	app := s.cfg.oauth
	if !ok || id != app.ClientID || !hmac.Equal([]byte(secret), []byte(app.ClientSecret)) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The body is not a form.")
		return
	}
	var scope string
	switch form.Get("grant_type") {
	case "authorization_code":
		g := s.oauth.codes[form.Get("code")]
		switch {
		case g == nil || g.used:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid or used authorization code.")
			return
		case g.redirect != form.Get("redirect_uri"):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match.")
			return
		}
		sum := sha256.Sum256([]byte(form.Get("code_verifier")))
		if !hmac.Equal([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed.")
			return
		}
		g.used, scope = true, g.scope
	case "refresh_token":
		sc, ok := s.oauth.refresh[form.Get("refresh_token")]
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid refresh token.")
			return
		}
		scope = sc
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type.")
		return
	}
	access := "kl-access-" + newUUID()
	s.oauth.access[access] = s.base.Now().Add(AccessTokenTTL)
	refresh := form.Get("refresh_token")
	if refresh == "" {
		refresh = "kl-refresh-" + newUUID()
		s.oauth.refresh[refresh] = scope
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer",
		"expires_in": int(AccessTokenTTL.Seconds()), "refresh_token": refresh, "scope": scope})
}

// OAuthConfig returns the server's app as a client configuration pointed
// at its token endpoint.
func (s *Server) OAuthConfig(scopes ...string) klaviyo.OAuthConfig {
	a := s.cfg.oauth
	return klaviyo.OAuthConfig{ClientID: a.ClientID, ClientSecret: klaviyo.NewSecret(a.ClientSecret), RedirectURI: a.RedirectURI,
		Scopes: scopes, AuthorizeURL: s.URL() + "/oauth/authorize", TokenURL: s.URL() + "/oauth/token"}
}

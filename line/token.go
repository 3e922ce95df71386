package line

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// TokenKind is a kind of channel access token issued from a channel id and
// secret.
type TokenKind int

// Token kinds a TokenIssuer can obtain.
const (
	// Stateless tokens last 15 minutes and cannot be revoked
	// (POST /oauth2/v3/token).
	Stateless TokenKind = iota
	// ShortLived tokens last 30 days; at most 30 exist per channel
	// (POST /v2/oauth/accessToken).
	ShortLived
)

// TokenIssuer is a TokenSource that issues tokens from a channel id and
// secret and caches each until shortly before it expires. It is safe for
// concurrent use; the secret and tokens never print.
type TokenIssuer struct {
	kind      TokenKind
	channelID string
	secret    transport.Secret
	baseURL   string
	margin    time.Duration
	now       func() time.Time
	tr        *transport.Client

	mu      sync.Mutex
	tok     transport.Secret
	expires time.Time
}

// TokenOption configures a TokenIssuer.
type TokenOption func(*TokenIssuer)

// WithTokenBaseURL sets the base URL of the token endpoints (default
// DefaultAPIURL).
func WithTokenBaseURL(u string) TokenOption {
	return func(t *TokenIssuer) { t.baseURL = strings.TrimRight(u, "/") }
}

// WithTokenHTTPClient sets the HTTP client used to issue tokens.
func WithTokenHTTPClient(hc *http.Client) TokenOption {
	return func(t *TokenIssuer) { t.tr = newTokenTransport(hc) }
}

// WithRefreshMargin sets how long before expiry a token is replaced
// (default: a tenth of its lifetime, at most 5 minutes).
func WithRefreshMargin(d time.Duration) TokenOption {
	return func(t *TokenIssuer) { t.margin = d }
}

// WithTokenClock sets the clock used to decide expiry (for tests).
func WithTokenClock(now func() time.Time) TokenOption {
	return func(t *TokenIssuer) { t.now = now }
}

func newTokenTransport(hc *http.Client) *transport.Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return transport.New(transport.Config{Platform: "line", HTTPClient: hc, Retry: transport.DefaultRetryPolicy(), RequestIDHeader: headerRequestID})
}

// NewTokenIssuer returns a TokenSource issuing tokens of kind for the channel.
func NewTokenIssuer(kind TokenKind, channelID, channelSecret string, opts ...TokenOption) (*TokenIssuer, error) {
	if channelID == "" {
		return nil, invalid("channelID", "empty")
	}
	if channelSecret == "" {
		return nil, invalid("channelSecret", "empty")
	}
	if kind != Stateless && kind != ShortLived {
		return nil, invalid("kind", "unknown token kind %d", kind)
	}
	t := &TokenIssuer{kind: kind, channelID: channelID, secret: transport.NewSecret(channelSecret), baseURL: DefaultAPIURL, margin: -1, now: time.Now}
	for _, o := range opts {
		o(t)
	}
	if t.tr == nil {
		t.tr = newTokenTransport(nil)
	}
	t.tr.Redactor().AddSecret(t.secret)
	return t, nil
}

// Format prints the issuer without secrets.
func (t *TokenIssuer) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "line.TokenIssuer{channel: %s}", t.channelID)
}

// Token returns a cached token, issuing a new one when it is missing or
// about to expire.
func (t *TokenIssuer) Token(ctx context.Context) (transport.Secret, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.tok.IsZero() && t.now().Before(t.expires) {
		return t.tok, nil
	}
	path, form := "/oauth2/v3/token", url.Values{}
	if t.kind == ShortLived {
		path = "/v2/oauth/accessToken"
	}
	form.Set("grant_type", "client_credentials")
	form.Set("client_id", t.channelID)
	form.Set("client_secret", t.secret.Reveal())
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	resp, err := t.tr.Do(ctx, &transport.Request{Method: http.MethodPost, URL: t.baseURL + path, Header: h,
		Body: []byte(form.Encode()), Retry: t.kind == Stateless})
	if err != nil {
		return transport.Secret{}, wrapError(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		return transport.Secret{}, fmt.Errorf("line: token response without access_token")
	}
	t.tr.Redactor().Add(out.AccessToken)
	life := time.Duration(out.ExpiresIn) * time.Second
	margin := t.margin
	if margin < 0 {
		margin = min(life/10, 5*time.Minute)
	}
	t.tok, t.expires = transport.NewSecret(out.AccessToken), t.now().Add(life-margin)
	return t.tok, nil
}

// Revoke revokes the cached short-lived token (POST /v2/oauth/revoke) and
// forgets it, so the next Token call issues a new one. At most 30
// short-lived tokens exist per channel, so a program that stops for good
// should revoke its own. Stateless tokens cannot be revoked; for them Revoke
// only forgets the cached token.
func (t *TokenIssuer) Revoke(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok.IsZero() {
		return nil
	}
	if t.kind == ShortLived {
		form := url.Values{"access_token": {t.tok.Reveal()}}
		resp, err := t.tr.Do(ctx, &transport.Request{Method: http.MethodPost, URL: t.baseURL + "/v2/oauth/revoke",
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode()), Retry: true})
		if err != nil {
			return wrapError(err)
		}
		resp.Body.Close()
	}
	t.tok, t.expires = transport.Secret{}, time.Time{}
	return nil
}

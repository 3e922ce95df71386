package line

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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
	secret    Secret
	baseURL   string
	margin    time.Duration
	now       func() time.Time
	opts      transport.Options
	tr        *transport.Client

	mu      sync.Mutex
	tok     Secret
	expires time.Time
}

// TokenOption configures a TokenIssuer. A nil TokenOption is skipped.
type TokenOption func(*TokenIssuer) error

// WithTokenBaseURL sets the base URL of the token endpoints (default
// DefaultAPIURL; http or https).
func WithTokenBaseURL(u string) TokenOption {
	return func(t *TokenIssuer) (err error) {
		t.baseURL, err = transport.CheckBaseURL("WithTokenBaseURL", u)
		return err
	}
}

// WithTokenHTTPClient sets the HTTP client used to issue tokens.
func WithTokenHTTPClient(hc *http.Client) TokenOption {
	return func(t *TokenIssuer) error { return t.opts.SetHTTPClient(hc) }
}

// WithRefreshMargin sets how long before expiry a token is replaced
// (default: a tenth of its lifetime, at most 5 minutes).
func WithRefreshMargin(d time.Duration) TokenOption {
	return func(t *TokenIssuer) error {
		if d < 0 {
			return invalid("WithRefreshMargin", "must not be negative")
		}
		t.margin = d
		return nil
	}
}

// WithTokenClock sets the clock used to decide expiry (for tests).
func WithTokenClock(now func() time.Time) TokenOption {
	return func(t *TokenIssuer) error {
		if now == nil {
			return invalid("WithTokenClock", "must not be nil")
		}
		t.now = now
		return nil
	}
}

// NewTokenIssuer returns a TokenSource issuing tokens of kind for the
// channel, authenticating with its channel secret.
func NewTokenIssuer(kind TokenKind, channelID string, channelSecret Secret, opts ...TokenOption) (*TokenIssuer, error) {
	if channelID == "" {
		return nil, invalid("channelID", "empty")
	}
	if channelSecret.IsZero() {
		return nil, invalid("channelSecret", "empty")
	}
	if kind != Stateless && kind != ShortLived {
		return nil, invalid("kind", "unknown token kind %d", kind)
	}
	t := &TokenIssuer{kind: kind, channelID: channelID, secret: channelSecret, baseURL: DefaultAPIURL, margin: -1, now: time.Now,
		opts: transport.DefaultOptions()}
	if err := transport.Apply(t, opts); err != nil {
		return nil, err
	}
	tc := t.opts.Config("line")
	tc.WrapError = wrapAPIError
	tc.RequestIDHeader = headerRequestID
	t.tr = transport.New(tc)
	t.tr.Redactor().AddSecret(t.secret)
	return t, nil
}

// Format prints the issuer without secrets.
func (t *TokenIssuer) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "line.TokenIssuer{channel: %s}", t.channelID)
}

// Token returns a cached token, issuing a new one when it is missing or
// about to expire.
func (t *TokenIssuer) Token(ctx context.Context) (Secret, error) {
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
		Body: []byte(form.Encode()), Retry: retryIssue(t.kind)})
	if err != nil {
		return Secret{}, fmt.Errorf("line: issuing a channel access token: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		return Secret{}, fmt.Errorf("line: token response without access_token")
	}
	t.tr.Redactor().Add(out.AccessToken)
	life := time.Duration(out.ExpiresIn) * time.Second
	margin := t.margin
	if margin < 0 {
		margin = min(life/10, 5*time.Minute)
	}
	t.tok, t.expires = NewSecret(out.AccessToken), t.now().Add(life-margin)
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
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode()), Retry: idempotent})
		if err != nil {
			return fmt.Errorf("line: revoking the channel access token: %w", err)
		}
		resp.Body.Close()
	}
	t.tok, t.expires = Secret{}, time.Time{}
	return nil
}

// retryIssue is the retry class of issuing a token: a stateless token can
// be issued again at no cost, while each short-lived one counts against
// the channel's 30.
func retryIssue(k TokenKind) transport.RetryClass {
	if k == Stateless {
		return idempotent
	}
	return transport.RetryNever
}

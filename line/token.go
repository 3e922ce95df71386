package line

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm"
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
	// (POST /v2/oauth/accessToken). Issue one and share it (see
	// WithTokenStore) rather than one per process.
	ShortLived
)

// Documented lifetimes of issued tokens. A TokenIssuer takes the lifetime
// from the answer's expires_in and uses these when it is missing or not
// positive, so that a strange answer never makes it issue a token per call.
const (
	StatelessLifetime  = 15 * time.Minute
	ShortLivedLifetime = 30 * 24 * time.Hour
)

func (k TokenKind) lifetime() time.Duration {
	if k == ShortLived {
		return ShortLivedLifetime
	}
	return StatelessLifetime
}

// IssuedToken is a channel access token with the time it expires.
type IssuedToken struct {
	Token   Secret
	Expires time.Time
}

// TokenStore keeps the token a TokenIssuer issued where other processes,
// or this one after a restart, find it, so that a channel's processes share
// one short-lived token (at most 30 exist per channel) until it nears
// expiry. It is a cache, not a lock: processes that find it empty at the
// same moment each issue one. Load returns the zero IssuedToken when it
// holds none. Implementations keep the token secret (it is a Secret: it
// never prints) and must be safe for concurrent use.
type TokenStore interface {
	Load(ctx context.Context) (IssuedToken, error)
	Save(ctx context.Context, t IssuedToken) error
}

// TokenIssuer is a TokenSource that issues tokens from a channel id and
// secret and uses each until shortly before it expires, however often
// Token is called. It is safe for concurrent use; the secret and tokens
// never print. Each process holding its own issuer issues its own token;
// share one through a TokenStore (WithTokenStore), which matters for
// short-lived tokens, limited to 30 per channel.
type TokenIssuer struct {
	kind      TokenKind
	channelID string
	secret    Secret
	baseURL   string
	margin    time.Duration
	now       func() time.Time
	opts      transport.Options
	tr        *transport.Client

	store     TokenStore
	mu        sync.Mutex
	tok       Secret
	expires   time.Time // when the token expires
	refreshAt time.Time // when it is replaced: expires less the margin
	unsaved   bool      // the store's Save failed; tried again on use
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

// WithTokenStore shares issued tokens through st: Token uses a stored token
// that is not near expiry before issuing one, and saves each token it
// issues. Revoke clears it. A Load error fails Token rather than issuing:
// with the store down across restarts, issuing would spend the channel's
// 30 short-lived tokens.
func WithTokenStore(st TokenStore) TokenOption {
	return func(t *TokenIssuer) error {
		if st == nil {
			return invalid("WithTokenStore", "must not be nil")
		}
		t.store = st
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

// Token returns the cached token, else a stored one (WithTokenStore), and
// issues a new one only when neither is there or both are about to
// expire.
func (t *TokenIssuer) Token(ctx context.Context) (Secret, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fresh() {
		if t.unsaved {
			t.save(ctx)
		}
		return t.tok, nil
	}
	if t.store != nil {
		it, err := t.store.Load(ctx)
		if err != nil {
			return Secret{}, fmt.Errorf("line: loading the channel access token: %w", t.tr.Redactor().Error(err))
		}
		if !it.Token.IsZero() {
			t.tr.Redactor().AddSecret(it.Token)
			t.set(it.Token, it.Expires, t.kind.lifetime())
			if t.fresh() {
				return t.tok, nil
			}
		}
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
		return Secret{}, &shopcrm.ResponseError{Op: "POST " + path, Reason: "no access_token in the answer", Err: err}
	}
	t.tr.Redactor().Add(out.AccessToken)
	life := time.Duration(out.ExpiresIn) * time.Second
	if out.ExpiresIn <= 0 || out.ExpiresIn > int64(10*ShortLivedLifetime/time.Second) {
		life = t.kind.lifetime() // missing, zero or absurd: the documented lifetime
	}
	t.set(NewSecret(out.AccessToken), t.now().Add(life), life)
	t.save(ctx)
	return t.tok, nil
}

// fresh reports whether the cached token is there and not yet due for
// replacement.
func (t *TokenIssuer) fresh() bool { return !t.tok.IsZero() && t.now().Before(t.refreshAt) }

// set caches tok expiring at expires, to be replaced a margin before: the
// WithRefreshMargin one, else a tenth of life, at most 5 minutes.
func (t *TokenIssuer) set(tok Secret, expires time.Time, life time.Duration) {
	margin := t.margin
	if margin < 0 {
		margin = min(life/10, 5*time.Minute)
	}
	t.tok, t.expires, t.refreshAt = tok, expires, expires.Add(-margin)
}

// save stores the cached token. A failed Save does not fail Token: the
// token was issued and counts against the channel's limit, so it is used
// and saving is tried again on its next use.
func (t *TokenIssuer) save(ctx context.Context) {
	if t.store == nil {
		return
	}
	t.unsaved = t.store.Save(ctx, IssuedToken{Token: t.tok, Expires: t.expires}) != nil
}

// Revoke revokes the cached short-lived token (POST /v2/oauth/revoke) and
// forgets it, clearing the store too, so the next Token call issues a new
// one. With nothing cached (a process that has not called Token since it
// started), the stored token is the one revoked. At most 30
// short-lived tokens exist per channel, so a program that stops for good
// should revoke its own. Stateless tokens cannot be revoked; for them Revoke
// only forgets the cached token.
func (t *TokenIssuer) Revoke(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok.IsZero() && t.store != nil {
		it, err := t.store.Load(ctx)
		if err != nil {
			return fmt.Errorf("line: loading the channel access token: %w", t.tr.Redactor().Error(err))
		}
		if !it.Token.IsZero() {
			t.tr.Redactor().AddSecret(it.Token)
			t.set(it.Token, it.Expires, t.kind.lifetime())
		}
	}
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
	t.tok, t.expires, t.refreshAt, t.unsaved = Secret{}, time.Time{}, time.Time{}, false
	if t.store != nil {
		if err := t.store.Save(ctx, IssuedToken{}); err != nil {
			return fmt.Errorf("line: clearing the stored channel access token: %w", t.tr.Redactor().Error(err))
		}
	}
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

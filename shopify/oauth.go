package shopify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// OAuth defaults. Each is overridable with an [AppOption].
const (
	// DefaultCallbackMaxAge is how far the install callback's timestamp may
	// be from now, either way: 90 seconds, the tolerance of Shopify's own
	// @shopify/shopify-api library. See [WithCallbackMaxAge].
	DefaultCallbackMaxAge = 90 * time.Second
	// DefaultSessionTokenLeeway is the clock skew allowed on a session
	// token's exp and nbf: 10 seconds, as in Shopify's official libraries.
	// See [WithSessionTokenLeeway].
	DefaultSessionTokenLeeway = 10 * time.Second
	// DefaultRefreshBefore is how long before an expiring access token's
	// expiry a [App.TokenSource] refreshes it. Shopify asks apps to refresh
	// "a few minutes before" the one-hour expiry; this is our choice of
	// five. See [WithRefreshBefore].
	DefaultRefreshBefore = 5 * time.Minute
)

// Paths on the shop's host.
const (
	// AuthorizePath is where [App.AuthorizeURL] sends the merchant.
	AuthorizePath = "/admin/oauth/authorize"
	// AccessTokenPath is the token endpoint: code exchange, token exchange
	// and refresh all POST there.
	AccessTokenPath = "/admin/oauth/access_token"
)

// Token exchange vocabulary (shopify.dev, token exchange).
const (
	grantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeOffline     = "urn:shopify:params:oauth:token-type:offline-access-token"
	tokenTypeOnline      = "urn:shopify:params:oauth:token-type:online-access-token"
	grantRefreshToken    = "refresh_token" // OAuth 2.0 (RFC 6749 section 6)
	perUserGrantOption   = "per-user"
	maxCallbackParamSize = 4096
)

// installShopRe is the shop domain an install callback may name.
var installShopRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$`)

// ErrInvalidCallback matches every *CallbackError; see
// [shopcrm.ErrInvalidCallback].
var ErrInvalidCallback = shopcrm.ErrInvalidCallback

// CallbackCheck names the check an install callback failed.
type CallbackCheck = shopcrm.CallbackCheck

// The checks [App.VerifyCallback] runs, in this order.
const (
	CheckParams    CallbackCheck = "params"    // a parameter missing, repeated or too long
	CheckHMAC      CallbackCheck = "hmac"      // the signature does not match
	CheckShop      CallbackCheck = "shop"      // the shop is not name.myshopify.com
	CheckState     CallbackCheck = "state"     // state is not the nonce the app issued
	CheckTimestamp CallbackCheck = "timestamp" // timestamp unreadable or outside the window
	CheckHost      CallbackCheck = "host"      // host is not base64 of a Shopify admin host
	// CheckReplay is [App.ExchangeCode]'s: the code was exchanged (or is
	// being exchanged) already.
	CheckReplay CallbackCheck = "replay"
)

// CallbackError reports an install callback that failed a check. It
// matches ErrInvalidCallback and never holds the code or the secret; see
// [shopcrm.CallbackError].
type CallbackError = shopcrm.CallbackError

func callbackError(check CallbackCheck, reason string) *CallbackError {
	return &CallbackError{Platform: "shopify", Check: check, Reason: reason}
}

// App holds a Shopify app's credentials and calls the token endpoint of the
// shops that install it. It is safe for concurrent use.
type App struct {
	clientID string
	secret   Secret
	cfg      appConfig
	tr       *transport.Client
}

type appConfig struct {
	transport.Options
	baseURL        string
	callbackMaxAge time.Duration
	leeway         time.Duration
	refreshBefore  time.Duration
	now            func() time.Time
	previous       Secret
	codes          shopcrm.DedupeStore
}

// AppOption configures an App. A nil AppOption is skipped.
type AppOption func(*appConfig) error

// WithAppBaseURL sends token requests to base + [AccessTokenPath] instead of
// https://{shop} + [AccessTokenPath]; used to point the app at a fake.
func WithAppBaseURL(base string) AppOption {
	return func(c *appConfig) (err error) {
		c.baseURL, err = transport.CheckBaseURL("WithAppBaseURL", base)
		return err
	}
}

// WithAppHTTPClient uses hc for token requests; redirects are never
// followed.
func WithAppHTTPClient(hc *http.Client) AppOption {
	return func(c *appConfig) error { return c.SetHTTPClient(hc) }
}

// WithAppRetryPolicy sets the retry policy of token requests. They are
// retried only on answers proving they did not run (429), since a code and
// a refresh token are good once.
func WithAppRetryPolicy(p RetryPolicy) AppOption {
	return func(c *appConfig) error { return c.SetRetry(p) }
}

// WithAppLogger logs token requests' retries to l; secrets never reach it.
func WithAppLogger(l *slog.Logger) AppOption {
	return func(c *appConfig) error { c.Logger = l; return nil }
}

// WithAppClock replaces time.Now for the timestamp, session-token and
// expiry checks (tests and fakes use their own clock).
func WithAppClock(now func() time.Time) AppOption {
	return func(c *appConfig) error {
		if now == nil {
			return &InputError{Field: "WithAppClock", Reason: "must not be nil"}
		}
		c.now = now
		return nil
	}
}

// WithCallbackMaxAge sets how far an install callback's timestamp may be
// from now (default [DefaultCallbackMaxAge]).
func WithCallbackMaxAge(d time.Duration) AppOption {
	return func(c *appConfig) error {
		if d <= 0 {
			return &InputError{Field: "WithCallbackMaxAge", Reason: "must be positive"}
		}
		c.callbackMaxAge = d
		return nil
	}
}

// WithSessionTokenLeeway sets the clock skew allowed on session tokens'
// exp and nbf (default [DefaultSessionTokenLeeway]).
func WithSessionTokenLeeway(d time.Duration) AppOption {
	return func(c *appConfig) error {
		if d < 0 || d > time.Minute {
			return &InputError{Field: "WithSessionTokenLeeway", Reason: "must be between 0 and 1m"}
		}
		c.leeway = d
		return nil
	}
}

// WithRefreshBefore sets how long before expiry a token source refreshes
// an expiring access token (default [DefaultRefreshBefore]).
func WithRefreshBefore(d time.Duration) AppOption {
	return func(c *appConfig) error {
		if d < 0 || d >= time.Hour {
			return &InputError{Field: "WithRefreshBefore", Reason: "must be between 0 and 1h"}
		}
		c.refreshBefore = d
		return nil
	}
}

// WithPreviousClientSecret also accepts install callbacks and session
// tokens signed with the secret being rotated out. Shopify signs with the
// old secret until the rotation is finished, so an app verifying with the
// new one alone would refuse real requests meanwhile. Token requests always
// use the current secret.
func WithPreviousClientSecret(previous Secret) AppOption {
	return func(c *appConfig) error {
		if previous.IsZero() {
			return &InputError{Field: "WithPreviousClientSecret", Reason: "must not be empty"}
		}
		c.previous = previous
		return nil
	}
}

// DefaultCodeMemory is how long an App's own store remembers the codes it
// exchanged, to refuse a replayed callback locally: longer than the
// callback window, after which the timestamp check refuses it anyway.
const DefaultCodeMemory = 10 * time.Minute

// WithCodeDedupe sets the store in which [App.ExchangeCode] claims each
// code before sending it, so that a replayed callback (or a double submit)
// is refused locally with a [CheckReplay] *CallbackError instead of
// reaching Shopify, which would refuse the spent code. The key is a hash
// of the shop and the code, never the code. By default an App keeps an
// in-process store ([DefaultCodeMemory]); share one between processes
// that serve the same app.
func WithCodeDedupe(store shopcrm.DedupeStore) AppOption {
	return func(c *appConfig) error {
		if store == nil {
			return &InputError{Field: "WithCodeDedupe", Reason: "must not be nil"}
		}
		c.codes = store
		return nil
	}
}

// NewApp returns an App for the client id (API key) and client secret
// shown in the Partner Dashboard.
func NewApp(clientID string, clientSecret Secret, opts ...AppOption) (*App, error) {
	if clientID == "" {
		return nil, &InputError{Field: "clientID", Reason: "must not be empty"}
	}
	if clientSecret.IsZero() {
		return nil, &InputError{Field: "clientSecret", Reason: "must not be empty"}
	}
	cfg := appConfig{
		Options:        transport.DefaultOptions(),
		callbackMaxAge: DefaultCallbackMaxAge,
		leeway:         DefaultSessionTokenLeeway,
		refreshBefore:  DefaultRefreshBefore,
		now:            time.Now,
	}
	if err := transport.Apply(&cfg, opts); err != nil {
		return nil, err
	}
	tc := cfg.Config("shopify")
	tc.CheckRetry = checkRetry
	tc.WrapError = wrapAPIError
	tc.RequestIDHeader = "X-Request-Id"
	if cfg.codes == nil {
		cfg.codes = shopcrm.NewMemoryDedupe(DefaultCodeMemory, 0)
	}
	a := &App{clientID: clientID, secret: clientSecret, cfg: cfg, tr: transport.New(tc)}
	a.tr.Redactor().AddSecret(clientSecret)
	a.tr.Redactor().AddSecret(cfg.previous)
	return a, nil
}

// verifySecrets are the secrets a signature from Shopify may be made with:
// the current one and, during a rotation, the previous one.
func (a *App) verifySecrets() []Secret {
	if a.cfg.previous.IsZero() {
		return []Secret{a.secret}
	}
	return []Secret{a.secret, a.cfg.previous}
}

// ClientID returns the app's client id.
func (a *App) ClientID() string { return a.clientID }

// String describes the app without its secret.
func (a *App) String() string { return "shopify.App{client_id: " + a.clientID + "}" }

// GoString describes the app without its secret.
func (a *App) GoString() string { return a.String() }

// Format prints the app without its secret for every verb.
func (a *App) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(a.String())) }

// NewState returns a random nonce (32 bytes, base64url) for the state
// parameter. Keep it with the browser session and give it back to
// [App.VerifyCallback].
func NewState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// AuthorizeRequest is what [App.AuthorizeURL] asks the merchant for.
type AuthorizeRequest struct {
	// Scopes are the access scopes requested ("read_customers", ...),
	// sent comma-separated.
	Scopes []string
	// RedirectURI is where Shopify sends the merchant back; it must be one
	// of the app's allowed redirection URLs.
	RedirectURI string
	// State is the nonce from [NewState].
	State string
	// Online asks for an online (per-user) access token: the request
	// carries grant_options[]=per-user. Offline is the default.
	Online bool
}

// AuthorizeURL returns https://{shop}/admin/oauth/authorize with client_id,
// scope, redirect_uri, state and, for online tokens,
// grant_options[]=per-user. shop must be name.myshopify.com.
func (a *App) AuthorizeURL(shop string, r AuthorizeRequest) (string, error) {
	shop, err := checkInstallShop("shop", shop)
	if err != nil {
		return "", err
	}
	if r.State == "" {
		return "", &InputError{Field: "State", Reason: "must not be empty; use NewState"}
	}
	ru, err := url.Parse(r.RedirectURI)
	if err != nil || ru.Host == "" || (ru.Scheme != "https" && ru.Scheme != "http") {
		return "", &InputError{Field: "RedirectURI", Value: r.RedirectURI, Reason: "must be an absolute http(s) URL"}
	}
	for i, s := range r.Scopes {
		if s == "" || strings.ContainsAny(s, ", ") {
			return "", &InputError{Field: "Scopes[" + strconv.Itoa(i) + "]", Value: s, Reason: "must be one non-empty scope handle"}
		}
	}
	q := url.Values{
		"client_id":    {a.clientID},
		"scope":        {strings.Join(r.Scopes, ",")},
		"redirect_uri": {r.RedirectURI},
		"state":        {r.State},
	}
	if r.Online {
		q.Set("grant_options[]", perUserGrantOption)
	}
	return "https://" + shop + AuthorizePath + "?" + q.Encode(), nil
}

// adminHost reports whether host (the callback's host parameter) is
// base64, padded or not, of a host under one of the domains Shopify's own
// libraries accept for it (sanitizeHost in @shopify/shopify-api): the
// shop's name.myshopify.com/admin or admin.shopify.com/store/name.
func adminHost(host string) bool {
	var raw []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(host); err == nil {
			raw = b
			break
		}
	}
	if raw == nil {
		return false
	}
	u, err := url.Parse("https://" + string(raw))
	if err != nil || u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, d := range []string{"myshopify.com", "shopify.com", "myshopify.io", "shop.dev"} {
		if strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

func checkInstallShop(field, shop string) (string, error) {
	if !installShopRe.MatchString(shop) {
		return "", &InputError{Field: field, Value: shorten(shop), Reason: "must look like name.myshopify.com"}
	}
	return strings.ToLower(shop), nil
}

func shorten(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Callback is a verified install callback.
type Callback struct {
	// Shop is the shop domain, lower-cased.
	Shop string
	// Code is the authorization code for [App.ExchangeCode].
	Code Secret
	// Host is the host parameter as sent (base64 of the shop's admin host).
	Host string
	// Timestamp is when Shopify made the redirect.
	Timestamp time.Time
}

// VerifyCallback checks the query of the redirect Shopify sends to the
// app's redirect URI after the merchant approves: the hmac parameter is
// HMAC-SHA256, hex in lower case, keyed with the client secret, over the
// other parameters (hmac and the legacy signature left out) decoded,
// sorted by key and joined as k=v&k=v; the shop is name.myshopify.com;
// state equals the nonce the app issued (wantState); the timestamp is
// within the callback window of now; host, when present, is base64 of a
// Shopify admin host (as Shopify's own libraries require before
// redirecting there). A parameter given twice fails the params check. The
// first failing check comes back as a *CallbackError.
func (a *App) VerifyCallback(query url.Values, wantState string) (*Callback, error) {
	for _, k := range []string{"code", "hmac", "shop", "state", "timestamp"} {
		if len(query[k]) == 0 || query[k][0] == "" {
			return nil, callbackError(CheckParams, "missing "+k)
		}
	}
	if err := verifyQueryHMAC(query, a.verifySecrets()); err != nil {
		return nil, err
	}
	shop, err := checkInstallShop("shop", query.Get("shop"))
	if err != nil {
		return nil, callbackError(CheckShop, "not name.myshopify.com")
	}
	if wantState == "" || !hmac.Equal([]byte(query.Get("state")), []byte(wantState)) {
		return nil, callbackError(CheckState, "does not match the nonce issued")
	}
	sec, err := strconv.ParseInt(query.Get("timestamp"), 10, 64)
	if err != nil {
		return nil, callbackError(CheckTimestamp, "not a Unix time in seconds")
	}
	ts := time.Unix(sec, 0)
	if d := a.cfg.now().Sub(ts); d > a.cfg.callbackMaxAge || d < -a.cfg.callbackMaxAge {
		return nil, callbackError(CheckTimestamp, "more than "+a.cfg.callbackMaxAge.String()+" from now")
	}
	if h, ok := query["host"]; ok && !adminHost(h[0]) {
		return nil, callbackError(CheckHost, "not base64 of a Shopify admin host")
	}
	return &Callback{Shop: shop, Code: NewSecret(query.Get("code")), Host: query.Get("host"), Timestamp: ts}, nil
}

// verifyQueryHMAC checks the hmac parameter of query against the message
// built by callbackMessage.
func verifyQueryHMAC(query url.Values, secrets []Secret) error {
	msg, err := callbackMessage(query)
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(query.Get("hmac"))
	if err != nil || len(got) != sha256.Size {
		return callbackError(CheckHMAC, "hmac is not 64 hex digits")
	}
	if matchHMAC(got, []byte(msg), secrets) != nil {
		return callbackError(CheckHMAC, "signature does not match")
	}
	return nil
}

// callbackMessage is the signed text: every parameter but hmac and
// signature, decoded, sorted by key, joined as k=v&k=v.
func callbackMessage(query url.Values) (string, error) {
	keys := make([]string, 0, len(query))
	for k, vs := range query {
		if len(vs) != 1 {
			return "", callbackError(CheckParams, "parameter "+strconv.Quote(shorten(k))+" given more than once")
		}
		if len(k)+len(vs[0]) > maxCallbackParamSize {
			return "", callbackError(CheckParams, "parameter "+strconv.Quote(shorten(k))+" too long")
		}
		if k != "hmac" && k != "signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(query.Get(k))
	}
	return b.String(), nil
}

// AccessToken is an Admin API access token with what the token endpoint
// said about it. Its credentials are Secrets and never print.
type AccessToken struct {
	// Shop is the shop domain the token is for.
	Shop string
	// Token is the access token (X-Shopify-Access-Token).
	Token Secret
	// Scopes are the granted access scopes.
	Scopes []string
	// Online reports a per-user token; UserID is then its user.
	Online bool
	UserID int64
	// ExpiresAt is when Token stops working; zero for a non-expiring
	// offline token.
	ExpiresAt time.Time
	// RefreshToken renews an expiring offline token ([App.Refresh]).
	RefreshToken Secret
	// RefreshExpiresAt is when RefreshToken stops working, if Shopify said
	// (refresh_token_expires_in); zero otherwise.
	RefreshExpiresAt time.Time
}

// Expiring reports whether the token has an expiry.
func (t *AccessToken) Expiring() bool { return !t.ExpiresAt.IsZero() }

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	Scope                 string `json:"scope"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	AssociatedUser        *struct {
		ID int64 `json:"id"`
	} `json:"associated_user"`
}

// ExchangeCode trades a verified callback's code for an access token:
// POST https://{shop}/admin/oauth/access_token with client_id,
// client_secret and code (a JSON body), plus expiring=1 when expiring is
// true, which asks for an expiring offline token with a refresh token.
// The code is good once, so the request is retried only on a 429, and a
// code this App exchanged already (see [WithCodeDedupe]) is refused with a
// [CheckReplay] *CallbackError before anything is sent. When the exchange
// fails, the code is forgotten again, so that it may be retried.
func (a *App) ExchangeCode(ctx context.Context, cb *Callback, expiring bool) (*AccessToken, error) {
	if cb == nil || cb.Code.IsZero() {
		return nil, &InputError{Field: "Callback.Code", Reason: "must not be empty"}
	}
	shop, err := checkInstallShop("Callback.Shop", cb.Shop)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(shop + "\x00" + cb.Code.Reveal()))
	key := "shopify-code:" + hex.EncodeToString(sum[:])
	fresh, err := a.cfg.codes.Claim(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("shopify: code store: %w", err)
	}
	if !fresh {
		return nil, callbackError(CheckReplay, "the code was exchanged already")
	}
	body := map[string]any{"client_id": a.clientID, "client_secret": a.secret.Reveal(), "code": cb.Code.Reveal()}
	if expiring {
		body["expiring"] = 1
	}
	t, err := a.postToken(ctx, "oauth.code", shop, body, cb.Code)
	if err != nil {
		_ = a.cfg.codes.Release(context.WithoutCancel(ctx), key)
	}
	return t, err
}

// ExchangeOptions says which token [App.ExchangeSessionToken] asks for.
type ExchangeOptions struct {
	// Online asks for an online (per-user) token instead of an offline one.
	Online bool
	// Expiring, for an offline token, sends expiring=1 to get an expiring
	// token with a refresh token; otherwise expiring=0 is sent. It is not
	// sent for online tokens, which always expire.
	Expiring bool
}

// ExchangeSessionToken trades a session token from App Bridge for an
// access token (token exchange): it verifies the session token, then
// POSTs to its shop's token endpoint client_id, client_secret,
// grant_type=urn:ietf:params:oauth:grant-type:token-exchange,
// subject_token, subject_token_type=urn:ietf:params:oauth:token-type:id_token
// and requested_token_type (offline or online access token). Shopify answers
// 400 to an invalid or expired session token.
func (a *App) ExchangeSessionToken(ctx context.Context, sessionToken Secret, o ExchangeOptions) (*AccessToken, error) {
	st, err := a.VerifySessionToken(sessionToken)
	if err != nil {
		return nil, err
	}
	body := map[string]any{
		"client_id":          a.clientID,
		"client_secret":      a.secret.Reveal(),
		"grant_type":         grantTokenExchange,
		"subject_token":      sessionToken.Reveal(),
		"subject_token_type": tokenTypeIDToken,
	}
	if o.Online {
		body["requested_token_type"] = tokenTypeOnline
	} else {
		body["requested_token_type"] = tokenTypeOffline
		body["expiring"] = 0
		if o.Expiring {
			body["expiring"] = 1
		}
	}
	t, err := a.postToken(ctx, "oauth.token_exchange", st.Shop, body, sessionToken)
	if err != nil {
		return nil, err
	}
	t.Online = t.Online || o.Online
	return t, nil
}

// Refresh trades the refresh token of an expiring offline token for a new
// access token and refresh token: POST to the shop's token endpoint with
// client_id, client_secret, grant_type=refresh_token and refresh_token
// (the OAuth 2.0 refresh grant). Store the answer: the old refresh token
// is replaced.
func (a *App) Refresh(ctx context.Context, shop string, refreshToken Secret) (*AccessToken, error) {
	shop, err := checkInstallShop("shop", shop)
	if err != nil {
		return nil, err
	}
	if refreshToken.IsZero() {
		return nil, &InputError{Field: "refreshToken", Reason: "must not be empty"}
	}
	body := map[string]any{
		"client_id":     a.clientID,
		"client_secret": a.secret.Reveal(),
		"grant_type":    grantRefreshToken,
		"refresh_token": refreshToken.Reveal(),
	}
	return a.postToken(ctx, "oauth.refresh", shop, body, refreshToken)
}

// tokenURL is the token endpoint of shop.
func (a *App) tokenURL(shop string) string {
	if a.cfg.baseURL != "" {
		return a.cfg.baseURL + AccessTokenPath
	}
	return "https://" + shop + AccessTokenPath
}

// postToken sends body to shop's token endpoint and reads the token. The
// grant's own credential is redacted from errors while the call runs.
func (a *App) postToken(ctx context.Context, op, shop string, body map[string]any, grant Secret) (*AccessToken, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	red := a.tr.Redactor()
	red.AddSecret(grant)
	defer red.Remove(grant.Reveal())
	resp, err := a.tr.Do(ctx, &transport.Request{
		Method: http.MethodPost,
		URL:    a.tokenURL(shop),
		Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
		Body:   b,
		Op:     op,
		Retry:  transport.RetryIfRefused,
	})
	if err != nil {
		return nil, oauthMessage(err)
	}
	defer resp.Body.Close()
	raw, err := transport.ReadBody(resp)
	if err != nil {
		return nil, red.Error(err)
	}
	var tr tokenResponse
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&tr); err != nil || tr.AccessToken == "" {
		return nil, &shopcrm.ResponseError{Op: op, Reason: fmt.Sprintf("token endpoint answered %d without an access_token", resp.StatusCode), Err: red.Error(err)}
	}
	now := a.cfg.now()
	t := &AccessToken{Shop: shop, Token: NewSecret(tr.AccessToken)}
	for _, s := range strings.Split(tr.Scope, ",") {
		if s = strings.TrimSpace(s); s != "" {
			t.Scopes = append(t.Scopes, s)
		}
	}
	if tr.ExpiresIn > 0 {
		t.ExpiresAt = now.Add(lifetime(tr.ExpiresIn))
	}
	if tr.RefreshToken != "" {
		t.RefreshToken = NewSecret(tr.RefreshToken)
	}
	if tr.RefreshTokenExpiresIn > 0 {
		t.RefreshExpiresAt = now.Add(lifetime(tr.RefreshTokenExpiresIn))
	}
	if tr.AssociatedUser != nil {
		t.Online, t.UserID = true, tr.AssociatedUser.ID
	}
	return t, nil
}

// lifetime reads an expires_in of seconds, bounded: a huge value would
// overflow into an expiry in the past, and every use of the token would
// refresh it.
func lifetime(seconds int64) time.Duration {
	const maxLifetime = 10 * 365 * 24 * 3600
	return time.Duration(min(seconds, maxLifetime)) * time.Second
}

// oauthMessage fills an *APIError's message from an OAuth error body
// (error, error_description; RFC 6749 section 5.2), which the token
// endpoint may send instead of Shopify's usual "errors".
func oauthMessage(err error) error {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Message != "" {
		return err
	}
	var b struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(ae.Body, &b) == nil && b.Error != "" {
		ae.Message = b.Error
		if b.Description != "" {
			ae.Message += ": " + b.Description
		}
	}
	return err
}

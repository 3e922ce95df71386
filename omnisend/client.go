package omnisend

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// DefaultBaseURL is the base of the date-versioned API.
const DefaultBaseURL = "https://api.omnisend.com/api"

// DefaultVersion is the API version sent in the Omnisend-Version header on
// every request; Omnisend answers 410 once a version is retired.
const DefaultVersion = "2026-03-15"

const headerVersion = "Omnisend-Version"

// TokenSource supplies the credential of each request; see
// [shopcrm.TokenSource].
type TokenSource = shopcrm.TokenSource

// Secret is a credential that never prints; see [shopcrm.Secret].
type Secret = shopcrm.Secret

// NewSecret wraps s.
func NewSecret(s string) Secret { return shopcrm.NewSecret(s) }

// RetryPolicy bounds retries; see [shopcrm.RetryPolicy].
type RetryPolicy = shopcrm.RetryPolicy

// Credentials say how requests authenticate: with a brand's API key
// ([APIKey], [APIKeySource]) or with OAuth access tokens of an app
// ([OAuth]).
type Credentials struct {
	scheme string // "Omnisend-API-Key" or "Bearer"
	src    TokenSource
	static bool // src is a fixed value New can check
}

// APIKey authenticates with a brand's API key, sent as
// "Authorization: Omnisend-API-Key <key>".
func APIKey(key string) Credentials {
	return Credentials{scheme: "Omnisend-API-Key", src: shopcrm.StaticToken(key), static: true}
}

// APIKeySource authenticates with API keys read from src at each request
// (a key that rotates in a secret store).
func APIKeySource(src TokenSource) Credentials {
	return Credentials{scheme: "Omnisend-API-Key", src: src}
}

// OAuth authenticates with OAuth 2.0 access tokens of an App Market app,
// sent as "Authorization: Bearer <token>"; src may refresh them.
func OAuth(src TokenSource) Credentials { return Credentials{scheme: "Bearer", src: src} }

// Endpoint names a class of endpoints sharing one rate limit.
type Endpoint string

// Endpoint classes with their own rate gates.
const (
	// EndpointDefault is every endpoint without a limit of its own.
	EndpointDefault Endpoint = "default"
	// EndpointContactTags is POST and DELETE /contacts/tags.
	EndpointContactTags Endpoint = "contact-tags"
)

// Limit is a sliding-window limit: at most Requests in any span of Per.
type Limit struct {
	Requests int
	Per      time.Duration
}

// DefaultLimits are Omnisend's documented per-brand limits for API version
// 2026-03-15: 400 requests a minute by default, 60 a minute on
// /contacts/tags. Omnisend counts them over a sliding minute for the brand
// (every key, token and integration of the brand shares them); reading the
// endpoint limit as a bucket apart from the default one is this client's
// interpretation of the documentation, hence overridable.
func DefaultLimits() map[Endpoint]Limit {
	return map[Endpoint]Limit{
		EndpointDefault:     {Requests: 400, Per: time.Minute},
		EndpointContactTags: {Requests: 60, Per: time.Minute},
	}
}

// Client is an Omnisend API client. It is safe for concurrent use.
type Client struct {
	// Contacts creates, reads, updates and lists contacts.
	Contacts *ContactsService
	// Tags adds and removes contact tags in bulk, and mirrors a tag set.
	Tags *TagsService
	// Events sends customer events.
	Events *EventsService
	// Batches runs batch operations.
	Batches *BatchesService

	base, version string
	cred          Credentials
	tr            *transport.Client
	gates         map[Endpoint]*transport.Gate
	limits        map[Endpoint]Limit
	log           *slog.Logger
	maxInFlight   int
	historicalAge time.Duration
}

type config struct {
	transport.Options
	base, version string
	limits        map[Endpoint]Limit
	historicalAge time.Duration
}

// DefaultHistoricalAge is how old an event's time must be for the client
// to take it as historical ([Event.Historical]). Omnisend deduplicates
// historical events only and does not say where real time ends: an hour is
// this client's assumption (and omnisendtest's), overridable with
// [WithHistoricalAge].
const DefaultHistoricalAge = time.Hour

// WithHistoricalAge sets how old a historical event must be (default
// [DefaultHistoricalAge]); Send refuses a newer one marked Historical,
// which Omnisend would not deduplicate. Zero turns the check off.
func WithHistoricalAge(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return &InputError{Field: "WithHistoricalAge", Value: d.String(), Reason: "must not be negative"}
		}
		c.historicalAge = d
		return nil
	}
}

// Option configures a Client. A nil Option is skipped.
type Option func(*config) error

// WithBaseURL sets the API base URL (default [DefaultBaseURL]).
func WithBaseURL(u string) Option {
	return func(c *config) (err error) {
		c.base, err = transport.CheckBaseURL("WithBaseURL", u)
		return err
	}
}

// WithVersion sets the Omnisend-Version header (default [DefaultVersion]).
// The typed methods are written for 2026-03-15; another version may answer
// in another shape.
func WithVersion(v string) Option {
	return func(c *config) error {
		if v == "" || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			return &InputError{Field: "WithVersion", Value: v, Reason: "must be a non-empty version such as 2026-03-15"}
		}
		c.version = v
		return nil
	}
}

// WithHTTPClient uses hc for requests. Redirects are never followed: the
// credential would go with them.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { return c.SetHTTPClient(hc) }
}

// WithRetryPolicy sets the retry policy (default
// [shopcrm.DefaultRetryPolicy]).
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error { return c.SetRetry(p) }
}

// WithEndpointLimit overrides the client-side gate of an endpoint class
// (defaults: [DefaultLimits]): at most n requests in any span of per. n or
// per of zero turns pacing off for the class.
func WithEndpointLimit(e Endpoint, n int, per time.Duration) Option {
	return func(c *config) error {
		if _, ok := c.limits[e]; !ok {
			return &InputError{Field: "WithEndpointLimit", Value: string(e), Reason: "unknown endpoint class"}
		}
		if n < 0 || per < 0 {
			return &InputError{Field: "WithEndpointLimit", Reason: "n and per must not be negative"}
		}
		c.limits[e] = Limit{Requests: n, Per: per}
		return nil
	}
}

// WithMaxInFlight sets how many requests a bulk operation keeps in flight
// (default 16).
func WithMaxInFlight(n int) Option {
	return func(c *config) error { return c.SetMaxInFlight(n) }
}

// WithMaxBody caps how much of one response the client reads (default
// 8 MiB): a longer answer, such as a proxy's endless page, fails with a
// *shopcrm.BodyTooLargeError naming the cap instead of filling memory.
// It must be at least 64 KiB.
func WithMaxBody(n int64) Option {
	return func(c *config) error { return c.SetMaxBody(n) }
}

// WithLogger sets the logger (default: silent). Secrets are redacted.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.Logger = l; return nil }
}

// WithUserAgentSuffix appends s to the User-Agent.
func WithUserAgentSuffix(s string) Option {
	return func(c *config) error { c.UASuffix = s; return nil }
}

// WithSleep replaces the backoff sleep, so retry tests take no time. It
// must return ctx.Err() as soon as ctx is done.
func WithSleep(f func(context.Context, time.Duration) error) Option {
	return func(c *config) error { return c.SetSleep(f) }
}

// New returns a client authenticating with cred.
func New(cred Credentials, opts ...Option) (*Client, error) {
	if cred.src == nil {
		return nil, &InputError{Field: "cred", Reason: "no credentials: use APIKey, APIKeySource or OAuth"}
	}
	if cred.static {
		if err := checkStatic(cred); err != nil {
			return nil, err
		}
	}
	cfg := config{Options: transport.DefaultOptions(), base: DefaultBaseURL, version: DefaultVersion, limits: DefaultLimits(),
		historicalAge: DefaultHistoricalAge}
	if err := transport.Apply(&cfg, opts); err != nil {
		return nil, err
	}
	c := &Client{base: cfg.base, version: cfg.version, cred: cred, gates: map[Endpoint]*transport.Gate{}, limits: cfg.limits,
		log: cfg.Logger, maxInFlight: cfg.MaxInFlight, historicalAge: cfg.historicalAge}
	for e, l := range cfg.limits {
		c.gates[e] = newGate(l)
	}
	tc := cfg.Config("omnisend")
	basePath := ""
	if u, err := url.Parse(cfg.base); err == nil {
		basePath = strings.TrimRight(u.Path, "/")
	}
	tc.WrapError = func(te *transport.APIError) error { return wrapAPIError(te, basePath) }
	tc.RetryAfter = retryAfter
	c.tr = transport.New(tc)
	c.Contacts = &ContactsService{c}
	c.Tags = &TagsService{c}
	c.Events = &EventsService{c}
	c.Batches = &BatchesService{c}
	return c, nil
}

// checkStatic refuses an API key Omnisend would refuse at every call,
// without showing it.
func checkStatic(cred Credentials) error {
	tok, _ := cred.src.Token(context.Background())
	return checkToken("APIKey", tok)
}

// checkToken refuses a credential Omnisend would refuse, or that would
// split or bend the Authorization header (CR, LF, other controls,
// whitespace), without showing it.
func checkToken(field string, tok Secret) error {
	if tok.IsZero() {
		return &InputError{Field: field, Reason: "empty credential"}
	}
	if strings.ContainsFunc(tok.Reveal(), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return &InputError{Field: field, Reason: "the credential holds whitespace or control characters"}
	}
	return nil
}

// newGate builds a gate holding every span of l.Per to l.Requests, the
// way Omnisend counts: the whole count may go at once, then each request
// waits for the one l.Requests before it to leave the window. A token
// bucket beside it would only add waits the server does not impose. The
// window is lengthened by windowMargin so that requests sent a window
// apart do not arrive less than one apart.
func newGate(l Limit) *transport.Gate {
	g := transport.NewGate(0, 1)
	if l.Requests > 0 && l.Per > 0 {
		g.SetWindow(l.Requests, l.Per+windowMargin(l.Per))
	}
	return g
}

// windowMargin is what the client adds to a window: a sixtieth of it (a
// second a minute), at least 100 ms, against the jitter between a request
// leaving and the server counting it.
func windowMargin(per time.Duration) time.Duration { return max(per/60, 100*time.Millisecond) }

// EndpointLimit reports the limit the client holds an endpoint class to
// (zero when it does not pace it).
func (c *Client) EndpointLimit(e Endpoint) Limit { return c.limits[e] }

// Format prints the client without any credential.
func (c *Client) Format(f fmt.State, _ rune) {
	u, err := url.Parse(c.base)
	base := transport.Redacted
	if err == nil {
		base = u.Redacted()
	}
	fmt.Fprintf(f, "omnisend.Client{base: %s, version: %s}", base, c.version)
}

// String describes the client without any credential.
func (c *Client) String() string { return fmt.Sprint(c) }

// Response describes one answer of the API.
type Response struct {
	Status int // HTTP status
}

// call is one API request.
type call struct {
	class  Endpoint
	op     string // names the request in errors
	method string
	path   string
	query  url.Values
	body   any // JSON-encoded when not nil
	retry  transport.RetryClass
	out    any // decoded from a 2xx body when not nil
}

func (c *Client) header(ctx context.Context) (http.Header, error) {
	tok, err := c.cred.src.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("omnisend: credentials: %w", c.tr.Redactor().Error(err))
	}
	if err := checkToken("credentials", tok); err != nil {
		return nil, err
	}
	c.tr.Redactor().AddSecret(tok)
	h := http.Header{}
	h.Set("Authorization", c.cred.scheme+" "+tok.Reveal())
	h.Set(headerVersion, c.version)
	h.Set("Accept", "application/json")
	return h, nil
}

func (c *Client) do(ctx context.Context, cl *call) (*Response, error) {
	h, err := c.header(ctx)
	if err != nil {
		return nil, err
	}
	var body []byte
	if cl.body != nil {
		if body, err = json.Marshal(cl.body); err != nil {
			return nil, &InputError{Field: "body", Reason: "cannot encode as JSON", Err: err}
		}
		h.Set("Content-Type", "application/json")
	}
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	class := cl.class
	if class == "" {
		class = EndpointDefault
	}
	op := cl.method + " " + cl.path
	req := &transport.Request{
		Method: cl.method, URL: u, Header: h, Body: body,
		Op: cl.op, Retry: cl.retry, Gate: c.gates[class],
	}
	// A body cut off or not JSON is retried like a 5xx when the call is
	// safe to repeat: it is read before Do returns.
	var b []byte
	if cl.out != nil {
		req.Handle = transport.ReadObject(op, &b, nil)
	}
	resp, err := c.tr.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	r := &Response{Status: resp.StatusCode}
	if cl.out == nil {
		transport.Drain(resp.Body)
		return r, nil
	}
	return r, transport.DecodeObject(op, b, cl.out, false)
}

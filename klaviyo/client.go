package klaviyo

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// DefaultBaseURL is the host of Klaviyo's server-side API (and of its OAuth
// token endpoint).
const DefaultBaseURL = "https://a.klaviyo.com"

// DefaultRevision is the API revision sent in the revision header of every
// request unless [WithRevision] says otherwise. Klaviyo keeps a revision
// stable for a year, then deprecated for another; pin one and move on
// deliberately.
const DefaultRevision = "2026-07-15"

const (
	headerRevision  = "revision"
	headerRequestID = "X-Klaviyo-Req-Id" // not documented: read when present
	mediaType       = "application/vnd.api+json"
)

// TokenSource supplies OAuth access tokens; see [shopcrm.TokenSource].
// [*OAuthTokenSource] is one that refreshes.
type TokenSource = shopcrm.TokenSource

// Secret is a credential that never prints; see [shopcrm.Secret].
type Secret = shopcrm.Secret

// NewSecret wraps s.
func NewSecret(s string) Secret { return shopcrm.NewSecret(s) }

// RetryPolicy bounds retries; see [shopcrm.RetryPolicy].
type RetryPolicy = shopcrm.RetryPolicy

// Credentials is how the client authenticates: a private API key
// ([PrivateKey]) or OAuth access tokens ([OAuth]).
type Credentials struct {
	key    Secret
	tokens TokenSource
}

// PrivateKey authenticates with a private API key ("pk_..."), sent as
// "Authorization: Klaviyo-API-Key <key>".
func PrivateKey(key string) Credentials { return Credentials{key: NewSecret(key)} }

// OAuth authenticates with access tokens from ts, sent as "Authorization:
// Bearer <token>". Each OAuth app install has its own rate limits.
func OAuth(ts TokenSource) Credentials { return Credentials{tokens: ts} }

func (cr Credentials) check() error {
	switch {
	case cr.tokens != nil:
		return nil
	case cr.key.IsZero():
		return invalid("credentials", "", "no private key and no token source")
	case strings.IndexFunc(cr.key.Reveal(), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return invalid("credentials", "", "the private key holds whitespace or control characters")
	}
	return nil
}

// Client is a Klaviyo API client. It is safe for concurrent use. Its
// services group the endpoints; [Client.Do] calls any other.
type Client struct {
	// Profiles reads and writes profiles, and runs bulk profile imports.
	Profiles *ProfilesService
	// Events creates events, one or in bulk, and reads them back.
	Events *EventsService
	// Lists creates lists and manages their members.
	Lists *ListsService
	// Segments reads segments and their members.
	Segments *SegmentsService
	// Subscriptions subscribes, unsubscribes, suppresses and unsuppresses.
	Subscriptions *SubscriptionsService
	// Metrics finds metrics and queries their aggregates.
	Metrics *MetricsService
	// Webhooks manages system webhook subscriptions.
	Webhooks *WebhooksService

	base     string
	revision string
	creds    Credentials
	tr       *transport.Client
	limits   *limiter
	log      *slog.Logger
	inFlight int
	pollMin  time.Duration
}

type config struct {
	transport.Options
	base     string
	revision string
	limits   map[Endpoint]Limit
	pollMin  time.Duration
}

// Option configures a Client. A nil Option is skipped.
type Option func(*config) error

// WithBaseURL sets the API host (http or https; for tests and proxies).
func WithBaseURL(u string) Option {
	return func(c *config) (err error) {
		c.base, err = transport.CheckBaseURL("WithBaseURL", u)
		return err
	}
}

var revisionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$`)

// WithRevision sets the revision header (default [DefaultRevision]):
// YYYY-MM-DD, with an optional suffix such as ".pre" for beta revisions.
func WithRevision(rev string) Option {
	return func(c *config) error {
		if !revisionRE.MatchString(rev) {
			return invalid("WithRevision", rev, "must be YYYY-MM-DD with an optional .suffix")
		}
		c.revision = rev
		return nil
	}
}

// WithHTTPClient uses hc (its transport and timeout) for requests. The
// client never follows redirects, whatever hc says: the credential would go
// with them.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { return c.SetHTTPClient(hc) }
}

// WithRetryPolicy sets the retry policy (default
// [shopcrm.DefaultRetryPolicy]).
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error { return c.SetRetry(p) }
}

// WithEndpointLimit overrides the client-side limits of one endpoint
// (defaults: [DefaultLimits]); a zero Limit turns pacing off for it.
func WithEndpointLimit(e Endpoint, l Limit) Option {
	return func(c *config) error {
		if _, ok := c.limits[e]; !ok {
			return invalid("WithEndpointLimit", string(e), "unknown endpoint")
		}
		if l.Burst < 0 || l.Steady < 0 {
			return invalid("WithEndpointLimit", string(e), "counts must not be negative")
		}
		c.limits[e] = l
		return nil
	}
}

// WithPollInterval sets the shortest wait between two reads of a bulk
// job's status (default 1 s); the endpoint's rate limit may make it longer.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalid("WithPollInterval", d.String(), "must be positive")
		}
		c.pollMin = d
		return nil
	}
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

// WithMaxInFlight sets how many requests a bulk write keeps in flight
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

// New returns a client authenticating with creds.
func New(creds Credentials, opts ...Option) (*Client, error) {
	if err := creds.check(); err != nil {
		return nil, err
	}
	cfg := config{Options: transport.DefaultOptions(), base: DefaultBaseURL, revision: DefaultRevision,
		limits: DefaultLimits(), pollMin: time.Second}
	if err := transport.Apply(&cfg, opts); err != nil {
		return nil, err
	}
	c := &Client{base: cfg.base, revision: cfg.revision, creds: creds, log: cfg.Logger,
		inFlight: cfg.MaxInFlight, pollMin: cfg.pollMin, limits: newLimiter(cfg.limits)}
	tc := cfg.Config("klaviyo")
	tc.WrapError = wrapAPIError
	tc.CheckRetry = func(ctx context.Context, r *transport.Request, resp *http.Response, err error) (bool, error) {
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			c.limits.throttled(Endpoint(r.Op))
		}
		return transport.DefaultCheckRetry(ctx, r, resp, err)
	}
	tc.RequestIDHeader = headerRequestID
	tc.RetryAfter = retryAfter
	c.tr = transport.New(tc)
	if !creds.key.IsZero() {
		c.tr.Redactor().AddSecret(creds.key)
	}
	c.Profiles = &ProfilesService{c}
	c.Events = &EventsService{c}
	c.Lists = &ListsService{c}
	c.Segments = &SegmentsService{c}
	c.Subscriptions = &SubscriptionsService{c}
	c.Metrics = &MetricsService{c}
	c.Webhooks = &WebhooksService{c}
	return c, nil
}

// Revision returns the revision the client sends.
func (c *Client) Revision() string { return c.revision }

// Format prints the client without any credential.
func (c *Client) Format(f fmt.State, _ rune) {
	u, err := url.Parse(c.base)
	base := transport.Redacted
	if err == nil {
		base = u.Redacted()
	}
	fmt.Fprintf(f, "klaviyo.Client{base: %s, revision: %s}", base, c.revision)
}

// String describes the client without any credential.
func (c *Client) String() string { return fmt.Sprint(c) }

// authHeader returns the headers every request carries: the credential,
// the revision and the JSON:API media type.
func (c *Client) authHeader(ctx context.Context) (http.Header, error) {
	h := http.Header{}
	if c.creds.tokens != nil {
		tok, err := c.creds.tokens.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("klaviyo: access token: %w", c.tr.Redactor().Error(err))
		}
		if tok.IsZero() {
			return nil, invalid("token", "", "the token source returned an empty token")
		}
		c.tr.Redactor().AddSecret(tok)
		h.Set("Authorization", "Bearer "+tok.Reveal())
	} else {
		h.Set("Authorization", "Klaviyo-API-Key "+c.creds.key.Reveal())
	}
	h.Set(headerRevision, c.revision)
	h.Set("Accept", mediaType)
	return h, nil
}

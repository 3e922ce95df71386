package shopify

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
	"github.com/shopcrm/shopcrm/tagging"
)

// DefaultAPIVersion is the Admin API version requested unless [WithAPIVersion]
// says otherwise. Documents sent by this package are checked against the
// 2025-01 schema and avoid fields it deprecates where it has a replacement.
const DefaultAPIVersion = "2026-07"

// Defaults for the cost gate before the first response reports the real
// bucket: Shopify's Standard plan. Its restore rate of 100 points per
// second is documented; the bucket size is not, and 2000 (20 times the
// restore rate) is what responses report as maximumAvailable: recorded
// responses of a Basic Shopify store in a widely used connector's tests
// show 2000 and 100, and recorded Plus responses 20000 and 1000. Both are
// retuned from every response's throttleStatus, and [WithRateLimit]
// overrides them (e.g. 1000/s and 20000 for Shopify Plus).
const (
	DefaultRestoreRate = 100.0
	DefaultBucketSize  = 2000
)

// MaxQueryCost is the highest requested cost Shopify accepts for one
// document; a costlier one fails with MAX_COST_EXCEEDED.
const MaxQueryCost = 1000

// TokenSource supplies the Admin API access token for each request; see
// [shopcrm.TokenSource].
type TokenSource = shopcrm.TokenSource

// Secret holds a credential and never prints it; see [shopcrm.Secret].
type Secret = shopcrm.Secret

// NewSecret wraps s.
func NewSecret(s string) Secret { return shopcrm.NewSecret(s) }

// StaticToken returns a TokenSource that always yields the access token tok.
func StaticToken(tok string) TokenSource { return shopcrm.StaticToken(tok) }

// RetryPolicy bounds retries; see [WithRetryPolicy].
type RetryPolicy = shopcrm.RetryPolicy

// RateLimit is a rate of cost points: PerSecond restored, up to Burst.
type RateLimit = shopcrm.RateLimit

var shopRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)

var versionRe = regexp.MustCompile(`^(\d{4}-(01|04|07|10)|unstable)$`)

// Client calls one shop's Admin GraphQL API. It is safe for concurrent use by
// many goroutines; the cost gate it keeps is shared by all of them.
type Client struct {
	// Customers reads customers and updates their marketing consent.
	Customers *CustomersService
	// Orders reads orders.
	Orders *OrdersService
	// Tags adds and removes tags on customers and orders, one resource at a
	// time or many changes at once.
	Tags *TagsService
	// Segments manages customer segments and reads their members.
	Segments *SegmentsService
	// Marketing manages external marketing activities and sends their
	// daily engagement.
	Marketing *MarketingService
	// Webhooks manages the shop's webhook subscriptions.
	Webhooks *WebhooksService
	// Bulk runs bulk queries and mutations and reads their results.
	Bulk *BulkService

	shop        string
	endpoint    string
	version     string
	token       TokenSource
	tr          *transport.Client
	gate        *transport.Gate
	log         *slog.Logger
	costs       *costCache
	versionWarn atomic.Bool
	pace        pacer
	maxInFlight int
	storage     *http.Client // bulk results and staged uploads: never the token
	storageIdle time.Duration
	maxBulkLine int
	bulkOver    int // tag changes above which ApplyAuto runs a bulk mutation
	orderTagMax int // characters in one order tag
}

type config struct {
	transport.Options
	baseURL string
	version string
	limit   RateLimit

	storage     *http.Client
	storageIdle time.Duration
	maxBulkLine int
	bulkOver    int
	orderTagMax int
}

// Option configures a Client. A nil Option is skipped.
type Option func(*config) error

// WithBaseURL sends requests to base (http or https, a host, optionally a
// path prefix) instead of https://{shop}; used to point the client at a
// fake.
func WithBaseURL(base string) Option {
	return func(c *config) (err error) {
		c.baseURL, err = transport.CheckBaseURL("WithBaseURL", base)
		return err
	}
}

// WithHTTPClient uses hc (its transport and timeout) for requests. The
// client never follows redirects, whatever hc says: the access token would
// go with them. The default is a client with a 60 s timeout per attempt.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { return c.SetHTTPClient(hc) }
}

// WithRetryPolicy sets the retry policy (default
// [shopcrm.DefaultRetryPolicy]). Queries and tagsAdd/tagsRemove are retried
// on network errors, 5xx and throttling; other mutations only on throttling,
// which means they did not run.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error { return c.SetRetry(p) }
}

// WithLogger logs retries, version mismatches and throttling to l. Tokens
// never reach it.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.Logger = l; return nil }
}

// WithAPIVersion requests version v ("2025-01", "unstable").
func WithAPIVersion(v string) Option {
	return func(c *config) error {
		if !versionRe.MatchString(v) {
			return &InputError{Field: "WithAPIVersion", Value: v, Reason: `must be YYYY-MM with a quarter month, or "unstable"`}
		}
		c.version = v
		return nil
	}
}

// WithUserAgentSuffix appends s to the User-Agent.
func WithUserAgentSuffix(s string) Option {
	return func(c *config) error { c.UASuffix = s; return nil }
}

// WithRateLimit sets the first guess of the shop's cost bucket: l.PerSecond
// points restored per second and a bucket of l.Burst points (default
// [DefaultRestoreRate] and [DefaultBucketSize]). Responses retune it.
func WithRateLimit(l RateLimit) Option {
	return func(c *config) error {
		if err := transport.CheckRateLimit("WithRateLimit", l); err != nil {
			return err
		}
		if l.PerSecond <= 0 {
			return &InputError{Field: "WithRateLimit.PerSecond", Reason: "must be positive"}
		}
		if l.Burst < 1 {
			return &InputError{Field: "WithRateLimit.Burst", Reason: "must be at least 1 (the bucket size in points)"}
		}
		c.limit = l
		return nil
	}
}

// WithMaxInFlight bounds the requests a bulk write keeps in flight
// (default 16). The cost gate decides how many of them really run at once.
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

// WithOrderTagMaxLength sets the most characters (runes) an order tag may
// have (default [DefaultOrderTagMaxLength]); a longer tag for an order is
// refused with an *InputError before anything is sent. n must be between
// 1 and [tagging.MaxLength].
func WithOrderTagMaxLength(n int) Option {
	return func(c *config) error {
		if n < 1 || n > tagging.MaxLength {
			return &InputError{Field: "WithOrderTagMaxLength", Value: strconv.Itoa(n), Reason: fmt.Sprintf("must be between 1 and %d", tagging.MaxLength)}
		}
		c.orderTagMax = n
		return nil
	}
}

// WithSleep replaces the sleep between retries (tests use a fast one). It
// must return ctx.Err() as soon as ctx is done.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *config) error { return c.SetSleep(sleep) }
}

// New returns a client for shopDomain ("example.myshopify.com", or just
// "example") that authenticates with token.
func New(shopDomain string, token TokenSource, opts ...Option) (*Client, error) {
	if !strings.Contains(shopDomain, ".") {
		shopDomain += ".myshopify.com"
	}
	if !shopRe.MatchString(shopDomain) {
		return nil, &InputError{Field: "shopDomain", Value: shopDomain, Reason: "must look like name.myshopify.com"}
	}
	if token == nil {
		return nil, &InputError{Field: "token", Reason: "must not be nil"}
	}
	cfg := config{
		Options: transport.DefaultOptions(),
		version: DefaultAPIVersion,
		limit:   RateLimit{PerSecond: DefaultRestoreRate, Burst: DefaultBucketSize},

		storageIdle: DefaultStorageIdleTimeout,
		maxBulkLine: DefaultMaxBulkLine,
		bulkOver:    DefaultBulkTagThreshold,
		orderTagMax: DefaultOrderTagMaxLength,
	}
	if err := transport.Apply(&cfg, opts); err != nil {
		return nil, err
	}
	base := cfg.baseURL
	if base == "" {
		base = "https://" + shopDomain
	}
	c := &Client{
		shop:        shopDomain,
		endpoint:    base + "/admin/api/" + cfg.version + "/graphql.json",
		version:     cfg.version,
		token:       token,
		gate:        transport.NewGate(cfg.limit.PerSecond, gateBurst(float64(cfg.limit.Burst), cfg.limit.PerSecond)),
		log:         cfg.Logger,
		costs:       newCostCache(),
		maxInFlight: cfg.MaxInFlight,
		storage:     cfg.storage,
		storageIdle: cfg.storageIdle,
		maxBulkLine: cfg.maxBulkLine,
		bulkOver:    cfg.bulkOver,
		orderTagMax: cfg.orderTagMax,
	}
	if c.storage == nil {
		c.storage = newStorageClient(c.storageIdle)
	}
	tc := cfg.Config("shopify")
	tc.CheckRetry = checkRetry
	tc.WrapError = wrapAPIError
	tc.Gate = c.gate
	tc.RequestIDHeader = "X-Request-Id"
	c.tr = transport.New(tc)
	c.Customers = &CustomersService{c}
	c.Orders = &OrdersService{c}
	c.Tags = &TagsService{c}
	c.Segments = &SegmentsService{c}
	c.Marketing = &MarketingService{c}
	c.Webhooks = &WebhooksService{c}
	c.Bulk = &BulkService{c}
	return c, nil
}

// Shop returns the shop domain the client talks to.
func (c *Client) Shop() string { return c.shop }

// APIVersion returns the API version the client requests.
func (c *Client) APIVersion() string { return c.version }

// RateLimit reports the cost gate's current tuning: restore rate (points
// per second), bucket size and the points available now by the client's
// reckoning.
func (c *Client) RateLimit() (restoreRate float64, bucketSize int, available float64) {
	return c.gate.Limit(), c.gate.Burst(), c.gate.Tokens()
}

// String describes the client without its token.
func (c *Client) String() string {
	return fmt.Sprintf("shopify.Client{shop: %s, version: %s}", c.shop, c.version)
}

// GoString describes the client without its token.
func (c *Client) GoString() string { return c.String() }

// Format prints the client without its token for every verb.
func (c *Client) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(c.String())) }

// checkRetry adds to the shared rule that a 429 never ran, so every class
// but RetryNever retries it (Shopify's REST-style 429 on GraphQL).
func checkRetry(ctx context.Context, r *transport.Request, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		return true, nil
	}
	return transport.DefaultCheckRetry(ctx, r, resp, err)
}

package shopify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// DefaultAPIVersion is the Admin API version requested unless [WithAPIVersion]
// says otherwise. Documents sent by this package are checked against the
// 2025-01 schema and avoid fields it deprecates where it has a replacement.
const DefaultAPIVersion = "2026-07"

// Defaults for the cost gate before the first response reports the real
// bucket. Shopify documents a restore rate of 100 points per second on the
// Standard plan; the bucket size of 1000 is an assumption. Both are retuned
// from every response's throttleStatus.
const (
	DefaultRestoreRate = 100.0
	DefaultBucketSize  = 1000
)

// MaxQueryCost is the highest requested cost Shopify accepts for one
// document; a costlier one fails with MAX_COST_EXCEEDED.
const MaxQueryCost = 1000

// TokenSource supplies the Admin API access token for each request.
type TokenSource = transport.TokenSource

// Secret holds a credential and never prints it.
type Secret = transport.Secret

// StaticToken returns a TokenSource that always yields the access token tok.
func StaticToken(tok string) TokenSource { return transport.StaticToken(tok) }

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
}

type config struct {
	baseURL     string
	httpClient  *http.Client
	retry       transport.RetryPolicy
	logger      *slog.Logger
	version     string
	uaSuffix    string
	restoreRate float64
	bucketSize  int
	sleep       func(context.Context, time.Duration) error
}

// Option configures a Client.
type Option func(*config) error

// WithBaseURL sends requests to base (scheme and host, optionally a path
// prefix) instead of https://{shop}; used to point the client at a fake.
func WithBaseURL(base string) Option {
	return func(c *config) error {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &InputError{Field: "baseURL", Reason: "must be an absolute http(s) URL"}
		}
		c.baseURL = strings.TrimRight(base, "/")
		return nil
	}
}

// WithHTTPClient uses hc's settings (timeout, transport) for requests.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { c.httpClient = hc; return nil }
}

// WithRetry sets the retry policy. Queries and tagsAdd/tagsRemove are
// retried on network errors, 5xx and throttling; other mutations only on
// throttling, which means they were not executed.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MaxRetries < 0 {
			return &InputError{Field: "retry.MaxRetries", Reason: "must not be negative"}
		}
		c.retry = p
		return nil
	}
}

// RetryPolicy bounds retries; see [WithRetry].
type RetryPolicy = transport.RetryPolicy

// DefaultRetryPolicy returns the policy used unless WithRetry says otherwise.
func DefaultRetryPolicy() RetryPolicy {
	p := transport.DefaultRetryPolicy()
	p.MaxRetries = 8
	return p
}

// WithLogger logs retries, version mismatches and throttling to l. Tokens
// never reach it.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithAPIVersion requests version v ("2025-01", "unstable").
func WithAPIVersion(v string) Option {
	return func(c *config) error {
		if !versionRe.MatchString(v) {
			return &InputError{Field: "apiVersion", Value: v, Reason: `must be YYYY-MM with a quarter month, or "unstable"`}
		}
		c.version = v
		return nil
	}
}

// WithUserAgentSuffix appends s to the User-Agent.
func WithUserAgentSuffix(s string) Option {
	return func(c *config) error { c.uaSuffix = s; return nil }
}

// WithRateLimit sets the first guess of the cost bucket: restoreRate points
// per second and a bucket of size points. Responses retune it.
func WithRateLimit(restoreRate float64, size int) Option {
	return func(c *config) error {
		if restoreRate <= 0 {
			return &InputError{Field: "restoreRate", Reason: "must be positive"}
		}
		if size <= 0 {
			return &InputError{Field: "bucketSize", Reason: "must be positive"}
		}
		c.restoreRate, c.bucketSize = restoreRate, size
		return nil
	}
}

// WithSleep replaces the sleep between retries (tests use a fast one). It
// must return ctx.Err() as soon as ctx is done.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *config) error { c.sleep = sleep; return nil }
}

// New returns a client for shopDomain ("example.myshopify.com") that
// authenticates with token.
func New(shopDomain string, token TokenSource, opts ...Option) (*Client, error) {
	if !shopRe.MatchString(shopDomain) {
		return nil, &InputError{Field: "shopDomain", Value: shopDomain, Reason: "must look like name.myshopify.com"}
	}
	if token == nil {
		return nil, &InputError{Field: "token", Reason: "must not be nil"}
	}
	cfg := config{
		retry:       DefaultRetryPolicy(),
		version:     DefaultAPIVersion,
		restoreRate: DefaultRestoreRate,
		bucketSize:  DefaultBucketSize,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.httpClient == nil {
		// Many calls in flight to one host: keep their connections.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32
		cfg.httpClient = &http.Client{Transport: tr}
	}
	base := cfg.baseURL
	if base == "" {
		base = "https://" + shopDomain
	}
	c := &Client{
		shop:     shopDomain,
		endpoint: base + "/admin/api/" + cfg.version + "/graphql.json",
		version:  cfg.version,
		token:    token,
		gate:     transport.NewGate(cfg.restoreRate, gateBurst(float64(cfg.bucketSize), cfg.restoreRate)),
		log:      cfg.logger,
		costs:    newCostCache(),
	}
	c.tr = transport.New(transport.Config{
		Platform:        "shopify",
		UserAgentSuffix: cfg.uaSuffix,
		HTTPClient:      cfg.httpClient,
		Retry:           cfg.retry,
		CheckRetry:      checkRetry,
		Sleep:           cfg.sleep,
		Logger:          cfg.logger,
		Gate:            c.gate,
		RequestIDHeader: "X-Request-Id",
	})
	c.Customers = &CustomersService{c}
	c.Orders = &OrdersService{c}
	c.Tags = &TagsService{c}
	c.Segments = &SegmentsService{c}
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

type idempotentKey struct{}

// checkRetry retries 429 always (nothing ran), and network errors and 5xx
// only for requests marked idempotent.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		return true, nil
	}
	if idem, _ := ctx.Value(idempotentKey{}).(bool); !idem {
		return false, nil
	}
	var ue *url.Error
	if errors.As(err, &ue) && errors.Is(ue.Err, context.Canceled) {
		return false, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

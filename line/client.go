package line

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// Default base URLs.
const (
	DefaultAPIURL  = "https://api.line.me"
	DefaultDataURL = "https://api-data.line.me"
)

const (
	headerRetryKey          = "X-Line-Retry-Key"
	headerRequestID         = "x-line-request-id"
	headerAcceptedRequestID = "x-line-accepted-request-id"
)

// TokenSource supplies channel access tokens; it is the transport's
// interface, so any source shared with other clients works here.
type TokenSource = transport.TokenSource

// Secret is a credential that never prints (String, GoString, Format,
// LogValue and JSON all redact); TokenSource implementations return one.
type Secret = transport.Secret

// NewSecret wraps s.
func NewSecret(s string) Secret { return transport.NewSecret(s) }

// RetryPolicy bounds retries: how many, the backoff range, and the longest
// server-requested wait honoured before giving up with ErrRateLimited.
type RetryPolicy = transport.RetryPolicy

// DefaultRetryPolicy is 4 retries with backoff from 500 ms to 30 s.
func DefaultRetryPolicy() RetryPolicy { return transport.DefaultRetryPolicy() }

// Gate is a client-side rate gate (see Client.Gate).
type Gate = transport.Gate

// StaticToken is a TokenSource for a long-lived channel access token.
func StaticToken(token string) TokenSource { return transport.StaticToken(token) }

// Endpoint names a class of endpoints sharing one rate limit.
type Endpoint string

// Endpoint classes with their own rate gates.
const (
	EndpointPush       Endpoint = "push"
	EndpointMulticast  Endpoint = "multicast"
	EndpointNarrowcast Endpoint = "narrowcast"
	EndpointBroadcast  Endpoint = "broadcast"
	EndpointAudience   Endpoint = "audience" // audience create, add, rename, delete (JSON and file)
	EndpointOther      Endpoint = "other"    // everything else
)

// RateLimit is a rate: PerSecond requests per second with a burst.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// DefaultLimits returns the client-side gates used unless overridden. LINE
// documents 200 req/s (multicast), 60 req/hour (narrowcast, broadcast),
// 60 req/min (audience writes) and 2,000 req/s (others); the mapping of
// endpoints to these values is LINE's published table as commonly read and
// not confirmed endpoint by endpoint, hence overridable.
func DefaultLimits() map[Endpoint]RateLimit {
	return map[Endpoint]RateLimit{
		EndpointPush:       {2000, 1},
		EndpointMulticast:  {200, 5},
		EndpointNarrowcast: {60.0 / 3600, 5},
		EndpointBroadcast:  {60.0 / 3600, 5},
		EndpointAudience:   {1, 5},
		EndpointOther:      {2000, 1},
	}
}

// Client is a LINE Messaging API client. It is safe for concurrent use.
type Client struct {
	apiURL, dataURL string
	tokens          TokenSource
	tr              *transport.Client
	gates           map[Endpoint]*transport.Gate
	log             *slog.Logger
	concurrency     int
}

type config struct {
	apiURL, dataURL string
	hc              *http.Client
	retry           transport.RetryPolicy
	limits          map[Endpoint]RateLimit
	log             *slog.Logger
	uaSuffix        string
	sleep           func(context.Context, time.Duration) error
	concurrency     int
}

// Option configures a Client.
type Option func(*config) error

// WithBaseURL sets the api.line.me base URL (for tests and proxies).
func WithBaseURL(u string) Option {
	return func(c *config) error { c.apiURL = u; return checkURL("WithBaseURL", u) }
}

// WithDataURL sets the api-data.line.me base URL.
func WithDataURL(u string) Option {
	return func(c *config) error { c.dataURL = u; return checkURL("WithDataURL", u) }
}

func checkURL(field, u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || p.Host == "" {
		return invalid(field, "%q is not an absolute URL", u)
	}
	return nil
}

// WithHTTPClient sets the HTTP client (default: one with a 30 s timeout).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error { c.hc = hc; return nil }
}

// WithRetryPolicy sets the retry policy (default DefaultRetryPolicy()).
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error { c.retry = p; return nil }
}

// WithRateLimit overrides the client-side gate of one endpoint class. A
// PerSecond of 0 or less disables pacing for it.
func WithRateLimit(e Endpoint, l RateLimit) Option {
	return func(c *config) error { c.limits[e] = l; return nil }
}

// WithLogger sets the logger (default: silent). Secrets are redacted.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.log = l; return nil }
}

// WithUserAgentSuffix appends s to the User-Agent.
func WithUserAgentSuffix(s string) Option {
	return func(c *config) error { c.uaSuffix = s; return nil }
}

// WithSleep replaces the backoff sleep, so retry tests take no time.
func WithSleep(f func(context.Context, time.Duration) error) Option {
	return func(c *config) error { c.sleep = f; return nil }
}

// WithConcurrency sets how many multicast chunks are in flight at once
// (default 32).
func WithConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return invalid("WithConcurrency", "must be at least 1, got %d", n)
		}
		c.concurrency = n
		return nil
	}
}

// New returns a client authenticating with tokens.
func New(tokens TokenSource, opts ...Option) (*Client, error) {
	if tokens == nil {
		return nil, invalid("tokens", "nil TokenSource")
	}
	cfg := config{
		apiURL: DefaultAPIURL, dataURL: DefaultDataURL,
		retry:       transport.DefaultRetryPolicy(),
		limits:      DefaultLimits(),
		concurrency: 32,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.hc == nil {
		cfg.hc = &http.Client{Timeout: 30 * time.Second}
	}
	c := &Client{
		apiURL:      strings.TrimRight(cfg.apiURL, "/"),
		dataURL:     strings.TrimRight(cfg.dataURL, "/"),
		tokens:      tokens,
		gates:       map[Endpoint]*transport.Gate{},
		log:         cfg.log,
		concurrency: cfg.concurrency,
	}
	for e, l := range cfg.limits {
		c.gates[e] = transport.NewGate(l.PerSecond, l.Burst)
	}
	c.tr = transport.New(transport.Config{
		Platform:        "line",
		UserAgentSuffix: cfg.uaSuffix,
		HTTPClient:      cfg.hc,
		Retry:           cfg.retry,
		CheckRetry:      checkRetry,
		Sleep:           cfg.sleep,
		Logger:          cfg.log,
		RequestIDHeader: headerRequestID,
	})
	return c, nil
}

// Format prints the client without any credential.
func (c *Client) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "line.Client{api: %s, data: %s}", redactURL(c.apiURL), redactURL(c.dataURL))
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return transport.Redacted
	}
	return u.Redacted()
}

// String describes the client without any credential.
func (c *Client) String() string { return fmt.Sprint(c) }

// Gate returns the client-side gate of an endpoint class, e.g. to read or
// adjust its limit at run time.
func (c *Client) Gate(e Endpoint) *Gate { return c.gates[e] }

type classKey struct{}

// checkRetry is LINE's rule, applied only to requests flagged retryable.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		// Timeouts and connection errors; not TLS certificate, scheme or
		// redirect-loop errors, which another attempt cannot fix.
		return retryablehttp.DefaultRetryPolicy(ctx, nil, err)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		class, _ := ctx.Value(classKey{}).(Endpoint)
		if class != EndpointPush && class != EndpointMulticast {
			return false, nil
		}
		b, _ := transport.ReadBody(resp)
		return !isQuotaBody(b), nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return true, nil
	}
	return false, nil
}

// call is one API call.
type call struct {
	class    Endpoint
	method   string
	data     bool // api-data host
	path     string
	query    url.Values
	body     any // JSON-encoded when not nil
	retry    bool
	retryKey string
	out      any // decoded from a 2xx body when not nil
}

type response struct {
	status    int
	requestID string
	header    http.Header
}

func (c *Client) endpointURL(data bool, path string, q url.Values) string {
	base := c.apiURL
	if data {
		base = c.dataURL
	}
	u := base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func (c *Client) authHeader(ctx context.Context) (http.Header, error) {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("line: channel access token: %w", c.tr.Redactor().Error(err))
	}
	if tok.IsZero() {
		return nil, invalid("token", "the token source returned an empty token")
	}
	c.tr.Redactor().AddSecret(tok)
	h := http.Header{}
	h.Set("Authorization", "Bearer "+tok.Reveal())
	return h, nil
}

func (c *Client) do(ctx context.Context, cl *call) (*response, error) {
	h, err := c.authHeader(ctx)
	if err != nil {
		return nil, err
	}
	var body []byte
	if cl.body != nil {
		if body, err = json.Marshal(cl.body); err != nil {
			return nil, fmt.Errorf("line: encode request: %w", err)
		}
		h.Set("Content-Type", "application/json")
	}
	if cl.retryKey != "" {
		h.Set(headerRetryKey, cl.retryKey)
	}
	ctx = context.WithValue(ctx, classKey{}, cl.class)
	resp, err := c.tr.Do(ctx, &transport.Request{
		Method: cl.method,
		URL:    c.endpointURL(cl.data, cl.path, cl.query),
		Header: h,
		Body:   body,
		Retry:  cl.retry,
		Gate:   c.gates[cl.class],
	})
	if err != nil {
		return nil, wrapError(err)
	}
	defer resp.Body.Close()
	r := &response{status: resp.StatusCode, requestID: resp.Header.Get(headerRequestID), header: resp.Header}
	if cl.out != nil {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return r, fmt.Errorf("line: read response: %w", err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			if err := json.Unmarshal(b, cl.out); err != nil {
				return r, fmt.Errorf("line: decode %s response: %w", cl.path, err)
			}
		}
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	return r, nil
}

// String returns the endpoint class name.
func (e Endpoint) String() string { return string(e) }

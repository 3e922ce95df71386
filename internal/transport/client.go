package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Version is the SDK version sent in the User-Agent.
const Version = "0.1.0"

// RetryPolicy bounds retries. Retries happen only for requests flagged safe
// to retry ([Request].Retry).
type RetryPolicy struct {
	MaxRetries int           // retries after the first attempt; 0 disables retries
	MinBackoff time.Duration // first backoff when the server gives no Retry-After
	MaxBackoff time.Duration // cap of the exponential backoff
	// MaxWait is the longest Retry-After honoured by sleeping. A longer one
	// ends the call with a *RateLimitError carrying it, so the caller decides.
	MaxWait time.Duration
}

// DefaultRetryPolicy is 4 retries, backoff from 500ms to 30s, and Retry-After
// honoured up to 60s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 4, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second, MaxWait: 60 * time.Second}
}

// Config is what a platform client tells the transport.
type Config struct {
	Platform        string // "shopify", "klaviyo", "omnisend", "line": User-Agent and logs
	UserAgentSuffix string
	// HTTPClient is copied and its Transport wrapped; nil gives a client with
	// its own connection pool, so one platform's failures (retryablehttp
	// closes idle connections on failure) never flush another's.
	HTTPClient *http.Client
	Retry      RetryPolicy
	// CheckRetry is the platform's rule for which responses and transport
	// errors are worth another attempt. Nil means retryablehttp's default:
	// 429, 5xx but 501, and recoverable transport errors. It is consulted
	// only for requests flagged Retry.
	CheckRetry retryablehttp.CheckRetry
	// Sleep waits between attempts; it must return ctx.Err() as soon as ctx
	// is done. Nil uses a timer. Tests inject a fast one.
	Sleep           func(ctx context.Context, d time.Duration) error
	Logger          *slog.Logger // nil: silent
	Redactor        *Redactor    // nil: a new one
	Gate            *Gate        // nil: no client-side pacing
	RequestIDHeader string       // response header holding the request id
}

// Client sends requests with retries, pacing and redaction. It is safe for
// concurrent use.
type Client struct {
	cfg   Config
	red   *Redactor
	log   *slog.Logger
	hc    *http.Client
	rc    *retryablehttp.Client
	ua    string
	sleep func(context.Context, time.Duration) error
}

// New builds a client from cfg.
func New(cfg Config) *Client {
	c := &Client{cfg: cfg, red: cfg.Redactor, log: cfg.Logger, sleep: cfg.Sleep}
	if c.red == nil {
		c.red = NewRedactor()
	}
	if c.sleep == nil {
		c.sleep = Sleep
	}
	if cfg.CheckRetry == nil {
		c.cfg.CheckRetry = retryablehttp.DefaultRetryPolicy
	}
	c.ua = UserAgent(cfg.Platform, cfg.UserAgentSuffix)

	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		*hc = *cfg.HTTPClient
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport.(*http.Transport).Clone()
	}
	hc.Transport = &gateTransport{next: next, c: c}
	c.hc = hc

	c.rc = &retryablehttp.Client{
		HTTPClient:   hc,
		RetryMax:     max(cfg.Retry.MaxRetries, 0),
		RetryWaitMin: cfg.Retry.MinBackoff,
		RetryWaitMax: cfg.Retry.MaxBackoff,
		CheckRetry:   c.checkRetry,
		Backoff:      noBackoff, // the wait happens in prepareRetry, through c.sleep
		PrepareRetry: c.prepareRetry,
		ErrorHandler: c.errorHandler,
	}
	if c.log != nil {
		c.rc.Logger = NewLeveledLogger(c.log, c.red)
	}
	return c
}

// UserAgent returns "shopcrm/<version> (<platform>)" plus the suffix.
func UserAgent(platform, suffix string) string {
	ua := "shopcrm/" + Version + " (" + platform + ")"
	if suffix != "" {
		ua += " " + suffix
	}
	return ua
}

// Redactor returns the client's redactor, so the platform client can register
// the secrets it uses.
func (c *Client) Redactor() *Redactor { return c.red }

// Gate returns the client's default gate (nil when unpaced).
func (c *Client) Gate() *Gate { return c.cfg.Gate }

// Logger returns the client's logger (nil when silent).
func (c *Client) Logger() *slog.Logger { return c.log }

// Request is one logical call; it may take several attempts.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte // sent again, whole, on every attempt
	// Retry marks the request safe to retry: a read, or a write made
	// idempotent by a key. The HTTP method says nothing about it (Shopify
	// reads are POSTs).
	Retry bool
	Cost  int   // gate tokens each attempt waits for; 0 means 1
	Gate  *Gate // this request's gate instead of the client's (per-endpoint limits)
	// Handle inspects a 2xx response before Do returns it, and may restore
	// its body. An error it returns ends the call, unless the error is
	// [Retryable] and the request is flagged Retry.
	Handle func(*http.Response) error
}

// Do sends r. A 2xx comes back as the response (the caller closes its body);
// any other status as an *APIError; a Retry-After beyond the policy's MaxWait
// or the context's deadline as a *RateLimitError. Errors are redacted.
func (c *Client) Do(ctx context.Context, r *Request) (*http.Response, error) {
	st := &attempt{retry: r.Retry, cost: r.Cost, gate: r.Gate}
	var body any
	if r.Body != nil {
		body = r.Body
	}
	req, err := retryablehttp.NewRequestWithContext(context.WithValue(ctx, attemptKey{}, st), r.Method, r.URL, body)
	if err != nil {
		return nil, c.red.Error(err)
	}
	c.setHeader(req.Header, r.Header)
	if r.Handle != nil {
		req.SetResponseHandler(func(resp *http.Response) error {
			if resp.StatusCode < 200 || resp.StatusCode > 299 {
				return nil
			}
			if err := r.Handle(resp); err != nil {
				return &handlerError{err}
			}
			return nil
		})
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		var he *handlerError
		if errors.As(err, &he) {
			err = he.err
		}
		return nil, c.red.Error(err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.apiError(resp)
	}
	return resp, nil
}

// StreamRequest is a request whose body is streamed from a reader. It is
// sent exactly once: a body that cannot be replayed is never retried.
type StreamRequest struct {
	Method        string
	URL           string
	Header        http.Header
	Body          io.Reader
	ContentLength int64 // -1 or 0 when unknown
	Cost          int
	Gate          *Gate
}

// DoStream sends r once, through the gate, without retries.
func (c *Client) DoStream(ctx context.Context, r *StreamRequest) (*http.Response, error) {
	st := &attempt{cost: r.Cost, gate: r.Gate}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, attemptKey{}, st), r.Method, r.URL, r.Body)
	if err != nil {
		return nil, c.red.Error(err)
	}
	if r.ContentLength > 0 {
		req.ContentLength = r.ContentLength
	}
	req.GetBody = nil // never replay
	c.setHeader(req.Header, r.Header)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.red.Error(err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.apiError(resp)
	}
	return resp, nil
}

func (c *Client) setHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append([]string(nil), vs...)
	}
	ua := c.ua
	if v := src.Get("User-Agent"); v != "" {
		ua = v
	}
	dst.Set("User-Agent", ua)
}

// apiError reads (at most MaxErrorBody of) resp's body into an *APIError and
// closes it.
func (c *Client) apiError(resp *http.Response) *APIError {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody+1))
	e := &APIError{
		Status: resp.StatusCode,
		Header: resp.Header,
	}
	if len(b) > MaxErrorBody {
		b, e.Truncated = b[:MaxErrorBody], true
	}
	e.Body = []byte(c.red.String(string(b)))
	if resp.Request != nil {
		e.Method = resp.Request.Method
		e.URL = c.red.URL(resp.Request.URL)
	}
	if c.cfg.RequestIDHeader != "" {
		e.RequestID = resp.Header.Get(c.cfg.RequestIDHeader)
	}
	if d, ok := RetryAfter(resp, time.Now()); ok {
		e.RetryAfter = d
	}
	return e
}

// RedactURL is a convenience for platform clients building messages.
func (c *Client) RedactURL(u *url.URL) string { return c.red.URL(u) }

// ReadBody reads all of a 2xx response's body and restores it, for response
// handlers that need to look before the caller decodes.
func ReadBody(resp *http.Response) ([]byte, error) {
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return b, err
}

// Sleep waits for d or until ctx is done, whichever is first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

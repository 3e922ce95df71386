package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/shopcrm/shopcrm"
)

// Version is the SDK version sent in the User-Agent.
const Version = "0.1.0"

// RetryPolicy is the public retry policy.
type RetryPolicy = shopcrm.RetryPolicy

// Config is what a platform client tells the transport.
type Config struct {
	Platform        string // "shopify", "klaviyo", "omnisend", "line": User-Agent and logs
	UserAgentSuffix string
	// HTTPClient is copied, its Transport wrapped and its redirects
	// refused; nil gives [NewHTTPClient](MaxInFlight).
	HTTPClient *http.Client
	// MaxInFlight is how many requests the client keeps in flight at most;
	// the default HTTP client keeps that many idle connections per host.
	MaxInFlight int
	Retry       RetryPolicy
	// CheckRetry is the platform's rule for which answers are worth another
	// attempt; nil means [DefaultCheckRetry].
	CheckRetry CheckRetry
	// WrapError turns a non-2xx answer into the platform package's error
	// type, so no internal type reaches the caller. An answer it maps to an
	// error matching ErrRateLimited reaches the caller inside a
	// *RateLimitError. Nil keeps the *APIError.
	WrapError func(*APIError) error
	// Sleep waits between attempts; it must return ctx.Err() as soon as ctx
	// is done. Nil uses a timer. Tests inject a fast one.
	Sleep           func(ctx context.Context, d time.Duration) error
	Logger          *slog.Logger // nil: silent
	Redactor        *Redactor    // nil: a new one
	Gate            *Gate        // nil: no client-side pacing
	RequestIDHeader string       // response header holding the request id
	// MaxBody caps every response body read through the client; reading
	// past it fails with a *shopcrm.BodyTooLargeError. Zero means
	// DefaultMaxBody.
	MaxBody int64
	// RetryAfter reads the wait a non-2xx answer asks for, for platforms
	// that name it elsewhere than in Retry-After (Omnisend's problem body
	// field retryAfter). It may read the body with [ReadBody], which
	// restores it. Nil reads Retry-After alone ([RetryAfter]).
	RetryAfter func(resp *http.Response, now time.Time) (time.Duration, bool)
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
		c.cfg.CheckRetry = DefaultCheckRetry
	}
	if cfg.MaxBody <= 0 {
		c.cfg.MaxBody = DefaultMaxBody
	}
	if cfg.WrapError == nil {
		c.cfg.WrapError = func(e *APIError) error { return e }
	}
	c.ua = UserAgent(cfg.Platform, cfg.UserAgentSuffix)

	hc := NewHTTPClient(cfg.MaxInFlight)
	if cfg.HTTPClient != nil {
		*hc = *cfg.HTTPClient
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport.(*http.Transport).Clone()
	}
	// The attempt's timeout starts after the gate (see gateTransport).
	hc.Transport = &gateTransport{next: next, c: c, timeout: hc.Timeout}
	hc.Timeout = 0
	hc.CheckRedirect = noRedirect
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
	// Op names the operation or endpoint class, for logs and for the
	// platform's CheckRetry (LINE retries a 429 on some endpoints only).
	Op string
	// Retry is what the platform guarantees about repeating the request.
	Retry RetryClass
	Cost  int   // gate tokens each attempt waits for; 0 means 1
	Gate  *Gate // this request's gate instead of the client's (per-endpoint limits)
	// Handle inspects a 2xx response before Do returns it, and may restore
	// its body. An error it returns ends the call, unless the error is
	// [Retryable] or [Damaged] and the request's class allows a retry.
	Handle func(*http.Response) error
}

// Do sends r. A 2xx comes back as the response (the caller closes its body);
// any other status as the platform's error (Config.WrapError); throttling
// that retries did not get past, and a Retry-After beyond the policy's
// MaxWait or the context's deadline, as a *RateLimitError. Errors are
// redacted.
func (c *Client) Do(ctx context.Context, r *Request) (*http.Response, error) {
	st := &attempt{req: r, cost: r.Cost, gate: r.Gate}
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
			err = undamaged(he.err)
			var rl *RateLimitError
			var r Retryable
			if errors.Is(err, ErrRateLimited) && !errors.As(err, &rl) && errors.As(err, &r) {
				err = &RateLimitError{RetryAfter: r.RetryAfter(), Err: err}
			}
		}
		return nil, c.red.Error(err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.statusError(resp)
	}
	return resp, nil
}

// statusError is the platform's error for a non-2xx answer, inside a
// *RateLimitError when it is throttling.
func (c *Client) statusError(resp *http.Response) error {
	ae := c.apiError(resp)
	err := c.cfg.WrapError(ae)
	if errors.Is(err, ErrRateLimited) {
		return &RateLimitError{RetryAfter: ae.RetryAfter, Err: err}
	}
	return err
}

// StreamRequest is a request whose body is streamed from a reader. It is
// sent exactly once: a body that cannot be replayed is never retried.
type StreamRequest struct {
	Method        string
	URL           string
	Header        http.Header
	Body          io.Reader
	ContentLength int64 // -1 or 0 when unknown
	Op            string
	Cost          int
	Gate          *Gate
}

// DoStream sends r once, through the gate, without retries.
func (c *Client) DoStream(ctx context.Context, r *StreamRequest) (*http.Response, error) {
	st := &attempt{req: &Request{Method: r.Method, URL: r.URL, Op: r.Op}, cost: r.Cost, gate: r.Gate}
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
	refundRefused(st, resp, nil)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.statusError(resp)
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
	wait, hasWait := c.retryAfter(resp) // before the body is read: it may look at it
	b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody+1))
	e := &APIError{
		Status: resp.StatusCode,
		Header: resp.Header,
	}
	if len(b) > MaxErrorBody {
		b, e.Truncated = b[:MaxErrorBody], true
	}
	e.Body = []byte(c.red.String(string(plainJSON(b))))
	if resp.Request != nil {
		e.Method = resp.Request.Method
		e.URL = c.red.URL(resp.Request.URL)
	}
	if c.cfg.RequestIDHeader != "" {
		e.RequestID = resp.Header.Get(c.cfg.RequestIDHeader)
	}
	if hasWait {
		e.RetryAfter = wait
	}
	return e
}

// RedactURL is a convenience for platform clients building messages.
func (c *Client) RedactURL(u *url.URL) string { return c.red.URL(u) }

// ReadBody reads all of a 2xx response's body (through the client's cap,
// see [ReadAll]) and restores it, for response handlers that need to look
// before the caller decodes.
func ReadBody(resp *http.Response) ([]byte, error) {
	b, err := ReadAll(resp, false)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return b, err
}

// ReadErrorBody reads at most MaxErrorBody+1 bytes of a non-2xx answer's
// body and restores them, for the hooks that look at a throttling answer's
// body (Config.RetryAfter, a CheckRetry): an error body is never read
// further than the *APIError keeps.
func ReadErrorBody(resp *http.Response) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody+1))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

// ReadAll reads resp's body whole through the client's cap. A body that
// declares a Content-Length past the cap fails at once with a
// *shopcrm.BodyTooLargeError, without a byte read, and a declared length
// is allocated once. An undeclared one is read in pieces that double in
// size and joined at the end, so that a body the cap cuts off has cost
// the process about the cap, not the many copies of io.ReadAll's steps.
//
// With object set, the body is expected to hold a JSON object: reading
// stops at its first byte that is not white space when that byte is not
// '{', and the bytes read so far are returned for [DecodeObject] to
// refuse, so that an HTML page or a proxy's text answering for the API is
// not read to the cap.
func ReadAll(resp *http.Response, object bool) ([]byte, error) {
	size := resp.ContentLength
	if cb, ok := resp.Body.(*capBody); ok && size > cb.limit {
		return nil, &shopcrm.BodyTooLargeError{Limit: cb.limit}
	}
	n := 512
	if size > 0 && size < maxPresize {
		n = int(size) + 1 // +1: the read that sees EOF needs no growth
	}
	var done [][]byte // full pieces, in order
	b := make([]byte, 0, n)
	checked := !object
	for {
		if len(b) == cap(b) {
			done = append(done, b)
			b = make([]byte, 0, min(2*cap(b), maxPiece))
		}
		m, err := resp.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if !checked {
			if t := bytes.TrimLeft(b[len(b)-m:], " \t\r\n"); len(t) > 0 {
				checked = true
				if t[0] != '{' {
					return b, nil
				}
			}
		}
		switch {
		case err == io.EOF && len(done) > 0:
			return slices.Concat(append(done, b)...), nil
		case err == io.EOF:
			return b, nil
		case err != nil:
			return nil, err // the pieces are dropped, never joined
		}
	}
}

const (
	// maxPresize bounds the allocation a declared Content-Length gets up
	// front when the body is not behind the client's cap.
	maxPresize = 64 << 20
	// maxPiece bounds one piece of an undeclared body being read.
	maxPiece = 1 << 20
)

// Drain reads what is left of a body the caller does not need, up to
// MaxErrorBody bytes so that a short one leaves its connection reusable,
// and closes it: a 2xx answering a write with an endless body ends here,
// not at the cap.
func Drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, MaxErrorBody))
	body.Close()
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

// retryAfter is the wait resp asks for: Config.RetryAfter, else the
// Retry-After header.
func (c *Client) retryAfter(resp *http.Response) (time.Duration, bool) {
	if c.cfg.RetryAfter != nil && resp != nil {
		return c.cfg.RetryAfter(resp, time.Now())
	}
	return RetryAfter(resp, time.Now())
}

// DecodeObject decodes a 2xx body into out for the call op. Every answer
// the clients decode is a JSON object: null, an array or a string would
// decode into nothing without an error, so they are a
// *shopcrm.ResponseError, as is a body that does not decode. An empty
// body is one too unless emptyOK (some endpoints answer a write with
// nothing).
func DecodeObject(op string, b []byte, out any, emptyOK bool) error {
	t := bytes.TrimSpace(b)
	switch {
	case len(t) == 0 && emptyOK:
		return nil
	case len(t) == 0:
		return &shopcrm.ResponseError{Op: op, Reason: "empty body"}
	case t[0] != '{':
		return &shopcrm.ResponseError{Op: op, Reason: "the body is not a JSON object"}
	}
	if err := json.Unmarshal(t, out); err != nil {
		return &shopcrm.ResponseError{Op: op, Err: err}
	}
	return nil
}

package transport

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/shopcrm/shopcrm"
)

// attempt is the per-call state the retryablehttp hooks share through the
// request's context: the hooks' signatures carry nothing else.
type attempt struct {
	req  *Request
	cost int
	gate *Gate
	n    int           // attempts sent so far
	wait time.Duration // wait before the next attempt, set by checkRetry
	// charged is the gate that let the last attempt through and the
	// tokens it took, until they are refunded.
	charged     *Gate
	chargedCost int
}

// refundRefused gives the gate back the tokens of an attempt the server
// refused without acting on it or charging it: a 429. Each attempt is
// refunded at most once. (A platform answer that says so in a 2xx, like
// Shopify's THROTTLED, carries the server's level, which the platform
// client reconciles the gate with instead.)
func refundRefused(a *attempt, resp *http.Response, err error) {
	if a == nil || a.charged == nil || err != nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		return
	}
	a.charged.Refund(a.chargedCost)
	a.charged, a.chargedCost = nil, 0
}

type attemptKey struct{}

func attemptFrom(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	return a
}

// handlerError marks an error from Request.Handle, so checkRetry can tell it
// from a transport error.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// waitTooLong tells errorHandler that the server asked for more than the
// client will wait.
type waitTooLong struct {
	wait time.Duration
	err  error
}

func (e *waitTooLong) Error() string { return "retry wait too long" }

func noBackoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration { return 0 }

// checkRetry decides whether to retry and how long to wait first. The wait
// is stored in the attempt and slept in prepareRetry.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	a := attemptFrom(ctx)
	refundRefused(a, resp, err)
	if a == nil || a.req.Retry == RetryNever {
		return false, nil
	}
	var floor time.Duration
	hasFloor := false
	var he *handlerError
	var we *WaitError
	switch {
	case errors.As(err, &we):
		return false, err
	case errors.As(err, &he):
		if damaged, retry := damagedRetry(he.err, a.req.Retry); damaged {
			if !retry {
				return false, nil
			}
			break // the policy's backoff
		}
		var r Retryable
		if !errors.As(he.err, &r) {
			return false, nil
		}
		floor, hasFloor = r.RetryAfter(), r.RetryAfter() > 0
	default:
		ok, cerr := c.cfg.CheckRetry(ctx, a.req, resp, err)
		if !ok {
			return false, cerr
		}
		floor, hasFloor = c.retryAfter(resp)
	}
	var wait time.Duration
	if hasFloor {
		if floor > c.cfg.Retry.MaxWait {
			return false, &waitTooLong{wait: floor, err: err}
		}
		wait = floor + jitter(floor)
	} else {
		wait = c.backoff(a.n)
	}
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) && hasFloor {
		return false, &waitTooLong{wait: floor, err: err}
	}
	a.wait = wait
	return true, nil
}

// jitter is a small random addition to a server-given wait: up to a tenth of
// it, at least 10ms and at most 1s, so clients that were throttled together
// do not return together. It is never subtracted.
func jitter(floor time.Duration) time.Duration {
	j := min(max(floor/10, 10*time.Millisecond), time.Second)
	return rand.N(j + 1)
}

// backoff is exponential from MinBackoff, capped at MaxBackoff, with "equal
// jitter": half fixed, half random.
func (c *Client) backoff(attempt int) time.Duration {
	lo, hi := c.cfg.Retry.MinBackoff, c.cfg.Retry.MaxBackoff
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// prepareRetry sleeps the wait checkRetry chose; a cancelled context ends it
// at once.
func (c *Client) prepareRetry(req *http.Request) error {
	a := attemptFrom(req.Context())
	if a == nil {
		return nil
	}
	if c.log != nil {
		c.log.LogAttrs(req.Context(), slogDebug, "retrying request",
			attr("platform", c.cfg.Platform), attr("method", req.Method),
			attr("url", c.red.URL(req.URL)), attrInt("attempt", a.n+1), attrDur("wait", a.wait))
	}
	return c.sleep(req.Context(), a.wait)
}

// errorHandler shapes what retryablehttp returns once it stops: a
// RateLimitError for an over-long wait, the last response for a status that
// exhausted its retries (Do turns it into an *APIError with its body), and
// the cause for everything else.
func (c *Client) errorHandler(resp *http.Response, err error, tries int) (*http.Response, error) {
	var tl *waitTooLong
	if errors.As(err, &tl) {
		var cause error
		var he *handlerError
		switch {
		case errors.As(tl.err, &he):
			cause = he.err
			if resp != nil {
				resp.Body.Close()
			}
		case resp != nil:
			cause = c.cfg.WrapError(c.apiError(resp))
		default:
			cause = tl.err
		}
		return nil, &RateLimitError{RetryAfter: tl.wait, Err: cause}
	}
	if err == nil && resp != nil {
		return resp, nil
	}
	if resp != nil {
		resp.Body.Close()
	}
	if c.log != nil && tries > 1 {
		c.log.LogAttrs(context.Background(), slogWarn, "giving up",
			attr("platform", c.cfg.Platform), attrInt("attempts", tries), attr("error", c.red.String(errString(err))))
	}
	return nil, err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// gateTransport makes every attempt, retries included, pass the gate,
// then gives the attempt its own timeout. The http.Client's Timeout would
// also count the time queued at the gate, so a long job's later requests,
// waiting their turn behind a drained bucket, would time out before being
// sent; the caller's context bounds that wait instead.
type gateTransport struct {
	next    http.RoundTripper
	c       *Client
	timeout time.Duration // per attempt, after the gate; 0: none
}

func (t *gateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	a := attemptFrom(req.Context())
	g := t.c.cfg.Gate
	cost := 1
	if a != nil {
		if a.gate != nil {
			g = a.gate
		}
		cost = max(a.cost, 1)
		a.n++
	}
	if g != nil {
		if err := g.Wait(req.Context(), cost); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
		if a != nil {
			a.charged, a.chargedCost = g, min(cost, g.Burst())
		}
	}
	cancel := context.CancelFunc(func() {})
	if t.timeout > 0 {
		var ctx context.Context
		ctx, cancel = context.WithTimeout(req.Context(), t.timeout)
		req = req.WithContext(ctx)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp == nil || resp.Body == nil {
		cancel()
		return resp, err
	}
	resp.Body = &capBody{rc: resp.Body, left: t.c.cfg.MaxBody, limit: t.c.cfg.MaxBody, done: cancel}
	return resp, err
}

// capBody fails a read that would go past the body cap, so that no answer,
// however long, is read whole into memory.
type capBody struct {
	rc          io.ReadCloser
	left, limit int64
	done        context.CancelFunc // ends the attempt's timeout; nil: none
}

func (b *capBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the cap from a longer one.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, &shopcrm.BodyTooLargeError{Limit: b.limit}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *capBody) Close() error {
	err := b.rc.Close()
	if b.done != nil {
		b.done()
	}
	return err
}

package transport

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/shopcrm/shopcrm"
)

// Damaged marks an error a Request.Handle returns for a 2xx answer whose
// body could not be read whole or parsed (cut off, not JSON). The server
// received the request and may have acted on it, so the answer is worth
// another attempt only when repeating the request is safe: Do retries it
// for RetryIdempotent and RetryKeyed, never for RetryIfRefused. A body
// over the cap is not marked: another attempt would read the same. Do
// returns err itself, unmarked, once it stops.
func Damaged(err error) error {
	if err == nil || errors.Is(err, shopcrm.ErrBodyTooLarge) {
		return err
	}
	return &damagedError{err}
}

type damagedError struct{ err error }

func (e *damagedError) Error() string { return e.err.Error() }
func (e *damagedError) Unwrap() error { return e.err }

// ReadObject returns a Request.Handle that reads a 2xx answer's body whole
// (through the client's cap) into *dst and checks that it is a JSON object,
// or empty when emptyOK says the status may come without a body. A body
// cut off or not a JSON object is [Damaged], so Do retries it when the
// request is safe to repeat; op names the call in the error. The caller
// decodes *dst once Do returns: a body that parses but does not fit the
// caller's type would only fail again.
func ReadObject(op string, dst *[]byte, emptyOK func(status int) bool) func(*http.Response) error {
	return func(resp *http.Response) error {
		b, err := ReadAll(resp, true)
		resp.Body.Close()
		resp.Body = http.NoBody
		*dst = b
		if err != nil {
			return Damaged(&shopcrm.ResponseError{Op: op, Reason: "reading the body", Err: err})
		}
		return Damaged(DecodeObject(op, b, &json.RawMessage{}, emptyOK != nil && emptyOK(resp.StatusCode)))
	}
}

// damagedRetry reports whether an error of Request.Handle is a damaged
// answer, and if so whether class r may repeat the request.
func damagedRetry(err error, r RetryClass) (damaged, retry bool) {
	var d *damagedError
	if !errors.As(err, &d) {
		return false, false
	}
	return true, r == RetryIdempotent || r == RetryKeyed
}

// undamaged strips the mark of [Damaged].
func undamaged(err error) error {
	if d, ok := err.(*damagedError); ok {
		return d.err
	}
	return err
}

// MaybeApplied reports whether err, returned by a write while ctx is still
// live, leaves the write's outcome unknown: the request may have reached
// the server and been acted on. That is a transport error (a dropped
// connection, a lost answer, an attempt's own timeout), a 2xx answer that
// could not be read ([shopcrm.ErrMalformedResponse]), or a server error,
// which serverError recognises in the platform's error type (a 5xx).
// Refusals (429, 4xx, the platform's user errors) are not: the server
// said what it did.
func MaybeApplied(ctx context.Context, err error, serverError func(error) bool) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var ue *url.Error
	return errors.As(err, &ue) || errors.Is(err, shopcrm.ErrMalformedResponse) || serverError(err)
}

// Recovery sends a write that Do may not repeat blindly (it is not
// idempotent) but whose effect can be looked up afterwards: Shopify's bulk
// query start, a segment or a list created by name.
type Recovery[T any] struct {
	// Op names the write in logs.
	Op string
	// Send makes one attempt at the write.
	Send func(ctx context.Context) (T, error)
	// Unknown reports whether Send's error leaves the outcome unknown
	// (see [MaybeApplied]); only then is Find asked.
	Unknown func(ctx context.Context, err error) bool
	// Find looks for the write's effect after an unknown outcome: found
	// reports that an earlier attempt did act, and v is its result. A
	// write not found did not happen and is sent again.
	Find func(ctx context.Context) (v T, found bool, err error)
}

// Recover runs r: Send, and after an outcome Send left unknown, Find,
// which either adopts what an earlier attempt did or clears the write for
// another attempt after the policy's backoff. It sends at most
// 1+MaxRetries times; when the attempts run out, or Find fails, the last
// error of Send is returned, its outcome still unknown.
func Recover[T any](ctx context.Context, c *Client, r Recovery[T]) (T, error) {
	for n := 1; ; n++ {
		v, err := r.Send(ctx)
		if err == nil || !r.Unknown(ctx, err) {
			return v, err
		}
		got, found, ferr := r.Find(ctx)
		switch {
		case ferr == nil && found:
			if c.log != nil {
				c.log.LogAttrs(ctx, slogDebug, "outcome unknown: the write was applied", attr("platform", c.cfg.Platform),
					attr("op", r.Op), attr("error", c.red.String(err.Error())))
			}
			return got, nil
		case ferr != nil:
			if c.log != nil {
				c.log.LogAttrs(ctx, slogWarn, "outcome unknown: looking for the write failed", attr("platform", c.cfg.Platform),
					attr("op", r.Op), attr("error", c.red.String(err.Error())), attr("lookup", c.red.String(ferr.Error())))
			}
			return v, err
		case n > c.cfg.Retry.MaxRetries:
			return v, err
		}
		wait := c.backoff(n)
		if c.log != nil {
			c.log.LogAttrs(ctx, slogDebug, "outcome unknown: the write was not applied, sending it again",
				attr("platform", c.cfg.Platform), attr("op", r.Op), attrInt("attempt", n+1), attrDur("wait", wait),
				attr("error", c.red.String(err.Error())))
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return v, serr
		}
	}
}

package transport

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"

	"github.com/hashicorp/go-retryablehttp"
)

// RetryClass is what the platform guarantees about repeating a request. Each
// client method sets it from the platform's documentation; the HTTP method
// says nothing about it (Shopify reads are POSTs).
type RetryClass int

const (
	// RetryNever sends the request once: the server may have acted on it.
	RetryNever RetryClass = iota
	// RetryIfRefused retries only answers that prove nothing ran: 429, and
	// platform answers a response handler marks [Retryable] (Shopify's
	// THROTTLED). For writes that are not idempotent.
	RetryIfRefused
	// RetryIdempotent retries network errors, 5xx (but 501) and 429: a read,
	// or a write that is idempotent by nature (Shopify tagsAdd).
	RetryIdempotent
	// RetryKeyed is RetryIdempotent for a write made idempotent by a key the
	// request carries (LINE X-Line-Retry-Key): the key is sent again, whole,
	// on every attempt.
	RetryKeyed
)

// String names the class.
func (c RetryClass) String() string {
	switch c {
	case RetryNever:
		return "never"
	case RetryIfRefused:
		return "if-refused"
	case RetryIdempotent:
		return "idempotent"
	case RetryKeyed:
		return "keyed"
	}
	return "unknown"
}

// CheckRetry is a platform's rule for which answers are worth another
// attempt. It sees the request (its class and Op) and the attempt's
// response or transport error; it is consulted only for classes other than
// RetryNever. [DefaultCheckRetry] is the rule most platforms need.
type CheckRetry func(ctx context.Context, r *Request, resp *http.Response, err error) (bool, error)

// DefaultCheckRetry retries by class: RetryIfRefused only on 429 and on a
// connection that could not be made (the request never left);
// RetryIdempotent and RetryKeyed on 429, 5xx but 501, and transport errors
// another attempt can fix (not TLS certificate, scheme or redirect errors,
// nor a cancelled request).
func DefaultCheckRetry(ctx context.Context, r *Request, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	switch r.Retry {
	case RetryIfRefused:
		return (resp != nil && resp.StatusCode == http.StatusTooManyRequests) || NotSent(err), nil
	case RetryIdempotent, RetryKeyed:
		var ue *url.Error
		if errors.As(err, &ue) && errors.Is(ue.Err, context.Canceled) {
			return false, nil
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	return false, nil
}

// NotSent reports whether err proves the request never reached the
// server: the connection could not be made (refused, unreachable, a name
// that does not resolve). Any later failure may come after the server
// read the request.
func NotSent(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

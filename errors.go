package shopcrm

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Sentinels every client's errors match with errors.Is.
var (
	// ErrRateLimited matches throttling: HTTP 429, Shopify's THROTTLED, and
	// every *RateLimitError.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnauthorized matches 401 and 403 and the platforms' access-denied
	// codes.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound matches 404 and the platforms' not-found codes.
	ErrNotFound = errors.New("not found")
	// ErrConflict matches 409.
	ErrConflict = errors.New("conflict")
	// ErrQuotaExceeded matches a quota that waiting a little will not
	// restore (LINE's monthly message quota). It is never retried.
	ErrQuotaExceeded = errors.New("quota exceeded")
	// ErrInvalidInput matches every *InputError.
	ErrInvalidInput = errors.New("invalid input")
)

// InputError reports bad input found before any request was sent: an
// argument, a field of a request struct, or an option.
type InputError struct {
	// Field is the path of the offending value: "To[3]",
	// "Messages[0].Text", "WithBaseURL".
	Field string
	// Value is the offending value when it is short and not secret.
	Value string
	// Reason says what is wrong with it.
	Reason string
	// Err is the underlying cause, if any (e.g. a *tagging.TagError).
	Err error
}

// Error describes the error.
func (e *InputError) Error() string {
	s := "invalid " + e.Field
	if e.Value != "" {
		s += " " + strconv.Quote(e.Value)
	}
	switch {
	case e.Reason != "":
		s += ": " + e.Reason
	case e.Err != nil:
		s += ": " + e.Err.Error()
	}
	return s
}

// Is matches ErrInvalidInput.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// Unwrap returns the cause.
func (e *InputError) Unwrap() error { return e.Err }

// RateLimitError reports throttling the client did not wait out: retries ran
// out, or the server asked for a wait beyond the client's cap
// (RetryPolicy.MaxWait) or beyond the context's deadline. The caller decides
// when to come back. It matches ErrRateLimited and unwraps to the server's
// last answer: the package's *APIError, or a platform throttling error such
// as *shopify.ThrottledError.
type RateLimitError struct {
	// RetryAfter is the wait the server asked for (zero when it named none).
	RetryAfter time.Duration
	// Err is the server's last answer.
	Err error
}

// Error describes the error.
func (e *RateLimitError) Error() string {
	msg := "rate limited"
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(": retry after %s", e.RetryAfter)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap returns the server's answer.
func (e *RateLimitError) Unwrap() error { return e.Err }

// RetryPolicy bounds a client's retries. Which requests are retried at all
// is the platform's guarantee (a read, a write idempotent by nature or by a
// key), never this policy's.
type RetryPolicy struct {
	// MaxRetries is the retries after the first attempt; 0 disables them.
	MaxRetries int
	// MinBackoff is the first backoff when the server names no wait.
	MinBackoff time.Duration
	// MaxBackoff caps the exponential backoff.
	MaxBackoff time.Duration
	// MaxWait is the longest server-requested wait (Retry-After, Shopify's
	// bucket refill) honoured by sleeping. A longer one ends the call with a
	// *RateLimitError carrying it, so the caller decides.
	MaxWait time.Duration
}

// DefaultRetryPolicy is what every client uses unless told otherwise: 6
// retries, backoff from 500 ms to 30 s, server-requested waits honoured up
// to 60 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 6, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second, MaxWait: 60 * time.Second}
}

// RateLimit is a request rate: PerSecond requests (or cost points) per
// second with bursts of up to Burst. PerSecond of zero or less means no
// limit.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// ErrCursorStuck matches a paginated read that stopped because the server
// answered with a cursor it had already returned: following it would loop
// forever.
var ErrCursorStuck = errors.New("pagination cursor did not advance")

// CursorError ends a paginated read whose server answered with a cursor it
// had already given: following it would fetch the same pages forever. It
// names page numbers, not the cursor, which may be long and opaque. It
// matches ErrCursorStuck.
type CursorError struct {
	// Page is the page (from 1) whose answer repeated a cursor.
	Page int
	// Repeats is the page that was fetched with that cursor before.
	Repeats int
}

// Error describes the error.
func (e *CursorError) Error() string {
	return fmt.Sprintf("%v: page %d gave the cursor of page %d again", ErrCursorStuck, e.Page, e.Repeats)
}

// Is matches ErrCursorStuck.
func (e *CursorError) Is(target error) bool { return target == ErrCursorStuck }

// ErrBodyTooLarge matches a body longer than the client reads: a
// response, or a webhook delivery (see ReadWebhookBody).
var ErrBodyTooLarge = errors.New("body too large")

// BodyTooLargeError reports a body cut off at the client's cap: a server
// answering, or a webhook sender posting, more than any real message holds
// is refused rather than read into memory. It matches ErrBodyTooLarge.
type BodyTooLargeError struct {
	Limit int64 // bytes read before giving up
}

// Error describes the error.
func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("%v: more than %d bytes", ErrBodyTooLarge, e.Limit)
}

// Is matches ErrBodyTooLarge.
func (e *BodyTooLargeError) Is(target error) bool { return target == ErrBodyTooLarge }

// ErrMalformedResponse matches a 2xx answer the client could not use: a
// body that does not decode, or one that lacks what the call must return
// (the profile of a user, the payload of a mutation). The server may have
// acted: treat the outcome as unknown.
var ErrMalformedResponse = errors.New("malformed response")

// ResponseError is a 2xx answer the client could not use. It matches
// ErrMalformedResponse and unwraps to the decoding error, if any.
type ResponseError struct {
	Op     string // the call, e.g. "GET /v2/bot/profile" or "tagsAdd"
	Reason string
	Err    error
}

// Error describes the error.
func (e *ResponseError) Error() string {
	s := "malformed response to " + e.Op
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is matches ErrMalformedResponse.
func (e *ResponseError) Is(target error) bool { return target == ErrMalformedResponse }

// Unwrap returns the decoding error.
func (e *ResponseError) Unwrap() error { return e.Err }

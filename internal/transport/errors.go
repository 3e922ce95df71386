package transport

import (
	"fmt"
	"net/http"
	"time"

	"github.com/shopcrm/shopcrm"
)

// Sentinels every client reuses, so that callers can write
// errors.Is(err, shopify.ErrRateLimited) the same way on every platform.
var (
	ErrRateLimited  = shopcrm.ErrRateLimited
	ErrUnauthorized = shopcrm.ErrUnauthorized
	ErrNotFound     = shopcrm.ErrNotFound
	ErrConflict     = shopcrm.ErrConflict
)

// MaxErrorBody caps how much of an error response body is kept.
const MaxErrorBody = 64 << 10

// APIError is a non-2xx response. Platform packages wrap it in their own
// error types (which unwrap to it) to add the platform's code and message.
type APIError struct {
	Method     string
	URL        string // redacted
	Status     int
	RequestID  string
	RetryAfter time.Duration // zero when the server sent none
	Header     http.Header   // response header
	Body       []byte        // at most MaxErrorBody bytes, secrets redacted
	Truncated  bool          // the body was longer than MaxErrorBody
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" retry after %s", e.RetryAfter)
	}
	return s
}

// Is maps the status to the shared sentinels ([StatusIs]).
func (e *APIError) Is(target error) bool { return StatusIs(e.Status, target) }

// RateLimitError is the public rate-limit error.
type RateLimitError = shopcrm.RateLimitError

// Retryable is implemented by errors a response handler returns for a 2xx
// response that should be retried anyway, such as Shopify's THROTTLED.
type Retryable interface {
	error
	// RetryAfter is the minimum wait before the next attempt (zero: backoff).
	RetryAfter() time.Duration
}

// redactedError keeps a wrapped error's identity for errors.Is/As while its
// message goes through the redactor, so a token in a URL never reaches
// err.Error().
type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

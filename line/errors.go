package line

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// Sentinels for errors.Is. They are the shared transport sentinels, so code
// handling several platforms can test for them uniformly.
var (
	// ErrRateLimited matches a rate-limit 429 (not a monthly-quota 429).
	ErrRateLimited = transport.ErrRateLimited
	// ErrUnauthorized matches 401 and 403.
	ErrUnauthorized = transport.ErrUnauthorized
	// ErrNotFound matches 404 and LINE's "audience group not found" 400.
	ErrNotFound = transport.ErrNotFound
	// ErrConflict matches a 409 that was not a retry-key "already accepted".
	ErrConflict = transport.ErrConflict
	// ErrQuotaExceeded matches the 429 LINE answers when the monthly message
	// quota is used up. It is never retried.
	ErrQuotaExceeded = errors.New("line: monthly message quota exceeded")
	// ErrInvalidSignature is returned by Verify when no secret matches.
	ErrInvalidSignature = errors.New("line: invalid webhook signature")
)

// monthlyLimitMessage is the message LINE sends with a monthly-quota 429.
const monthlyLimitMessage = "You have reached your monthly limit."

// ErrorDetail is one entry of the details of a LINE error body.
type ErrorDetail struct {
	Message  string `json:"message"`
	Property string `json:"property,omitempty"`
}

// APIError is a non-2xx answer of the LINE API. It unwraps to the transport's
// *transport.APIError, except for a monthly-quota 429, which is deliberately
// not an ErrRateLimited.
type APIError struct {
	Status            int
	Message           string        // LINE's "message" (or "error_description" of token endpoints)
	Code              string        // token endpoints' "error"
	Details           []ErrorDetail // LINE's "details"
	RequestID         string        // x-line-request-id
	AcceptedRequestID string        // x-line-accepted-request-id, on a retry-key 409
	RetryAfter        time.Duration

	quota bool
	err   *transport.APIError
}

// Error describes the answer: status, LINE's message and details, request id.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line: %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, d := range e.Details {
		b.WriteString("; ")
		if d.Property != "" {
			b.WriteString(d.Property + ": ")
		}
		b.WriteString(d.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Is reports whether e matches one of the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrQuotaExceeded:
		return e.quota
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests && !e.quota
	case ErrNotFound:
		if e.Status == http.StatusBadRequest {
			for _, d := range e.Details {
				if d.Message == "AUDIENCE_GROUP_NOT_FOUND" {
					return true
				}
			}
		}
	}
	return false
}

// Unwrap returns the transport error, or nil for a monthly-quota 429.
func (e *APIError) Unwrap() error {
	if e.quota || e.err == nil {
		return nil
	}
	return e.err
}

// Transport returns the underlying transport error (response header and
// body included).
func (e *APIError) Transport() *transport.APIError { return e.err }

func isQuotaBody(b []byte) bool {
	var body struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(b, &body)
	return strings.Contains(strings.ToLower(body.Message), "monthly limit")
}

// wrapError turns transport errors into *APIError, keeping others.
func wrapError(err error) error {
	if err == nil {
		return nil
	}
	var rl *transport.RateLimitError
	if errors.As(err, &rl) {
		var te *transport.APIError
		if errors.As(rl.Err, &te) {
			return &transport.RateLimitError{RetryAfter: rl.RetryAfter, Err: fromTransport(te)}
		}
		return err
	}
	var te *transport.APIError
	if errors.As(err, &te) {
		return fromTransport(te)
	}
	return err
}

func fromTransport(te *transport.APIError) *APIError {
	e := &APIError{Status: te.Status, RequestID: te.RequestID, RetryAfter: te.RetryAfter, err: te}
	if te.Header != nil {
		e.AcceptedRequestID = te.Header.Get(headerAcceptedRequestID)
	}
	var body struct {
		Message          string        `json:"message"`
		Details          []ErrorDetail `json:"details"`
		Error            string        `json:"error"`
		ErrorDescription string        `json:"error_description"`
	}
	if json.Unmarshal(te.Body, &body) == nil {
		e.Message, e.Details, e.Code = body.Message, body.Details, body.Error
		if e.Message == "" {
			e.Message = body.ErrorDescription
		}
	}
	e.quota = te.Status == http.StatusTooManyRequests && isQuotaBody(te.Body)
	return e
}

// ValidationError reports bad input found before any request was sent.
type ValidationError struct {
	Field  string // e.g. "Messages[0].Text" or "To[3]"
	Reason string
}

// Error names the field and the reason.
func (e *ValidationError) Error() string { return "line: invalid " + e.Field + ": " + e.Reason }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// NarrowcastError is returned by WaitNarrowcast when the narrowcast failed.
type NarrowcastError struct {
	RequestID   string
	ErrorCode   int64 // 1 internal error, 2 not enough recipients, 3 retry key already accepted, 4 audience too small, 5 canceled to prevent partial delivery
	Description string
}

// Error gives the request id, LINE's error code and description.
func (e *NarrowcastError) Error() string {
	return fmt.Sprintf("line: narrowcast %s failed: code %d: %s", e.RequestID, e.ErrorCode, e.Description)
}

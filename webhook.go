package shopcrm

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Sentinels every platform's webhook verifier and handler match with
// errors.Is (besides ErrBodyTooLarge for a body over the cap), so that code
// serving several platforms tests for them once.
var (
	// ErrInvalidSignature matches a delivery whose signature header is
	// missing, not in the platform's encoding, or made with none of the
	// secrets given.
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrStaleWebhook matches a delivery whose signed time is outside
	// the platform's tolerance window (Klaviyo's meta.timestamp): a
	// replay, or a clock far off.
	ErrStaleWebhook = errors.New("stale webhook")
	// ErrMalformedWebhook matches a delivery that is not what the platform
	// sends: not a POST, a body that cannot be read in full or does not
	// decode, a missing header the envelope needs.
	ErrMalformedWebhook = errors.New("malformed webhook")
)

// WebhookError is a webhook delivery refused by a platform package: its
// verifier, its parser or its handler. It unwraps to the sentinel of the
// refusal (ErrInvalidSignature, ErrStaleWebhook, ErrMalformedWebhook) or
// to a *BodyTooLargeError. It never holds the secret or the signature.
type WebhookError struct {
	// Platform is the package that refused: "shopify", "line", "klaviyo".
	Platform string
	// Status is what the package's WebhookHandler answers: 401 for a bad
	// signature or a stale timestamp, 413 for a body over the cap, 405
	// for another method than POST, 400 otherwise.
	Status int
	// Reason says what was wrong.
	Reason string
	// Err is the sentinel or the *BodyTooLargeError.
	Err error
}

// Error describes the refusal.
func (e *WebhookError) Error() string {
	s := e.Platform + ": webhook refused"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns the sentinel or the *BodyTooLargeError.
func (e *WebhookError) Unwrap() error { return e.Err }

// NewWebhookError returns the refusal of a delivery by platform for cause
// (one of the sentinels above, or a *BodyTooLargeError), with the status a
// handler answers for it.
func NewWebhookError(platform string, cause error, reason string) *WebhookError {
	st := http.StatusBadRequest
	switch {
	case errors.Is(cause, ErrBodyTooLarge):
		st = http.StatusRequestEntityTooLarge
	case errors.Is(cause, ErrInvalidSignature), errors.Is(cause, ErrStaleWebhook):
		st = http.StatusUnauthorized
	}
	return &WebhookError{Platform: platform, Status: st, Reason: reason, Err: cause}
}

// ReadWebhookBody reads the raw body of a webhook delivery, the bytes a
// signature is checked against: only POST, and at most limit bytes, so
// that a sender cannot make the server buffer an unbounded body. A body
// over limit is a *WebhookError wrapping a *BodyTooLargeError (status
// 413); another method or a body cut short (the connection closed before
// Content-Length bytes) is one matching ErrMalformedWebhook (status 405,
// 400). A limit ≤ 0 is refused: every platform package names its default
// (DefaultMaxWebhookBody).
func ReadWebhookBody(platform string, r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		return nil, &InputError{Field: "limit", Reason: "must be positive"}
	}
	if r.Method != http.MethodPost {
		e := NewWebhookError(platform, ErrMalformedWebhook, "method "+r.Method+", not POST")
		e.Status = http.StatusMethodNotAllowed
		return nil, e
	}
	if r.ContentLength > limit {
		return nil, NewWebhookError(platform, &BodyTooLargeError{Limit: limit}, fmt.Sprintf("Content-Length %d", r.ContentLength))
	}
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, NewWebhookError(platform, ErrMalformedWebhook, "body cut short: "+err.Error())
	}
	if int64(len(body)) > limit {
		return nil, NewWebhookError(platform, &BodyTooLargeError{Limit: limit}, "")
	}
	return body, nil
}

package line

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// Sentinels for errors.Is. All but ErrInvalidSignature are the shared
// [shopcrm] sentinels, so code handling several platforms tests for them
// once.
var (
	// ErrRateLimited matches a rate-limit 429 (not a monthly-quota 429).
	ErrRateLimited = shopcrm.ErrRateLimited
	// ErrUnauthorized matches 401 and 403.
	ErrUnauthorized = shopcrm.ErrUnauthorized
	// ErrNotFound matches 404 and LINE's "audience group not found" 400.
	ErrNotFound = shopcrm.ErrNotFound
	// ErrConflict matches a 409. The sends report LINE's retry-key
	// "already accepted" 409 as success with Duplicate set, so from them it
	// is some other conflict; Client.Do returns that 409 as an *APIError
	// matching ErrConflict, with AcceptedRequestID set.
	ErrConflict = shopcrm.ErrConflict
	// ErrQuotaExceeded matches the 429 LINE answers when the monthly message
	// quota is used up. It is never retried.
	ErrQuotaExceeded = shopcrm.ErrQuotaExceeded
	// ErrInvalidInput matches every *InputError.
	ErrInvalidInput = shopcrm.ErrInvalidInput
)

// ErrRetryKeyExpired matches a multicast chunk whose answer was lost more
// than [RetryKeyLifetime] ago: LINE no longer knows its retry key, so
// sending it again could deliver twice, and it is not sent (see
// [MessagesService.Multicast]).
var ErrRetryKeyExpired = errors.New("line: the retry key is older than 24 hours")

// RetryKeyLifetime is how long LINE remembers a retry key after the first
// request that carried it: within it a resend is answered 409, after it a
// resend is a new request.
const RetryKeyLifetime = 24 * time.Hour

// InputError reports bad input found before any request was sent; Field
// names the offending value ("To[3]", "Messages[0].Text"). It matches
// ErrInvalidInput.
type InputError = shopcrm.InputError

// Webhook refusals: the shared [shopcrm] sentinels and type, so that code
// serving several platforms tests for them once.
var (
	// ErrInvalidSignature matches a delivery whose signature is missing,
	// malformed or made with none of the secrets given.
	ErrInvalidSignature = shopcrm.ErrInvalidSignature
	// ErrStaleWebhook matches a delivery whose signed timestamp is outside
	// the tolerance window.
	ErrStaleWebhook = shopcrm.ErrStaleWebhook
	// ErrMalformedWebhook matches a delivery that is not what LINE sends.
	ErrMalformedWebhook = shopcrm.ErrMalformedWebhook
	// ErrBodyTooLarge matches a delivery over the handler's MaxBody.
	ErrBodyTooLarge = shopcrm.ErrBodyTooLarge
)

// WebhookError is a refused delivery; it unwraps to one of the sentinels
// above or to a *BodyTooLargeError, and carries the status WebhookHandler
// answers with. See [shopcrm.WebhookError].
type WebhookError = shopcrm.WebhookError

// BodyTooLargeError reports a body over a cap; see
// [shopcrm.BodyTooLargeError].
type BodyTooLargeError = shopcrm.BodyTooLargeError

// RateLimitError reports throttling the client did not wait out; it carries
// the wait and unwraps to the last *APIError.
type RateLimitError = shopcrm.RateLimitError

// ErrorDetail is one entry of the details of a LINE error body.
type ErrorDetail struct {
	Message  string `json:"message"`
	Property string `json:"property,omitempty"`
}

// APIError is a non-2xx answer of the LINE API. It matches
// ErrUnauthorized (401/403), ErrNotFound (404, unknown audience),
// ErrConflict (409), ErrRateLimited (429) and ErrQuotaExceeded (the
// monthly-quota 429, which is not an ErrRateLimited).
type APIError struct {
	Status            int
	Message           string        // LINE's "message" (or "error_description" of token endpoints)
	Code              string        // token endpoints' "error"
	Details           []ErrorDetail // LINE's "details"
	RequestID         string        // x-line-request-id
	AcceptedRequestID string        // x-line-accepted-request-id, on a retry-key 409
	RetryAfter        time.Duration // Retry-After, zero when absent
	// SentMessages is LINE's "sentMessages": on a push's retry-key 409,
	// the messages of the request accepted first (LINE's retry guide).
	SentMessages []SentMessage
}

// Error describes the answer: status, LINE's message and details, request id.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line: %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" && e.Message != http.StatusText(e.Status) {
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

// Is reports whether e matches one of the sentinels.
func (e *APIError) Is(target error) bool {
	quota := e.Status == http.StatusTooManyRequests && strings.Contains(strings.ToLower(e.Message), "monthly limit")
	switch target {
	case ErrQuotaExceeded:
		return quota
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests && !quota
	case ErrNotFound:
		if e.Status == http.StatusBadRequest {
			for _, d := range e.Details {
				if d.Message == "AUDIENCE_GROUP_NOT_FOUND" {
					return true
				}
			}
		}
	}
	return transport.StatusIs(e.Status, target)
}

func isQuotaBody(b []byte) bool {
	var body struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(b, &body)
	return strings.Contains(strings.ToLower(body.Message), "monthly limit")
}

// wrapAPIError turns the transport's answer into an *APIError.
func wrapAPIError(te *transport.APIError) error {
	e := &APIError{Status: te.Status, RequestID: te.RequestID, RetryAfter: te.RetryAfter}
	if te.Header != nil {
		e.AcceptedRequestID = te.Header.Get(headerAcceptedRequestID)
	}
	var body struct {
		Message          string        `json:"message"`
		Details          []ErrorDetail `json:"details"`
		Error            string        `json:"error"`
		ErrorDescription string        `json:"error_description"`
		SentMessages     []SentMessage `json:"sentMessages"`
	}
	if json.Unmarshal(te.Body, &body) == nil {
		e.Message, e.Details, e.Code, e.SentMessages = body.Message, body.Details, body.Error, body.SentMessages
		if e.Message == "" {
			e.Message = body.ErrorDescription
		}
	}
	return e
}

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// NarrowcastErrorCode is LINE's errorCode of a narrowcast that failed
// after it was accepted.
type NarrowcastErrorCode int64

// LINE's narrowcast error codes.
const (
	NarrowcastInternalError NarrowcastErrorCode = 1 // an internal error occurred
	// NarrowcastNotEnoughRecipients: there weren't enough recipients.
	NarrowcastNotEnoughRecipients NarrowcastErrorCode = 2
	// NarrowcastRetryKeyAccepted: a request with the same retry key was
	// already accepted. Wait reports it as a duplicate, not as an error.
	NarrowcastRetryKeyAccepted NarrowcastErrorCode = 3
	// NarrowcastAudienceTooSmall: an audience of fewer than 50 recipients
	// is included as a condition of sending.
	NarrowcastAudienceTooSmall NarrowcastErrorCode = 4
	// NarrowcastPartialDeliveryCanceled: delivery was canceled to prevent
	// messages reaching only part of the target (Limit.ForbidPartialDelivery).
	NarrowcastPartialDeliveryCanceled NarrowcastErrorCode = 5
)

// NarrowcastError is returned by WaitNarrowcast and NarrowcastResult.Wait
// when a narrowcast LINE had accepted failed.
type NarrowcastError struct {
	RequestID   string
	ErrorCode   NarrowcastErrorCode
	Description string // LINE's failedDescription
}

// Error gives the request id, LINE's error code and description.
func (e *NarrowcastError) Error() string {
	return fmt.Sprintf("line: narrowcast %s failed: code %d: %s", e.RequestID, e.ErrorCode, e.Description)
}

// AudienceError is returned by WaitReady when an audience group, or one of
// its upload jobs, failed.
type AudienceError struct {
	AudienceGroupID int64
	JobID           int64  // the failed job's audienceGroupJobId; 0 when the group failed
	FailedType      string // LINE's failedType: AUDIENCE_GROUP_AUDIENCE_INSUFFICIENT, INTERNAL_ERROR
}

// Error names the group, the job when a job failed, and LINE's failed type.
func (e *AudienceError) Error() string {
	if e.JobID != 0 {
		return fmt.Sprintf("line: audience group %d: upload job %d failed: %s", e.AudienceGroupID, e.JobID, e.FailedType)
	}
	return fmt.Sprintf("line: audience group %d failed: %s", e.AudienceGroupID, e.FailedType)
}

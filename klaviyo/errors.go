package klaviyo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/bulk"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// Sentinels for errors.Is: the shared [shopcrm] ones, and Klaviyo's own.
var (
	// ErrRateLimited matches 429.
	ErrRateLimited = shopcrm.ErrRateLimited
	// ErrUnauthorized matches 401 and 403.
	ErrUnauthorized = shopcrm.ErrUnauthorized
	// ErrNotFound matches 404.
	ErrNotFound = shopcrm.ErrNotFound
	// ErrConflict matches 409, duplicate_profile included.
	ErrConflict = shopcrm.ErrConflict
	// ErrInvalidInput matches every *InputError.
	ErrInvalidInput = shopcrm.ErrInvalidInput
	// ErrDuplicateProfile matches the 409 duplicate_profile Klaviyo answers
	// when a profile with the same email, phone number or external id
	// exists; [APIError.DuplicateProfileID] holds its id.
	ErrDuplicateProfile = errors.New("klaviyo: duplicate profile")
	// ErrNotListMember is the error of a profile UnsubscribeFromList did
	// not send because it is not in the list: Klaviyo would have
	// unsubscribed it globally.
	ErrNotListMember = errors.New("klaviyo: not a member of the list")
	// ErrProfileNotFound is the error of an item an update-only import
	// skipped because no profile has its identifiers.
	ErrProfileNotFound = errors.New("klaviyo: no such profile")
	// ErrImportCancelled is the error of a profile whose bulk import job
	// Klaviyo cancelled (Failed when the job had imported no profile yet,
	// Unknown otherwise).
	ErrImportCancelled = errors.New("klaviyo: import job cancelled")
)

// InputError reports bad input found before any request was sent; Field
// names the offending value. It matches ErrInvalidInput.
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
	// ErrMalformedWebhook matches a delivery that is not what Klaviyo sends.
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

// RateLimitError reports throttling the client did not wait out; it
// carries the wait and unwraps to the last *APIError.
type RateLimitError = shopcrm.RateLimitError

// ErrorSource points at the part of the request an error is about.
type ErrorSource struct {
	Pointer   string `json:"pointer,omitempty"`   // JSON pointer into the body: "/data/attributes/email"
	Parameter string `json:"parameter,omitempty"` // query parameter: "filter"
}

// ErrorObject is one entry of a JSON:API errors array.
type ErrorObject struct {
	ID     string         `json:"id"`
	Status int            `json:"status,omitempty"`
	Code   string         `json:"code"`
	Title  string         `json:"title"`
	Detail string         `json:"detail"`
	Source *ErrorSource   `json:"source,omitempty"`
	Meta   map[string]any `json:"meta,omitempty"`
}

// APIError is a non-2xx answer of the Klaviyo API with its JSON:API
// errors. It matches ErrUnauthorized (401/403), ErrNotFound (404),
// ErrConflict (409), ErrDuplicateProfile (409 duplicate_profile) and
// ErrRateLimited (429).
type APIError struct {
	Status     int
	Errors     []ErrorObject
	RequestID  string
	RetryAfter time.Duration // Retry-After, zero when absent
}

// Error describes the answer: status and each error's code, detail and
// source.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "klaviyo: %d %s", e.Status, http.StatusText(e.Status))
	for i, o := range e.Errors {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Errors)-i)
			break
		}
		b.WriteString("; ")
		if o.Code != "" {
			b.WriteString(o.Code + ": ")
		}
		if o.Detail != "" {
			b.WriteString(o.Detail)
		} else {
			b.WriteString(o.Title)
		}
		if o.Source != nil && o.Source.Pointer != "" {
			b.WriteString(" (at " + o.Source.Pointer + ")")
		} else if o.Source != nil && o.Source.Parameter != "" {
			b.WriteString(" (parameter " + o.Source.Parameter + ")")
		}
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Is reports whether e matches one of the sentinels.
func (e *APIError) Is(target error) bool {
	if target == ErrDuplicateProfile {
		_, ok := e.DuplicateProfileID()
		return ok || e.HasCode("duplicate_profile")
	}
	return transport.StatusIs(e.Status, target)
}

// HasCode reports whether one of the errors has the code.
func (e *APIError) HasCode(code string) bool {
	for _, o := range e.Errors {
		if o.Code == code {
			return true
		}
	}
	return false
}

// DuplicateProfileID returns the id of the existing profile a 409
// duplicate_profile names in meta.duplicate_profile_id.
func (e *APIError) DuplicateProfileID() (string, bool) {
	for _, o := range e.Errors {
		if o.Code != "duplicate_profile" {
			continue
		}
		if id, ok := o.Meta["duplicate_profile_id"].(string); ok && id != "" {
			return id, true
		}
	}
	return "", false
}

// wrapAPIError turns the transport's answer into an *APIError.
func wrapAPIError(te *transport.APIError) error {
	e := &APIError{Status: te.Status, RequestID: te.RequestID, RetryAfter: te.RetryAfter}
	var body struct {
		Errors []ErrorObject `json:"errors"`
	}
	if json.Unmarshal(te.Body, &body) == nil {
		e.Errors = body.Errors
	}
	return e
}

func invalid(field, value, format string, args ...any) error {
	if len(value) > 80 {
		value = value[:80] + "…"
	}
	return &InputError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// classify is the bulk classifier of this package: the shared one, plus
// that a 4xx answer other than those it knows (a 400 for a job Klaviyo
// validates all or nothing, a 413) was refused without acting: Failed,
// not Unknown.
func classify(err error) bulk.Class {
	c := bulk.DefaultClassify(err)
	var ae *APIError
	if c.Outcome == Unknown && !c.Terminal && errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
		c.Outcome = Failed
	}
	return c
}

package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// Sentinels matched with errors.Is by the errors this package returns. All
// but ErrMaxCostExceeded are the shared [shopcrm] sentinels, so code
// handling several platforms tests for them once.
var (
	// ErrRateLimited matches THROTTLED answers and HTTP 429, once retries
	// gave up or the wait asked for exceeded the retry policy.
	ErrRateLimited = shopcrm.ErrRateLimited
	// ErrUnauthorized matches 401/403 and ACCESS_DENIED.
	ErrUnauthorized = shopcrm.ErrUnauthorized
	// ErrNotFound matches 404 and a resource the API did not find.
	ErrNotFound = shopcrm.ErrNotFound
	// ErrConflict matches 409.
	ErrConflict = shopcrm.ErrConflict
	// ErrInvalidInput matches every *InputError.
	ErrInvalidInput = shopcrm.ErrInvalidInput
	// ErrMaxCostExceeded matches a document whose requested cost is above
	// the single-query limit. It is never retried.
	ErrMaxCostExceeded = errors.New("shopify: query cost exceeds the maximum")
)

// InputError reports bad input found before any request was sent; Field
// names the offending argument, field or option. It matches
// ErrInvalidInput.
type InputError = shopcrm.InputError

// Webhook refusals: the shared [shopcrm] sentinels and type, so that code
// serving several platforms tests for them once.
var (
	// ErrInvalidSignature matches a delivery (or an app proxy request)
	// whose signature is missing, malformed or made with none of the
	// secrets given.
	ErrInvalidSignature = shopcrm.ErrInvalidSignature
	// ErrStaleWebhook matches a delivery whose signed timestamp is outside
	// the tolerance window.
	ErrStaleWebhook = shopcrm.ErrStaleWebhook
	// ErrMalformedWebhook matches a delivery that is not what Shopify sends.
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
// the wait and unwraps to the last answer (*APIError or *ThrottledError).
type RateLimitError = shopcrm.RateLimitError

// APIError is a non-2xx HTTP answer. It matches ErrUnauthorized (401/403),
// ErrNotFound (404), ErrConflict (409) and ErrRateLimited (429).
type APIError struct {
	Status    int
	RequestID string // X-Request-Id
	// Message is the "errors" text Shopify sent (a string, a list or a map
	// flattened), if any, with secrets redacted.
	Message    string
	RetryAfter time.Duration // Retry-After, zero when absent
	// Body is the start of the answer's body (at most 64 KiB), redacted.
	Body []byte
}

// Error describes the error.
func (e *APIError) Error() string {
	s := fmt.Sprintf("shopify: HTTP %d", e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " " + t
	}
	if e.Message != "" && e.Message != http.StatusText(e.Status) {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// Is maps the status to the sentinels.
func (e *APIError) Is(target error) bool { return transport.StatusIs(e.Status, target) }

func wrapAPIError(te *transport.APIError) error {
	e := &APIError{Status: te.Status, RequestID: te.RequestID, RetryAfter: te.RetryAfter, Body: te.Body}
	var body struct {
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(te.Body, &body) == nil && len(body.Errors) > 0 {
		e.Message = flattenErrors(body.Errors)
	}
	return e
}

// flattenErrors reads Shopify's three "errors" shapes: a string, a list
// (of strings or of {message}) and a map of field to messages.
func flattenErrors(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var parts []string
		for _, it := range list {
			var m struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(it, &s) == nil {
				parts = append(parts, s)
			} else if json.Unmarshal(it, &m) == nil {
				parts = append(parts, m.Message)
			}
		}
		return strings.Join(parts, "; ")
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		var parts []string
		for k, v := range m {
			parts = append(parts, fmt.Sprintf("%s: %v", k, v))
		}
		return strings.Join(parts, "; ")
	}
	return string(raw)
}

// Location is a line and column in a GraphQL document.
type Location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// GraphQLError is one entry of a response's top-level errors[].
type GraphQLError struct {
	Message   string     `json:"message"`
	Locations []Location `json:"locations,omitempty"`
	// Path is the response path of the failing field: names and indexes.
	Path []any `json:"path,omitempty"`
	// Code is extensions.code (THROTTLED, MAX_COST_EXCEEDED, ACCESS_DENIED,
	// INTERNAL_SERVER_ERROR, ...), empty when absent.
	Code       string         `json:"-"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Error describes the error.
func (e *GraphQLError) Error() string {
	s := "shopify: graphql: " + e.Message
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if len(e.Path) > 0 {
		parts := make([]string, len(e.Path))
		for i, p := range e.Path {
			parts[i] = fmt.Sprint(p)
		}
		s += " at " + strings.Join(parts, ".")
	}
	return s
}

// Is maps codes to sentinels: MAX_COST_EXCEEDED, THROTTLED, ACCESS_DENIED
// and NOT_FOUND.
func (e *GraphQLError) Is(target error) bool {
	switch target {
	case ErrMaxCostExceeded:
		return e.Code == "MAX_COST_EXCEEDED"
	case ErrRateLimited:
		return e.Code == "THROTTLED"
	case ErrUnauthorized:
		return e.Code == "ACCESS_DENIED" || e.Code == "UNAUTHORIZED"
	case ErrNotFound:
		return e.Code == "NOT_FOUND"
	}
	return false
}

// GraphQLErrors is a response's errors[] as one error. errors.As finds each
// *GraphQLError inside it.
type GraphQLErrors struct {
	Errors    []*GraphQLError
	RequestID string
	// Response carries the cost of the call that failed.
	Response *Response
}

// Error describes the error.
func (e *GraphQLErrors) Error() string {
	if len(e.Errors) == 1 {
		return e.Errors[0].Error()
	}
	parts := make([]string, len(e.Errors))
	for i, g := range e.Errors {
		parts[i] = strings.TrimPrefix(g.Error(), "shopify: graphql: ")
	}
	return "shopify: graphql: " + strings.Join(parts, "; ")
}

// Unwrap returns every *GraphQLError.
func (e *GraphQLErrors) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, g := range e.Errors {
		out[i] = g
	}
	return out
}

// ThrottledError is Shopify's THROTTLED answer: HTTP 200, errors[] with
// extensions.code THROTTLED. It matches ErrRateLimited. The client retries it
// by itself; callers see it only when retries ran out.
type ThrottledError struct {
	RequestedCost int
	Throttle      ThrottleStatus
	// Wait is (requested - available) / restoreRate; zero when the answer
	// carried no cost information or a bucket that should have held the
	// cost, and the retry policy's backoff applies.
	Wait   time.Duration
	Errors *GraphQLErrors
}

// Error describes the error.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("shopify: throttled: cost %d, %.0f of %.0f available, restoring %.0f/s",
		e.RequestedCost, e.Throttle.CurrentlyAvailable, e.Throttle.MaximumAvailable, e.Throttle.RestoreRate)
}

// RetryAfter is the wait before the bucket holds the requested cost; zero
// lets the retry policy's exponential backoff decide.
func (e *ThrottledError) RetryAfter() time.Duration { return e.Wait }

// Is matches ErrRateLimited.
func (e *ThrottledError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap returns the errors[] of the answer.
func (e *ThrottledError) Unwrap() error {
	if e.Errors == nil {
		return nil
	}
	return e.Errors
}

// UserError is one entry of a mutation's userErrors: the input field path
// and the message, with a code when the payload type has one.
type UserError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code,omitempty"`
}

// UserErrors reports a mutation that ran but refused its input.
type UserErrors struct {
	Mutation string // "tagsAdd", "segmentCreate", ...
	Errors   []UserError
}

// Error describes the error.
func (e *UserErrors) Error() string {
	parts := make([]string, len(e.Errors))
	for i, u := range e.Errors {
		if len(u.Field) > 0 {
			parts[i] = strings.Join(u.Field, ".") + ": " + u.Message
		} else {
			parts[i] = u.Message
		}
	}
	return "shopify: " + e.Mutation + ": " + strings.Join(parts, "; ")
}

// userErrorList is a mutation payload's userErrors. Every mutation of the
// package selects them, and Shopify always answers the field (an empty
// list when it applied the input): a payload without it, or with null,
// is no proof that the mutation ran.
type userErrorList struct {
	errs []UserError
	seen bool
}

// UnmarshalJSON records that the field was there.
func (l *userErrorList) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	if err := json.Unmarshal(b, &l.errs); err != nil {
		return err
	}
	l.seen = true
	return nil
}

// mutationErrors is the error of a payload's userErrors: a
// *shopcrm.ResponseError when the field is missing, else as userErrors.
func (c *Client) mutationErrors(mutation string, l userErrorList) error {
	if !l.seen {
		return &shopcrm.ResponseError{Op: mutation, Reason: "no userErrors in the payload"}
	}
	return c.userErrors(mutation, l.errs)
}

// userErrors is the error of a mutation's userErrors, nil when there are
// none. Their messages may quote the input, so secrets are redacted.
func (c *Client) userErrors(mutation string, errs []UserError) error {
	if len(errs) == 0 {
		return nil
	}
	red := c.tr.Redactor()
	for i := range errs {
		errs[i].Message = red.String(errs[i].Message)
	}
	return &UserErrors{Mutation: mutation, Errors: errs}
}

// maybeApplied reports whether err leaves a write's outcome unknown: see
// [transport.MaybeApplied]; an HTTP 5xx is a server error.
func maybeApplied(ctx context.Context, err error) bool {
	return transport.MaybeApplied(ctx, err, func(err error) bool {
		var ae *APIError
		return errors.As(err, &ae) && ae.Status >= 500
	})
}

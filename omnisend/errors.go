package omnisend

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/bulk"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// Sentinels for errors.Is. All but ErrIdentifierConflict are the shared
// [shopcrm] sentinels, so code handling several platforms tests for them
// once.
var (
	// ErrRateLimited matches a 429.
	ErrRateLimited = shopcrm.ErrRateLimited
	// ErrUnauthorized matches 401 and 403.
	ErrUnauthorized = shopcrm.ErrUnauthorized
	// ErrNotFound matches 404.
	ErrNotFound = shopcrm.ErrNotFound
	// ErrConflict matches 409.
	ErrConflict = shopcrm.ErrConflict
	// ErrInvalidInput matches every *InputError.
	ErrInvalidInput = shopcrm.ErrInvalidInput
	// ErrIdentifierConflict matches the 409 Omnisend answers an update of
	// a contact that would give it an email or phone another contact
	// holds ("Contact identifier already exists"). It also matches
	// ErrConflict.
	ErrIdentifierConflict = errors.New("omnisend: contact identifier already exists")
	// ErrVersionRetired matches the 410 Omnisend answers for an API
	// version it no longer serves (see [WithVersion]).
	ErrVersionRetired = errors.New("omnisend: API version retired")
)

// InputError reports bad input found before any request was sent; it
// matches ErrInvalidInput.
type InputError = shopcrm.InputError

// RateLimitError reports throttling the client did not wait out; it carries
// the wait and unwraps to the last *APIError.
type RateLimitError = shopcrm.RateLimitError

// FieldError is one entry of a validation problem: the dot-separated path
// of a field, Omnisend's code ("invalid_format") and message.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// APIError is a non-2xx answer: an RFC 9457 problem body (type, title,
// detail, instance) with the field errors of a validation problem and the
// retryAfter of a rate-limit problem. It matches ErrUnauthorized
// (401/403), ErrNotFound (404), ErrConflict (409), ErrIdentifierConflict
// (409 from the contacts endpoints), ErrVersionRetired (410) and
// ErrRateLimited (429).
type APIError struct {
	Status   int
	Type     string       // problem type URI
	Title    string       // short description
	Detail   string       // this occurrence
	Instance string       // request trace id, "urn:omnisend:request:<uuid>"
	Errors   []FieldError // the fields that failed validation (400)
	// RetryAfter is the wait the server asked for: the problem's
	// retryAfter, Retry-After or X-Rate-Limit-Reset, the longest of them.
	RetryAfter time.Duration
	Method     string // of the request
	Path       string // of the request, without the query
}

// Error describes the answer: status, title, detail, field errors and the
// trace id.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "omnisend: %d %s", e.Status, http.StatusText(e.Status))
	if e.Method != "" {
		fmt.Fprintf(&b, " (%s %s)", e.Method, e.Path)
	}
	if e.Title != "" && e.Title != http.StatusText(e.Status) {
		b.WriteString(": " + e.Title)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for _, f := range e.Errors {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Instance != "" {
		b.WriteString(" [" + e.Instance + "]")
	}
	return b.String()
}

// Is matches the sentinels by status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrIdentifierConflict:
		return e.Status == http.StatusConflict && strings.HasPrefix(e.Path, "/contacts")
	case ErrVersionRetired:
		return e.Status == http.StatusGone
	}
	return transport.StatusIs(e.Status, target)
}

// problem is the wire shape of Problem, ValidationProblem and
// RateLimitProblem.
type problem struct {
	Type       string       `json:"type"`
	Title      string       `json:"title"`
	Status     int          `json:"status"`
	Detail     string       `json:"detail"`
	Instance   string       `json:"instance"`
	Errors     []FieldError `json:"errors"`
	RetryAfter *float64     `json:"retryAfter"`
}

// wrapAPIError turns the transport's answer into an *APIError; basePath is
// the path of the base URL, cut from the request's.
func wrapAPIError(te *transport.APIError, basePath string) error {
	e := &APIError{Status: te.Status, RetryAfter: te.RetryAfter, Method: te.Method}
	if u, err := url.Parse(te.URL); err == nil {
		e.Path = strings.TrimPrefix(u.Path, basePath)
	}
	var p problem
	if json.Unmarshal(te.Body, &p) == nil {
		e.Type, e.Title, e.Detail, e.Instance, e.Errors = p.Type, p.Title, p.Detail, p.Instance, p.Errors
	}
	return e
}

// retryAfter reads the wait a non-2xx answer asks for, the longest of: the
// problem body's retryAfter (seconds), Retry-After, and on a 429
// X-Rate-Limit-Reset (seconds left in the period). Omnisend documents the
// body field for 2026-03-15; the headers are read when present.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	d, ok := transport.RetryAfter(resp, now)
	if resp.StatusCode != http.StatusTooManyRequests {
		return d, ok
	}
	if r, rok := transport.ParseRetryAfter(resp.Header.Get("X-Rate-Limit-Reset"), now); rok && r > d {
		d, ok = r, true
	}
	b := transport.ReadErrorBody(resp)
	// retryAfter alone: another field of the wrong type must not cost the
	// wait the server asked for.
	var p struct {
		RetryAfter *float64 `json:"retryAfter"`
	}
	if json.Unmarshal(b, &p) == nil && p.RetryAfter != nil && *p.RetryAfter >= 0 && !math.IsInf(*p.RetryAfter, 0) {
		if r := time.Duration(math.Ceil(min(*p.RetryAfter, 365*24*3600) * float64(time.Second))); r >= d {
			d, ok = r, true
		}
	}
	return d, ok
}

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// classify is the bulk classifier of this package: the shared one, plus
// that a 4xx answer (a validation problem, a 410) was refused without
// acting.
func classify(err error) bulk.Class {
	c := bulk.DefaultClassify(err)
	var ae *APIError
	if c.Outcome == shopcrm.Unknown && !c.Terminal && errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
		c.Outcome = shopcrm.Failed
	}
	return c
}

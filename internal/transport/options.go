package transport

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/shopcrm/shopcrm"
)

// Options are the knobs every client has, with their defaults in one
// place. A platform package's config embeds it and its With... options set
// it through the methods below, so the same option validates the same way
// everywhere.
type Options struct {
	HTTPClient  *http.Client
	Retry       RetryPolicy
	Logger      *slog.Logger
	UASuffix    string
	Sleep       func(ctx context.Context, d time.Duration) error
	MaxInFlight int
	MaxBody     int64 // response body cap; 0: DefaultMaxBody
}

// DefaultOptions returns the shared defaults.
func DefaultOptions() Options {
	return Options{Retry: DefaultRetryPolicy(), MaxInFlight: DefaultMaxInFlight}
}

// SetHTTPClient sets the HTTP client; nil is refused.
func (o *Options) SetHTTPClient(hc *http.Client) error {
	if hc == nil {
		return &shopcrm.InputError{Field: "WithHTTPClient", Reason: "must not be nil"}
	}
	o.HTTPClient = hc
	return nil
}

// SetRetry sets the retry policy after validating it.
func (o *Options) SetRetry(p RetryPolicy) error {
	if err := CheckRetryPolicy("WithRetryPolicy", p); err != nil {
		return err
	}
	o.Retry = p
	return nil
}

// SetMaxInFlight sets the in-flight limit of bulk writes.
func (o *Options) SetMaxInFlight(n int) error {
	if err := CheckInFlight("WithMaxInFlight", n); err != nil {
		return err
	}
	o.MaxInFlight = n
	return nil
}

// SetMaxBody sets the response body cap after validating it: at least
// MinMaxBody, so that an error body is always kept whole up to
// MaxErrorBody.
func (o *Options) SetMaxBody(n int64) error {
	if n < MinMaxBody {
		return &shopcrm.InputError{Field: "WithMaxBody", Value: strconv.FormatInt(n, 10), Reason: "must be at least " + strconv.Itoa(MinMaxBody) + " bytes"}
	}
	o.MaxBody = n
	return nil
}

// SetSleep sets the backoff sleep; nil is refused.
func (o *Options) SetSleep(f func(context.Context, time.Duration) error) error {
	if f == nil {
		return &shopcrm.InputError{Field: "WithSleep", Reason: "must not be nil"}
	}
	o.Sleep = f
	return nil
}

// Config returns the transport configuration for platform.
func (o *Options) Config(platform string) Config {
	return Config{
		Platform:        platform,
		UserAgentSuffix: o.UASuffix,
		HTTPClient:      o.HTTPClient,
		MaxInFlight:     o.MaxInFlight,
		Retry:           o.Retry,
		Sleep:           o.Sleep,
		Logger:          o.Logger,
		MaxBody:         o.MaxBody,
	}
}

// Apply runs opts on cfg in order. A nil option is skipped, so callers can
// build option lists conditionally; the first error ends it.
func Apply[C any, O ~func(*C) error](cfg *C, opts []O) error {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(cfg); err != nil {
			return err
		}
	}
	return nil
}

// StatusIs maps an HTTP status to the shared sentinels: 429 ErrRateLimited,
// 401 and 403 ErrUnauthorized, 404 ErrNotFound, 409 ErrConflict. Platform
// error types call it from their Is method.
func StatusIs(status int, target error) bool {
	switch target {
	case ErrRateLimited:
		return status == http.StatusTooManyRequests
	case ErrUnauthorized:
		return status == http.StatusUnauthorized || status == http.StatusForbidden
	case ErrNotFound:
		return status == http.StatusNotFound
	case ErrConflict:
		return status == http.StatusConflict
	}
	return false
}

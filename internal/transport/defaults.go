package transport

import (
	"errors"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
)

// Defaults every client shares, so that the same knob means the same thing
// on every platform.
const (
	// DefaultTimeout bounds one attempt, from dial to the end of the body.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxInFlight is how many requests a bulk write keeps in flight.
	DefaultMaxInFlight = 16
	// DefaultMaxBody caps a response body: the largest page any client
	// asks for (250 Shopify or Omnisend records, 100 Klaviyo profiles)
	// stays under 1 MiB, and a hostile answer cut off here costs the
	// process about this much memory. Bulk results, which may be
	// gigabytes, are read on Shopify's storage path, without this cap.
	DefaultMaxBody = 8 << 20
	// MinMaxBody is the smallest cap a client accepts: an error body is
	// kept up to MaxErrorBody.
	MinMaxBody = MaxErrorBody
)

// DefaultRetryPolicy is [shopcrm.DefaultRetryPolicy].
func DefaultRetryPolicy() RetryPolicy { return shopcrm.DefaultRetryPolicy() }

// ErrRedirect is returned for a 3xx answer: clients follow no redirect,
// because the credential headers would go with it to another host.
var ErrRedirect = errors.New("redirect not followed")

// NewHTTPClient returns the HTTP client a platform client uses unless the
// caller gives its own: a total timeout per attempt, a connection pool of
// its own (retryablehttp closes idle connections on failure, which must not
// flush another client's), and as many idle connections per host as
// requests in flight, so a bulk write does not open and close connections.
func NewHTTPClient(maxInFlight int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(maxInFlight, DefaultMaxInFlight)
	tr.MaxIdleConns = max(tr.MaxIdleConns, tr.MaxIdleConnsPerHost)
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = DefaultTimeout
	return &http.Client{Timeout: DefaultTimeout, Transport: tr}
}

// noRedirect refuses every redirect: the 3xx comes back as the answer.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// CheckBaseURL validates a base URL option: absolute, http or https, a
// host, no query, fragment or credentials. It returns u without a trailing
// slash.
func CheckBaseURL(field, u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", &shopcrm.InputError{Field: field, Value: u, Reason: "must be an absolute http or https URL"}
	}
	if p.User != nil || p.RawQuery != "" || p.Fragment != "" {
		return "", &shopcrm.InputError{Field: field, Value: p.Redacted(), Reason: "must not carry credentials, a query or a fragment"}
	}
	return strings.TrimRight(u, "/"), nil
}

// CheckRetryPolicy validates a retry policy option.
func CheckRetryPolicy(field string, p RetryPolicy) error {
	switch {
	case p.MaxRetries < 0:
		return &shopcrm.InputError{Field: field + ".MaxRetries", Reason: "must not be negative"}
	case p.MinBackoff < 0 || p.MaxBackoff < 0 || p.MaxWait < 0:
		return &shopcrm.InputError{Field: field, Reason: "durations must not be negative"}
	case p.MaxBackoff > 0 && p.MaxBackoff < p.MinBackoff:
		return &shopcrm.InputError{Field: field + ".MaxBackoff", Reason: "must not be below MinBackoff"}
	}
	return nil
}

// CheckRateLimit validates a rate option: a finite rate (zero or less means
// no limit) and a burst that is not negative (zero means 1).
func CheckRateLimit(field string, l shopcrm.RateLimit) error {
	if math.IsNaN(l.PerSecond) || math.IsInf(l.PerSecond, 0) {
		return &shopcrm.InputError{Field: field + ".PerSecond", Reason: "must be a finite number"}
	}
	if l.Burst < 0 {
		return &shopcrm.InputError{Field: field + ".Burst", Reason: "must not be negative"}
	}
	return nil
}

// CheckInFlight validates an in-flight limit option.
func CheckInFlight(field string, n int) error {
	if n < 1 {
		return &shopcrm.InputError{Field: field, Value: strconv.Itoa(n), Reason: "must be at least 1"}
	}
	return nil
}

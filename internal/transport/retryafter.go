package transport

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter bounds what ParseRetryAfter returns, so absurd values
// saturate instead of overflowing time.Duration. Any cap a client uses is
// far below it, so such values always end in a RateLimitError.
const maxRetryAfter = 365 * 24 * time.Hour

// ParseRetryAfter reads a Retry-After value: integer seconds ("120"),
// fractional seconds ("2.0", "0.5", as Shopify sends) or an HTTP-date. A date
// in the past is zero. ok is false for anything else: empty, negative, NaN,
// Inf, exponent forms, garbage. Those are ignored and the client falls back
// to its exponential backoff. Values beyond a year saturate at a year.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if c := v[0]; c >= '0' && c <= '9' {
		return parseSeconds(v)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d = t.Sub(now)
	if d < 0 {
		return 0, true
	}
	return min(d, maxRetryAfter), true
}

// parseSeconds accepts digits with an optional fraction, nothing else:
// strconv.ParseFloat alone would let "1e9", "0x10" and "Inf" through.
func parseSeconds(v string) (time.Duration, bool) {
	dot := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0 && i < len(v)-1:
			dot = true
		default:
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil && f != math.Inf(1) {
		return 0, false
	}
	if f >= maxRetryAfter.Seconds() {
		return maxRetryAfter, true
	}
	return time.Duration(math.Ceil(f * float64(time.Second))), true
}

// RetryAfter reads the Retry-After header of resp (ok false when absent or
// unusable).
func RetryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	return ParseRetryAfter(resp.Header.Get("Retry-After"), now)
}

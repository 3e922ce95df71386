package transport

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

// A platform naming its wait in the body (Config.RetryAfter) gets it
// honoured as a floor between attempts and reported in the final error,
// and the body is still there for the platform's error.
func TestRetryAfterFromBody(t *testing.T) {
	body := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"retryAfter":3}`)
	}
	srv, n := script(t, body, body, ok)
	fromBody := func(resp *http.Response, now time.Time) (time.Duration, bool) {
		b, _ := ReadBody(resp)
		var p struct{ RetryAfter float64 }
		if json.Unmarshal(b, &p) != nil || p.RetryAfter == 0 {
			return RetryAfter(resp, now)
		}
		return time.Duration(p.RetryAfter * float64(time.Second)), true
	}
	var s sleeps
	c := newTestClient(t, &s, func(c *Config) { c.RetryAfter = fromBody })
	if _, err := get(t, c, srv.URL, true); err != nil || n.Load() != 3 {
		t.Fatalf("err = %v after %d requests", err, n.Load())
	}
	for _, d := range s.all() {
		if d < 3*time.Second {
			t.Errorf("waited %v, want at least the body's 3 s", d)
		}
	}
	srv, _ = script(t, body)
	c = newTestClient(t, &s, func(c *Config) { c.RetryAfter = fromBody; c.Retry.MaxWait = time.Second })
	_, err := get(t, c, srv.URL, true)
	var rl *RateLimitError
	var ae *APIError
	if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second || !errors.As(err, &ae) || string(ae.Body) != `{"retryAfter":3}` {
		t.Errorf("err = %v, want a RateLimitError of 3 s over the APIError with its body", err)
	}
}

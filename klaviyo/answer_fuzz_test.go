package klaviyo_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/klaviyo"
)

const (
	// fuzzKey is the private API key of the fuzzed client.
	fuzzKey = "pk_0123456789abcdef0123456789abcdef01"
	maxWait = 365 * 24 * time.Hour
)

type answer struct {
	status     int
	retryAfter string
	body       []byte
}

// answerServer serves the stored answer; links.next in the body may name
// {{self}} (this server) or {{other}}, a server that fails the test if it
// is ever asked anything: the key must not travel to another host.
func answerServer(f *testing.F) (*httptest.Server, *atomic.Pointer[answer]) {
	var a atomic.Pointer[answer]
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("a request reached another host: " + r.URL.String())
	}))
	f.Cleanup(other.Close)
	var self string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ans := a.Load()
		w.Header().Set("Content-Type", "application/vnd.api+json")
		if ans.retryAfter != "" {
			w.Header().Set("Retry-After", ans.retryAfter)
			// The steady window's state, read into Response.RateLimit.
			w.Header().Set("RateLimit-Remaining", ans.retryAfter)
			w.Header().Set("RateLimit-Reset", ans.retryAfter)
		}
		w.WriteHeader(ans.status)
		b := strings.ReplaceAll(string(ans.body), "{{self}}", self)
		w.Write([]byte(strings.ReplaceAll(b, "{{other}}", other.URL)))
	}))
	self = hs.URL
	f.Cleanup(hs.Close)
	return hs, &a
}

// FuzzAnswer serves arbitrary statuses, Retry-After values and bodies
// (seeds in testdata/fuzz/FuzzAnswer: JSON:API error documents, the
// throttled 429, duplicate_profile, pages with links.next; the
// Retry-After value doubles as RateLimit-Remaining and -Reset) to a read
// and a paginated read. Whatever the answer:
//   - a read succeeds only on a 2xx;
//   - an error is typed: *APIError, *RateLimitError or a malformed answer;
//   - a 409 duplicate_profile with an id matches ErrDuplicateProfile and
//     ErrConflict;
//   - waits, and the RateLimit-* state an answer reports, are within
//     [0, a year];
//   - a listing ends, and never follows links.next to another host;
//   - the API key never appears in an error.
func FuzzAnswer(f *testing.F) {
	f.Add(uint16(0), "", []byte(`{"data":{"type":"profile","id":"01GDDKASAP8TKDDA2GRZDSVP4H","attributes":{"email":"a@example.com"}}}`))
	hs, ans := answerServer(f)
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte) {
		if !headerValue(retryAfter) {
			return
		}
		// A client per input: a shared one would soon wait for Klaviyo's
		// per-minute windows.
		c, err := klaviyo.New(klaviyo.PrivateKey(fuzzKey), klaviyo.WithBaseURL(hs.URL), klaviyo.WithHTTPClient(hs.Client()),
			klaviyo.WithSleep(noSleep), klaviyo.WithRetryPolicy(klaviyo.RetryPolicy{MaxRetries: 1, MaxWait: time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		st := 200 + int(status)%400
		ans.Store(&answer{status: st, retryAfter: retryAfter, body: body})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p, r, err := c.Profiles.Get(ctx, "01GDDKASAP8TKDDA2GRZDSVP4H", false)
		if err == nil && (st >= 300 || p == nil) {
			t.Fatalf("status %d body %q accepted", st, body)
		}
		if r != nil && (r.RateLimit.Remaining < 0 || r.RateLimit.Reset < 0 || r.RateLimit.Reset > maxWait) {
			t.Fatalf("RateLimit headers %q read as %+v", retryAfter, r.RateLimit)
		}
		checkError(t, st, body, err)
		n := 0
		for _, err := range c.Profiles.List(ctx, klaviyo.ProfileListOptions{}) {
			if err != nil {
				var ce *shopcrm.CursorError
				if !errors.As(err, &ce) {
					checkError(t, st, body, err)
				}
				break
			}
			if n++; n > 1e5 {
				t.Fatalf("no end to the listing of %q", body)
			}
		}
	})
}

func checkError(t *testing.T, status int, body []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("status %d body %q: hung: %v", status, body, err)
	}
	if strings.Contains(err.Error(), fuzzKey) {
		t.Fatalf("the key leaked into %q", err)
	}
	var (
		ae  *klaviyo.APIError
		rle *klaviyo.RateLimitError
		re  *shopcrm.ResponseError
	)
	typed := errors.As(err, &ae)
	typed = errors.As(err, &rle) || typed
	typed = errors.As(err, &re) || typed
	if !typed && !errors.Is(err, shopcrm.ErrBodyTooLarge) {
		t.Fatalf("status %d body %q: untyped %T %v", status, body, err, err)
	}
	if ae != nil {
		if ae.Status != status || ae.RetryAfter < 0 || ae.RetryAfter > maxWait {
			t.Fatalf("APIError %+v of a %d answer", ae, status)
		}
		if id, ok := ae.DuplicateProfileID(); ok && (id == "" || !errors.Is(err, klaviyo.ErrDuplicateProfile)) {
			t.Fatalf("duplicate profile %q does not match", id)
		}
		if errors.Is(err, klaviyo.ErrDuplicateProfile) && status == http.StatusConflict && !errors.Is(err, klaviyo.ErrConflict) {
			t.Fatalf("duplicate_profile 409 is not a conflict")
		}
	}
	if rle != nil && (rle.RetryAfter < 0 || rle.RetryAfter > maxWait) {
		t.Fatalf("rate limit wait %v", rle.RetryAfter)
	}
}

// headerValue reports whether v can be sent as a header value.
func headerValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

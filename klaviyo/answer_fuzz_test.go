package klaviyo_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/internal/answertest"
	"github.com/shopcrm/shopcrm/klaviyo"
)

// fuzzKey is the private API key of the fuzzed client.
const fuzzKey = "pk_0123456789abcdef0123456789abcdef01"

// answerServer serves the stored answer; links.next in the body may name
// {{self}} (this server) or {{other}}, a server that fails the test if it
// is ever asked anything: the key must not travel to another host.
func answerServer(f *testing.F) *answertest.Server {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("a request reached another host: " + r.URL.String())
	}))
	f.Cleanup(other.Close)
	hs := answertest.New(f)
	hs.ContentType = "application/vnd.api+json"
	hs.Rewrite = func(b []byte) []byte {
		b = bytes.ReplaceAll(b, []byte("{{self}}"), []byte(hs.URL))
		return bytes.ReplaceAll(b, []byte("{{other}}"), []byte(other.URL))
	}
	return hs
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
	hs := answerServer(f)
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte) {
		if !answertest.HeaderValues(retryAfter) {
			return
		}
		// A client per input: a shared one would soon wait for Klaviyo's
		// per-minute windows.
		c, err := klaviyo.New(klaviyo.PrivateKey(fuzzKey), klaviyo.WithBaseURL(hs.URL), klaviyo.WithHTTPClient(hs.Client()),
			klaviyo.WithSleep(noSleep), klaviyo.WithRetryPolicy(klaviyo.RetryPolicy{MaxRetries: 1, MaxWait: time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		st := answertest.Status(status)
		// The Retry-After value doubles as the steady window's state.
		hs.Set(answertest.Answer{Status: st, Body: body, Header: answertest.Header("Retry-After", retryAfter,
			"RateLimit-Remaining", retryAfter, "RateLimit-Reset", retryAfter)})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p, r, err := c.Profiles.Get(ctx, "01GDDKASAP8TKDDA2GRZDSVP4H", false)
		if err == nil && (st >= 300 || p == nil) {
			t.Fatalf("status %d body %q accepted", st, body)
		}
		if r != nil && (r.RateLimit.Remaining < 0 || r.RateLimit.Reset < 0 || r.RateLimit.Reset > answertest.MaxWait) {
			t.Fatalf("RateLimit headers %q read as %+v", retryAfter, r.RateLimit)
		}
		checkError(t, st, body, err)
		answertest.Drain(t, body, c.Profiles.List(ctx, klaviyo.ProfileListOptions{}), func(err error) { checkError(t, st, body, err) })
	})
}

func checkError(t *testing.T, status int, body []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var ae *klaviyo.APIError
	answertest.Check(t, status, body, err, []string{fuzzKey}, &ae)
	if ae != nil {
		if ae.Status != status || ae.RetryAfter < 0 || ae.RetryAfter > answertest.MaxWait {
			t.Fatalf("APIError %+v of a %d answer", ae, status)
		}
		if id, ok := ae.DuplicateProfileID(); ok && (id == "" || !errors.Is(err, klaviyo.ErrDuplicateProfile)) {
			t.Fatalf("duplicate profile %q does not match", id)
		}
		if errors.Is(err, klaviyo.ErrDuplicateProfile) && status == http.StatusConflict && !errors.Is(err, klaviyo.ErrConflict) {
			t.Fatalf("duplicate_profile 409 is not a conflict")
		}
	}
}

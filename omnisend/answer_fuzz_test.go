package omnisend_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/internal/answertest"
	"github.com/shopcrm/shopcrm/omnisend"
)

// fuzzKey is the API key of the fuzzed client.
const fuzzKey = "64f1c2d3e4b5a69788990011-Fuzz0123456789abcdefABCDEF0123456789"

// FuzzAnswer serves arbitrary statuses, Retry-After and X-Rate-Limit-Reset
// values and bodies (seeds in testdata/fuzz/FuzzAnswer: RFC 9457 problems,
// validation problems, rate-limit problems with retryAfter, contact pages
// with cursors, batch items) to reads of a contact and a batch and to a
// listing. Whatever the answer:
//   - a read succeeds only on a 2xx;
//   - an error is typed: *APIError, *RateLimitError or a malformed answer;
//   - a 429 whose problem names retryAfter waits at least that long (the
//     longest of body and headers), never less than zero nor more than a
//     year;
//   - a 409 matches ErrConflict, and ErrIdentifierConflict on the
//     contacts endpoints only; a 410 matches ErrVersionRetired;
//   - a listing ends, and the API key never appears in an error.
func FuzzAnswer(f *testing.F) {
	f.Add(uint16(0), "", "", []byte(`{"contactID":"64f1c2d3e4b5a69788990011","identifiers":[{"type":"email","id":"a@example.com","channels":{"email":{"status":"subscribed"}}}]}`))
	hs := answertest.New(f)
	hs.ContentType = "application/problem+json"
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	f.Fuzz(func(t *testing.T, status uint16, retryAfter, reset string, body []byte) {
		if !answertest.HeaderValues(retryAfter, reset) {
			return
		}
		st := answertest.Status(status)
		hs.Set(answertest.Answer{Status: st, Body: body, Header: answertest.Header("Retry-After", retryAfter, "X-Rate-Limit-Reset", reset)})
		// A client per input: a shared one would soon wait for the
		// per-minute window.
		c, err := omnisend.New(omnisend.APIKey(fuzzKey), omnisend.WithBaseURL(hs.URL), omnisend.WithHTTPClient(hs.Client()),
			omnisend.WithSleep(noSleep), omnisend.WithRetryPolicy(omnisend.RetryPolicy{MaxRetries: 1, MaxWait: time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ct, _, err := c.Contacts.Get(ctx, "64f1c2d3e4b5a69788990011")
		if err == nil && (st >= 300 || ct == nil) {
			t.Fatalf("status %d body %q accepted", st, body)
		}
		checkError(t, st, body, err)
		b, _, err := c.Batches.Items(ctx, "64f1c2d3e4b5a69788990099")
		if err == nil && (st >= 300 || b == nil) {
			t.Fatalf("status %d body %q accepted as a batch", st, body)
		}
		checkError(t, st, body, err)
		answertest.Drain(t, body, c.Contacts.List(ctx, omnisend.ListOptions{}), func(err error) { checkError(t, st, body, err) })
	})
}

func checkError(t *testing.T, status int, body []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var (
		ae  *omnisend.APIError
		rle *omnisend.RateLimitError
	)
	answertest.Check(t, status, body, err, []string{fuzzKey}, &ae, &rle)
	if ae != nil {
		if ae.Status != status || ae.RetryAfter < 0 || ae.RetryAfter > answertest.MaxWait {
			t.Fatalf("APIError %+v of a %d answer", ae, status)
		}
		switch status {
		case http.StatusConflict:
			contacts := strings.HasPrefix(ae.Path, "/contacts")
			if errors.Is(err, omnisend.ErrIdentifierConflict) != contacts || !errors.Is(err, omnisend.ErrConflict) {
				t.Fatalf("409 of %s: %v", ae.Path, err)
			}
		case http.StatusGone:
			if !errors.Is(err, omnisend.ErrVersionRetired) {
				t.Fatalf("410: %v", err)
			}
		}
	}
	var p struct {
		RetryAfter *float64 `json:"retryAfter"`
	}
	if status == http.StatusTooManyRequests && json.Unmarshal(body, &p) == nil && p.RetryAfter != nil && *p.RetryAfter >= 1 {
		want := time.Duration(math.Ceil(min(*p.RetryAfter, answertest.MaxWait.Seconds()) * float64(time.Second)))
		if rle == nil || rle.RetryAfter < want {
			t.Fatalf("429 %q: err = %v, want a wait of at least %s", body, err, want)
		}
	}
}

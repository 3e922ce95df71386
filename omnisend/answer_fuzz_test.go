package omnisend_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/omnisend"
)

const (
	// fuzzKey is the API key of the fuzzed client.
	fuzzKey = "64f1c2d3e4b5a69788990011-Fuzz0123456789abcdefABCDEF0123456789"
	maxWait = 365 * 24 * time.Hour
)

type answer struct {
	status            int
	retryAfter, reset string
	body              []byte
}

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
	var a atomic.Pointer[answer]
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ans := a.Load()
		w.Header().Set("Content-Type", "application/problem+json")
		if ans.retryAfter != "" {
			w.Header().Set("Retry-After", ans.retryAfter)
		}
		if ans.reset != "" {
			w.Header().Set("X-Rate-Limit-Reset", ans.reset)
		}
		w.WriteHeader(ans.status)
		w.Write(ans.body)
	}))
	f.Cleanup(hs.Close)
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	f.Fuzz(func(t *testing.T, status uint16, retryAfter, reset string, body []byte) {
		if !headerValue(retryAfter) || !headerValue(reset) {
			return
		}
		st := 200 + int(status)%400
		a.Store(&answer{status: st, retryAfter: retryAfter, reset: reset, body: body})
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
		n := 0
		for _, err := range c.Contacts.List(ctx, omnisend.ListOptions{}) {
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
		ae  *omnisend.APIError
		rle *omnisend.RateLimitError
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
	if rle != nil && (rle.RetryAfter < 0 || rle.RetryAfter > maxWait) {
		t.Fatalf("rate limit wait %v", rle.RetryAfter)
	}
	var p struct {
		RetryAfter *float64 `json:"retryAfter"`
	}
	if status == http.StatusTooManyRequests && json.Unmarshal(body, &p) == nil && p.RetryAfter != nil && *p.RetryAfter >= 1 {
		want := time.Duration(math.Ceil(min(*p.RetryAfter, maxWait.Seconds()) * float64(time.Second)))
		if rle == nil || rle.RetryAfter < want {
			t.Fatalf("429 %q: err = %v, want a wait of at least %s", body, err, want)
		}
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

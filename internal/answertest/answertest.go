// Package answertest serves arbitrary answers to a client, for the fuzz
// targets that feed each platform's answers (statuses, headers, bodies) to
// its client, and holds the checks every such answer must pass.
package answertest

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
)

// MaxWait bounds every wait a client derives from an answer.
const MaxWait = 365 * 24 * time.Hour

// Answer is what the server sends back.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Server answers every request with the stored Answer.
type Server struct {
	*httptest.Server
	// ContentType is sent unless the answer's header names one.
	ContentType string
	// Rewrite, when set, changes the body before it is sent.
	Rewrite func([]byte) []byte
	a       atomic.Pointer[Answer]
}

// New starts a server, closed when tb's test ends. It answers 200 with an
// empty body until Set is called.
func New(tb testing.TB) *Server {
	s := &Server{ContentType: "application/json"}
	s.a.Store(&Answer{Status: http.StatusOK})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := s.a.Load()
		w.Header().Set("Content-Type", s.ContentType)
		for k, vs := range a.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(a.Status)
		if s.Rewrite != nil {
			w.Write(s.Rewrite(a.Body))
		} else {
			w.Write(a.Body)
		}
	}))
	tb.Cleanup(s.Close)
	return s
}

// Set stores the answer of the next requests.
func (s *Server) Set(a Answer) { s.a.Store(&a) }

// Status maps a fuzzed number onto the statuses 200 to 599.
func Status(n uint16) int { return 200 + int(n)%400 }

// HeaderValues reports whether every v can be sent as a header value: a
// fuzzed value that cannot tells nothing about the client.
func HeaderValues(vs ...string) bool {
	for _, v := range vs {
		for i := 0; i < len(v); i++ {
			if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
				return false
			}
		}
	}
	return true
}

// Header returns a header of the non-empty values of kv, given as name,
// value pairs.
func Header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			h.Set(kv[i], kv[i+1])
		}
	}
	return h
}

// Check holds what every error from an answer keeps, whatever the
// platform: the call did not hang, no secret the client sent appears in
// the error, the error is typed (one of the package's error types given as
// pointers to errors.As targets, a *shopcrm.RateLimitError or a malformed
// answer), and a rate limit's wait is within [0, MaxWait].
// The types are filled as errors.As fills them, for the caller's own
// checks.
func Check(t testing.TB, status int, body []byte, err error, secrets []string, types ...any) {
	t.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("status %d body %q: the call hung: %v", status, body, err)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("a secret leaked into %q", err)
		}
	}
	var (
		rle *shopcrm.RateLimitError
		re  *shopcrm.ResponseError
	)
	typed := errors.As(err, &rle)
	typed = errors.As(err, &re) || typed
	for _, tg := range types {
		typed = errors.As(err, tg) || typed // every As runs: callers look at each shape found
	}
	if !typed && !errors.Is(err, shopcrm.ErrBodyTooLarge) {
		t.Fatalf("status %d body %q: untyped %T %v", status, body, err, err)
	}
	if rle != nil && (rle.RetryAfter < 0 || rle.RetryAfter > MaxWait) {
		t.Fatalf("status %d body %q: rate limit wait %v", status, body, rle.RetryAfter)
	}
}

// Drain reads a listing to its end and returns its items. Every answer of
// the fuzzed server is the same body, so a listing that does not stop on
// its own must stop at a repeated cursor (a *shopcrm.CursorError); any
// other error goes to check. A listing that never ends fails the test.
func Drain[T any](t testing.TB, body []byte, seq iter.Seq2[T, error], check func(error)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			var ce *shopcrm.CursorError
			if !errors.As(err, &ce) {
				check(err)
			}
			break
		}
		if out = append(out, v); len(out) > 100000 {
			t.Fatalf("no end to the listing of %q", body)
		}
	}
	return out
}

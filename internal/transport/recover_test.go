package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/shopcrm/shopcrm"
)

// decodeHandle is a Request.Handle that marks a body that is not a JSON
// object as damaged.
func decodeHandle(resp *http.Response) error {
	b, err := ReadBody(resp)
	if err != nil {
		return Damaged(&shopcrm.ResponseError{Op: "test", Reason: "reading the body", Err: err})
	}
	var v map[string]any
	return Damaged(DecodeObject("test", b, &v, false))
}

func truncated(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":tr`) }

// A damaged 2xx answer is retried for the classes that may repeat the
// request, and returned at once, unmarked, for the others.
func TestDamagedAnswerByClass(t *testing.T) {
	for _, tc := range []struct {
		class RetryClass
		sends int32
	}{{RetryNever, 1}, {RetryIfRefused, 1}, {RetryIdempotent, 2}, {RetryKeyed, 2}} {
		t.Run(tc.class.String(), func(t *testing.T) {
			srv, n := script(t, truncated, ok)
			c := newTestClient(t, &sleeps{})
			resp, err := c.Do(context.Background(), &Request{Method: "POST", URL: srv.URL, Retry: tc.class, Handle: decodeHandle})
			if n.Load() != tc.sends {
				t.Errorf("sends = %d, want %d", n.Load(), tc.sends)
			}
			if tc.sends == 1 {
				var re *shopcrm.ResponseError
				if !errors.As(err, &re) {
					t.Fatalf("err = %v (%T), want a *shopcrm.ResponseError", err, err)
				}
				if _, marked := err.(*damagedError); marked {
					t.Error("the error still carries the damaged mark")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		})
	}
}

// A body over the cap is not worth another attempt.
func TestDamagedTooLargeNotMarked(t *testing.T) {
	tl := &shopcrm.BodyTooLargeError{Limit: 1}
	if got := Damaged(tl); got != error(tl) {
		t.Errorf("Damaged(too large) = %#v", got)
	}
	if Damaged(nil) != nil {
		t.Error("Damaged(nil) != nil")
	}
}

// Retries of a damaged answer stop at the policy's count.
func TestDamagedAnswerBounded(t *testing.T) {
	srv, n := script(t, truncated)
	c := newTestClient(t, &sleeps{})
	_, err := c.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Retry: RetryIdempotent, Handle: decodeHandle})
	if !errors.Is(err, shopcrm.ErrMalformedResponse) {
		t.Fatalf("err = %v", err)
	}
	if n.Load() != 4 {
		t.Errorf("sends = %d, want 4 (MaxRetries 3)", n.Load())
	}
}

type serverErr struct{}

func (serverErr) Error() string { return "500" }

func TestMaybeApplied(t *testing.T) {
	is5xx := func(err error) bool { return errors.As(err, new(serverErr)) }
	live := context.Background()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		ctx  context.Context
		err  error
		want bool
	}{
		{live, nil, false},
		{live, &urlError, true},
		{live, &shopcrm.ResponseError{Op: "x"}, true},
		{live, fmt.Errorf("wrapped: %w", serverErr{}), true},
		{live, &shopcrm.RateLimitError{}, false},
		{live, &shopcrm.InputError{Field: "x"}, false},
		{done, &urlError, false},
	} {
		if got := MaybeApplied(tc.ctx, tc.err, is5xx); got != tc.want {
			t.Errorf("MaybeApplied(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// Recover adopts what Find finds, sends again what it does not, and
// stops at the policy's count with the last error.
func TestRecover(t *testing.T) {
	unknown := errors.New("lost")
	refused := errors.New("refused")
	for _, tc := range []struct {
		name      string
		sendErrs  []error // by attempt; past the end: success
		foundAt   int     // the Find call (1-based) that finds; 0: never
		findErr   error
		want      string
		wantErr   error
		sends     int
		wantSleep int
	}{
		{name: "first send succeeds", want: "sent 1", sends: 1},
		{name: "refusal is not retried", sendErrs: []error{refused}, wantErr: refused, sends: 1},
		{name: "found after a lost answer", sendErrs: []error{unknown}, foundAt: 1, want: "found", sends: 1},
		{name: "not found: sent again", sendErrs: []error{unknown}, want: "sent 2", sends: 2, wantSleep: 1},
		{name: "found on the second look", sendErrs: []error{unknown, unknown}, foundAt: 2, want: "found", sends: 2, wantSleep: 1},
		{name: "find fails", sendErrs: []error{unknown}, findErr: errors.New("read failed"), wantErr: unknown, sends: 1},
		{name: "gives up", sendErrs: []error{unknown, unknown, unknown, unknown, unknown}, wantErr: unknown, sends: 4, wantSleep: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &sleeps{}
			c := newTestClient(t, s)
			sends, finds := 0, 0
			got, err := Recover(context.Background(), c, Recovery[string]{
				Op: "create",
				Send: func(context.Context) (string, error) {
					sends++
					if sends <= len(tc.sendErrs) {
						return "", tc.sendErrs[sends-1]
					}
					return fmt.Sprint("sent ", sends), nil
				},
				Unknown: func(_ context.Context, err error) bool { return errors.Is(err, unknown) },
				Find: func(context.Context) (string, bool, error) {
					finds++
					return "found", finds == tc.foundAt, tc.findErr
				},
			})
			if got != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("got %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if sends != tc.sends || len(s.all()) != tc.wantSleep {
				t.Errorf("sends %d, sleeps %v; want %d sends, %d sleeps", sends, s.all(), tc.sends, tc.wantSleep)
			}
		})
	}
}

var urlError = url.Error{Op: "Post", URL: "http://example.com", Err: io.EOF}

// A write that is not idempotent is retried when the connection could
// not be made: it never left. A connection dropped after it was sent is
// not retried.
func TestIfRefusedRetriesDialError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connections are refused
	s := &sleeps{}
	c := newTestClient(t, s)
	_, err = c.Do(context.Background(), &Request{Method: "POST", URL: "http://" + addr, Retry: RetryIfRefused})
	if !NotSent(err) {
		t.Fatalf("err = %v, want a dial error", err)
	}
	if n := len(s.all()); n != 3 {
		t.Errorf("retries = %d, want 3", n)
	}

	srv, sends := script(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	_, err = c.Do(context.Background(), &Request{Method: "POST", URL: srv.URL, Retry: RetryIfRefused})
	if err == nil || NotSent(err) || sends.Load() != 1 {
		t.Errorf("dropped after sending: err = %v, %d sends", err, sends.Load())
	}
}

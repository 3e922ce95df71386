package shopcrm_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
)

// hostile answers are what a proxy, a load balancer or a broken server
// may send instead of the platform's API.
// mayPass marks answers some platforms treat as success (an empty or
// unfamiliar JSON object on a 2xx is a valid answer to a LINE write);
// the others must fail.
var hostile = []struct {
	name, contentType string
	status            int
	body              string
	mayPass           bool
}{
	{"HTML error page", "text/html; charset=utf-8", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", false},
	{"HTML with 200", "text/html", 200, "<!DOCTYPE html><html><head><title>Maintenance</title></head></html>", false},
	{"unfamiliar JSON with a text content type", "text/plain", 200, `{"unexpected":true}`, true},
	{"truncated JSON", "application/json", 200, `{"data":{"customer":{"id":"gid://shopify/Customer/1","ta`, false},
	{"JSON null", "application/json", 200, `null`, false},
	{"JSON of the wrong shape", "application/json", 200, `[1,2,3]`, false},
	{"empty 200", "application/json", 200, ``, true},
	{"partial GraphQL data", "application/json", 200, `{"data":{"customer":null},"errors":[{"message":"Internal error","path":["customer"]}]}`, true},
	{"malformed error body", "application/json", 500, `{"errors":[{"message":`, false},
	{"XML with 200", "application/xml", 200, `<?xml version="1.0"?><data><customer/></data>`, false},
	{"XML error page", "application/xml", 503, `<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code></Error>`, false},
	{"JSON-looking text on 500", "text/plain", 500, `{"errors":"Internal Server Error"}`, false},
	{"plain text on 429", "text/plain", 429, `Too Many Requests`, false},
	{"JSON string", "application/json", 200, `"ok"`, false},
	{"BOM before JSON", "application/json", 200, "\ufeff{\"data\":{}}", false},
}

// typed reports whether err is one of the shapes a caller can act on: the
// package's *APIError or other answer error (conn.answer), a
// *RateLimitError, or a response that could not be
// used (ErrMalformedResponse, ErrBodyTooLarge, shopcrm.ResponseError).
func typed(c conn, err error) bool {
	if c.answer != nil && c.answer(err) {
		return true
	}
	if _, ok := c.apiStatus(err); ok {
		return true
	}
	if _, ok := c.rateLimit(err); ok {
		return true
	}
	var re *shopcrm.ResponseError
	return errors.Is(err, shopcrm.ErrMalformedResponse) || errors.Is(err, shopcrm.ErrBodyTooLarge) || errors.As(err, &re) ||
		errors.Is(err, shopcrm.ErrNotFound) // a well-formed answer saying there is no such record
}

// settled waits until the goroutine count is back to base (plus slack for
// the runtime's own), so that a leak shows as a failure, not as noise.
func settled(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines outlive the call (started with %d):\n%s", n-base, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// answering is a server that gives every request the same answer.
func answering(t *testing.T, status int, contentType, body string) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(hs.Close)
	return hs
}

// TestHostileAnswers: every client turns every hostile answer into a typed
// error, never a result built from garbage, within its deadline, and
// leaves no goroutine behind.
func TestHostileAnswers(t *testing.T) {
	for _, cl := range clients {
		for _, h := range hostile {
			t.Run(cl.name+"/"+h.name, func(t *testing.T) {
				hs := answering(t, h.status, h.contentType, h.body)
				c := cl.open(t, hs.URL, "")
				base := runtime.NumGoroutine()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				start := time.Now()
				err := c.call(ctx)
				if err == nil && !h.mayPass {
					t.Fatalf("no error from a %d %s answer", h.status, h.contentType)
				}
				if err != nil && (!typed(c, err) || errors.Is(err, context.DeadlineExceeded)) {
					t.Errorf("err = %v (%T), want a typed answer error", err, err)
				}
				if d := time.Since(start); d > 4*time.Second {
					t.Errorf("call took %s", d)
				}
				hs.Close() // ends the client's idle connections with it
				settled(t, base)
			})
		}
	}
}

// TestSlowBodies: a server that sends its headers and then a body a byte at
// a time, never finishing, holds a call no longer than its context allows,
// and the call leaves nothing running.
func TestSlowBodies(t *testing.T) {
	for _, cl := range clients {
		t.Run(cl.name, func(t *testing.T) {
			stop := make(chan struct{})
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(200)
				io.WriteString(w, `{"data":`)
				for {
					w.(http.Flusher).Flush()
					select {
					case <-stop:
						return
					case <-r.Context().Done():
						return
					case <-time.After(50 * time.Millisecond):
						io.WriteString(w, " ")
					}
				}
			}))
			defer hs.Close()
			c := cl.open(t, hs.URL, "")
			base := runtime.NumGoroutine()
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := c.call(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want the context's deadline", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("a slow body held the call for %s past a 500ms deadline", d)
			}
			close(stop)
			hs.Close()
			settled(t, base)
		})
	}
}

// FuzzAnswers serves arbitrary statuses and bodies to every client's call:
// no panic, no hang, and every error typed. The seed corpus holds the
// hostile answers above and real-shaped ones of each platform.
func FuzzAnswers(f *testing.F) {
	for _, h := range hostile {
		f.Add(uint16(h.status), []byte(h.body))
	}
	for _, s := range []struct {
		status uint16
		body   string
	}{
		{200, `{"data":{"customer":{"id":"gid://shopify/Customer/1","tags":["a"]}},"extensions":{"cost":{"requestedQueryCost":2,"actualQueryCost":2,"throttleStatus":{"maximumAvailable":2000,"currentlyAvailable":1998,"restoreRate":100}}}}`},
		{200, `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],"extensions":{"cost":{"requestedQueryCost":2,"throttleStatus":{"maximumAvailable":2000,"currentlyAvailable":0,"restoreRate":100}}}}`},
		{200, `{"sentMessages":[{"id":"461230966842064897","quoteToken":"q"}]}`},
		{400, `{"message":"The request body has 1 error(s)","details":[{"message":"May not be empty","property":"messages[0].text"}]}`},
		{429, `{"message":"You have reached your monthly limit."}`},
		{404, `{"errors":"Not Found"}`},
	} {
		f.Add(s.status, []byte(s.body))
	}
	var body atomic.Pointer[[]byte]
	var status atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(status.Load()))
		w.Write(*body.Load())
	}))
	f.Cleanup(hs.Close)
	f.Fuzz(func(t *testing.T, st uint16, b []byte) {
		// Fresh clients per input: a long run would otherwise spend a
		// client's own rate limit and time out on its gate.
		var conns []conn
		for _, cl := range clients {
			conns = append(conns, cl.open(t, hs.URL, ""))
		}
		status.Store(int32(200 + int(st)%400)) // 200..599
		body.Store(&b)
		for _, c := range conns {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			err := c.call(ctx)
			cancel()
			if err != nil && (!typed(c, err) || errors.Is(err, context.DeadlineExceeded)) {
				t.Errorf("%d %q: err = %v (%T)", st, b, err, err)
			}
		}
	})
}

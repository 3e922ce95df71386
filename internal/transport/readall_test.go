package transport_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// TestReadAll reads bodies of every length around the cap, declared and
// not, and bodies that are not JSON objects: the bytes come back whole up
// to the cap, a byte more is a *shopcrm.BodyTooLargeError (at once when
// the length is declared), and an object read stops within its first
// read when the first byte cannot open one.
func TestReadAll(t *testing.T) {
	const limit = 1 << 20
	cases := []struct {
		name     string
		body     string
		declare  bool // send a Content-Length
		object   bool
		want     string // where the bytes read start, when not the whole body
		tooLarge bool
	}{
		{"empty", "", false, false, "", false},
		{"small object", `{"a":1}`, false, true, `{"a":1}`, false},
		{"object at the cap", `{"a":"` + strings.Repeat("x", limit-8) + `"}`, false, true, "", false},
		{"object at the cap, declared", `{"a":"` + strings.Repeat("x", limit-8) + `"}`, true, true, "", false},
		{"a byte past the cap", strings.Repeat(" ", limit) + "{", false, true, "", true},
		{"declared past the cap", strings.Repeat("x", limit+1), true, false, "", true},
		{"HTML", "<html>" + strings.Repeat("x", 4*limit), false, true, "<html>", false},
		{"white space, then an array", "  \n\t[" + strings.Repeat("1,", limit), false, true, "  \n\t[", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.declare {
					w.Header().Set("Content-Length", strconv.Itoa(len(tc.body)))
				}
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := transport.New(transport.Config{Platform: "test", MaxBody: limit})
			resp, err := c.Do(context.Background(), &transport.Request{Method: "GET", URL: srv.URL, Retry: transport.RetryIdempotent})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := transport.ReadAll(resp, tc.object)
			var be *shopcrm.BodyTooLargeError
			switch {
			case tc.tooLarge:
				if !errors.As(err, &be) || be.Limit != limit {
					t.Fatalf("err = %v, want a *shopcrm.BodyTooLargeError with Limit %d", err, limit)
				}
			case err != nil:
				t.Fatal(err)
			case tc.want != "" && (!strings.HasPrefix(string(b), tc.want) || len(b) > 4<<10):
				t.Errorf("read %.40q (%d bytes), want the first bytes from %q on", b, len(b), tc.want)
			case tc.want == "" && string(b) != tc.body:
				t.Errorf("read %d bytes, want the %d of the body", len(b), len(tc.body))
			}
		})
	}
}

// TestReadErrorBody: a hook reading a throttling answer's body gets at
// most MaxErrorBody+1 bytes of it, and the *APIError keeps them.
func TestReadErrorBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, strings.Repeat("x", 4*transport.MaxErrorBody))
	}))
	defer srv.Close()
	var seen int
	c := transport.New(transport.Config{Platform: "test", RetryAfter: func(resp *http.Response, _ time.Time) (time.Duration, bool) {
		seen = len(transport.ReadErrorBody(resp))
		return 0, false
	}})
	_, err := c.Do(context.Background(), &transport.Request{Method: "GET", URL: srv.URL, Retry: transport.RetryNever})
	var ae *transport.APIError
	if !errors.As(err, &ae) || !ae.Truncated || len(ae.Body) != transport.MaxErrorBody {
		t.Fatalf("err = %v, want a truncated *APIError", err)
	}
	if seen != transport.MaxErrorBody+1 {
		t.Errorf("the hook read %d bytes, want %d", seen, transport.MaxErrorBody+1)
	}
}

package shopcrm_test

import (
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
)

// TestSlowAnswers extends TestSlowBodies to the answers a slowloris
// server can stall besides a 200's body: an error body trickled a byte at
// a time (read for the *APIError and for Retry-After), and headers that
// never come. Every client's call ends by its context's deadline (or
// sooner, with the error status, when it does not need the body) and
// leaves nothing running.
func TestSlowAnswers(t *testing.T) {
	stalls := []struct {
		name   string
		status int // 0: never send the headers
		body   string
	}{
		{"error body trickled on 503", 503, `{"errors":"`},
		{"error body trickled on 429", 429, `{"message":"`},
		{"error body trickled on 400", 400, `<html>`},
		{"headers never sent", 0, ""},
	}
	for _, cl := range clients {
		for _, s := range stalls {
			t.Run(cl.name+"/"+s.name, func(t *testing.T) {
				hs := trickle(t, s.status, "application/json", s.body, "x", 20*time.Millisecond)
				c := cl.open(t, hs.URL, "")
				base := runtime.NumGoroutine()
				ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
				defer cancel()
				start := time.Now()
				err := c.call(ctx)
				// The deadline, or the error status when the client
				// gives up without the body.
				if st, _ := c.apiStatus(err); !errors.Is(err, context.DeadlineExceeded) && st != s.status {
					t.Errorf("err = %v, want the context's deadline or the %d", err, s.status)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("a stalled answer held the call for %s past a 250ms deadline", d)
				}
				hs.Close()
				settled(t, base)
			})
		}
	}
}

// userIDs is an audience file of n user ids, generated as it is read.
func userIDs(n int) io.Reader {
	return io.LimitReader(repeat("U0123456789abcdef0123456789abcdef\n"), int64(n)*34)
}

// repeat reads s over and over.
type repeat string

func (r repeat) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r)
	}
	return n, nil
}

// TestLineUploadHostile sends LINE audience files, streamed through a
// goroutine, to servers that answer without reading them, answer nothing
// usable, or answer without end: each upload ends with a typed error and
// the goroutine writing the file ends with it.
func TestLineUploadHostile(t *testing.T) {
	answers := []struct {
		name, contentType, body string
		status                  int
		huge                    bool // 100 MB of JSON-looking body
	}{
		{"HTML at once, file unread", "text/html", "<html>502</html>", 200, false},
		{"empty 200, file unread", "application/json", "", 200, false},
		{"JSON null", "application/json", "null", 200, false},
		{"JSON array", "application/json", "[]", 200, false},
		{"502 at once, file unread", "text/html", "<html>502</html>", 502, false},
		{"100 MB answer", "application/json", "", 200, true},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			var url string
			var written func() int64
			if a.huge {
				e := newEndless(t, 200, "application/json", `{"audienceGroupId":1,"x":"`, 'x')
				url, written = e.URL, e.written.Load
			} else {
				hs := answering(t, a.status, a.contentType, a.body)
				url, written = hs.URL, func() int64 { return int64(len(a.body)) }
			}
			c, err := line.New(tokens{linetest.DefaultToken}, line.WithBaseURL(url), line.WithDataURL(url), line.WithRetryPolicy(policy))
			if err != nil {
				t.Fatal(err)
			}
			base := runtime.NumGoroutine()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			// 150,000 ids, 5 MB: more than the connection buffers take,
			// so a server that does not read stalls the writer. The
			// server that reads it all gets fewer.
			ids := 150_000
			if a.huge {
				ids = 10_000
			}
			_, _, err = c.Audiences.CreateFromFile(ctx, "hostile", userIDs(ids))
			var ae *line.APIError
			var re *shopcrm.ResponseError
			switch {
			case err == nil:
				t.Fatalf("no error")
			case errors.Is(err, context.DeadlineExceeded):
				t.Errorf("the upload ran to the deadline: %v", err)
			case a.huge && !errors.Is(err, shopcrm.ErrBodyTooLarge):
				t.Errorf("err = %v, want ErrBodyTooLarge", err)
			case !errors.As(err, &ae) && !errors.As(err, &re) && !errors.Is(err, shopcrm.ErrMalformedResponse):
				t.Errorf("err = %v (%T), want a *line.APIError or a *shopcrm.ResponseError", err, err)
			}
			settled(t, base)
			t.Logf("%s: %v after %s; server wrote %s", a.name, err, time.Since(start).Round(time.Millisecond), mib(written()))
		})
	}
}

// TestShopifyBulkRowsAbandoned stops reading an endless bulk result after
// a few rows: the download ends with the loop, its idle watchdog too.
func TestShopifyBulkRowsAbandoned(t *testing.T) {
	hs := trickle(t, 200, "application/jsonl", "", strings.Repeat(`{"id":"gid://shopify/Customer/1"}`+"\n", 8), time.Millisecond)
	c := shopifyAt(t, hs.URL)
	base := runtime.NumGoroutine()
	rows := 0
	for row, err := range c.Bulk.Rows(context.Background(), hs.URL+"/result.jsonl") {
		if err != nil {
			t.Fatal(err)
		}
		if row.ID == "" {
			t.Fatalf("row %d without an id", rows)
		}
		if rows++; rows == 100 {
			break
		}
	}
	hs.Close()
	settled(t, base)
	if rows != 100 {
		t.Errorf("read %d rows", rows)
	}
}

package shopcrm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// hugeBody is the size of the bodies the servers below offer: far past
// every cap, generated as it is written, never held whole.
const hugeBody = 100 << 20

// maxHeapGrowth bounds what reading one hostile answer may allocate: the
// default body cap (8 MiB) and change.
const maxHeapGrowth = 16 << 20

// endless is a server that reads the request, answers with status and
// contentType, then offers hugeBody bytes (prefix, then filler) in 64 KiB writes, counting
// what the connection took before the client hung up.
type endless struct {
	*httptest.Server
	written atomic.Int64 // bytes the client's connection accepted
}

func newEndless(t *testing.T, status int, contentType, prefix string, filler byte) *endless {
	t.Helper()
	e := &endless{}
	chunk := []byte(strings.Repeat(string(filler), 64<<10))
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // answer the whole request, as a server does
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		n, err := w.Write([]byte(prefix))
		e.written.Add(int64(n))
		for left := hugeBody - n; left > 0 && err == nil; left -= n {
			n, err = w.Write(chunk[:min(left, len(chunk))])
			e.written.Add(int64(n))
		}
	}))
	t.Cleanup(e.Close)
	return e
}

// usage is what one call cost the process: the bytes allocated while it
// ran (an upper bound on the heap's growth) and the heap in use after it.
type usage struct {
	alloc, inuse int64
}

// measure runs call and reports the allocations it made.
func measure(call func() error) (usage, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := call()
	runtime.ReadMemStats(&after)
	return usage{
		alloc: int64(after.TotalAlloc - before.TotalAlloc),
		inuse: int64(after.HeapInuse) - int64(before.HeapInuse),
	}, err
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// TestHugeBodies offers every client 100 MB answers of every kind a broken
// server or proxy sends: JSON-looking, HTML, plain text and XML, on a 200
// and on error statuses. Each call ends with a typed error within its
// deadline, having read no more than the client's cap, and the memory the
// call allocated stays far below the body's size.
func TestHugeBodies(t *testing.T) {
	bodies := []struct {
		name, contentType, prefix string
		status                    int
		filler                    byte
	}{
		{"JSON string on 200", "application/json", `{"data":"`, 200, 'x'},
		{"JSON whitespace on 200", "application/json", `{"data":`, 200, ' '},
		{"HTML on 200", "text/html", "<html><body>", 200, 'x'},
		{"JSON-looking text/plain on 200", "text/plain", `{"data":"`, 200, 'x'},
		{"XML on 200", "application/xml", `<?xml version="1.0"?><r>`, 200, 'x'},
		{"HTML on 502", "text/html", "<html><body>", 502, 'x'},
		{"JSON-looking text/plain on 400", "text/plain", `{"errors":"`, 400, 'x'},
		{"XML on 500", "application/xml", `<?xml version="1.0"?><Error>`, 500, 'x'},
	}
	for _, cl := range clients {
		for _, b := range bodies {
			t.Run(cl.name+"/"+b.name, func(t *testing.T) {
				srv := newEndless(t, b.status, b.contentType, b.prefix, b.filler)
				c := cl.open(t, srv.URL, "")
				base := runtime.NumGoroutine()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				start := time.Now()
				u, err := measure(func() error { return c.call(ctx) })
				took := time.Since(start)
				if err == nil {
					t.Fatalf("no error from a %d MiB %s answer", hugeBody>>20, b.contentType)
				}
				if !typed(c, err) || errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err = %v (%T), want a typed error", err, err)
				}
				if b.status == 200 && !errors.Is(err, shopcrm.ErrBodyTooLarge) && !errors.Is(err, shopcrm.ErrMalformedResponse) {
					t.Errorf("err = %v, want ErrBodyTooLarge or ErrMalformedResponse", err)
				}
				if u.alloc > maxHeapGrowth {
					t.Errorf("the call allocated %s reading a %d MiB answer, want under %s", mib(u.alloc), hugeBody>>20, mib(maxHeapGrowth))
				}
				if w := srv.written.Load(); w >= hugeBody {
					t.Errorf("the client read the whole %s body", mib(w))
				}
				srv.Close()
				settled(t, base)
				t.Logf("%s in %s; server wrote %s; allocated %s, heap in use %+.1f MiB; err: %v",
					b.name, took.Round(time.Millisecond), mib(srv.written.Load()), mib(u.alloc), float64(u.inuse)/(1<<20), err)
			})
		}
	}
}

// TestWithMaxBody sets a smaller cap on every client: the answer past it
// fails with a *shopcrm.BodyTooLargeError naming that cap, having cost
// about that much; a cap below 64 KiB is refused before any request.
func TestWithMaxBody(t *testing.T) {
	const limit = 256 << 10
	srv := newEndless(t, 200, "application/json", `{"data":"`, 'x')
	calls := []struct {
		name string
		call func(ctx context.Context, n int64) error
	}{
		{"shopify", func(ctx context.Context, n int64) error {
			c, err := shopify.New(shopifytest.Shop, tokens{shopifytest.DefaultToken}, shopify.WithBaseURL(srv.URL), shopify.WithMaxBody(n))
			if err != nil {
				return err
			}
			_, _, err = c.Customers.Get(ctx, "gid://shopify/Customer/1")
			return err
		}},
		{"line", func(ctx context.Context, n int64) error {
			c, err := line.New(tokens{linetest.DefaultToken}, line.WithBaseURL(srv.URL), line.WithDataURL(srv.URL), line.WithMaxBody(n))
			if err != nil {
				return err
			}
			_, _, err = c.Users.Profile(ctx, "U00000000000000000000000000000001")
			return err
		}},
		{"omnisend", func(ctx context.Context, n int64) error {
			c, err := omnisend.New(omnisend.APIKey(omnisendtest.DefaultAPIKey), omnisend.WithBaseURL(srv.URL), omnisend.WithMaxBody(n))
			if err != nil {
				return err
			}
			_, _, err = c.Contacts.Get(ctx, "6b0d268e0000000000000001")
			return err
		}},
		{"klaviyo", func(ctx context.Context, n int64) error {
			c, err := klaviyo.New(klaviyo.PrivateKey(klaviyotest.DefaultAPIKey), klaviyo.WithBaseURL(srv.URL), klaviyo.WithMaxBody(n))
			if err != nil {
				return err
			}
			_, _, err = c.Profiles.Get(ctx, "01K00000000000000000000001", false)
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			u, err := measure(func() error { return c.call(ctx, limit) })
			var be *shopcrm.BodyTooLargeError
			if !errors.As(err, &be) || be.Limit != limit {
				t.Fatalf("err = %v, want a *shopcrm.BodyTooLargeError with Limit %d", err, limit)
			}
			if u.alloc > 4*limit {
				t.Errorf("a %s cap allocated %s", mib(limit), mib(u.alloc))
			}
			var ie *shopcrm.InputError
			if err := c.call(ctx, 1000); !errors.As(err, &ie) || ie.Field != "WithMaxBody" {
				t.Errorf("WithMaxBody(1000): err = %v, want an InputError on WithMaxBody", err)
			}
		})
	}
}

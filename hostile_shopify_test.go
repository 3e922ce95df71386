package shopcrm_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

// shopifyAt returns a Shopify client whose API and storage requests go to
// base.
func shopifyAt(t *testing.T, base string, opts ...shopify.Option) *shopify.Client {
	t.Helper()
	c, err := shopify.New(shopifytest.Shop, tokens{shopifytest.DefaultToken},
		append([]shopify.Option{shopify.WithBaseURL(base), shopify.WithRetryPolicy(policy)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestShopifyPartialAnswers: GraphQL answers that are half there (data
// with null fields beside errors, a mutation payload without its
// userErrors, data without the field asked for) end the call with a typed
// error: *shopify.GraphQLErrors when the server said what went wrong,
// *shopcrm.ResponseError (ErrMalformedResponse) when the answer is not
// one Shopify sends. None is taken for a success.
func TestShopifyPartialAnswers(t *testing.T) {
	const gid = "gid://shopify/Customer/1"
	cases := []struct {
		name, body string
		call       func(context.Context, *shopify.Client) error
		graphQL    bool // a *shopify.GraphQLErrors; else a *shopcrm.ResponseError
	}{
		{"read: null fields beside errors",
			`{"data":{"customer":{"id":"` + gid + `","email":null,"tags":null}},"errors":[{"message":"Access denied for email field.","path":["customer","email"],"extensions":{"code":"ACCESS_DENIED"}}]}`,
			getCustomer(gid), true},
		{"read: null data beside errors",
			`{"data":null,"errors":[{"message":"Internal error. Looks like something went wrong on our end."}]}`,
			getCustomer(gid), true},
		{"read: data without the field asked for", `{"data":{}}`, getCustomer(gid), false},
		{"read: data of another type", `{"data":{"customer":"yes"}}`, getCustomer(gid), false},
		{"mutation: payload without userErrors", `{"data":{"tagsAdd":{}}}`, addTag(gid), false},
		{"mutation: userErrors null", `{"data":{"tagsAdd":{"userErrors":null}}}`, addTag(gid), false},
		{"mutation: payload null beside errors",
			`{"data":{"tagsAdd":null},"errors":[{"message":"Internal error","path":["tagsAdd"]}]}`, addTag(gid), true},
		{"mutation: no payload", `{"data":{}}`, addTag(gid), false},
		{"mutation: userErrors of the wrong shape", `{"data":{"tagsAdd":{"userErrors":"none"}}}`, addTag(gid), false},
		{"aliased mutations: payload without userErrors", `{"data":{"m0":{}}}`, applyTag(gid), false},
		{"aliased mutations: userErrors null", `{"data":{"m0":{"userErrors":null}}}`, applyTag(gid), false},
		{"aliased engagements: payload without userErrors", `{"data":{"m0":{"marketingEngagement":{"occurredOn":"2025-03-01"}}}}`, createEngagement, false},
		{"single mutation: payload without userErrors", `{"data":{"marketingActivityDeleteExternal":{"deletedMarketingActivityId":"gid://shopify/MarketingActivity/1"}}}`, deleteActivity, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hs := answering(t, 200, "application/json", tc.body)
			c := shopifyAt(t, hs.URL)
			base := runtime.NumGoroutine()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := tc.call(ctx, c)
			var ge *shopify.GraphQLErrors
			var re *shopcrm.ResponseError
			switch {
			case err == nil:
				t.Fatalf("a partial answer was taken for a success: %s", tc.body)
			case tc.graphQL && !errors.As(err, &ge):
				t.Errorf("err = %v (%T), want a *shopify.GraphQLErrors", err, err)
			case !tc.graphQL && (!errors.As(err, &re) || !errors.Is(err, shopcrm.ErrMalformedResponse)):
				t.Errorf("err = %v (%T), want a *shopcrm.ResponseError", err, err)
			}
			hs.Close()
			settled(t, base)
		})
	}
}

func getCustomer(gid string) func(context.Context, *shopify.Client) error {
	return func(ctx context.Context, c *shopify.Client) error {
		_, _, err := c.Customers.Get(ctx, gid)
		return err
	}
}

func addTag(gid string) func(context.Context, *shopify.Client) error {
	return func(ctx context.Context, c *shopify.Client) error {
		_, err := c.Tags.Add(ctx, gid, []string{"vip"})
		return err
	}
}

func applyTag(gid string) func(context.Context, *shopify.Client) error {
	return func(ctx context.Context, c *shopify.Client) error {
		res, err := c.Tags.Apply(ctx, []tagging.Change{{ID: gid, Add: []string{"vip"}}}, nil)
		if err != nil {
			return err
		}
		return res[0].Err
	}
}

func createEngagement(ctx context.Context, c *shopify.Client) error {
	_, err := c.Marketing.CreateEngagement(ctx, attribution.Engagement{ChannelHandle: "my-app",
		OccurredOn: calendar.NewDate(2025, 3, 1), UTCOffset: "+09:00", SendsCount: 500})
	return err
}

func deleteActivity(ctx context.Context, c *shopify.Client) error {
	_, _, err := c.Marketing.Delete(ctx, "ad-1")
	return err
}

// TestShopifyBulkStorageHostile points Shopify's bulk result download,
// which has no body cap and no total timeout, at storage hosts that never
// stop: a 100 MB line without a newline ends at the line cap with a
// *shopify.BulkFormatError (ErrBodyTooLarge) having allocated about the
// cap; endless JSONL trickled a line at a time, and a line trickled a
// byte at a time (which keeps the idle watchdog fed), end at the caller's
// deadline with a *shopify.StorageError. No goroutine or timer outlives
// the iteration.
func TestShopifyBulkStorageHostile(t *testing.T) {
	t.Run("100 MB line", func(t *testing.T) {
		srv := newEndless(t, 200, "application/jsonl", `{"id":"gid://shopify/Customer/1","note":"`, 'x')
		const lineCap = 4 << 20
		c := shopifyAt(t, srv.URL, shopify.WithMaxBulkLine(lineCap))
		base := runtime.NumGoroutine()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		rows := 0
		u, err := measure(func() error {
			for _, err := range c.Bulk.Rows(ctx, srv.URL+"/result.jsonl?signature=s") {
				if err != nil {
					return err
				}
				rows++
			}
			return nil
		})
		var fe *shopify.BulkFormatError
		if !errors.As(err, &fe) || !errors.Is(err, shopcrm.ErrBodyTooLarge) || rows != 0 {
			t.Fatalf("err = %v (%T) after %d rows, want a *shopify.BulkFormatError matching ErrBodyTooLarge", err, err, rows)
		}
		if u.alloc > 4*lineCap {
			t.Errorf("reading up to a %s line cap allocated %s", mib(lineCap), mib(u.alloc))
		}
		srv.Close()
		settled(t, base)
		t.Logf("100 MiB line, %s line cap: %s; server wrote %s; allocated %s",
			mib(lineCap), time.Since(start).Round(time.Millisecond), mib(srv.written.Load()), mib(u.alloc))
	})
	trickles := []struct {
		name  string
		first string // written once
		next  string // written every tick, forever
	}{
		{"endless JSONL, a line at a time", "", `{"id":"gid://shopify/Customer/1"}` + "\n"},
		{"endless line, a byte at a time", `{"id":"gid://shopify/Customer/1","note":"`, "x"},
	}
	for _, tr := range trickles {
		t.Run(tr.name, func(t *testing.T) {
			hs := trickle(t, 200, "application/jsonl", tr.first, tr.next, 20*time.Millisecond)
			// An idle timeout far longer than the tick: the watchdog
			// stays fed, only the caller's deadline ends the download.
			c := shopifyAt(t, hs.URL, shopify.WithStorageIdleTimeout(time.Second))
			base := runtime.NumGoroutine()
			ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
			defer cancel()
			start := time.Now()
			rows := 0
			var err error
			for _, e := range c.Bulk.Rows(ctx, hs.URL+"/result.jsonl?signature=s") {
				if e != nil {
					err = e
					break
				}
				rows++
			}
			took := time.Since(start)
			var se *shopify.StorageError
			if !errors.As(err, &se) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v (%T), want a *shopify.StorageError with the deadline", err, err)
			}
			if se != nil && strings.Contains(se.Error(), "signature") {
				t.Errorf("the error shows the URL's signature: %v", se)
			}
			if took > time.Second {
				t.Errorf("the download ran %s past a 400ms deadline", took)
			}
			hs.Close()
			settled(t, base)
			t.Logf("%d rows, then %v after %s", rows, err, took.Round(time.Millisecond))
		})
	}
}

// trickle is a server that answers with status, writes first, then next
// every tick until the client hangs up; status 0 never answers.
func trickle(t *testing.T, status int, contentType, first, next string, tick time.Duration) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the request: the server notices the client hanging up
		// only once it has.
		io.Copy(io.Discard, r.Body)
		if status == 0 { // headers never sent
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, first)
		for {
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(tick):
				if _, err := io.WriteString(w, next); err != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(hs.Close)
	return hs
}

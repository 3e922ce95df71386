package shopify_test

import (
	"context"
	"errors"
	"iter"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/internal/answertest"
	"github.com/shopcrm/shopcrm/shopify"
)

// FuzzListAnswer serves one body to every page request of the paginated
// reads (seeds in testdata/fuzz/FuzzListAnswer: connections with
// pageInfo, null nodes, repeated cursors). No read panics or hands out a
// nil item; a read ends (a repeated cursor is a *CursorError); every
// error is typed.
func FuzzListAnswer(f *testing.F) {
	f.Add([]byte(`{"data":{"segments":{"pageInfo":{"hasNextPage":false,"endCursor":null},"nodes":[]}}}`))
	hs := answertest.New(f)
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	f.Fuzz(func(t *testing.T, body []byte) {
		hs.Set(answertest.Answer{Status: 200, Body: body})
		// A client per read: the answers' throttleStatus retunes the
		// cost gate, and many reads in a row would wait for it to refill.
		client := func() *shopify.Client {
			c, err := shopify.New("fuzz.myshopify.com", shopify.StaticToken(fuzzToken),
				shopify.WithBaseURL(hs.URL), shopify.WithHTTPClient(hs.Client()), shopify.WithSleep(noSleep),
				shopify.WithRetryPolicy(shopify.RetryPolicy{MaxRetries: 1, MaxWait: time.Millisecond}))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		drain(t, "segments", body, client().Segments.List(ctx))
		drain(t, "webhooks", body, client().Webhooks.List(ctx))
		drain(t, "customers", body, client().Customers.List(ctx, nil))
		drain(t, "orders", body, client().Orders.List(ctx, nil))
		if _, err := client().Segments.FindByName(ctx, "vip"); err != nil {
			var nf *shopify.NotFoundError
			if !errors.As(err, &nf) {
				checkAnswer(t, 200, body, err)
			}
		}
	})
}

// drain reads seq to its end: at most a few pages, as every page is the
// same body.
func drain[T any](t *testing.T, what string, body []byte, seq iter.Seq2[*T, error]) {
	t.Helper()
	for _, v := range answertest.Drain(t, body, seq, func(err error) { checkAnswer(t, 200, body, err) }) {
		if v == nil {
			t.Fatalf("%s: a nil item from %q", what, body)
		}
	}
}

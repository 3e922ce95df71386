package shopcrmtest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// noSleep makes the clients' backoff instant.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// faultTable is one script of failures that every fake understands.
var faultTable = []shopcrmtest.Fault{
	{Kind: shopcrmtest.FaultRateLimit, RetryAfter: "0.01", Times: 2},
	{Kind: shopcrmtest.FaultRateLimit, RetryAfter: "3600"},
	{Kind: shopcrmtest.FaultStatus, Status: 503, Times: 10},
	{Kind: shopcrmtest.FaultStatus, Status: 401},
	{Kind: shopcrmtest.FaultDrop, Times: 3},
}

// call runs one call that is safe to retry through each platform's client
// (a Shopify read, a LINE push with its retry key), against a fake scripted
// with f, and returns the errors and the fakes' counters.
func call(f shopcrmtest.Fault) (shopErr, lineErr error, shopStats, lineStats shopcrmtest.Stats) {
	ctx := context.Background()

	shop := shopifytest.NewServer(shopifytest.WithFaults(f))
	defer shop.Close()
	id := shop.AddCustomer(shopifytest.Customer{FirstName: "Aino"})
	_, _, shopErr = shop.Client(shopify.WithSleep(noSleep)).Customers.Get(ctx, shopify.CustomerGID(id))

	chat := linetest.NewServer(linetest.WithFaults(f))
	defer chat.Close()
	_, _, lineErr = chat.Client(line.WithSleep(noSleep)).Messages.Push(ctx, &line.PushRequest{
		To:       "U00000000000000000000000000000001",
		Messages: []line.Message{line.TextMessage{Text: "hello"}},
	})

	return shopErr, lineErr, shop.Stats(), chat.Stats()
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, shopcrm.ErrRateLimited):
		return "rate limited"
	case errors.Is(err, shopcrm.ErrUnauthorized):
		return "unauthorized"
	}
	return "failed"
}

// One table of scripted faults runs against every client: the fakes take
// the same Fault values.
func Example() {
	for _, f := range faultTable {
		shopErr, lineErr, _, _ := call(f)
		fmt.Printf("%-34s shopify: %-12s line: %s\n", f, outcome(shopErr), outcome(lineErr))
	}
	// Output:
	// rate limit retry-after 0.01 x2     shopify: ok           line: ok
	// rate limit retry-after 3600        shopify: rate limited line: rate limited
	// status 503 x10                     shopify: failed       line: failed
	// status 401                         shopify: unauthorized line: unauthorized
	// drop x3                            shopify: ok           line: ok
}

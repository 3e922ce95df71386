package klaviyotest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// A lost response after the server acted: the event's unique_id makes the
// client's retry harmless, and the fake shows one event.
func Example_lostResponse() {
	srv := klaviyotest.NewServer(klaviyotest.WithFaults(klaviyotest.Fault{Op: "create_event", Kind: shopcrmtest.FaultLostResponse}))
	defer srv.Close()
	c := srv.Client()
	_, err := c.Events.Create(context.Background(), klaviyo.Event{Metric: "Placed Order",
		Profile: klaviyo.ProfileInput{Email: "a@example.com"}, Properties: map[string]any{"order_id": "1001"}})
	st := srv.Stats()
	fmt.Println(err, len(srv.Events()), "event,", st.Requests, "requests,", st.Faults, "fault")
	// Output:
	// <nil> 1 event, 2 requests, 1 fault
}

// Throttling: over an operation's limit the fake answers 429 with
// Retry-After, the time left in its fixed window, as Klaviyo does. A wait
// beyond the client's cap comes back as a *RateLimitError carrying it.
func ExampleWithRateLimit() {
	minute := time.Date(2026, 7, 15, 10, 0, 0, 0, time.UTC)
	srv := klaviyotest.NewServer(klaviyotest.WithNow(minute),
		klaviyotest.WithRateLimit(klaviyo.EndpointGetProfile, klaviyo.Limit{Burst: 10, Steady: 1}))
	defer srv.Close()
	c := srv.Client(klaviyo.WithRetryPolicy(klaviyo.RetryPolicy{}))
	id := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	for range 2 {
		_, _, err := c.Profiles.Get(context.Background(), id, false)
		fmt.Println(err)
	}
	// Output:
	// <nil>
	// rate limited: retry after 1m0s: klaviyo: 429 Too Many Requests; throttled: Request was throttled. Expected available in 60 seconds.
}

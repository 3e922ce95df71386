package shopify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

// Benchmark settings: a bucket of 1000 points (half the Standard plan's,
// so less room for bursts), a restore rate scaled up so that a run lasts
// seconds, and a round trip of 100ms.
const (
	benchCustomers = 10000
	benchBucket    = 1000
	benchRate      = 10000 // points per second
	benchLatency   = 100 * time.Millisecond
	benchLoopN     = 20 // changes timed in the one-mutation-per-request loop
)

// benchChanges returns one change per customer, as a daily segment sync
// makes them: four in five customers joined the segment and get its tag,
// one in five left and lose it.
func benchChanges(srv *shopifytest.Server, n int) []tagging.Change {
	changes := make([]tagging.Change, n)
	for i := range changes {
		if i%5 == 4 {
			id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Tags: []string{"line", "ecp-first"}}))
			changes[i] = tagging.Change{ID: id, Remove: []string{"ecp-first"}}
			continue
		}
		id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Tags: []string{"line"}}))
		changes[i] = tagging.Change{ID: id, Add: []string{"ecp-first"}}
	}
	return changes
}

// BenchmarkApplyChanges applies 10,000 customers' tag changes against the
// fake with 100ms latency and reports:
//
//   - efficiency: the least time the bucket allows for the cost actually
//     charged ((cost - bucket) / restoreRate) divided by the time taken; the
//     fake enforces its limit, so it cannot exceed 1;
//   - throttled-share: THROTTLED answers per request;
//   - requests/customer;
//   - speedup: the time a one-mutation-per-request loop would take
//     (measured on a few changes, extrapolated) over the time taken.
func BenchmarkApplyChanges(b *testing.B) {
	for range b.N {
		b.StopTimer()
		srv := shopifytest.NewServer(shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: benchRate, Burst: benchBucket}), shopifytest.WithLatency(benchLatency))
		c := srv.Client()
		changes := benchChanges(srv, benchCustomers)
		ctx := context.Background()
		b.StartTimer()
		start := time.Now()
		res, err := c.Tags.Apply(ctx, changes, nil)
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if !r.Applied {
				b.Fatalf("change %s: %v", r.ID, r.Err)
			}
		}
		st, cost := srv.Stats(), srv.Cost()
		srv.Close()

		floor := time.Duration(float64(max(cost-benchBucket, 0)) / benchRate * float64(time.Second))
		b.ReportMetric(floor.Seconds()/elapsed.Seconds(), "efficiency")
		b.ReportMetric(float64(st.Throttled)/float64(st.Requests), "throttled-share")
		b.ReportMetric(float64(st.Requests)/benchCustomers, "requests/customer")
		b.ReportMetric(elapsed.Seconds(), "s/run")

		// The baseline: one mutation per request, one after the other.
		loopSrv := shopifytest.NewServer(shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: benchRate, Burst: benchBucket}), shopifytest.WithLatency(benchLatency))
		lc := loopSrv.Client()
		loop := benchChanges(loopSrv, benchLoopN)
		start = time.Now()
		for _, ch := range loop {
			if len(ch.Remove) > 0 {
				if _, err := lc.Tags.Remove(ctx, ch.ID, ch.Remove); err != nil {
					b.Fatal(err)
				}
			}
			if len(ch.Add) > 0 {
				if _, err := lc.Tags.Add(ctx, ch.ID, ch.Add); err != nil {
					b.Fatal(err)
				}
			}
		}
		loopTime := time.Since(start) * benchCustomers / benchLoopN
		loopSrv.Close()
		b.ReportMetric(loopTime.Seconds()/elapsed.Seconds(), "speedup")
		b.StartTimer()
	}
}

func ExampleTagsService_Apply() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	a := srv.AddCustomer(shopifytest.Customer{Tags: []string{"ecp-old"}})
	bb := srv.AddCustomer(shopifytest.Customer{})
	aID, bbID := shopify.CustomerGID(a), shopify.CustomerGID(bb)
	c := srv.Client()

	res, err := c.Tags.Apply(context.Background(), []tagging.Change{
		{ID: aID, Add: []string{"ecp-first"}, Remove: []string{"ecp-old"}},
		{ID: bbID, Add: []string{"ecp-first"}},
		{ID: bbID, Add: []string{"bad,tag"}},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		fmt.Println(r.Applied, r.Err)
	}
	fmt.Println(srv.CustomerTags(a), srv.CustomerTags(bb))
	// Output:
	// true <nil>
	// true <nil>
	// false invalid Add[0] "bad,tag": contains a comma (Shopify splits tags on commas)
	// [ecp-first] [ecp-first]
}

var _ = shopify.ErrRateLimited

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

// Benchmark settings. Every run names its limits: a real plan's
// (shopifytest.PlanStandard, PlanPlus) or a fake scaled by a stated factor.
const (
	benchLatency = 100 * time.Millisecond // a realistic round trip
	benchLoopN   = 20                     // changes timed in the one-mutation-per-request loop
)

// benchCase is one configuration of BenchmarkApplyChanges.
type benchCase struct {
	name      string
	limit     shopcrm.RateLimit
	customers int
}

// benchCases: the two real plans sized so that a run lasts about ten
// seconds past the bucket, and the fake scaled far beyond any plan (10,000
// points/s: 100x Standard's restore rate, 10x Plus's, with half Standard's
// bucket) for a large job.
var benchCases = []benchCase{
	{"standard", shopifytest.PlanStandard, 300},
	{"plus", shopifytest.PlanPlus, 3000},
	{"scaled-10x-plus-rate", shopcrm.RateLimit{PerSecond: 10000, Burst: 1000}, 10000},
}

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

// BenchmarkApplyChanges applies one tag change per customer with Apply
// against the fake at each case's limits with 100ms latency (client given
// the fake's rate) and reports:
//
//   - efficiency: the least time the bucket allows for the cost actually
//     charged ((cost - bucket) / restoreRate) divided by the time taken; the
//     fake enforces its limit, so it cannot exceed 1 (0 when the job fits
//     in the bucket);
//   - throttled-share: THROTTLED answers per request;
//   - requests/customer;
//   - speedup: the time a sequential one-mutation-per-request loop takes at
//     the same limits over the time taken. The loop is timed on a few
//     changes and extrapolated, but never below what the bucket allows
//     for its cost: at Standard's 100 points/s one mutation per round trip
//     is already the restore rate, and both take the same time.
func BenchmarkApplyChanges(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				benchApply(b, bc)
			}
		})
	}
}

func benchApply(b *testing.B, bc benchCase) {
	b.StopTimer()
	srv := shopifytest.NewServer(shopifytest.WithRateLimit(bc.limit), shopifytest.WithLatency(benchLatency))
	c := srv.Client()
	changes := benchChanges(srv, bc.customers)
	ctx := context.Background()
	b.StartTimer()
	start := time.Now()
	res, err := c.Tags.Apply(ctx, changes, nil)
	elapsed := time.Since(start)
	b.StopTimer()
	mustApplied(b, res, err)
	st, cost := srv.Stats(), srv.Cost()
	srv.Close()

	floor := time.Duration(float64(max(cost-bc.limit.Burst, 0)) / bc.limit.PerSecond * float64(time.Second))
	b.ReportMetric(floor.Seconds()/elapsed.Seconds(), "efficiency")
	b.ReportMetric(float64(st.Throttled)/float64(st.Requests), "throttled-share")
	b.ReportMetric(float64(st.Requests)/float64(bc.customers), "requests/customer")
	b.ReportMetric(elapsed.Seconds(), "s/run")

	// The baseline: one mutation per request, one after the other.
	loopSrv := shopifytest.NewServer(shopifytest.WithRateLimit(bc.limit), shopifytest.WithLatency(benchLatency))
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
	loopTime := time.Since(start) * time.Duration(bc.customers) / benchLoopN
	loopCost := loopSrv.Cost() * bc.customers / benchLoopN
	loopSrv.Close()
	loopTime = max(loopTime, time.Duration(float64(max(loopCost-bc.limit.Burst, 0))/bc.limit.PerSecond*float64(time.Second)))
	b.ReportMetric(loopTime.Seconds()/elapsed.Seconds(), "speedup")
	b.StartTimer()
}

// BenchmarkApplyFirstGuess runs a small job (300 customers, one tag each)
// on a fake at Shopify Plus's limits (20000 points, 1000/s) twice: with
// the client's default first guess (Standard, 100/s) and with the right
// rate given, and reports guessed/given. Without latency it shows the
// queued waits being retuned by the first answer; with 100ms the guess
// costs one round trip more (the chunks beyond the guessed bucket wait
// for the first answer), which on a job this short is most of the time.
func BenchmarkApplyFirstGuess(b *testing.B) {
	for _, lat := range []time.Duration{0, benchLatency} {
		b.Run("latency="+lat.String(), func(b *testing.B) {
			for range b.N {
				ratio, guessed, given := guessRatio(b, lat, 1)
				b.ReportMetric(ratio, "guessed/given")
				b.ReportMetric(guessed.Seconds(), "s-guessed")
				b.ReportMetric(given.Seconds(), "s-given")
			}
		})
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

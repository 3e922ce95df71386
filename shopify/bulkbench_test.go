package shopify_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// bulkBenchRate is the fake's cost bucket for BenchmarkTagChangesBulkVsBatches:
// 100x Standard's restore rate (10,000 points/s) with Standard's bucket, so
// that the batches' share of the run lasts seconds.
var bulkBenchRate = shopcrm.RateLimit{PerSecond: 10000, Burst: 2000}

// BenchmarkTagChangesBulkVsBatches applies one tag change per customer
// (a segment sync: four in five add a tag, one in five remove one) to
// 1,000,000 customers with -bulk.full, 100,000 by default, through bulk
// mutations (ApplyBulk), and compares with aliased batches (Apply) at the
// fake's limits scaled 100x (bulkBenchRate) with 100 ms latency. The
// batches are timed on 5,000 changes and extrapolated to the same count
// (their rate is steady: the cost bucket paces them). It reports:
//
//   - bulk-requests and batch-requests: API requests for the job
//     (batches: extrapolated);
//   - batch-efficiency: the least time the bucket allows for the batches'
//     cost divided by the time they took;
//   - bulk/limit: the bulk run's time as a multiple of the least time the
//     limits allow the same changes in batches (below 1: faster than any
//     batching can be);
//   - speedup: batch time over bulk time.
func BenchmarkTagChangesBulkVsBatches(b *testing.B) {
	n := 100000
	if *bulkFull {
		n = 1000000
	}
	const sample = 5000
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		srv := shopifytest.NewServer(shopifytest.WithRateLimit(bulkBenchRate), shopifytest.WithLatency(benchLatency))
		changes := benchChanges(srv, n)
		c := srv.Client()
		b.StartTimer()
		start := time.Now()
		res, err := c.Tags.ApplyBulk(ctx, changes, &shopify.BulkApplyOptions{Wait: shopify.WaitOptions{Interval: 50 * time.Millisecond}})
		bulkTime := time.Since(start)
		b.StopTimer()
		mustApplied(b, res, err)
		bulkReqs := srv.Stats().Requests
		srv.Close()

		bsrv := shopifytest.NewServer(shopifytest.WithRateLimit(bulkBenchRate), shopifytest.WithLatency(benchLatency))
		bchanges := benchChanges(bsrv, sample)
		bc := bsrv.Client()
		start = time.Now()
		if _, err := bc.Tags.Apply(ctx, bchanges, nil); err != nil {
			b.Fatal(err)
		}
		batchSample := time.Since(start)
		st, cost := bsrv.Stats(), bsrv.Cost()
		bsrv.Close()
		scale := float64(n) / sample
		batchTime := time.Duration(float64(batchSample) * scale)
		floor := time.Duration((float64(cost)*scale - float64(bulkBenchRate.Burst)) / bulkBenchRate.PerSecond * float64(time.Second))
		sampleFloor := float64(cost-bulkBenchRate.Burst) / bulkBenchRate.PerSecond

		b.ReportMetric(float64(bulkReqs), "bulk-requests")
		b.ReportMetric(float64(st.Requests)*scale, "batch-requests")
		b.ReportMetric(sampleFloor/batchSample.Seconds(), "batch-efficiency")
		b.ReportMetric(bulkTime.Seconds()/floor.Seconds(), "bulk/limit")
		b.ReportMetric(batchTime.Seconds()/bulkTime.Seconds(), "speedup")
		b.ReportMetric(bulkTime.Seconds(), "bulk-s")
		b.ReportMetric(float64(n), "changes")
		b.StartTimer()
	}
}

// mustApplied stops the benchmark unless every change was applied.
func mustApplied(b *testing.B, res []shopify.ChangeResult, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range res {
		if !r.Applied {
			b.Fatalf("change %s: %v", r.ID, r.Err)
		}
	}
}

package shopify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

// bulkChaosRun applies a fixed set of tag changes (several to the same
// customers, in an order that matters) with ApplyBulk, reruns the changes
// not Applied until none is left, and returns every customer's final tags
// and the number of runs. No change reported Applied may be sent again.
func bulkChaosRun(t *testing.T, opts ...shopifytest.Option) (map[string][]string, int) {
	t.Helper()
	srv, c := setup(t, opts...)
	var changes []tagging.Change
	for i := range 40 {
		id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{ID: int64(7000 + i), Tags: []string{"line", "old"}}))
		changes = append(changes, tagging.Change{ID: id, Add: []string{"x", fmt.Sprintf("rank:%d", i%4)}, Remove: []string{"old"}})
		if i%3 == 0 {
			changes = append(changes, tagging.Change{ID: id, Remove: []string{"x"}})
		}
		if i%6 == 0 {
			changes = append(changes, tagging.Change{ID: id, Add: []string{"x", "again"}})
		}
	}
	pending := changes
	runs := 0
	for len(pending) > 0 {
		runs++
		if runs > 40 {
			t.Fatalf("%d changes still not applied after 40 runs", len(pending))
		}
		res, err := c.Tags.ApplyBulk(context.Background(), pending, &shopify.BulkApplyOptions{Wait: fastWait, WaitInProgress: true, MaxFileSize: 1000})
		var next []tagging.Change
		if testing.Verbose() && err != nil {
			t.Logf("run %d: %v", runs, err)
		}
		for i, r := range res {
			switch r.Outcome {
			case shopcrm.Applied:
			case shopcrm.Failed, shopcrm.Unknown, shopcrm.NotSent:
				next = append(next, pending[i])
			default:
				t.Fatalf("change %d: outcome %v", i, r.Outcome)
			}
		}
		pending = next
	}
	// Let operations whose start answer was lost finish before reading.
	time.Sleep(3 * shopifytest.DefaultBulkDuration)
	final := map[string][]string{}
	for _, cu := range srv.Customers() {
		final[cu.GID()] = srv.CustomerTags(cu.ID)
	}
	return final, runs
}

// TestApplyBulkChaos compares the end state of bulk tag changes under
// seeded faults on every API request (lost responses included) with a
// fault-free run: rerunning what was not reported Applied converges to the
// same tags, in the same per-customer order.
func TestApplyBulkChaos(t *testing.T) {
	want, _ := bulkChaosRun(t)
	for _, seed := range []uint64{1, 2, 3} {
		got, runs := bulkChaosRun(t, shopifytest.WithChaos(seed, 0.15, shopcrmtest.FaultStatus, shopcrmtest.FaultDrop,
			shopcrmtest.FaultLostResponse, shopcrmtest.FaultMalformed, shopcrmtest.FaultRateLimit))
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("seed %d: final tags (-fault-free +faulty):\n%s", seed, d)
		}
		t.Logf("seed %d: %d runs", seed, runs)
	}
}

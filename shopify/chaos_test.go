package shopify_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

// chaosRun seeds 300 customers, applies a fixed set of tag changes in bulk
// and one by one, and returns every customer's final tags.
func chaosRun(t *testing.T, copts []shopify.Option, opts ...shopifytest.Option) (map[string][]string, shopifytest.Stats) {
	t.Helper()
	srv, _ := setup(t, opts...)
	c := srv.Client(append([]shopify.Option{shopify.WithSleep(fastSleep)}, copts...)...)
	ctx := context.Background()
	var ids []string
	var changes []tagging.Change
	for i := range 300 {
		id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{ID: int64(5000 + i), Tags: []string{"line", fmt.Sprintf("old-%d", i%3)}}))
		ids = append(ids, id)
		ch := tagging.Change{ID: id, Add: []string{"ecp-first", fmt.Sprintf("rank:%d", i%4)}}
		if i%3 == 0 {
			ch.Remove = []string{"old-0"}
		}
		changes = append(changes, ch)
	}
	res, err := c.Tags.Apply(ctx, changes, &shopify.ApplyOptions{MaxMutationsPerRequest: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Applied {
			t.Fatalf("change %s: %v", r.ID, r.Err)
		}
	}
	for i, id := range ids[:40] {
		if _, err := c.Tags.Add(ctx, id, []string{"single"}); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
		if _, err := c.Tags.Remove(ctx, id, []string{"line"}); err != nil {
			t.Fatalf("remove %d: %v", i, err)
		}
	}
	final := map[string][]string{}
	for cu, err := range c.Customers.List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		final[cu.ID] = tagsOf(srv, cu.ID)
	}
	return final, srv.Stats()
}

// TestChaos runs through every kind of fault the fake injects, answers
// slower than the client's timeout included. The timeout is short so
// held answers end fast, and long enough that a loaded machine (the suite
// runs packages side by side under -race) does not time out the rest.
func TestChaos(t *testing.T) {
	want, _ := chaosRun(t, nil)
	got, st := chaosRun(t, []shopify.Option{shopify.WithHTTPClient(&http.Client{Timeout: 500 * time.Millisecond})},
		shopifytest.WithChaos(42, 0.25, shopcrmtest.FaultStatus, shopcrmtest.FaultRateLimit, shopcrmtest.FaultDrop,
			shopcrmtest.FaultLostResponse, shopcrmtest.FaultTimeout, shopcrmtest.FaultMalformed))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("final tags with faults (-fault-free +faulty):\n%s", diff)
	}
	if st.Faults == 0 {
		t.Error("no faults injected")
	}
	t.Logf("requests %d, faults %d", st.Requests, st.Faults)
}

// TestApplyKeepsOrderPerResource adds then removes a tag on the same
// customers in one Apply, under faults and with many requests in flight:
// the end state must be the input applied in order, whatever order the
// requests and their retries ran in.
func TestApplyKeepsOrderPerResource(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		srv, c := setup(t, shopifytest.WithChaos(seed, 0.2, shopcrmtest.FaultStatus, shopcrmtest.FaultDrop, shopcrmtest.FaultLostResponse))
		var ids []string
		var changes []tagging.Change
		for range 200 {
			ids = append(ids, shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{})))
		}
		for _, id := range ids {
			changes = append(changes, tagging.Change{ID: id, Add: []string{"promo"}})
		}
		for _, id := range ids {
			changes = append(changes, tagging.Change{ID: id, Remove: []string{"promo"}})
		}
		res, err := c.Tags.Apply(context.Background(), changes, &shopify.ApplyOptions{MaxMutationsPerRequest: 7, MaxInFlight: 8})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if !r.Applied {
				t.Fatalf("seed %d: change %s: %v %v", seed, r.ID, r.Outcome, r.Err)
			}
		}
		for _, id := range ids {
			if got := tagsOf(srv, id); len(got) != 0 {
				t.Fatalf("seed %d: %s still has %v", seed, id, got)
			}
		}
	}
}

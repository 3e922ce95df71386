package shopify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

const bulkCustomers = `{ customers { edges { node { id } } } }`

// unknownOutcomes are the faults after which a write's client cannot tell
// whether it ran, with how many sends it then takes: one when the fault
// let the fake act (the write is found), two when it did not.
var unknownOutcomes = []struct {
	fault shopcrmtest.Fault
	sends int
}{
	{shopcrmtest.Fault{Kind: shopcrmtest.FaultLostResponse}, 1},
	{shopcrmtest.Fault{Kind: shopcrmtest.FaultMalformed}, 1},
	{shopcrmtest.Fault{Kind: shopcrmtest.FaultDrop}, 2},
	{shopcrmtest.Fault{Kind: shopcrmtest.FaultStatus, Status: 500}, 2},
	{shopcrmtest.Fault{Kind: shopcrmtest.FaultStatus, Status: 503}, 2},
	{shopcrmtest.Fault{Kind: shopcrmtest.FaultTimeout}, 2},
}

// shortAttempts is an HTTP client whose attempts give up soon, so that a
// FaultTimeout costs little.
func shortAttempts() shopify.Option {
	return shopify.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond})
}

// RunQuery after an answer that leaves its outcome unknown adopts the
// operation it started, or starts one when none started: one operation
// either way, never refused as in progress.
func TestRunQueryOutcomeUnknown(t *testing.T) {
	for _, version := range []string{"2025-01", shopify.DefaultAPIVersion} {
		for _, tc := range unknownOutcomes {
			t.Run(version+"/"+tc.fault.String(), func(t *testing.T) {
				srv, _ := setup(t, shopifytest.WithBulkDuration(time.Minute))
				c := srv.Client(shopify.WithSleep(fastSleep), shopify.WithAPIVersion(version), shortAttempts())
				ctx := context.Background()
				// An earlier run of the same query is not this call's.
				old, _, err := c.Bulk.RunQuery(ctx, bulkCustomers)
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := c.Bulk.Cancel(ctx, old.ID); err != nil {
					t.Fatal(err)
				}
				// Cancelled, so that 2025-01 lets the next one start.
				if done, err := c.Bulk.Wait(ctx, old.ID, &shopify.WaitOptions{Interval: 5 * time.Millisecond}); done == nil || done.Status != shopify.BulkCanceled {
					t.Fatalf("cancelled operation: %+v, %v", done, err)
				}
				f := tc.fault
				f.Op = "bulkOperationRunQuery"
				srv.AddFaults(f)
				op, _, err := c.Bulk.RunQuery(ctx, bulkCustomers)
				if err != nil {
					t.Fatal(err)
				}
				ops := srv.BulkOperations()
				if len(ops) != 2 || op.ID != ops[1].GID() || op.ID == old.ID || op.Query != bulkCustomers {
					t.Fatalf("got %s; the fake ran %+v", op.ID, ops)
				}
				if n := srv.Stats().Ops["bulkOperationRunQuery"].Requests; n != 1+tc.sends {
					t.Errorf("starts = %d, want %d", n, 1+tc.sends)
				}
			})
		}
	}
}

// A start whose outcome stays unknown fails after the policy's retries
// with the last error, and starts nothing.
func TestRunQueryGivesUp(t *testing.T) {
	srv, _ := setup(t, shopifytest.WithFaults(shopifytest.Fault{Op: "bulkOperationRunQuery", Kind: shopcrmtest.FaultStatus, Status: 502, Times: -1}))
	c := srv.Client(shopify.WithSleep(fastSleep), shopify.WithRetryPolicy(shopify.RetryPolicy{MaxRetries: 2, MaxWait: time.Second}))
	_, _, err := c.Bulk.RunQuery(context.Background(), bulkCustomers)
	var ae *shopify.APIError
	if !errors.As(err, &ae) || ae.Status != 502 {
		t.Fatalf("err = %v", err)
	}
	if n := srv.Stats().Ops["bulkOperationRunQuery"].Requests; n != 3 {
		t.Errorf("starts = %d, want 3", n)
	}
	if ops := srv.BulkOperations(); len(ops) != 0 {
		t.Errorf("operations = %+v", ops)
	}
}

// A start that acted although its answer was a 503, and that the first
// look-up missed (Shopify still processing it), is met as in progress by
// the second start; RunQuery then looks again and adopts it.
func TestRunQueryInProgressIsOurs(t *testing.T) {
	srv, _ := setup(t, shopifytest.WithBulkDuration(time.Minute))
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	var starts, lookups atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		switch {
		case bytes.Contains(body, []byte("bulkOperationRunQuery(")) && starts.Add(1) == 1:
			rp.ServeHTTP(httptest.NewRecorder(), r) // acted, then a gateway error
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case bytes.Contains(body, []byte("currentBulkOperation(")) && lookups.Add(1) <= 2:
			// Before the start, and the first look after it: nothing yet.
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"data":{"currentBulkOperation":null}}`))
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	c := srv.Client(shopify.WithSleep(fastSleep), shopify.WithAPIVersion("2025-01"), shopify.WithBaseURL(proxy.URL))
	op, _, err := c.Bulk.RunQuery(context.Background(), bulkCustomers)
	if err != nil {
		t.Fatal(err)
	}
	ops := srv.BulkOperations()
	if len(ops) != 1 || op.ID != ops[0].GID() {
		t.Fatalf("got %+v; the fake ran %+v", op, ops)
	}
	if n := starts.Load(); n != 2 {
		t.Errorf("starts = %d, want 2 (the second refused as in progress)", n)
	}
}

// Segments.Create after an answer that leaves its outcome unknown finds
// the segment it made by name, or creates it when it was not made.
func TestCreateSegmentOutcomeUnknown(t *testing.T) {
	q := mustQuery("vip")
	for _, tc := range unknownOutcomes {
		t.Run(tc.fault.String(), func(t *testing.T) {
			f := tc.fault
			f.Op = "segmentCreate"
			srv, _ := setup(t, shopifytest.WithFaults(f))
			c := srv.Client(shopify.WithSleep(fastSleep), shortAttempts())
			seg, _, err := c.Segments.Create(context.Background(), "VIP", q)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for s, err := range c.Segments.List(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, s.Name)
				if s.Name == "VIP" && (s.ID != seg.ID || s.Query != q) {
					t.Errorf("stored %+v, returned %+v", s, seg)
				}
			}
			if len(names) != 1 {
				t.Errorf("segments = %v, want [VIP]", names)
			}
			if n := srv.Stats().Ops["segmentCreate"].Requests; n != tc.sends {
				t.Errorf("creates = %d, want %d", n, tc.sends)
			}
		})
	}
}

// A segment of the same name but another query is not taken for the one
// a create with an unknown outcome made: the create is sent again and
// refused as a duplicate name, so no second segment exists.
func TestCreateSegmentNameTakenByAnother(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	if _, _, err := c.Segments.Create(ctx, "VIP", mustQuery("vip")); err != nil {
		t.Fatal(err)
	}
	srv.AddFaults(shopifytest.Fault{Op: "segmentCreate", Kind: shopcrmtest.FaultDrop})
	_, _, err := c.Segments.Create(ctx, "VIP", mustQuery("gold"))
	var ue *shopify.UserErrors
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *UserErrors", err)
	}
	if n := srv.Stats().Ops["segmentCreate"].Requests; n != 3 {
		t.Errorf("creates = %d, want 3", n)
	}
}

// Under seeded faults of every kind on every request (the starts, the
// look-ups, the waits), each RunQuery call starts at most one operation,
// and a call that succeeds started exactly one: the one it returns. The
// calls are made one after the other, each waiting for its operation, so
// the operations a call started are those that appeared during it.
func TestRunQueryChaos(t *testing.T) {
	for _, version := range []string{"2025-01", shopify.DefaultAPIVersion} {
		t.Run(version, func(t *testing.T) {
			srv, _ := setup(t, shopifytest.WithChaosFaults(shopcrmtest.Chaos{Seed: 11, Rate: 0.4, Faults: shopcrmtest.EveryFault("0.01")}))
			c := srv.Client(shopify.WithSleep(fastSleep), shopify.WithAPIVersion(version),
				shopify.WithHTTPClient(&http.Client{Timeout: 150 * time.Millisecond}))
			ctx := context.Background()
			ok := 0
			for i := range 20 {
				before := len(srv.BulkOperations())
				op, _, err := c.Bulk.RunQuery(ctx, bulkCustomers)
				ops := srv.BulkOperations()
				started := ops[before:]
				switch {
				case len(started) > 1:
					t.Fatalf("call %d started %d operations", i, len(started))
				case err == nil && (len(started) != 1 || op.ID != started[0].GID()):
					t.Fatalf("call %d returned %v; started %+v", i, op, started)
				case err != nil && len(started) == 1:
					t.Logf("call %d: outcome left unknown (%v); its operation runs", i, err)
				}
				if err == nil {
					ok++
				}
				// The next call starts once this one's operation is done
				// (one at a time in 2025-01).
				for _, o := range started {
					for {
						done, err := c.Bulk.Wait(ctx, o.GID(), &shopify.WaitOptions{Interval: 5 * time.Millisecond})
						if err == nil || done != nil {
							break
						}
					}
				}
			}
			st := srv.Stats().Ops["bulkOperationRunQuery"]
			t.Logf("%d of 20 calls succeeded; %d starts sent, %d struck by a fault", ok, st.Requests, st.Faults)
			if ok < 18 {
				t.Errorf("only %d of 20 calls succeeded under 40%% faults", ok)
			}
		})
	}
}

package klaviyo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// opRequests is how many requests the fake counted for op.
func opRequests(srv *klaviyotest.Server, op klaviyo.Endpoint) int {
	return srv.Stats().Ops[string(op)].Requests
}

// A read whose answer arrives cut off is safe to repeat: it is retried
// and returns what the next answer holds.
func TestReadRetriesMalformedAnswer(t *testing.T) {
	srv := klaviyotest.NewServer(klaviyotest.WithFaults(
		klaviyotest.Fault{Op: string(klaviyo.EndpointGetLists), Kind: shopcrmtest.FaultMalformed, Times: 2},
		klaviyotest.Fault{Op: string(klaviyo.EndpointGetList), Kind: shopcrmtest.FaultMalformed}))
	t.Cleanup(srv.Close)
	id := srv.AddList("VIP", klaviyo.SingleOptIn)
	c := srv.Client(klaviyo.WithSleep(noSleep))
	ctx := context.Background()

	var got []string
	for l, err := range c.Lists.All(ctx, klaviyo.Filter{klaviyo.Equals("name", "VIP")}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l.ID)
	}
	if len(got) != 1 || got[0] != id {
		t.Fatalf("lists = %v, want [%s]", got, id)
	}
	l, _, err := c.Lists.Get(ctx, id)
	if err != nil || l.Name != "VIP" {
		t.Fatalf("Get = %+v, %v", l, err)
	}
	if n := opRequests(srv, klaviyo.EndpointGetLists); n != 3 {
		t.Errorf("get_lists requests = %d, want 3 (two cut off, one whole)", n)
	}
	if n := opRequests(srv, klaviyo.EndpointGetList); n != 2 {
		t.Errorf("get_list requests = %d, want 2", n)
	}
}

// A connection dropped in the middle of the body (fewer bytes than the
// Content-Length promised) is retried for a read too.
func TestReadRetriesBodyCutMidway(t *testing.T) {
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := `{"data":{"type":"profile","id":"P1","attributes":{"email":"a@example.com"}}}`
		w.Header().Set("Content-Type", "application/vnd.api+json")
		if n.Add(1) == 1 {
			w.Header().Set("Content-Length", "1000")
			_, _ = w.Write([]byte(body[:20])) // the server closes the connection: 980 bytes short
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(hs.Close)
	c, err := klaviyo.New(klaviyo.PrivateKey("pk_test"), klaviyo.WithBaseURL(hs.URL), klaviyo.WithSleep(noSleep))
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := c.Profiles.Get(context.Background(), "P1", false)
	if err != nil || p.Email != "a@example.com" {
		t.Fatalf("Get = %+v, %v", p, err)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("requests = %d, want 2", got)
	}
}

// The retries of a damaged answer are bounded by the policy, and the
// caller gets the malformed-response error.
func TestMalformedAnswerRetriesBounded(t *testing.T) {
	srv := klaviyotest.NewServer(klaviyotest.WithFaults(
		klaviyotest.Fault{Op: string(klaviyo.EndpointGetList), Kind: shopcrmtest.FaultMalformed, Times: -1}))
	t.Cleanup(srv.Close)
	id := srv.AddList("VIP", "")
	c := srv.Client(klaviyo.WithSleep(noSleep), klaviyo.WithRetryPolicy(klaviyo.RetryPolicy{MaxRetries: 2, MaxWait: time.Second}))
	_, _, err := c.Lists.Get(context.Background(), id)
	var re *shopcrm.ResponseError
	if !errors.Is(err, shopcrm.ErrMalformedResponse) || !errors.As(err, &re) {
		t.Fatalf("err = %v (%T), want a *shopcrm.ResponseError", err, err)
	}
	if n := opRequests(srv, klaviyo.EndpointGetList); n != 3 {
		t.Errorf("get_list requests = %d, want 3", n)
	}
}

// A write whose answer is cut off was applied; it is repeated only when
// repeating it is harmless: an upsert is, a create is not.
func TestWriteWithMalformedAnswer(t *testing.T) {
	srv := klaviyotest.NewServer(klaviyotest.WithFaults(
		klaviyotest.Fault{Op: string(klaviyo.EndpointCreateProfile), Kind: shopcrmtest.FaultMalformed},
		klaviyotest.Fault{Op: string(klaviyo.EndpointUpsertProfile), Kind: shopcrmtest.FaultMalformed}))
	t.Cleanup(srv.Close)
	c := srv.Client(klaviyo.WithSleep(noSleep))
	ctx := context.Background()

	_, _, err := c.Profiles.Create(ctx, klaviyo.ProfileInput{Email: "new@example.com"})
	if !errors.Is(err, shopcrm.ErrMalformedResponse) {
		t.Fatalf("Create: err = %v, want a malformed response", err)
	}
	if n := opRequests(srv, klaviyo.EndpointCreateProfile); n != 1 {
		t.Errorf("create_profile requests = %d, want 1: a create is never resent", n)
	}
	p, _, _, err := c.Profiles.Upsert(ctx, klaviyo.ProfileInput{Email: "up@example.com"})
	if err != nil || p.Email != "up@example.com" {
		t.Fatalf("Upsert = %+v, %v", p, err)
	}
	if n := opRequests(srv, klaviyo.EndpointUpsertProfile); n != 2 {
		t.Errorf("create_or_update_profile requests = %d, want 2", n)
	}
	if n := len(srv.Profiles()); n != 2 {
		t.Errorf("profiles = %d, want 2", n)
	}
}

// Lists.Create after an answer that leaves its outcome unknown finds the
// list it made, or creates it when it was not made: one list either way.
func TestCreateListOutcomeUnknown(t *testing.T) {
	for _, tc := range []struct {
		fault shopcrmtest.Fault
		sends int // create requests: one when the first acted
	}{
		{shopcrmtest.Fault{Kind: shopcrmtest.FaultLostResponse}, 1},
		{shopcrmtest.Fault{Kind: shopcrmtest.FaultMalformed}, 1},
		{shopcrmtest.Fault{Kind: shopcrmtest.FaultDrop}, 2},
		{shopcrmtest.Fault{Kind: shopcrmtest.FaultStatus, Status: 502}, 2},
		{shopcrmtest.Fault{Kind: shopcrmtest.FaultTimeout}, 2},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			f := tc.fault
			f.Op = string(klaviyo.EndpointCreateList)
			srv := klaviyotest.NewServer(klaviyotest.WithFaults(f))
			t.Cleanup(srv.Close)
			// A list of the same name made earlier is not the one created.
			old := srv.AddList("Buyers", "")
			c := srv.Client(klaviyo.WithSleep(noSleep), klaviyo.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
			l, _, err := c.Lists.Create(context.Background(), "Buyers", klaviyo.SingleOptIn)
			if err != nil {
				t.Fatal(err)
			}
			ids := srv.Lists()["Buyers"]
			if len(ids) != 2 || l.ID == old || (l.ID != ids[0] && l.ID != ids[1]) || l.Name != "Buyers" {
				t.Fatalf("created %+v; lists named Buyers: %v (the older %s)", l, ids, old)
			}
			if n := opRequests(srv, klaviyo.EndpointCreateList); n != tc.sends {
				t.Errorf("create_list requests = %d, want %d", n, tc.sends)
			}
		})
	}
}

// A create whose outcome stays unknown fails after the policy's retries
// with the last error, and makes no list.
func TestCreateListGivesUp(t *testing.T) {
	srv := klaviyotest.NewServer(klaviyotest.WithFaults(
		klaviyotest.Fault{Op: string(klaviyo.EndpointCreateList), Kind: shopcrmtest.FaultDrop, Times: -1}))
	t.Cleanup(srv.Close)
	c := srv.Client(klaviyo.WithSleep(noSleep), klaviyo.WithRetryPolicy(klaviyo.RetryPolicy{MaxRetries: 2, MaxWait: time.Second}))
	_, _, err := c.Lists.Create(context.Background(), "Buyers", "")
	if err == nil {
		t.Fatal("Create succeeded with every request dropped")
	}
	if n := opRequests(srv, klaviyo.EndpointCreateList); n != 3 {
		t.Errorf("create_list requests = %d, want 3", n)
	}
	if ids := srv.Lists()["Buyers"]; len(ids) != 0 {
		t.Errorf("lists = %v, want none", ids)
	}
}

// Under seeded faults of every kind on every request, a caller that looks
// a list up by name and creates it when missing, rerunning on error as the
// pipeline does, ends with one list per name: the fault-free end state.
func TestCreateListChaos(t *testing.T) {
	srv := klaviyotest.NewServer(klaviyotest.WithChaosFaults(shopcrmtest.Chaos{Seed: 5, Rate: 0.35, Faults: shopcrmtest.EveryFault("0.01")}))
	t.Cleanup(srv.Close)
	c := srv.Client(klaviyo.WithSleep(noSleep), klaviyo.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
	ctx := context.Background()
	ensure := func(name string) error {
		for l, err := range c.Lists.All(ctx, klaviyo.Filter{klaviyo.Equals("name", name)}) {
			if err != nil {
				return err
			}
			if l.Name == name {
				return nil
			}
		}
		_, _, err := c.Lists.Create(ctx, name, klaviyo.SingleOptIn)
		return err
	}
	want := map[string]int{}
	reruns := 0
	for i := range 20 {
		name := fmt.Sprintf("Segment %d", i)
		want[name] = 1
		for run := 1; ; run++ {
			err := ensure(name)
			if err == nil {
				break
			}
			if run == 10 {
				t.Fatalf("%s: %d runs, last error %v", name, run, err)
			}
			reruns++
		}
	}
	got := map[string]int{}
	for name, ids := range srv.Lists() {
		got[name] = len(ids)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("lists per name (-want +got):\n%s", d)
	}
	st := srv.Stats().Ops[string(klaviyo.EndpointCreateList)]
	t.Logf("%d reruns; %d creates sent, %d struck by a fault", reruns, st.Requests, st.Faults)
	// Each create in doubt is settled inside the call; a rerun needs a
	// look-up or a create failing past all of its retries.
	if reruns > 2 {
		t.Errorf("%d reruns for 20 lists", reruns)
	}
}

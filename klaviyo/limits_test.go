package klaviyo_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
)

// TestPacedUnderTheLimits sends 25 list adds (tier M: 10 a second) to a
// fake enforcing Klaviyo's limits over sliding windows: none is throttled,
// and the run takes the two seconds the burst window demands.
func TestPacedUnderTheLimits(t *testing.T) {
	t.Parallel()
	srv := klaviyotest.NewServer()
	defer srv.Close()
	c := srv.Client(klaviyo.WithRetryPolicy(fast))
	list := srv.AddList("L", "")
	var ids []string
	for i := range 25 {
		ids = append(ids, srv.AddProfile(klaviyo.ProfileInput{ExternalID: fmt.Sprint(i)}))
	}
	start := time.Now()
	for _, id := range ids {
		if _, err := c.Lists.AddProfiles(context.Background(), list, []string{id}); err != nil {
			t.Fatal(err)
		}
	}
	el := time.Since(start)
	st := srv.Stats().Ops[string(klaviyo.EndpointAddToList)]
	if st.Throttled != 0 || st.Requests != 25 {
		t.Errorf("%+v", st)
	}
	if el < 2*time.Second || el > 4*time.Second {
		t.Errorf("took %v, want about 2 s", el)
	}
	if got := c.Limit(klaviyo.EndpointAddToList); got != klaviyo.TierM {
		t.Errorf("limit %+v", got)
	}
}

// TestThrottledWaitsRetryAfter points a client that believes in tier M at
// a fake allowing 3 a second: the 429s carry Retry-After, or (as one
// recorded from Klaviyo) only the wait in the error's detail; the client
// waits at least that long instead of spending its retries on a window
// that has not reopened, and every request goes through in the end.
func TestThrottledWaitsRetryAfter(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]klaviyotest.Option{
		"header": nil,
		"detail": {klaviyotest.WithoutRetryAfter()},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := klaviyotest.NewServer(append(opts, klaviyotest.WithRateLimit(klaviyo.EndpointGetProfile, klaviyo.Limit{Burst: 3}))...)
			defer srv.Close()
			c := srv.Client(klaviyo.WithRetryPolicy(fast))
			id := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
			start := time.Now()
			for range 6 {
				if _, _, err := c.Profiles.Get(context.Background(), id, false); err != nil {
					t.Fatal(err)
				}
			}
			if st := srv.Stats().Ops[string(klaviyo.EndpointGetProfile)]; st.Throttled == 0 || st.Accepted != 6 {
				t.Errorf("%+v", st)
			}
			if el := time.Since(start); el < time.Second {
				t.Errorf("took %v: the wait of 1 s was not waited", el)
			}
		})
	}
}

// TestTunedFromRateLimitHeaders: the fake reports a lower steady limit in
// RateLimit-Limit than the client's default, and the client adopts it.
func TestTunedFromRateLimitHeaders(t *testing.T) {
	srv := klaviyotest.NewServer(klaviyotest.WithRateLimit(klaviyo.EndpointGetProfile, klaviyo.Limit{Burst: 75, Steady: 40}))
	defer srv.Close()
	c := srv.Client()
	id := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	_, r, err := c.Profiles.Get(context.Background(), id, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.RateLimit.Limit != 40 || c.Limit(klaviyo.EndpointGetProfile).Steady != 40 {
		t.Errorf("response %+v, client limit %+v", r.RateLimit, c.Limit(klaviyo.EndpointGetProfile))
	}
}

// wireTimes records when each request leaves the client, after its gate.
type wireTimes struct {
	mu   sync.Mutex
	at   []time.Time
	next http.RoundTripper
}

func (w *wireTimes) RoundTrip(r *http.Request) (*http.Response, error) {
	w.mu.Lock()
	w.at = append(w.at, time.Now())
	w.mu.Unlock()
	return w.next.RoundTrip(r)
}

// TestNoSecondHoldsMoreThanBurst sends 50 requests at once through the
// list-add gate set to 20 a second and checks when they left the client:
// request k (in the order they left) not before k/20 whole windows after
// the start. Times are taken after the gate, so a request the scheduler
// delays can only look later, never earlier: the bound holds however busy
// the machine.
func TestNoSecondHoldsMoreThanBurst(t *testing.T) {
	t.Parallel()
	srv := klaviyotest.NewServer(klaviyotest.WithoutRateLimits())
	defer srv.Close()
	wt := &wireTimes{next: http.DefaultTransport}
	c := srv.Client(klaviyo.WithHTTPClient(&http.Client{Transport: wt}),
		klaviyo.WithEndpointLimit(klaviyo.EndpointAddToList, klaviyo.Limit{Burst: 20, Steady: 1000}), klaviyo.WithMaxInFlight(50))
	list := srv.AddList("L", "")
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = srv.AddProfile(klaviyo.ProfileInput{ExternalID: fmt.Sprint(i)})
	}
	var wg sync.WaitGroup
	start := time.Now()
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Lists.AddProfiles(context.Background(), list, []string{id}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(wt.at, func(a, b time.Time) int { return a.Compare(b) })
	window := time.Second + klaviyo.BurstMargin // no 429 here: the margin stays at its start
	for k, at := range wt.at {
		if min := time.Duration(k/20) * window; at.Sub(start) < min {
			t.Fatalf("request %d left %v after the start, before %v: more than 20 in a window", k, at.Sub(start), min)
		}
	}
	if el := wt.at[len(wt.at)-1].Sub(start); el > 3*time.Second {
		t.Logf("50 requests at 20 a second took %v (a busy machine?)", el)
	}
}

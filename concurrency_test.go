package shopcrm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// workers is how many goroutines share one client in TestConcurrency.
const workers = 50

// crowdPolicy retries as a deployed client would, so that a request the
// fake refuses on a busy machine (see lateness) still lands.
var crowdPolicy = shopcrm.RetryPolicy{MaxRetries: 5, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, MaxWait: 2 * time.Second}

// crowdLatency is each fake's delay per request, so that the workers'
// requests overlap as they would against a real server.
const crowdLatency = 2 * time.Millisecond

// crowd is one platform's run of TestConcurrency: a fake whose limits are
// scaled down so that the run takes seconds, one client paced for them,
// and workers goroutines each making one write and one read through it.
type crowd struct {
	name string
	// run starts the fake and the client, runs work(i) on each worker's
	// behalf through fanOut, checks the end state and reports.
	run func(t *testing.T) crowdResult
}

// crowdResult is what a run did: calls made, requests the fake served and
// refused for its limits, the time taken and the least time its limits
// allow for that work.
type crowdResult struct {
	calls, requests, throttled int
	took, floor                time.Duration
	late                       time.Duration // the scheduler's worst delay meanwhile
}

// fanOut runs work for 0..n-1 on n goroutines started together and
// returns when all have ended, with each one's error and the worst
// lateness of a timer while they ran (see lateness).
func fanOut(n int, work func(ctx context.Context, i int) error) ([]error, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stop, late := lateness()
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = work(ctx, i)
		})
	}
	close(start)
	wg.Wait()
	stop()
	return errs, <-late
}

// lateness measures how late the scheduler runs a goroutine: it sleeps
// 5ms over and over until stop is called, then sends the worst delay past
// that. A request paced on time by the client reaches the fake that much
// later than the one after it, on a machine busy with other work; past
// the limits' tolerance for early arrivals (maxLate), a 429 says more
// about the machine than about the client.
func lateness() (stop func(), worst <-chan time.Duration) {
	done := make(chan struct{})
	out := make(chan time.Duration, 1)
	go func() {
		var w time.Duration
		for {
			t0 := time.Now()
			select {
			case <-done:
				out <- w
				return
			case <-time.After(5 * time.Millisecond):
			}
			w = max(w, time.Since(t0)-5*time.Millisecond)
		}
	}()
	return func() { close(done) }, out
}

// maxLate is the scheduling delay up to which a request the client paced
// right still reaches every fake within its limits: the least tolerance
// of early arrivals among them (Klaviyo's window margin, 30ms, less a
// few for the network).
const maxLate = 25 * time.Millisecond

// windowFloor is the least time k requests take when no span of per may
// hold more than n of them: request j (from 0) goes no earlier than
// j/n whole spans after the first.
func windowFloor(k, n int, per time.Duration) time.Duration {
	return time.Duration((k-1)/n) * per
}

var crowds = []crowd{
	{"shopify", func(t *testing.T) crowdResult {
		// A bucket of 400 points restoring 100 a second: Standard's
		// (2,000 and 100) scaled so that 50 tagsAdd (10 points each)
		// and 50 reads (4) overflow it for a few seconds. The client
		// keeps 5% of the bucket, 200ms of restore here, as a margin
		// for requests that arrive closer together than they left.
		limit := shopcrm.RateLimit{PerSecond: 100, Burst: 400}
		srv := shopifytest.NewServer(shopifytest.WithRateLimit(limit), shopifytest.WithLatency(crowdLatency))
		t.Cleanup(srv.Close)
		c := srv.Client(shopify.WithRetryPolicy(crowdPolicy))
		id := srv.AddCustomer(shopifytest.Customer{Email: "crowd@example.com"})
		gid := shopify.CustomerGID(id)
		start := time.Now()
		errs, late := fanOut(workers, func(ctx context.Context, i int) error {
			if _, err := c.Tags.Add(ctx, gid, []string{fmt.Sprintf("crowd-%02d", i)}); err != nil {
				return err
			}
			cu, _, err := c.Customers.Get(ctx, gid)
			if err == nil && !slices.Contains(cu.Tags, fmt.Sprintf("crowd-%02d", i)) {
				err = fmt.Errorf("the read after tagsAdd misses crowd-%02d: %v", i, cu.Tags)
			}
			return err
		})
		took := time.Since(start)
		noErrors(t, errs)
		wantOnce(t, srv.CustomerTags(id), workers, func(i int) string { return fmt.Sprintf("crowd-%02d", i) })
		st := srv.Stats()
		floor := time.Duration(float64(max(srv.Cost()-limit.Burst, 0)) / limit.PerSecond * float64(time.Second))
		return crowdResult{late: late, calls: 2 * workers, requests: st.Requests, throttled: st.Throttled, took: took, floor: floor}
	}},
	{"line", func(t *testing.T) crowdResult {
		// Push scaled from 2,000 a second to 20, profile reads to 40.
		// The fake's buckets let requests arrive up to a tenth of a
		// second early, as its defaults do (a burst of 200 at 2,000 a
		// second); the client sends them one at a time.
		push := shopcrm.RateLimit{PerSecond: 20, Burst: 1}
		other := shopcrm.RateLimit{PerSecond: 40, Burst: 1}
		srv := linetest.NewServer(linetest.WithLatency(crowdLatency),
			linetest.WithRateLimit(line.EndpointPush, shopcrm.RateLimit{PerSecond: push.PerSecond, Burst: 3}),
			linetest.WithRateLimit(line.EndpointOther, shopcrm.RateLimit{PerSecond: other.PerSecond, Burst: 5}))
		t.Cleanup(srv.Close)
		c := srv.Client(line.WithRetryPolicy(crowdPolicy),
			line.WithEndpointLimit(line.EndpointPush, push), line.WithEndpointLimit(line.EndpointOther, other))
		user := func(i int) string { return fmt.Sprintf("U%032x", i+1) }
		for i := range workers {
			srv.AddFollowers(user(i))
			srv.SetProfile(line.Profile{UserID: user(i), DisplayName: fmt.Sprintf("user %d", i)})
		}
		start := time.Now()
		errs, late := fanOut(workers, func(ctx context.Context, i int) error {
			if _, _, err := c.Messages.Push(ctx, &line.PushRequest{To: user(i), Messages: []line.Message{line.TextMessage{Text: fmt.Sprintf("hello %d", i)}}}); err != nil {
				return err
			}
			p, _, err := c.Users.Profile(ctx, user(i))
			if err == nil && p.DisplayName != fmt.Sprintf("user %d", i) {
				err = fmt.Errorf("profile of %s: %q", user(i), p.DisplayName)
			}
			return err
		})
		took := time.Since(start)
		noErrors(t, errs)
		for i := range workers {
			got := srv.Messages(user(i))
			var m struct{ Text string }
			if len(got) == 1 {
				_ = json.Unmarshal(got[0].Message, &m)
			}
			if len(got) != 1 || m.Text != fmt.Sprintf("hello %d", i) {
				t.Errorf("%s received %d messages (%q), want hello %d once", user(i), len(got), m.Text, i)
			}
		}
		st := srv.Stats()
		floor := max(time.Duration(float64(workers-1)/push.PerSecond*float64(time.Second)),
			time.Duration(float64(workers-1)/other.PerSecond*float64(time.Second)))
		return crowdResult{late: late, calls: 2 * workers, requests: st.Requests, throttled: st.Throttled, took: took, floor: floor}
	}},
	{"omnisend", func(t *testing.T) crowdResult {
		// Tag calls scaled from 60 a minute to 20 a second, the rest
		// from 400 a minute to 40 a second.
		tags, rest := omnisend.Limit{Requests: 20, Per: time.Second}, omnisend.Limit{Requests: 40, Per: time.Second}
		srv := omnisendtest.NewServer(omnisendtest.WithLatency(crowdLatency),
			omnisendtest.WithRateLimit(omnisend.EndpointContactTags, tags.Requests, tags.Per),
			omnisendtest.WithRateLimit(omnisend.EndpointDefault, rest.Requests, rest.Per))
		t.Cleanup(srv.Close)
		c := srv.Client(omnisend.WithRetryPolicy(crowdPolicy),
			omnisend.WithEndpointLimit(omnisend.EndpointContactTags, tags.Requests, tags.Per),
			omnisend.WithEndpointLimit(omnisend.EndpointDefault, rest.Requests, rest.Per))
		const email = "crowd@example.com"
		id := srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email(email, "")}})
		start := time.Now()
		errs, late := fanOut(workers, func(ctx context.Context, i int) error {
			if _, err := c.Tags.Add(ctx, omnisend.Selector{ContactIDs: []string{id}}, []string{fmt.Sprintf("crowd-%02d", i)}); err != nil {
				return err
			}
			got, _, err := c.Contacts.Get(ctx, id)
			if err == nil && got.ID != id {
				err = fmt.Errorf("read contact %s, want %s", got.ID, id)
			}
			return err
		})
		took := time.Since(start)
		noErrors(t, errs)
		// Omnisend tags asynchronously; the fake's delay is short.
		var have []string
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			ct, _ := srv.Contact(email)
			if have = ct.Tags; len(have) >= workers || time.Now().After(deadline) {
				break
			}
		}
		wantOnce(t, have, workers, func(i int) string { return fmt.Sprintf("crowd-%02d", i) })
		st := srv.Stats()
		floor := max(windowFloor(workers, tags.Requests, tags.Per), windowFloor(workers, rest.Requests, rest.Per))
		return crowdResult{late: late, calls: 2 * workers, requests: st.Requests, throttled: st.Throttled, took: took, floor: floor}
	}},
	{"klaviyo", func(t *testing.T) crowdResult {
		// Klaviyo's own limits, unscaled: adding to a list is tier M
		// (10 a second, 150 a minute), reading a profile tier L (75 a
		// second).
		srv := klaviyotest.NewServer(klaviyotest.WithLatency(crowdLatency))
		t.Cleanup(srv.Close)
		c := srv.Client(klaviyo.WithRetryPolicy(crowdPolicy))
		list := srv.AddList("crowd", klaviyo.SingleOptIn)
		ids := make([]string, workers)
		for i := range ids {
			ids[i] = srv.AddProfile(klaviyo.ProfileInput{Email: fmt.Sprintf("crowd%d@example.com", i)})
		}
		start := time.Now()
		errs, late := fanOut(workers, func(ctx context.Context, i int) error {
			res, err := c.Lists.AddProfiles(ctx, list, []string{ids[i]})
			if err == nil && (len(res) != 1 || res[0].Outcome != shopcrm.Applied) {
				err = fmt.Errorf("adding %s: %+v", ids[i], res)
			}
			if err != nil {
				return err
			}
			p, _, err := c.Profiles.Get(ctx, ids[i], false)
			if err == nil && p.Email != fmt.Sprintf("crowd%d@example.com", i) {
				err = fmt.Errorf("profile %s: %q", ids[i], p.Email)
			}
			return err
		})
		took := time.Since(start)
		noErrors(t, errs)
		members, _ := srv.ListMembers(list)
		wantOnce(t, members, workers, func(i int) string { return ids[i] })
		st := srv.Stats()
		add, get := klaviyo.DefaultLimits()[klaviyo.EndpointAddToList], klaviyo.DefaultLimits()[klaviyo.EndpointGetProfile]
		floor := max(windowFloor(workers, add.Burst, time.Second), windowFloor(workers, get.Burst, time.Second))
		return crowdResult{late: late, calls: 2 * workers, requests: st.Requests, throttled: st.Throttled, took: took, floor: floor}
	}},
}

func noErrors(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
}

// wantOnce checks that have holds want(0..n-1), each exactly once.
func wantOnce(t *testing.T, have []string, n int, want func(int) string) {
	t.Helper()
	count := map[string]int{}
	for _, h := range have {
		count[h]++
	}
	for i := range n {
		if c := count[want(i)]; c != 1 {
			t.Errorf("%s present %d times, want once (have %d values)", want(i), c, len(have))
		}
	}
}

// TestConcurrency shares one client of each platform among 50 goroutines
// that each write and read at once. The fake enforces its limits, scaled
// down, and answers 429 (THROTTLED for Shopify) past them: the client's
// pacing must keep every request within them, so the fake refuses none;
// every write lands exactly once; and the run takes about the least time
// the limits allow. No goroutine outlives the runs.
func TestConcurrency(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Run("platforms", func(t *testing.T) {
		for _, cr := range crowds {
			t.Run(cr.name, func(t *testing.T) {
				r := cr.run(t) // one at a time: pacing is timing, and the cores are few
				switch {
				case r.throttled != 0 && r.late > maxLate:
					t.Logf("the fake refused %d of %d requests, with goroutines scheduled up to %s late: the machine is too busy to judge the pacing",
						r.throttled, r.requests, r.late.Round(time.Millisecond))
				case r.throttled != 0:
					t.Errorf("the fake refused %d of %d requests for its limits, want 0 (scheduling delays up to %s)",
						r.throttled, r.requests, r.late.Round(time.Millisecond))
				}
				if r.requests < r.calls {
					t.Errorf("the fake served %d requests for %d calls", r.requests, r.calls)
				}
				eff := float64(r.floor) / float64(r.took)
				t.Logf("%d goroutines, %d calls, %d requests, %d refused; %s taken, %s the least the limits allow (efficiency %.2f); scheduling delays up to %s",
					workers, r.calls, r.requests, r.throttled, r.took.Round(time.Millisecond), r.floor.Round(time.Millisecond), eff, r.late.Round(time.Millisecond))
			})
		}
	})
	settled(t, base)
}

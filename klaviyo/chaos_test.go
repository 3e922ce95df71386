package klaviyo_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

var chaosKinds = []shopcrmtest.FaultKind{shopcrmtest.FaultStatus, shopcrmtest.FaultDrop, shopcrmtest.FaultLostResponse,
	shopcrmtest.FaultMalformed, shopcrmtest.FaultRateLimit}

// loyaltyEvents returns n loyalty events of a few kinds over 20 members.
func loyaltyEvents(rng *rand.Rand, from, n int, at time.Time) []klaviyo.Event {
	out := make([]klaviyo.Event, 0, n)
	for i := from; i < from+n; i++ {
		l := klaviyo.Loyalty{Member: klaviyo.ProfileInput{Email: fmt.Sprintf("m%d@example.com", rng.IntN(20))},
			Points: int64(10 + i), Balance: int64(100 + i), SetBalance: true, OrderID: fmt.Sprint(1000 + i),
			RewardID: fmt.Sprint("r", i), ReferralCode: "REF", ReferredEmail: fmt.Sprintf("f%d@example.com", i), At: at.Add(time.Duration(i) * time.Second)}
		switch i % 4 {
		case 0:
			out = append(out, l.PointsEarned())
		case 1:
			out = append(out, l.RewardGranted())
		case 2:
			out = append(out, l.ReferralCompleted())
		default:
			out = append(out, l.PointsRedeemed())
		}
	}
	return out
}

type stored struct{ Profile, Metric, UniqueID string }

// eventState is what the fake recorded, by profile email: each event once.
func eventState(t *testing.T, srv *klaviyotest.Server) []stored {
	t.Helper()
	email := map[string]string{}
	for _, p := range srv.Profiles() {
		email[p.ID] = p.Email
	}
	var out []stored
	for _, e := range srv.Events() {
		out = append(out, stored{email[e.ProfileID], e.Metric, e.UniqueID})
	}
	slices.SortFunc(out, func(a, b stored) int { return cmpStr(a.UniqueID+a.Profile, b.UniqueID+b.Profile) })
	return out
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestChaosEventsRecordedOnce sends loyalty events through bulk jobs and
// single creates against a fake that drops connections, loses responses
// after acting, answers 503, 429 and truncated bodies, at fixed seeds. Between
// reruns the input grows and a random part of what was already applied is
// replayed; every rerun sends everything not yet applied. The recorded
// events must equal a fault-free run of the final input: each once.
func TestChaosEventsRecordedOnce(t *testing.T) {
	at := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 99))
			srv, c := setup(t, klaviyotest.WithChaos(seed, 0.3, chaosKinds...))
			ctx := context.Background()
			input := loyaltyEvents(rng, 0, 150, at)
			done := make([]bool, len(input))
			for round := 0; ; round++ {
				if round == 30 {
					t.Fatal("not all applied after 30 rounds")
				}
				var send []klaviyo.Event
				var idx []int
				for i, e := range input {
					if !done[i] || rng.IntN(5) == 0 { // resend, or replay an applied one
						send, idx = append(send, e), append(idx, i)
					}
				}
				if round%2 == 1 && len(send) > 0 {
					// Single creates for a change.
					for j, e := range send {
						if _, err := c.Events.Create(ctx, e); err == nil {
							done[idx[j]] = true
						}
					}
				} else {
					res, err := c.Events.BulkCreate(ctx, send)
					if err != nil {
						t.Logf("round %d: %v", round, err)
					}
					for _, r := range res {
						if r.Outcome == klaviyo.Applied {
							done[idx[r.Index]] = true
						}
					}
				}
				if !slices.Contains(done, false) && round >= 2 {
					break
				}
				if round < 3 { // the input grows between runs
					more := loyaltyEvents(rng, len(input), 20, at)
					input = append(input, more...)
					done = append(done, make([]bool, len(more))...)
				}
			}
			clean, cc := setup(t)
			applied(t, "fault-free")(cc.Events.BulkCreate(ctx, input))
			want := eventState(t, clean)
			if diff := cmp.Diff(want, eventState(t, srv)); diff != "" {
				t.Errorf("recorded events differ from a fault-free run (-want +got):\n%s", diff)
			}
			if st := srv.Stats(); st.Faults == 0 {
				t.Error("no fault injected")
			}
		})
	}
}

// TestChaosListMembership adds and removes list members under faults,
// rerunning what did not apply, and compares the members with a
// fault-free run.
func TestChaosListMembership(t *testing.T) {
	srv, c := setup(t, klaviyotest.WithChaos(7, 0.4, chaosKinds...))
	ctx := context.Background()
	list := srv.AddList("Chaos", "")
	var ids []string
	for i := range 2500 {
		ids = append(ids, srv.AddProfile(klaviyo.ProfileInput{ExternalID: fmt.Sprint(i)}))
	}
	for _, step := range []struct {
		add bool
		ids []string
	}{{true, ids}, {false, ids[:700]}, {true, ids[100:300]}} {
		todo := step.ids
		for round := 0; len(todo) > 0; round++ {
			if round == 20 {
				t.Fatal("not applied after 20 rounds")
			}
			f := c.Lists.AddProfiles
			if !step.add {
				f = c.Lists.RemoveProfiles
			}
			res, _ := f(ctx, list, todo)
			var left []string
			for _, r := range res {
				if r.Outcome != klaviyo.Applied {
					left = append(left, todo[r.Index])
				}
			}
			todo = left
		}
	}
	got, _ := srv.ListMembers(list)
	slices.Sort(got)
	want := append(slices.Clone(ids[100:300]), ids[700:]...)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
}

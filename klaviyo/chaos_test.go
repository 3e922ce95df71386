package klaviyo_test

import (
	"context"
	"errors"
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

// TestChaosUpdateOnlyImport writes computed properties back with
// update-only imports under faults (lost responses after a job was
// created, drops, 503s, 429s, truncated bodies), editing some values
// between reruns and resending what did not apply or changed. The profiles
// must end as a fault-free import of the final values leaves them, and no
// profile may be created.
func TestChaosUpdateOnlyImport(t *testing.T) {
	t.Parallel()
	seed := func(srv *klaviyotest.Server) {
		for i := range 60 {
			srv.AddProfile(klaviyo.ProfileInput{Email: fmt.Sprintf("p%d@example.com", i), Properties: map[string]any{"legacy": i}})
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	desired := make([]klaviyo.ProfileInput, 80) // 20 of them have no profile
	for i := range desired {
		desired[i] = klaviyo.ProfileInput{Email: fmt.Sprintf("p%d@example.com", i), Properties: map[string]any{"ltv": i, "legacy": nil}}
	}
	srv, c := setup(t, klaviyotest.WithChaos(11, 0.3, chaosKinds...))
	seed(srv)
	ctx := context.Background()
	done := make([]bool, len(desired))
	for round := 0; ; round++ {
		if round == 20 {
			t.Fatal("not applied after 20 rounds")
		}
		var send []klaviyo.ProfileInput
		var idx []int
		for i, d := range desired {
			if !done[i] {
				send, idx = append(send, d), append(idx, i)
			}
		}
		if len(send) == 0 && round > 2 {
			break
		}
		res, _ := c.Profiles.Import(ctx, send, klaviyo.ImportOptions{UpdateOnly: true})
		for _, r := range res {
			// Applied, or settled as not found: nothing to resend.
			if r.Outcome == klaviyo.Applied || errors.Is(r.Err, klaviyo.ErrProfileNotFound) {
				done[idx[r.Index]] = true
			}
		}
		if round < 3 { // edits: new values to write back
			for range 10 {
				i := rng.IntN(len(desired))
				desired[i].Properties = map[string]any{"ltv": 1000*round + i, "legacy": nil}
				done[i] = false
			}
		}
	}
	clean, cc := setup(t)
	seed(clean)
	if _, err := cc.Profiles.Import(ctx, desired, klaviyo.ImportOptions{UpdateOnly: true}); err != nil {
		t.Fatal(err)
	}
	props := func(s *klaviyotest.Server) map[string]string {
		out := map[string]string{}
		for _, p := range s.Profiles() {
			out[p.Email] = fmt.Sprint(p.Properties)
		}
		return out
	}
	if diff := cmp.Diff(props(clean), props(srv)); diff != "" {
		t.Errorf("profiles differ from a fault-free run (-want +got):\n%s", diff)
	}
	if n := len(srv.Profiles()); n != 60 {
		t.Errorf("%d profiles: an update-only import created some", n)
	}
	if srv.Stats().Faults == 0 {
		t.Error("no fault injected")
	}
}

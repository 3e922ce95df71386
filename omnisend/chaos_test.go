package omnisend_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// events builds n historical and n real-time events.
func chaosEvents(n int, now time.Time) []*omnisend.Event {
	var evs []*omnisend.Event
	for i := range n {
		evs = append(evs, &omnisend.Event{Name: "points earned", ID: omnisend.EventID("points", fmt.Sprint(i)),
			Time: now.Add(-48 * time.Hour).Add(time.Duration(i) * time.Second), Historical: true,
			Contact: omnisend.EventContact{Email: email(i)}, Properties: map[string]any{"n": i}})
		evs = append(evs, &omnisend.Event{Name: "reward expiring", Contact: omnisend.EventContact{Email: email(i)}, Properties: map[string]any{"n": i}})
	}
	return evs
}

type eventKey struct {
	Name string
	N    float64
}

func counts(srv *omnisendtest.Server) map[eventKey]int {
	out := map[eventKey]int{}
	for _, e := range srv.Events() {
		out[eventKey{e.Name, e.Properties["n"].(float64)}]++
	}
	return out
}

// TestEventsUnderChaos proves the two event claims under seeded faults
// (503, drops, lost responses, malformed bodies): every historical event
// is recorded exactly once, as in a fault-free run, and no real-time
// event is recorded twice; each one not recorded or not known to be is
// reported Unknown by name, and one reported Applied was recorded.
func TestEventsUnderChaos(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clean, cc := setup(t, omnisendtest.WithNow(now))
	if _, err := cc.Events.SendAll(context.Background(), chaosEvents(40, now)); err != nil {
		t.Fatal(err)
	}
	want := counts(clean)
	for _, seed := range []uint64{1, 2, 3} {
		srv, c := setup(t, omnisendtest.WithNow(now), omnisendtest.WithChaos(seed, 0.3))
		evs := chaosEvents(40, now)
		res, err := c.Events.SendAll(context.Background(), evs)
		if err != nil {
			t.Fatal(err)
		}
		got := counts(srv)
		unknown := 0
		for i, r := range res {
			k := eventKey{r.Event.Name, float64(i / 2)}
			switch {
			case r.Event.Historical && (r.Outcome != shopcrm.Applied || got[k] != 1):
				t.Errorf("seed %d: historical %v: %v, recorded %d times", seed, k, r.Outcome, got[k])
			case !r.Event.Historical && got[k] > 1:
				t.Errorf("seed %d: real-time %v recorded %d times", seed, k, got[k])
			case !r.Event.Historical && r.Outcome == shopcrm.Applied && got[k] != 1:
				t.Errorf("seed %d: real-time %v applied but recorded %d times", seed, k, got[k])
			case !r.Event.Historical && r.Outcome == shopcrm.Unknown:
				unknown++
				var ue *omnisend.UnknownEventError
				if !errors.As(r.Err, &ue) || ue.Name != "reward expiring" {
					t.Errorf("seed %d: unknown without the event's name: %v", seed, r.Err)
				}
			case !r.Event.Historical && r.Outcome != shopcrm.Applied:
				if got[k] != 0 {
					t.Errorf("seed %d: real-time %v %v but recorded", seed, k, r.Outcome)
				}
			}
		}
		for k, n := range got {
			if n > want[k] {
				t.Errorf("seed %d: %v recorded %d times, %d without faults", seed, k, n, want[k])
			}
		}
		if unknown == 0 || srv.Stats().Faults == 0 {
			t.Errorf("seed %d: no real-time event met a fault (%d faults)", seed, srv.Stats().Faults)
		}
	}
}

// A real-time event whose response is lost is reported, not resent; a
// historical one is resent and recorded once.
func TestEventLostResponse(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	srv, c := setup(t, omnisendtest.WithNow(now))
	srv.AddFaults(shopcrmtest.Fault{Op: "sendEvent", Kind: shopcrmtest.FaultLostResponse, Times: 2})
	rt := &omnisend.Event{Name: "vip tier reached", Contact: omnisend.EventContact{Email: "a@example.com"}}
	_, err := c.Events.Send(context.Background(), rt)
	var ue *omnisend.UnknownEventError
	if !errors.As(err, &ue) || ue.Name != "vip tier reached" {
		t.Fatalf("err = %v, want an UnknownEventError", err)
	}
	hist := &omnisend.Event{Name: "placed order", ID: omnisend.EventID("order", "1001"), Time: now.Add(-72 * time.Hour), Historical: true,
		Contact: omnisend.EventContact{Email: "a@example.com"}}
	if _, err := c.Events.Send(context.Background(), hist); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range srv.Events() {
		names = append(names, e.Name)
	}
	if diff := cmp.Diff([]string{"vip tier reached", "placed order"}, names); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// Resending a real-time event by hand records it twice: the fake
	// counts what Omnisend would.
	if _, err := c.Events.Send(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Events()); n != 3 {
		t.Errorf("%d events, want 3", n)
	}
	if omnisend.EventID("a", "bc") == omnisend.EventID("ab", "c") || omnisend.EventID("x") != omnisend.EventID("x") {
		t.Error("EventID is not deterministic and unambiguous")
	}
}

// TestMirrorUnderChaos runs the tag mirror under seeded faults, with
// random edits to the desired tags and to foreign tags between reruns,
// until a run reports everything applied; the end state must equal a
// fault-free mirror of the final desired tags.
func TestMirrorUnderChaos(t *testing.T) {
	owned := []string{"shopify:vip", "shopify:repeat", "shopify:first", "shopify:sub"}
	seedContacts := func(srv *omnisendtest.Server) {
		for i := range 60 {
			srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email(email(i), "")},
				Tags: []string{owned[i%4], "line"}})
		}
	}
	rnd := rand.New(rand.NewPCG(7, 7))
	desired := map[string][]string{}
	edit := func() {
		for i := range 60 {
			if rnd.IntN(3) == 0 {
				var tags []string
				for _, o := range owned {
					if rnd.IntN(2) == 0 {
						tags = append(tags, o)
					}
				}
				desired[email(i)] = tags
			}
		}
	}
	edit()
	srv, c := setup(t, omnisendtest.WithChaos(11, 0.25))
	seedContacts(srv)
	for round := 0; ; round++ {
		if round > 20 {
			t.Fatal("the mirror never converged")
		}
		rep, err := c.Tags.Mirror(context.Background(), desired, omnisend.OwnedPrefix("shopify:"))
		allApplied := err == nil
		if rep != nil {
			for _, r := range rep.Results {
				allApplied = allApplied && r.Outcome == shopcrm.Applied
			}
		}
		if allApplied && round >= 2 {
			break
		}
		if round < 2 {
			edit()
			srv.SetTags(email(rnd.IntN(60)), "shopify:vip", "ecp-first") // another app's edit
		}
	}
	cleanSrv, cleanC := setup(t)
	seedContacts(cleanSrv)
	// The fault-free run starts from the other apps' edits: the tags the
	// mirror does not manage as they ended up, and its own tags wiped.
	for _, ct := range srv.Contacts() {
		keep := ct.Tags
		if _, managed := desired[ct.Email]; managed {
			keep = slices.DeleteFunc(slices.Clone(ct.Tags), func(tg string) bool { return slices.Contains(owned, tg) })
		}
		cleanSrv.SetTags(ct.Email, keep...)
	}
	if _, err := cleanC.Tags.Mirror(context.Background(), desired, omnisend.OwnedPrefix("shopify:")); err != nil {
		t.Fatal(err)
	}
	state := func(s *omnisendtest.Server) map[string][]string {
		out := map[string][]string{}
		for _, ct := range s.Contacts() {
			out[ct.Email] = slices.Sorted(slices.Values(ct.Tags))
		}
		return out
	}
	if diff := cmp.Diff(state(cleanSrv), state(srv)); diff != "" {
		t.Errorf("end state under chaos differs from the fault-free run (-clean +chaos):\n%s", diff)
	}
	if srv.Stats().Faults == 0 {
		t.Error("no fault struck")
	}
}

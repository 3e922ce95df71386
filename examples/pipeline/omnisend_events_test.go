package pipeline_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shopcrm/shopcrm/examples/pipeline"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// TestOmnisendEventsAtMostOnce loses the answer to the real-time event of
// the one repeat buyer with a contact (c6): the event is recorded by
// Omnisend, never sent again on reruns, and named in the notes of every
// run; the historical event is sent once per day whatever happens.
func TestOmnisendEventsAtMostOnce(t *testing.T) {
	s := newSmallStore(t)
	ctx := context.Background()
	env := s.env(t, tempState(t))
	env.OmnisendEvents = &pipeline.OmnisendEvents{Segment: "Repeat buyers", Joined: "joined", Daily: "repeat buyer"}
	if _, err := pipeline.Segments(ctx, env); err != nil {
		t.Fatal(err)
	}
	s.esp.AddFaults(shopcrmtest.Fault{Op: "sendEvent", Kind: shopcrmtest.FaultLostResponse})
	for run := range 3 {
		rep, err := pipeline.SyncOmnisend(ctx, env)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if n := rep.Counts["event recipients"]; n != 1 {
			t.Errorf("run %d: %d recipients, want 1 (c6; c2 and c3 have no contact)", run, n)
		}
		named := false
		for _, n := range rep.Notes {
			named = named || strings.Contains(n, `"joined"`) && strings.Contains(n, "c6@example.com")
		}
		if !named {
			t.Errorf("run %d: the event in doubt is not named: %q", run, rep.Notes)
		}
	}
	got := map[string]int{}
	for _, e := range s.esp.Events() {
		got[e.Name+" "+e.Email]++
	}
	want := map[string]int{"joined c6@example.com": 1, "repeat buyer c6@example.com": 1}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d events, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

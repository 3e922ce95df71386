package pipeline_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/examples/pipeline"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopify"
)

// TestMinimumOnSmallStore runs the small store's day with its requests
// counted, and checks each step's minimum against values worked out by
// hand, and the measured requests and times against the minimums.
// Omnisend's tag calls are limited to one per 150 ms, on the fake and in
// the client, so that its floor is not zero.
func TestMinimumOnSmallStore(t *testing.T) {
	const tagGap = 150 * time.Millisecond
	s := newSmallStore(t, omnisendtest.WithRateLimit(omnisend.EndpointContactTags, 1, tagGap))
	state, err := pipeline.NewState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := s.env(t, state)
	env.Meter = &pipeline.Meter{}
	env.Clients = pipeline.Clients{
		Shopify:  s.srv.Client(shopify.WithHTTPClient(env.Meter.Client(pipeline.PlatformShopify))),
		LINE:     s.chat.Client(line.WithHTTPClient(env.Meter.Client(pipeline.PlatformLINE))),
		Omnisend: s.esp.Client(omnisend.WithHTTPClient(env.Meter.Client(pipeline.PlatformOmnisend)), omnisend.WithEndpointLimit(omnisend.EndpointContactTags, 1, tagGap)),
		Klaviyo:  s.crm.Client(klaviyo.WithHTTPClient(env.Meter.Client(pipeline.PlatformKlaviyo))),
	}
	rep, err := pipeline.RunDay(context.Background(), env, pipeline.Events{Customers: s.customerEvents, Orders: s.orderEvents})
	if err != nil {
		t.Fatal(err)
	}
	// Worked out by hand from the store (see newSmallStore):
	want := map[string]map[string]int{
		// c5's two events and the order's: one customer and one order
		// read by id, and their two changes in one aliased request.
		"lifecycle": {pipeline.PlatformShopify: 1 + 1 + 1},
		// Two exports of two requests (start, status); four segments
		// reconciled, a page of carriers each; the changes in one
		// aliased request; each Shopify segment looked up, then
		// created.
		"segments": {pipeline.PlatformShopify: 2*2 + 4 + 1 + 4 + 4},
		// c2 is the only LINE-linked LINE repeat buyer: one multicast.
		"line": {pipeline.PlatformLINE: 1},
		// A page of the three contacts; three tag calls (ecp-first to
		// c1, ecp-repeat to c6, ecp-first off c4).
		"omnisend": {pipeline.PlatformOmnisend: 1 + 3},
		// The list found, its one member read, c2 and c3 imported into
		// it (a job started and read), the stray removed; the metrics
		// read (the fake has no email activity: no aggregates); a page
		// of events; the segment property: a lookup and an import job
		// for the profiles found; the loyalty events in one request.
		// And the day's orders exported from Shopify.
		"klaviyo": {pipeline.PlatformKlaviyo: 1 + 1 + 2 + 1 + 1 + 1 + 1 + 2 + 1, pipeline.PlatformShopify: 2},
		// An export, the activity upserted, the engagement sent.
		"marketing": {pipeline.PlatformShopify: 2 + 1 + 1},
	}
	got := map[string]map[string]int{}
	for _, st := range rep.Steps {
		got[st.Step] = map[string]int{}
		for p, m := range st.Minimum {
			got[st.Step][p] = m.Requests
			n, ok := st.Requests(p)
			if !ok || n < m.Requests {
				t.Errorf("%s: %s: %d requests measured (%v), fewer than the minimum %d", st.Step, p, n, ok, m.Requests)
			}
			// Floors are the rate limits' least time: a step cannot
			// beat them (a little slack for the clocks).
			if e := m.Floor.Seconds() / st.Elapsed.Seconds(); e > 1.02 {
				t.Errorf("%s: %s: efficiency %.3f above 1 (floor %s, took %s)", st.Step, p, e, m.Floor, st.Elapsed)
			}
			if p != pipeline.PlatformOmnisend && m.Floor != 0 {
				t.Errorf("%s: %s: floor %s, want 0 (nothing to wait for at the fakes' limits)", st.Step, p, m.Floor)
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("minimum requests (-want +got):\n%s", diff)
	}
	// Three tag calls, one per 150 ms: the third goes 300 ms after the
	// first.
	om := rep.Steps[3].Minimum[pipeline.PlatformOmnisend]
	if om.Floor != 2*tagGap || om.Bound != "1 contact-tags calls/150ms" {
		t.Errorf("omnisend floor %s at %q, want %s at 1 contact-tags calls/150ms", om.Floor, om.Bound, 2*tagGap)
	}

	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "    omnisend: 4 requests (minimum 4), ") || !strings.Contains(text.String(), "(floor 0.3 s at 1 contact-tags calls/150ms, efficiency ") {
		t.Errorf("text report without the minimum:\n%s", text.String())
	}
	files, err := rep.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(bytes.NewReader(b)).ReadAll()
	found := false
	for _, r := range rows {
		if r[0] == "omnisend" && r[1] == "requests omnisend" {
			found = true
			if r[2] != "4" || r[4] != "4" || r[5] != "0.300" || r[6] != "1 contact-tags calls/150ms" || r[7] == "" {
				t.Errorf("steps.csv omnisend row %q", r)
			}
		}
	}
	if !found {
		t.Errorf("steps.csv has no omnisend requests row: %q", rows)
	}
}

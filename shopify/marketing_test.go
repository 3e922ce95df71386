package shopify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func campaign(id string) shopify.Activity {
	return shopify.Activity{RemoteID: id, Title: "Spring " + id, RemoteURL: "https://ads.example.com/c/" + id,
		Tactic: shopify.TacticAd, Channel: shopify.ChannelSocial, Status: shopify.StatusActive, HierarchyLevel: shopify.LevelCampaign}
}

// tree creates campaign c1 → ad group g1 → ad a1 through Upsert.
func tree(t *testing.T, c *shopify.Client) (cmp, group, ad shopify.Activity) {
	t.Helper()
	ctx := context.Background()
	cmp = campaign("c1")
	spend := money.MustParse("12.50", "USD")
	cmp.Budget = &shopify.Budget{Type: shopify.BudgetDaily, Total: money.MustParse("100", "USD")}
	cmp.AdSpend = &spend
	group = campaign("g1")
	group.HierarchyLevel, group.ParentRemoteID = shopify.LevelAdGroup, "c1"
	ad = campaign("a1")
	ad.HierarchyLevel, ad.ParentRemoteID = shopify.LevelAd, "g1"
	ad.UTM = &shopify.UTM{Campaign: "spring", Source: "meta", Medium: "cpc"}
	for _, a := range []shopify.Activity{cmp, group, ad} {
		// Upsert is idempotent: under injected faults, try again.
		var err error
		for range 5 {
			if _, _, err = c.Marketing.Upsert(ctx, a, nil); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("upsert %s: %v", a.RemoteID, err)
		}
	}
	return cmp, group, ad
}

func TestMarketingActivityRoundTrip(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	cmp, group, ad := tree(t, c)

	got, ok := srv.MarketingActivityByRemoteID("a1")
	if !ok || got.HierarchyLevel != "AD" || got.ParentRemoteID != "g1" || got.UTM == nil || got.UTM.Source != "meta" {
		t.Fatalf("ad in the fake = %+v, %v", got, ok)
	}
	if c1, _ := srv.MarketingActivityByRemoteID("c1"); c1.AdSpend == nil || c1.AdSpend.Decimal() != "12.50" || c1.BudgetType != "DAILY" {
		t.Errorf("campaign in the fake = %+v", c1)
	}

	// Upsert again with a new title: same activity, new title.
	next := cmp
	next.Title = "Spring sale"
	act, _, err := c.Marketing.Upsert(ctx, next, &cmp)
	if err != nil {
		t.Fatal(err)
	}
	if act.Title != "Spring sale" || act.HierarchyLevel != shopify.LevelCampaign || act.AdSpend == nil || act.Budget == nil {
		t.Errorf("upserted = %+v", act)
	}
	if n := len(srv.MarketingActivities()); n != 3 {
		t.Errorf("%d activities, want 3", n)
	}

	// Update changes mutable fields only; the rest stays.
	upd := ad
	upd.Status = shopify.StatusPaused
	spend := money.MustParse("3", "USD")
	upd.AdSpend = &spend
	act, _, err = c.Marketing.Update(ctx, ad, upd)
	if err != nil {
		t.Fatal(err)
	}
	if act.Status != "PAUSED" || act.AdSpend.Decimal() != "3.00" || act.UTM == nil || act.UTM.Campaign != "spring" {
		t.Errorf("updated = %+v", act)
	}

	// Create: a new activity outside the tree; a taken remote id is TAKEN.
	email := shopify.Activity{RemoteID: "news-1", Title: "Newsletter", RemoteURL: "https://mail.example.com/1",
		Tactic: shopify.TacticNewsletter, Channel: shopify.ChannelEmail, URLParameterValue: "news1"}
	if _, _, err := c.Marketing.Create(ctx, email); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Marketing.Create(ctx, email)
	var ue *shopify.UserErrors
	if !errors.As(err, &ue) || !errors.Is(err, shopify.CodeTaken) {
		t.Errorf("second create: %v, want TAKEN", err)
	}

	// Delete: a parent with children is refused; leaves first.
	if _, _, err := c.Marketing.Delete(ctx, "c1"); !errors.Is(err, shopify.CodeCannotDeleteActivityWithChildEvents) {
		t.Errorf("delete c1 with children: %v", err)
	}
	for _, id := range []string{"a1", "g1", "c1"} {
		if gid, _, err := c.Marketing.Delete(ctx, id); err != nil || gid == "" {
			t.Fatalf("delete %s: %q %v", id, gid, err)
		}
	}
	if _, _, err := c.Marketing.Delete(ctx, "c1"); !errors.Is(err, shopify.CodeActivityDoesNotExist) {
		t.Errorf("delete twice: %v", err)
	}
	if n := len(srv.MarketingActivities()); n != 1 {
		t.Errorf("%d activities left, want 1", n)
	}
	_ = group
}

func TestMarketingImmutableRefusedBeforeSending(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	_, group, ad := tree(t, c)
	before := srv.OpCount("marketingActivityUpsertExternal") + srv.OpCount("marketingActivityUpdateExternal")

	moved := ad
	moved.ParentRemoteID = "c1"
	relevel := group
	relevel.HierarchyLevel = shopify.LevelCampaign
	relevel.ParentRemoteID = ""
	reutm := ad
	reutm.UTM = &shopify.UTM{Campaign: "autumn", Source: "meta", Medium: "cpc"}
	handle := ad
	handle.ChannelHandle = "other"
	param := ad
	param.UTM, param.URLParameterValue = nil, "p"
	for _, tc := range []struct {
		prev, next shopify.Activity
		code       shopify.MarketingErrorCode
	}{
		{ad, moved, shopify.CodeImmutableParentID},
		{group, relevel, shopify.CodeImmutableHierarchyLevel},
		{ad, reutm, shopify.CodeImmutableUTMParameters},
		{ad, handle, shopify.CodeImmutableChannelHandle},
		{ad, param, shopify.CodeImmutableUTMParameters},
	} {
		for name, call := range map[string]func() error{
			"upsert": func() error { _, _, err := c.Marketing.Upsert(ctx, tc.next, &tc.prev); return err },
			"update": func() error { _, _, err := c.Marketing.Update(ctx, tc.prev, tc.next); return err },
		} {
			err := call()
			var ie *shopify.InputError
			if !errors.As(err, &ie) || !errors.Is(err, tc.code) || !errors.Is(err, shopify.ErrInvalidInput) {
				t.Errorf("%s %s: %v, want *InputError matching %s", name, tc.code, err, tc.code)
			}
		}
	}
	if after := srv.OpCount("marketingActivityUpsertExternal") + srv.OpCount("marketingActivityUpdateExternal"); after != before {
		t.Errorf("%d mutations sent, want none", after-before)
	}
	// Without prev, Shopify's own refusal arrives typed.
	_, _, err := c.Marketing.Upsert(ctx, moved, nil)
	if !errors.Is(err, shopify.CodeImmutableParentID) {
		t.Errorf("upsert without prev: %v, want IMMUTABLE_PARENT_ID from the fake", err)
	}
}

func TestMarketingActivityInputChecks(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	loose := campaign("x")
	loose.HierarchyLevel = ""
	both := loose
	both.UTM, both.URLParameterValue = &shopify.UTM{Campaign: "a", Source: "b", Medium: "c"}, "p"
	orphan := campaign("y")
	orphan.HierarchyLevel = shopify.LevelAd
	for name, a := range map[string]shopify.Activity{"no tracking": loose, "utm and param": both, "ad without parent": orphan, "no title": {}} {
		if _, _, err := c.Marketing.Create(ctx, a); !errors.Is(err, shopify.ErrInvalidInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := c.Marketing.Create(ctx, loose); !errors.Is(err, shopify.CodeNonHierarchicalRequiresUTMURLParameter) {
		t.Errorf("no tracking: %v", err)
	}
}

// engagements builds attribution rows for two days at channel, campaign
// and ad level and turns them into engagements.
func engagements(t *testing.T, days int) []attribution.Engagement {
	t.Helper()
	var rows []attribution.Row
	start := calendar.NewDate(2025, 3, 1)
	for d := range days {
		day := start.AddDays(d)
		var spend money.Totals
		if err := spend.Add(money.MustParse(fmt.Sprintf("%d.25", d+1), "USD")); err != nil {
			t.Fatal(err)
		}
		m := attribution.Measures{Impressions: int64(100 * (d + 1)), Clicks: int64(d + 3), Spend: spend}
		rows = append(rows,
			attribution.Row{Level: attribution.ChannelLevel, Key: attribution.Key{Channel: "meta"}, From: day, To: day, Measures: m},
			attribution.Row{Level: attribution.CampaignLevel, Key: attribution.Key{Channel: "meta", Campaign: "c1"}, From: day, To: day, Measures: m},
			attribution.Row{Level: attribution.AdLevel, Key: attribution.Key{Channel: "meta", Campaign: "c1", AdGroup: "g1", Ad: "a1"}, From: day, To: day, Measures: m},
		)
	}
	engs, err := attribution.Config{Location: time.FixedZone("JST", 9*3600)}.Engagements(rows, attribution.EngagementOptions{OmitConversions: true})
	if err != nil {
		t.Fatal(err)
	}
	return engs
}

func TestEngagementsBothLevels(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	tree(t, c)
	engs := engagements(t, 2)
	rec := &shopify.EngagementRecord{}
	res, err := c.Marketing.SendEngagements(ctx, rec, engs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Outcome != shopcrm.Applied || r.Err != nil {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	got := srv.MarketingEngagements()
	if len(got) != 6 {
		t.Fatalf("%d engagements in the fake, want 6", len(got))
	}
	var channel, activity int
	for _, e := range got {
		if e.ChannelHandle == "meta" {
			channel++
		} else if e.RemoteID == "c1" || e.RemoteID == "a1" {
			activity++
		}
		if e.UTCOffset != "+09:00" || e.IsCumulative || e.AdSpend == nil {
			t.Errorf("engagement %+v", e)
		}
	}
	if channel != 2 || activity != 4 {
		t.Errorf("channel %d, activity %d; want 2 and 4", channel, activity)
	}
	if got[0].OccurredOn != "2025-03-01" || got[0].Counts["impressionsCount"] != 100 || got[0].AdSpend.Decimal() != "1.25" {
		t.Errorf("first engagement %+v", got[0])
	}

	// A rerun with the persisted record sends nothing.
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var again shopify.EngagementRecord
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	res, err = c.Marketing.SendEngagements(ctx, &again, engs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != shopcrm.Applied || !errors.Is(r.Err, shopify.ErrDaySent) {
			t.Errorf("rerun result %+v", r)
		}
	}
	if n := len(srv.MarketingEngagements()); n != 6 {
		t.Errorf("%d engagements after the rerun, want 6", n)
	}

	// Channel-level delete clears the channel in Shopify and in the record.
	if _, _, err := c.Marketing.DeleteChannelEngagements(ctx, "meta", &again); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.MarketingEngagements()); n != 4 {
		t.Errorf("%d engagements after deleting the channel, want 4", n)
	}
	if st := again.State(shopify.EngagementTarget{ChannelHandle: "meta"}, calendar.NewDate(2025, 3, 1)); st != "" {
		t.Errorf("channel day still recorded as %q", st)
	}

	// CreateEngagement: one at a time; an unknown activity is typed.
	e := engs[1]
	e.RemoteID = "nope"
	if _, err := c.Marketing.CreateEngagement(ctx, e); !errors.Is(err, shopify.CodeActivityDoesNotExist) {
		t.Errorf("engagement for a missing activity: %v", err)
	}
	e.ChannelHandle = "x"
	if _, err := c.Marketing.CreateEngagement(ctx, e); !errors.Is(err, shopify.ErrInvalidInput) {
		t.Errorf("both remote id and handle: %v", err)
	}
}

func TestFakeCountsDuplicateEngagements(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	tree(t, c)
	e := engagements(t, 1)[1]
	for range 2 {
		if _, err := c.Marketing.CreateEngagement(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.MarketingEngagements()); n != 2 {
		t.Errorf("fake holds %d engagements for one day sent twice, want 2", n)
	}
}

// TestEngagementsNeverTwice sends engagements through random faults, then
// reruns with the persisted record on a healthy server: no (target, day)
// reaches the fake twice, and every day ends applied or reported unknown
// or failed.
func TestEngagementsNeverTwice(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			srv, c := setup(t, shopifytest.WithChaos(seed, 0.3, shopcrmtest.FaultLostResponse, shopcrmtest.FaultDrop,
				shopcrmtest.FaultStatus, shopcrmtest.FaultMalformed, shopcrmtest.FaultRateLimit))
			c2 := srv.Client(shopify.WithHTTPClient(&http.Client{Timeout: 2 * time.Second}), shopify.WithSleep(fastSleep))
			ctx := context.Background()
			// The tree goes in before the faults matter: upserts are retried.
			tree(t, c)
			engs := engagements(t, 12)
			r := rand.New(rand.NewPCG(seed, 1))
			r.Shuffle(len(engs), func(i, j int) { engs[i], engs[j] = engs[j], engs[i] })
			rec := &shopify.EngagementRecord{}
			for run := range 3 {
				res, err := c2.Marketing.SendEngagements(ctx, rec, engs, &shopify.SendOptions{MaxPerRequest: 1 + r.IntN(5), MaxInFlight: 4})
				if err != nil {
					t.Logf("run %d stopped: %v", run, err)
				}
				for _, x := range res {
					if x.Outcome == shopcrm.NotSent && err == nil {
						t.Errorf("run %d: %+v not sent without a terminal error", run, x)
					}
					// What a result says, the record says.
					switch st := rec.State(x.Target, x.Day); x.Outcome {
					case shopcrm.Applied:
						if st != shopify.DayApplied {
							t.Errorf("run %d: %+v applied, recorded %q", run, x, st)
						}
					case shopcrm.Unknown:
						if st != shopify.DayUnknown {
							t.Errorf("run %d: %+v unknown, recorded %q", run, x, st)
						}
					default:
						if st != "" {
							t.Errorf("run %d: %+v %s, recorded %q", run, x, x.Outcome, st)
						}
					}
				}
				// Persist and reload, as a program would between runs.
				b, err := json.Marshal(rec)
				if err != nil {
					t.Fatal(err)
				}
				rec = &shopify.EngagementRecord{}
				if err := json.Unmarshal(b, rec); err != nil {
					t.Fatal(err)
				}
			}
			counts := map[string]int{}
			for _, e := range srv.MarketingEngagements() {
				counts[e.RemoteID+"|"+e.ChannelHandle+"|"+e.OccurredOn]++
			}
			for k, n := range counts {
				if n > 1 {
					t.Errorf("%s sent %d times", k, n)
				}
			}
			for _, e := range engs {
				k := e.RemoteID + "|" + e.ChannelHandle + "|" + e.OccurredOn.String()
				switch st := rec.State(shopify.TargetOf(e), e.OccurredOn); st {
				case shopify.DayApplied:
					if counts[k] != 1 {
						t.Errorf("%s recorded applied, fake holds %d", k, counts[k])
					}
				case shopify.DayUnknown:
				default:
					// Not in the record: refused every time; the fake must not hold it.
					if counts[k] != 0 {
						t.Errorf("%s not recorded, fake holds %d", k, counts[k])
					}
				}
			}
			unknown := rec.Unknown()
			applied := 0
			for _, e := range engs {
				if rec.State(shopify.TargetOf(e), e.OccurredOn) == shopify.DayApplied {
					applied++
				}
			}
			t.Logf("%d engagements: %d applied, %d unknown, %d faults", len(engs), applied, len(unknown), srv.Stats().Faults)
			if applied+len(unknown) < len(engs)/2 {
				t.Errorf("only %d of %d days applied after three runs", applied, len(engs))
			}
		})
	}
}

// TestEngagementsUnknownDayResolvedByChannelDelete: a lost answer leaves a
// channel day unknown; the rerun reports it without sending it; deleting
// the channel's data and sending again leaves exactly one engagement.
func TestEngagementsUnknownDayResolvedByChannelDelete(t *testing.T) {
	srv, c := setup(t, shopifytest.WithFaults(shopcrmtest.Fault{Op: "marketingEngagementCreate", Kind: shopcrmtest.FaultLostResponse, Times: 1}))
	ctx := context.Background()
	var engs []attribution.Engagement
	for _, e := range engagements(t, 1) {
		if e.ChannelHandle != "" {
			engs = append(engs, e)
		}
	}
	rec := &shopify.EngagementRecord{}
	res, err := c.Marketing.SendEngagements(ctx, rec, engs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != shopcrm.Unknown || res[0].Err == nil {
		t.Fatalf("lost answer: %+v, want unknown", res[0])
	}
	if u := rec.Unknown(); len(u) != 1 || u[0].Target.ChannelHandle != "meta" {
		t.Fatalf("record unknown days = %+v", u)
	}
	res, err = c.Marketing.SendEngagements(ctx, rec, engs, nil)
	if err != nil || res[0].Outcome != shopcrm.Unknown || !errors.Is(res[0].Err, shopify.ErrDayUnresolved) {
		t.Fatalf("rerun: %+v, %v; want unknown, not sent", res[0], err)
	}
	if n := len(srv.MarketingEngagements()); n != 1 {
		t.Fatalf("fake holds %d, want the 1 the lost answer applied", n)
	}
	if _, _, err := c.Marketing.DeleteChannelEngagements(ctx, "meta", rec); err != nil {
		t.Fatal(err)
	}
	res, err = c.Marketing.SendEngagements(ctx, rec, engs, nil)
	if err != nil || res[0].Outcome != shopcrm.Applied {
		t.Fatalf("after delete: %+v, %v", res[0], err)
	}
	if n := len(srv.MarketingEngagements()); n != 1 {
		t.Errorf("fake holds %d after delete and resend, want 1", n)
	}
}

// TestEngagementsSaveBeforeSending: the record is saved with a request's
// days unknown before the request leaves, so a process killed mid-send
// never forgets a day it may have sent; a failing save sends nothing.
func TestEngagementsSaveBeforeSending(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	tree(t, c)
	engs := engagements(t, 2)
	rec := &shopify.EngagementRecord{}
	var saves int
	opts := &shopify.SendOptions{MaxPerRequest: 2, Save: func(r *shopify.EngagementRecord) error {
		saves++
		if len(r.Unknown()) == 0 {
			t.Error("saved before a request with no day marked unknown")
		}
		// What a killed process would leave: the fake has not yet
		// counted these days.
		if got := len(srv.MarketingEngagements()); got != 2*(saves-1) {
			t.Errorf("save %d sees %d engagements in the fake, want %d", saves, got, 2*(saves-1))
		}
		return nil
	}}
	opts.MaxInFlight = 1
	if _, err := c.Marketing.SendEngagements(ctx, rec, engs, opts); err != nil {
		t.Fatal(err)
	}
	if want := (len(engs) + 1) / 2; saves != want {
		t.Errorf("%d saves, want one per request (%d)", saves, want)
	}
	if u := rec.Unknown(); len(u) != 0 {
		t.Errorf("days left unknown after a clean send: %v", u)
	}

	srv2, c2 := setup(t)
	tree(t, c2)
	boom := errors.New("disk full")
	rec2 := &shopify.EngagementRecord{}
	res, err := c2.Marketing.SendEngagements(ctx, rec2, engs, &shopify.SendOptions{Save: func(*shopify.EngagementRecord) error { return boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the save error", err)
	}
	for _, r := range res {
		if r.Outcome != shopcrm.Failed {
			t.Errorf("result %+v, want Failed", r)
		}
	}
	if n := len(srv2.MarketingEngagements()); n != 0 {
		t.Errorf("%d engagements sent despite the failed save", n)
	}
	if u := rec2.Unknown(); len(u) != 0 {
		t.Errorf("days left unknown after a failed save: %v", u)
	}
}

// One request timing out leaves its engagements unknown and the others
// are sent: it does not stop the run.
func TestEngagementsAttemptTimeout(t *testing.T) {
	srv, _ := setup(t, shopifytest.WithFaults(shopifytest.Fault{Op: "marketingEngagementCreate", Kind: shopcrmtest.FaultTimeout}))
	c := srv.Client(shopify.WithSleep(fastSleep), shopify.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
	tree(t, c)
	engs := engagements(t, 2)
	res, err := c.Marketing.SendEngagements(context.Background(), &shopify.EngagementRecord{}, engs, &shopify.SendOptions{MaxPerRequest: 1})
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	count := map[shopcrm.Outcome]int{}
	for _, r := range res {
		count[r.Outcome]++
	}
	if count[shopcrm.Unknown] != 1 || count[shopcrm.Applied] != len(engs)-1 {
		t.Errorf("outcomes %v, want one unknown and %d applied", count, len(engs)-1)
	}
	if n := len(srv.MarketingEngagements()); n != len(engs)-1 {
		t.Errorf("%d engagements in the fake, want %d", n, len(engs)-1)
	}
}

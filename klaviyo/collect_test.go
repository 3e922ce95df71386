package klaviyo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/klaviyo"
)

// TestCollectListsWithConsent reads a list's members with their consent
// and suppressions, as W5's import of chosen lists does.
func TestCollectListsWithConsent(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	list := srv.AddList("Newsletter", klaviyo.SingleOptIn)
	var subs []klaviyo.Subscriber
	for i := range 5 {
		subs = append(subs, klaviyo.Subscriber{Email: fmt.Sprintf("u%d@example.com", i), Channels: klaviyo.Channels{Email: true}})
	}
	applied(t, "subscribe")(c.Subscriptions.Subscribe(ctx, klaviyo.SubscribeRequest{ListID: list, Profiles: subs}))
	bounced, _ := srv.ProfileIDByEmail("u1@example.com")
	srv.SuppressProfile(bounced, klaviyo.SuppressionHardBounce)
	applied(t, "unsubscribe")(c.Subscriptions.UnsubscribeGlobally(ctx, []klaviyo.Unsubscriber{{Email: "u2@example.com", Channels: klaviyo.Channels{Email: true}}}))
	state := map[string]string{}
	for p, err := range c.Lists.Members(ctx, list, klaviyo.MemberOptions{Subscriptions: true}) {
		if err != nil {
			t.Fatal(err)
		}
		e := p.Subscriptions.Email
		s := string(e.Consent)
		if e.Suppressed(klaviyo.SuppressionHardBounce) {
			s += "+HARD_BOUNCE"
		}
		if !e.CanReceive {
			s += " (unreachable)"
		}
		state[p.Email] = s
	}
	want := map[string]string{"u0@example.com": "SUBSCRIBED", "u1@example.com": "SUBSCRIBED+HARD_BOUNCE (unreachable)",
		"u2@example.com": "UNSUBSCRIBED (unreachable)", "u3@example.com": "SUBSCRIBED", "u4@example.com": "SUBSCRIBED"}
	if fmt.Sprint(state) != fmt.Sprint(want) {
		t.Errorf("state %v\nwant  %v", state, want)
	}
	var bouncedIDs []string
	for p, err := range c.Profiles.List(ctx, klaviyo.ProfileListOptions{Filter: klaviyo.Filter{
		klaviyo.Equals("subscriptions.email.marketing.suppression.reason", string(klaviyo.SuppressionHardBounce))}}) {
		if err != nil {
			t.Fatal(err)
		}
		bouncedIDs = append(bouncedIDs, p.ID)
	}
	if !slices.Equal(bouncedIDs, []string{bounced}) {
		t.Errorf("hard bounces %v", bouncedIDs)
	}
}

func TestEmailActivityFromStoredEvents(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	now := time.Now().UTC()
	a := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	b := srv.AddProfile(klaviyo.ProfileInput{Email: "b@example.com"})
	for d := range 100 {
		srv.AddEvent(klaviyo.MetricReceivedEmail, a, now.AddDate(0, 0, -d), nil)
		if d%10 == 0 {
			srv.AddEvent(klaviyo.MetricOpenedEmail, a, now.AddDate(0, 0, -d), nil)
			srv.AddEvent(klaviyo.MetricOpenedEmail, b, now.AddDate(0, 0, -d), nil)
		}
	}
	act, err := c.Metrics.EmailActivity(ctx, 90, now)
	if err != nil {
		t.Fatal(err)
	}
	sum := func(xs []float64) (n float64) {
		for _, x := range xs {
			n += x
		}
		return n
	}
	r, o := act[klaviyo.MetricReceivedEmail], act[klaviyo.MetricOpenedEmail]
	if r == nil || o == nil || act[klaviyo.MetricClickedEmail] != nil {
		t.Fatalf("activity: %v", act)
	}
	if len(r.Dates) != 90 || sum(r.Count) != 90 || sum(o.Count) != 18 || sum(o.Unique) != 18 || o.Unique[len(o.Unique)-1] != 2 {
		t.Errorf("received %d days %v events; opened %v events, %v unique", len(r.Dates), sum(r.Count), sum(o.Count), sum(o.Unique))
	}
}

// TestEventsSinceCursor reads events hour by hour with a persisted cursor:
// a rerun over the same window yields nothing twice, and events that
// arrive later at the cursor's second are still read.
func TestEventsSinceCursor(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	a := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	base := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	for i := range 30 {
		srv.AddEvent(klaviyo.MetricOpenedEmail, a, base.Add(time.Duration(i/3)*time.Minute), map[string]any{"i": i})
	}
	mid, _ := srv.MetricID(klaviyo.MetricOpenedEmail)
	read := func(cur klaviyo.EventCursor) ([]string, klaviyo.EventCursor) {
		var ids []string
		for e, err := range c.Events.Since(ctx, klaviyo.EventQuery{MetricID: mid, After: cur, PageSize: 7}) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, e.ID)
			cur = cur.Advance(e)
		}
		return ids, cur
	}
	first, cur := read(klaviyo.EventCursor{})
	if len(first) != 30 {
		t.Fatalf("first read %d events", len(first))
	}
	// The cursor survives a round trip through storage.
	b, _ := json.Marshal(cur)
	var stored klaviyo.EventCursor
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	again, cur2 := read(stored)
	if len(again) != 0 {
		t.Errorf("a rerun read %d events again", len(again))
	}
	// A late event at the cursor's second, and a newer one.
	late := srv.AddEvent(klaviyo.MetricOpenedEmail, a, cur2.Time, nil)
	newer := srv.AddEvent(klaviyo.MetricOpenedEmail, a, cur2.Time.Add(time.Minute), nil)
	next, _ := read(cur2)
	if !slices.Equal(next, []string{late, newer}) {
		t.Errorf("next read %v, want [%s %s]", next, late, newer)
	}
}

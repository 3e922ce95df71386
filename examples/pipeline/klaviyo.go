package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/shopify"
)

// KlaviyoSync is the Klaviyo side of the day.
type KlaviyoSync struct {
	// Lists maps a segment (a Config.Segments name) to the Klaviyo list
	// that mirrors it, by list name; a missing list is created.
	Lists map[string]string
	// PointsPer is the order amount that earns one loyalty point (100
	// JPY); zero sends no loyalty events.
	PointsPer money.Amount
	// SegmentsProperty, when set, is the custom profile property written
	// with each member's segment names, update only: no profile is
	// created for it, and a property dropped from this configuration is
	// left alone in Klaviyo.
	SegmentsProperty string
}

// SyncKlaviyo (W3, W5, W6) mirrors each configured segment into its
// Klaviyo list (members missing from the list are imported into it,
// profiles created as needed; profiles in the list that left the segment
// are removed from it, never unsubscribed), collects the list members'
// email consent and the account's email activity of the last 90 days
// into the report, writes the members' segments
// as a profile property (update only), and records the day's loyalty
// points as events whose unique_id comes from the shop and the order, so
// a rerun records nothing twice.
func SyncKlaviyo(ctx context.Context, env *Env) (*StepReport, error) {
	rep := newStep("klaviyo", !env.Apply)
	start := time.Now()
	defer func() { rep.Elapsed = time.Since(start) }()
	if err := env.check(); err != nil {
		return nil, err
	}
	switch {
	case env.Klaviyo == nil:
		rep.Skipped = "no Klaviyo client"
		return rep, nil
	case env.KlaviyoSync == nil:
		rep.Skipped = "no Klaviyo sync configured"
		return rep, nil
	}
	byEmail, _, err := segmentTagsByEmail(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("klaviyo: %w", err)
	}
	var w klaviyoWork
	defer func() {
		rep.need(PlatformKlaviyo, w.klaviyo.minimum(klaviyoWindows(env.Klaviyo)))
		if w.exports > 0 {
			var n shopifyNeed
			n.export(w.exports)
			rep.need(PlatformShopify, n.minimum(env.Shopify))
		}
	}()
	for _, seg := range slices.Sorted(maps.Keys(env.KlaviyoSync.Lists)) {
		if err := syncList(ctx, env, seg, env.KlaviyoSync.Lists[seg], rep, &w); err != nil {
			return rep, fmt.Errorf("klaviyo: list for %q: %w", seg, err)
		}
	}
	if err := emailActivity(ctx, env, rep, &w); err != nil {
		return rep, fmt.Errorf("klaviyo: %w", err)
	}
	if err := newEvents(ctx, env, rep, &w); err != nil {
		return rep, fmt.Errorf("klaviyo: %w", err)
	}
	if p := env.KlaviyoSync.SegmentsProperty; p != "" && env.Apply {
		if err := writeSegmentsProperty(ctx, env, p, byEmail, rep, &w); err != nil {
			return rep, fmt.Errorf("klaviyo: %w", err)
		}
	}
	if !env.KlaviyoSync.PointsPer.IsZero() && env.Shopify != nil {
		if err := loyaltyPoints(ctx, env, rep, &w); err != nil {
			return rep, fmt.Errorf("klaviyo: %w", err)
		}
	}
	return rep, nil
}

// klaviyoWork is what SyncKlaviyo needs, filed by its parts as they go:
// the Klaviyo requests by endpoint, and the Shopify exports of the day's
// orders.
type klaviyoWork struct {
	klaviyo endpointNeed[klaviyo.Endpoint]
	exports int
}

// add files n requests to endpoint e (none when n is zero).
func (w *klaviyoWork) add(e klaviyo.Endpoint, n int) {
	if n <= 0 {
		return
	}
	if w.klaviyo == nil {
		w.klaviyo = endpointNeed[klaviyo.Endpoint]{}
	}
	w.klaviyo[e] += n
}

// imports files the requests of bulk import jobs for n profiles: a job
// of up to 10,000 is started, then read at least once.
func (w *klaviyoWork) imports(n int) {
	jobs := ceilDiv(n, klaviyo.MaxImportProfiles)
	w.add(klaviyo.EndpointImportProfiles, jobs)
	w.add(klaviyo.EndpointGetImportJob, jobs)
}

// collectConsent counts a list member's email consent (W5): who may be
// emailed, who never subscribed or unsubscribed, who is suppressed (a
// hard bounce, a spam complaint).
func collectConsent(rep *StepReport, p klaviyo.Profile) {
	if p.Subscriptions == nil {
		return
	}
	e := p.Subscriptions.Email
	switch {
	case e.CanReceive:
		rep.add("list members emailable", 1)
	case len(e.Suppressions) > 0:
		rep.add("list members suppressed", 1)
	default:
		rep.add("list members not subscribed", 1)
	}
}

// emailActivity reports the account's email activity over the last 90
// days (W5): received, opened, clicked and bounced.
func emailActivity(ctx context.Context, env *Env, rep *StepReport, w *klaviyoWork) error {
	act, err := env.Klaviyo.Metrics.EmailActivity(ctx, 90, env.dayEnd())
	if err != nil {
		return err
	}
	// The metrics are found by name in one page or more, then each
	// one's counts are asked for.
	w.add(klaviyo.EndpointGetMetrics, 1)
	w.add(klaviyo.EndpointQueryMetricAggregates, len(act))
	for _, name := range slices.Sorted(maps.Keys(act)) {
		total := 0.0
		for _, n := range act[name].Count {
			total += n
		}
		rep.add(strings.ToLower(name)+" (90 days)", int(total))
	}
	return nil
}

// eventsCursor is the state record of where the last incremental read
// of Klaviyo events stopped.
const eventsCursor = "klaviyo-events-cursor"

// newEvents reads the events recorded since the last run (W5's
// increments: run hourly, it reads an hour's worth), up to a few minutes
// ago, since Klaviyo records events asynchronously; the cursor is saved
// after the read, so a rerun reads nothing twice and a crash before the
// save reads the same events again.
func newEvents(ctx context.Context, env *Env, rep *StepReport, w *klaviyoWork) error {
	var cur klaviyo.EventCursor
	if _, err := env.State.load(eventsCursor, &cur); err != nil {
		return err
	}
	until := time.Now().Add(-5 * time.Minute)
	if end := env.dayEnd(); end.Before(until) {
		until = end
	}
	n := 0
	for e, err := range env.Klaviyo.Events.Since(ctx, klaviyo.EventQuery{After: cur, Until: until, PageSize: klaviyoEventPage}) {
		if err != nil {
			return err
		}
		cur = cur.Advance(e)
		n++
	}
	rep.add("new events read", n)
	w.add(klaviyo.EndpointGetEvents, pages(n, klaviyoEventPage))
	return env.State.save(eventsCursor, cur)
}

// klaviyoEventPage is the most events a page of Klaviyo's events holds.
const klaviyoEventPage = 1000

// syncList makes the list named listName hold exactly the members of
// segment seg (by email).
func syncList(ctx context.Context, env *Env, seg, listName string, rep *StepReport, w *klaviyoWork) error {
	emails := map[string]string{}
	if _, err := env.State.load(emailsRecord, &emails); err != nil {
		return err
	}
	snap, ok, err := env.State.Segments().Load(ctx, seg)
	if err != nil || !ok {
		return fmt.Errorf("no snapshot of segment %q (run Segments first): %v", seg, err)
	}
	want := map[string]bool{}
	for _, id := range snap.Members {
		if e, ok := emails[id.String()]; ok {
			want[strings.ToLower(e)] = true
		}
	}
	w.add(klaviyo.EndpointGetLists, 1)
	var list *klaviyo.List
	for l, err := range env.Klaviyo.Lists.All(ctx, klaviyo.Filter{klaviyo.Equals("name", listName)}) {
		if err != nil {
			return err
		}
		list = &l
		break
	}
	created := false
	if list == nil {
		if !env.Apply {
			rep.add("list members to add", len(want))
			return nil
		}
		if list, _, err = env.Klaviyo.Lists.Create(ctx, listName, klaviyo.SingleOptIn); err != nil {
			return err
		}
		rep.add("lists created", 1)
		w.add(klaviyo.EndpointCreateList, 1)
		created = true
	}
	var remove []string
	members := 0
	for p, err := range env.Klaviyo.Lists.Members(ctx, list.ID, klaviyo.MemberOptions{PageSize: 100, Subscriptions: true}) {
		if err != nil {
			return err
		}
		members++
		collectConsent(rep, p)
		e := strings.ToLower(p.Email)
		if want[e] {
			delete(want, e) // already in the list
		} else {
			remove = append(remove, p.ID)
		}
	}
	rep.add("list members to add", len(want))
	rep.add("list members to remove", len(remove))
	if !created {
		// Members are read 100 a page (Klaviyo's most); a new list
		// needs no reading.
		w.add(klaviyo.EndpointGetListProfiles, pages(members, 100))
	}
	if !env.Apply {
		return nil
	}
	w.imports(len(want))
	w.add(klaviyo.EndpointRemoveFromList, ceilDiv(len(remove), klaviyo.MaxListMembersPerRequest))
	var add []klaviyo.ProfileInput
	for _, e := range slices.Sorted(maps.Keys(want)) {
		add = append(add, klaviyo.ProfileInput{Email: e})
	}
	if len(add) > 0 {
		res, err := env.Klaviyo.Profiles.Import(ctx, add, klaviyo.ImportOptions{ListID: list.ID})
		countItems(rep, "imported", res)
		if err != nil {
			return err
		}
	}
	if len(remove) > 0 {
		res, err := env.Klaviyo.Lists.RemoveProfiles(ctx, list.ID, remove)
		countItems(rep, "removed", res)
		if err != nil {
			return err
		}
	}
	return nil
}

// propertiesRecord is the state record of the segment property values
// last written (or found to have no profile), by email.
const propertiesRecord = "klaviyo-segments-property"

// writeSegmentsProperty writes each member's segment names to prop, in an
// update-only import, for the emails whose value changed since it was
// last written, so a rerun writes nothing. An email without a profile is
// recorded too: it is tried again when its segments change.
func writeSegmentsProperty(ctx context.Context, env *Env, prop string, byEmail map[string][]string, rep *StepReport, w *klaviyoWork) error {
	names := map[string]string{}
	for _, d := range env.Segments {
		names[strings.ToLower(d.Tag)] = d.Name
	}
	written := map[string]string{}
	if _, err := env.State.load(propertiesRecord, &written); err != nil {
		return err
	}
	var in []klaviyo.ProfileInput
	var values []string
	for _, e := range slices.Sorted(maps.Keys(byEmail)) {
		var segs []string
		for _, t := range byEmail[e] {
			segs = append(segs, names[strings.ToLower(t)])
		}
		slices.Sort(segs)
		v := strings.Join(segs, "\x00")
		if w, ok := written[e]; ok && w == v {
			continue
		}
		in = append(in, klaviyo.ProfileInput{Email: e, Properties: map[string]any{prop: segs}})
		values = append(values, v)
	}
	rep.add("properties to write", len(in))
	if len(in) == 0 {
		return nil
	}
	res, err := env.Klaviyo.Profiles.Import(ctx, in, klaviyo.ImportOptions{UpdateOnly: true})
	var others []klaviyo.ItemResult
	for _, r := range res {
		noProfile := errors.Is(r.Err, klaviyo.ErrProfileNotFound)
		if r.Outcome == shopcrm.Applied || noProfile {
			written[strings.ToLower(in[r.Index].Email)] = values[r.Index]
		}
		if noProfile {
			rep.add("properties without a profile", 1)
		} else {
			others = append(others, r)
		}
	}
	countItems(rep, "properties", others)
	// Update only: the profiles are looked up (100 a page at most),
	// and the ones found imported.
	found := len(in) - rep.Counts["properties without a profile"]
	w.add(klaviyo.EndpointGetProfiles, max(1, ceilDiv(found, 100)))
	w.imports(found)
	if serr := env.State.save(propertiesRecord, written); serr != nil && err == nil {
		err = serr
	}
	return err
}

// loyaltyPoints sends a points-earned event for each order of the day.
func loyaltyPoints(ctx context.Context, env *Env, rep *StepReport, w *klaviyoWork) error {
	emails := map[string]string{}
	if _, err := env.State.load(emailsRecord, &emails); err != nil {
		return err
	}
	per := env.KlaviyoSync.PointsPer
	// The day's orders come from a bulk export: pages of orders cost up
	// to 1,000 points each, which at the Standard plan's 100 a second is
	// ten seconds a page for a busy day.
	opts := &shopify.ExportOptions{Since: env.dayStart(), Query: shopify.BulkQueryOptions{Wait: shopify.WaitOptions{Interval: env.BulkPoll}}}
	var events []klaviyo.Event
	w.exports++
	for eo, err := range env.Shopify.Bulk.ExportOrders(ctx, opts) {
		if err != nil {
			return err
		}
		o := &eo.Order
		if o.ProcessedAt.Before(env.dayStart()) || o.ProcessedAt.After(env.dayEnd()) {
			continue
		}
		email, ok := emails[o.CustomerID]
		if !ok || o.Test || o.CancelledAt != nil || o.TotalPrice.Currency != per.Currency || per.Minor <= 0 {
			continue
		}
		points := o.TotalPrice.Minor / per.Minor
		if points <= 0 {
			continue
		}
		l := klaviyo.Loyalty{Member: klaviyo.ProfileInput{Email: email}, Points: points, OrderID: env.Shop + "/" + o.ID, At: o.ProcessedAt}
		events = append(events, l.PointsEarned())
	}
	rep.add("loyalty events", len(events))
	// Klaviyo keeps one event per unique_id, so resending is harmless;
	// the record only saves the requests of a rerun.
	name := "klaviyo-loyalty-" + env.Day.String()
	sent := map[string]bool{}
	if _, err := env.State.load(name, &sent); err != nil {
		return err
	}
	events = slices.DeleteFunc(events, func(e klaviyo.Event) bool { return sent[e.UniqueID] })
	rep.add("loyalty events to send", len(events))
	if !env.Apply || len(events) == 0 {
		return nil
	}
	w.add(klaviyo.EndpointBulkCreateEvents, ceilDiv(len(events), klaviyo.MaxEventsPerRequest))
	res, err := env.Klaviyo.Events.BulkCreate(ctx, events)
	countItems(rep, "events", res)
	for _, r := range res {
		if r.Outcome == shopcrm.Applied {
			sent[events[r.Index].UniqueID] = true
		}
	}
	if serr := env.State.save(name, sent); serr != nil && err == nil {
		err = serr
	}
	return err
}

// countItems adds per-item outcomes to rep under name.
func countItems(rep *StepReport, name string, res []klaviyo.ItemResult) {
	for _, r := range res {
		rep.add(name+" "+r.Outcome.String(), 1)
		if r.Outcome != shopcrm.Applied && len(rep.Notes) < 5 {
			rep.notef("%s item %d: %s %v", name, r.Index, r.Outcome, r.Err)
		}
	}
}

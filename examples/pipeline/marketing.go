package pipeline

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/shopify"
)

// MarketingResult is what [Marketing] computed: the attribution of the
// day's orders and the engagements it sent.
type MarketingResult struct {
	*StepReport
	Attribution *attribution.Result
	Engagements []attribution.Engagement
}

// engagementRecord is the state record of engagements sent: one for all
// days, since Shopify keeps one engagement per (target, day) and the
// record is keyed so.
const engagementRecord = "engagements"

// Marketing (W4, W7) attributes the day's orders to the visits Shopify
// recorded in their customer journeys, rolls spend, messages and
// conversions up by channel, campaign, ad group and ad, and sends the
// app's own channels back to Shopify as daily marketing engagements. The
// engagement record is saved before every request, so a day is sent at
// most once however the runs end.
func Marketing(ctx context.Context, env *Env) (*MarketingResult, error) {
	res := &MarketingResult{StepReport: newStep("marketing", !env.Apply)}
	start := time.Now()
	defer func() { res.Elapsed = time.Since(start) }()
	if err := env.check(); err != nil {
		return nil, err
	}
	in := env.Marketing
	if in == nil {
		res.Skipped = "no marketing input configured"
		return res, nil
	}
	lookback := in.Lookback
	if lookback <= 0 {
		lookback = 30 * 24 * time.Hour
	}
	var tps []attribution.Touchpoint
	var convs []attribution.Conversion
	if env.Shopify != nil {
		var err error
		tps, convs, err = journeys(ctx, env, lookback)
		if err != nil {
			return nil, fmt.Errorf("marketing: %w", err)
		}
	}
	res.add("conversions", len(convs))
	res.add("touchpoints", len(tps))
	cfg := attribution.Config{Model: in.Model, Lookback: lookback, Location: env.loc(), From: env.Day, To: env.Day}
	out, err := cfg.Rollup(attribution.Input{
		Touchpoints: slices.Values(tps),
		Conversions: slices.Values(convs),
		Spend:       slices.Values(in.Spend),
		Messages:    slices.Values(in.Messages),
	})
	if err != nil {
		return nil, fmt.Errorf("marketing: %w", err)
	}
	res.Attribution = out
	res.Engagements, err = cfg.Engagements(out.Daily, attribution.EngagementOptions{
		Levels: []attribution.Level{attribution.ChannelLevel},
		ChannelHandle: func(ch string) (string, bool) {
			return in.ChannelHandle, slices.Contains(in.Channels, ch)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("marketing: %w", err)
	}
	res.add("engagements", len(res.Engagements))
	if env.Shopify == nil {
		return res, nil
	}
	sent := 0
	defer func() { res.need(PlatformShopify, marketingMinimum(env, res.Counts["activities upserted"], sent)) }()
	if !env.Apply {
		return res, nil
	}
	if err := upsertActivities(ctx, env, in.Activities, res.StepReport); err != nil {
		return nil, err
	}
	var rec shopify.EngagementRecord
	if _, err := env.State.load(engagementRecord, &rec); err != nil {
		return nil, err
	}
	save := func(r *shopify.EngagementRecord) error { return env.State.save(engagementRecord, r) }
	results, err := env.Shopify.Marketing.SendEngagements(ctx, &rec, res.Engagements, &shopify.SendOptions{Save: save})
	if serr := save(&rec); serr != nil && err == nil {
		err = serr
	}
	for _, r := range results {
		if wasSent(r.Err) {
			sent++
		}
		res.add("engagements "+r.Outcome.String(), 1)
		if r.Err != nil && r.Outcome != shopcrm.Applied {
			res.notef("%s %s: %v", r.Target, r.Day, r.Err)
		}
	}
	if err != nil {
		return res, fmt.Errorf("marketing: %w", err)
	}
	return res, nil
}

// marketingMinimum is what Marketing needs from Shopify: the export of
// the lookback's orders, each activity upserted and the engagements sent
// (aliased mutations, up to 1,000 points a request).
func marketingMinimum(env *Env, upserts, engagements int) Minimum {
	var n shopifyNeed
	n.export(1)
	n.add(upserts, upserts*shopifyMutationCost)
	n.add(ceilDiv(engagements*shopifyMutationCost, shopify.MaxQueryCost), engagements*shopifyMutationCost)
	return n.minimum(env.Shopify)
}

// wasSent reports whether an engagement with this result's error went
// out: not one the record held as sent or in doubt, nor an invalid one.
func wasSent(err error) bool {
	var ie *shopcrm.InputError
	return !errors.Is(err, shopify.ErrDaySent) && !errors.Is(err, shopify.ErrDayUnresolved) && !errors.As(err, &ie)
}

// activitiesRecord is the state record of the activities last upserted,
// by remote id.
const activitiesRecord = "activities"

// upsertActivities upserts the activities that changed since they were
// last upserted (all of them the first time), passing the previous
// version so that immutable fields are checked before sending.
func upsertActivities(ctx context.Context, env *Env, acts []shopify.Activity, rep *StepReport) error {
	prev := map[string]shopify.Activity{}
	if _, err := env.State.load(activitiesRecord, &prev); err != nil {
		return err
	}
	for _, a := range acts {
		old, seen := prev[a.RemoteID]
		if seen && reflect.DeepEqual(old, a) {
			continue
		}
		var p *shopify.Activity
		if seen {
			p = &old
		}
		if _, _, err := env.Shopify.Marketing.Upsert(ctx, a, p); err != nil {
			return fmt.Errorf("marketing: activity %s: %w", a.RemoteID, err)
		}
		prev[a.RemoteID] = a
		if err := env.State.save(activitiesRecord, prev); err != nil {
			return err
		}
		rep.add("activities upserted", 1)
	}
	return nil
}

// journeys exports the orders created since the lookback window began
// and returns the touchpoints of their journeys (sorted as Rollup needs)
// and the conversions of the day.
func journeys(ctx context.Context, env *Env, lookback time.Duration) ([]attribution.Touchpoint, []attribution.Conversion, error) {
	from := env.dayStart().Add(-lookback)
	opts := &shopify.ExportOptions{Since: from, Query: shopify.BulkQueryOptions{Wait: shopify.WaitOptions{Interval: env.BulkPoll}}}
	var tps []attribution.Touchpoint
	var convs []attribution.Conversion
	for o, err := range env.Shopify.Bulk.ExportOrders(ctx, opts) {
		if err != nil {
			return nil, nil, err
		}
		if o.Test || o.CancelledAt != nil || o.ProcessedAt.Before(from) || o.ProcessedAt.After(env.dayEnd()) {
			continue
		}
		tps = append(tps, o.Touchpoints()...)
		if !o.ProcessedAt.Before(env.dayStart()) {
			convs = append(convs, o.Conversion())
		}
	}
	attribution.SortTouchpoints(tps)
	tps = slices.CompactFunc(tps, func(a, b attribution.Touchpoint) bool {
		return a.Customer == b.Customer && a.Time.Equal(b.Time) && a.UTM == b.UTM
	})
	attribution.SortConversions(convs)
	return tps, convs, nil
}

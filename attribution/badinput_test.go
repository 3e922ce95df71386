package attribution_test

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/ratio"
)

func TestRollupRejects(t *testing.T) {
	conv := func(order, customer string, hour int, rev money.Amount) attribution.Conversion {
		return attribution.Conversion{Order: order, Customer: customer, Time: on(d1, hour), Revenue: rev}
	}
	tests := []struct {
		name  string
		in    attribution.Input
		input string
		index int64
		field string
		is    error
	}{
		{"touchpoint customers out of order",
			attribution.Input{Touchpoints: seq(tp("b", on(d1, 1), attribution.AdClick, kw1), tp("a", on(d1, 2), attribution.AdClick, kw1))},
			"touchpoint", 1, "Customer", attribution.ErrOutOfOrder},
		{"touchpoint times out of order",
			attribution.Input{Touchpoints: seq(tp("a", on(d1, 2), attribution.AdClick, kw1), tp("a", on(d1, 1), attribution.AdClick, kw1))},
			"touchpoint", 1, "Time", attribution.ErrOutOfOrder},
		{"conversion customers out of order",
			attribution.Input{Conversions: seq(conv("1", "b", 1, usd("1.00")), conv("2", "a", 2, usd("1.00")))},
			"conversion", 1, "Customer", attribution.ErrOutOfOrder},
		{"conversion times out of order",
			attribution.Input{Conversions: seq(conv("1", "a", 2, usd("1.00")), conv("2", "a", 1, usd("1.00")))},
			"conversion", 1, "Time", attribution.ErrOutOfOrder},
		{"conversion without order id",
			attribution.Input{Conversions: seq(conv("", "a", 1, usd("1.00")))},
			"conversion", 0, "Order", attribution.ErrMissing},
		{"negative revenue",
			attribution.Input{Conversions: seq(conv("1", "a", 1, usd("-0.01")))},
			"conversion", 0, "Revenue", attribution.ErrNegative},
		{"same order twice, different content",
			attribution.Input{Conversions: seq(conv("1", "a", 1, usd("1.00")), conv("1", "a", 2, usd("1.00")))},
			"conversion", 1, "Order", attribution.ErrDuplicate},
		{"touchpoint without channel",
			attribution.Input{Touchpoints: seq(tp("a", on(d1, 1), attribution.AdClick, attribution.Key{}))},
			"touchpoint", 0, "Key.Channel", attribution.ErrMissing},
		{"touchpoint without time",
			attribution.Input{Touchpoints: seq(attribution.Touchpoint{Customer: "a", Action: attribution.AdClick, Key: kw1})},
			"touchpoint", 0, "Time", attribution.ErrMissing},
		{"touchpoint of no action",
			attribution.Input{Touchpoints: seq(attribution.Touchpoint{Customer: "a", Time: on(d1, 1), Key: kw1})},
			"touchpoint", 0, "Action", attribution.ErrInvalid},
		{"spend without a day",
			attribution.Input{Spend: seq(attribution.Spend{Key: kw1, Impressions: 1})},
			"spend", 0, "Day", attribution.ErrMissing},
		{"messages on a day out of range",
			attribution.Input{Messages: seq(attribution.Messages{Day: -5, Key: kw1, Sends: 1})},
			"messages", 0, "Day", attribution.ErrInvalid},
		{"negative impressions",
			attribution.Input{Spend: seq(attribution.Spend{Day: d1, Key: kw1, Impressions: -1})},
			"spend", 0, "Impressions", attribution.ErrNegative},
		{"negative spend",
			attribution.Input{Spend: seq(attribution.Spend{Day: d1, Key: kw1, Amount: usd("-1.00")})},
			"spend", 0, "Amount", attribution.ErrNegative},
		{"spend row without channel",
			attribution.Input{Spend: seq(attribution.Spend{Day: d1, Key: attribution.Key{Campaign: "x"}})},
			"spend", 0, "Key.Channel", attribution.ErrMissing},
		{"two different spend rows for one key and day",
			attribution.Input{Spend: seq(attribution.Spend{Day: d1, Key: kw1, Amount: usd("1.00")}, attribution.Spend{Day: d1, Key: kw1, Amount: usd("2.00")})},
			"spend", 1, "Key", attribution.ErrDuplicate},
		{"negative bounces",
			attribution.Input{Messages: seq(attribution.Messages{Day: d1, Key: email2, Bounces: -3})},
			"messages", 0, "Bounces", attribution.ErrNegative},
		{"two different message rows for one key and day",
			attribution.Input{Messages: seq(attribution.Messages{Day: d1, Key: email2, Sends: 1}, attribution.Messages{Day: d1, Key: email2, Sends: 2})},
			"messages", 1, "Key", attribution.ErrDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := attribution.Config{}.Rollup(tt.in)
			var ie *attribution.InputError
			if !errors.As(err, &ie) || ie.Input != tt.input || ie.Index != tt.index || ie.Field != tt.field || !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %s %d %s: %v", err, tt.input, tt.index, tt.field, tt.is)
			}
			if res != nil {
				t.Error("a result came back with the error")
			}
		})
	}
	var unknown *money.UnknownCurrencyError
	_, err := attribution.Config{}.Rollup(attribution.Input{Conversions: seq(conv("1", "a", 1, money.Amount{Minor: 100, Currency: "XYZ"}))})
	if !errors.As(err, &unknown) {
		t.Errorf("unknown revenue currency: err = %v, want *money.UnknownCurrencyError", err)
	}
	_, err = attribution.Config{}.Rollup(attribution.Input{Spend: seq(attribution.Spend{Day: d1, Key: kw1, Amount: money.Amount{Minor: 100}})})
	if !errors.As(err, &unknown) {
		t.Errorf("spend without currency: err = %v, want *money.UnknownCurrencyError", err)
	}
}

// A bad input stops the rollup at once: the stream is not read further.
func TestRollupStopsReading(t *testing.T) {
	read := 0
	var stream iter.Seq[attribution.Touchpoint] = func(yield func(attribution.Touchpoint) bool) {
		for _, c := range []string{"b", "a", "c", "d"} {
			read++
			if !yield(tp(c, on(d1, 1), attribution.AdClick, kw1)) {
				return
			}
		}
	}
	if _, err := (attribution.Config{}).Rollup(attribution.Input{Touchpoints: stream}); !errors.Is(err, attribution.ErrOutOfOrder) {
		t.Fatalf("err = %v, want ErrOutOfOrder", err)
	}
	if read != 2 {
		t.Errorf("read %d touchpoints, want 2", read)
	}
}

func TestRollupDefinedCases(t *testing.T) {
	t.Run("exact duplicates are dropped and counted", func(t *testing.T) {
		click := tp("a", on(d1, 1), attribution.AdClick, kw1)
		imp := tp("a", on(d1, 1), attribution.AdImpression, kw1)
		o := attribution.Conversion{Order: "1", Customer: "a", Time: on(d1, 2), Revenue: usd("10.00")}
		row := attribution.Spend{Day: d1, Key: promo, Amount: usd("3.00"), Impressions: 30}
		msg := attribution.Messages{Day: d1, Key: email2, Sends: 5}
		res := rollup(t, attribution.Config{Model: attribution.Linear}, attribution.Input{
			Touchpoints: seq(click, imp, click, imp),
			Conversions: seq(o, o),
			Spend:       seq(row, row),
			Messages:    seq(msg, msg),
		})
		got := find(t, res.Period, attribution.AdLevel, kw1)
		if diff := cmp.Diff(m(1, 1, "", attribution.One, 0, "10.00"), got.Measures); diff != "" {
			t.Errorf("kw1 mismatch (-want +got):\n%s", diff)
		}
		if got := find(t, res.Period, attribution.CampaignLevel, promo).Impressions; got != 30 {
			t.Errorf("promo impressions = %d, want 30", got)
		}
		if got := find(t, res.Period, attribution.AdLevel, email2).Sends; got != 5 {
			t.Errorf("email-2 sends = %d, want 5", got)
		}
		if res.Stats.Duplicates != 5 {
			t.Errorf("Duplicates = %d, want 5", res.Stats.Duplicates)
		}
	})
	t.Run("touchpoints after a conversion count toward the next one only", func(t *testing.T) {
		res := rollup(t, attribution.Config{}, attribution.Input{
			Touchpoints: seq(
				tp("a", on(d1, 1), attribution.AdClick, kw1),
				tp("a", on(d1, 3), attribution.AdClick, video),
			),
			Conversions: seq(
				attribution.Conversion{Order: "1", Customer: "a", Time: on(d1, 2), Revenue: usd("10.00")},
				attribution.Conversion{Order: "2", Customer: "a", Time: on(d1, 4), Revenue: usd("20.00")},
			),
		})
		if got := find(t, res.Period, attribution.AdLevel, kw1).Revenue; !got.Equal(totals(usd("10.00"))) {
			t.Errorf("kw1 revenue = %v, want 10.00 USD", got)
		}
		if got := find(t, res.Period, attribution.AdLevel, video).Revenue; !got.Equal(totals(usd("20.00"))) {
			t.Errorf("video revenue = %v, want 20.00 USD", got)
		}
	})
	t.Run("spend on a day with no activity", func(t *testing.T) {
		res := rollup(t, attribution.Config{}, attribution.Input{Spend: seq(attribution.Spend{Day: d2, Key: video, Amount: usd("12.00")})})
		r := find(t, res.Period, attribution.AdLevel, video)
		want := attribution.KPIs{
			CTR: ratio.Ratio{}, ConversionRate: ratio.Ratio{}, OpenRate: ratio.Ratio{}, ClickRate: ratio.Ratio{}, BounceRate: ratio.Ratio{},
			CPC: attribution.Cost{}, CPM: attribution.Cost{}, CPA: attribution.Cost{},
			ROAS: []attribution.CurrencyRatio{{Currency: "USD", Ratio: ratio.Of(0, 1200)}},
		}
		if diff := cmp.Diff(want, r.KPIs()); diff != "" {
			t.Errorf("KPIs mismatch (-want +got):\n%s", diff)
		}
		if v, ok := r.ROAS()[0].Ratio.Float(); !ok || v != 0 {
			t.Errorf("ROAS = %v, %v; want 0, defined", v, ok)
		}
	})
	t.Run("anonymous touchpoints count but earn nothing", func(t *testing.T) {
		res := rollup(t, attribution.Config{}, attribution.Input{
			Touchpoints: seq(tp("", on(d1, 1), attribution.AdClick, kw1)),
			Conversions: seq(attribution.Conversion{Order: "1", Time: on(d1, 2), Revenue: usd("10.00")}),
		})
		if got := find(t, res.Period, attribution.AdLevel, kw1); got.Clicks != 1 || got.Conversions != 0 {
			t.Errorf("kw1 clicks %d conversions %v, want 1 and 0", got.Clicks, got.Conversions)
		}
		want := attribution.Unattributed{Conversions: 1, NoCustomer: 1, Revenue: totals(usd("10.00"))}
		if diff := cmp.Diff(want, res.Unattributed); diff != "" {
			t.Errorf("unattributed mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("UTM fills in a missing key", func(t *testing.T) {
		res := rollup(t, attribution.Config{}, attribution.Input{
			Touchpoints: seq(attribution.Touchpoint{Customer: "a", Time: on(d1, 1), Action: attribution.AdClick,
				UTM: attribution.UTM{Source: "newsletter", Medium: "email", Campaign: "spring"}}),
		})
		find(t, res.Period, attribution.CampaignLevel, attribution.Key{Channel: "newsletter", Campaign: "spring"})
	})
	t.Run("empty input", func(t *testing.T) {
		res := rollup(t, attribution.Config{}, attribution.Input{})
		if len(res.Daily) != 0 || len(res.Period) != 0 || res.Stats != (attribution.Stats{}) {
			t.Errorf("empty input gave %+v", res)
		}
	})
}

// Large groups at one instant (times truncated to the day, bots) and many
// guest orders keep duplicate checks exact and linear.
func TestRollupLargeGroups(t *testing.T) {
	midnight := d1.Start(nil)
	keys := []attribution.Key{kw1, kw2, gen1, video, promo, email2}
	var tps []attribution.Touchpoint
	for i := range 20000 {
		tps = append(tps, tp("", midnight, attribution.AdImpression, kw1)) // anonymous: all count
		if i < 60 {
			k := keys[i%len(keys)]
			k.Ad = fmt.Sprint("ad", i%30) // 30 distinct keys, each twice
			tps = append(tps, tp("bot", midnight, attribution.AdImpression, k))
		}
	}
	attribution.SortTouchpoints(tps)
	var convs []attribution.Conversion
	for i := range 20000 {
		convs = append(convs, attribution.Conversion{Order: fmt.Sprint(i), Time: midnight.Add(time.Duration(i) * time.Second), Revenue: usd("1.00")})
	}
	convs = append(convs, convs[19999]) // an exact repeat, far from its twin in the index
	res := rollup(t, attribution.Config{}, attribution.Input{Touchpoints: slices.Values(tps), Conversions: slices.Values(convs)})
	if got := res.Period[0].Impressions; got != 20030 {
		t.Errorf("impressions = %d, want 20,000 anonymous + 30 distinct of the bot", got)
	}
	want := attribution.Unattributed{Conversions: 20000, NoCustomer: 20000, Revenue: totals(usd("20000.00"))}
	if diff := cmp.Diff(want, res.Unattributed); diff != "" {
		t.Errorf("unattributed mismatch (-want +got):\n%s", diff)
	}
	if res.Stats.Duplicates != 31 {
		t.Errorf("Duplicates = %d, want 31", res.Stats.Duplicates)
	}

	conflict := slices.Clone(convs[:20000])
	conflict = append(conflict, attribution.Conversion{Order: "3", Time: midnight.Add(6 * time.Hour), Revenue: usd("2.00")})
	_, err := attribution.Config{}.Rollup(attribution.Input{Conversions: slices.Values(conflict)})
	var ie *attribution.InputError
	if !errors.As(err, &ie) || ie.Index != 20000 || ie.Field != "Order" || !errors.Is(err, attribution.ErrDuplicate) {
		t.Errorf("conflicting guest order: err = %v", err)
	}
}

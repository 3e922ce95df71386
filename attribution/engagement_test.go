package attribution_test

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/money"
)

func ptr[T any](v T) *T { return &v }

func TestEngagements(t *testing.T) {
	cfg := attribution.Config{Model: attribution.Linear, Location: time.FixedZone("EST", -5*60*60)}
	// The rollup's days are UTC days here (times are placed by on());
	// the location only sets the offset the rows declare.
	res := rollup(t, attribution.Config{Model: attribution.Linear}, tiers())
	got, err := cfg.Engagements(res.Daily, attribution.EngagementOptions{})
	if err != nil {
		t.Fatal(err)
	}
	half := attribution.One / 2
	want := []attribution.Engagement{
		{ChannelHandle: "google", Level: attribution.ChannelLevel, Key: attribution.Key{Channel: "google"},
			OccurredOn: d1, UTCOffset: "-05:00", ImpressionsCount: 1750, ClicksCount: 65,
			AdSpend: ptr(usd("17.50")), Sales: ptr(usd("15.00")), Orders: ptr(half), FirstTimeCustomers: ptr(half), ReturningCustomers: ptr(attribution.Credit(0))},
		{RemoteID: "welcome", Level: attribution.CampaignLevel, Key: attribution.Key{Channel: "klaviyo", Campaign: "welcome"},
			OccurredOn: d1, UTCOffset: "-05:00", ImpressionsCount: 96, ViewsCount: 40, ClicksCount: 8, SendsCount: 100, FailsCount: 4, UnsubscribesCount: 1, ComplaintsCount: 1,
			Sales: ptr(usd("15.00")), Orders: ptr(half), FirstTimeCustomers: ptr(half), ReturningCustomers: ptr(attribution.Credit(0))},
		{RemoteID: "video", Level: attribution.AdLevel, Key: video,
			OccurredOn: d2, UTCOffset: "-05:00", ImpressionsCount: 1, ClicksCount: 1,
			Sales: ptr(usd("10.01")), Orders: ptr(half), FirstTimeCustomers: ptr(attribution.Credit(0)), ReturningCustomers: ptr(half)},
	}
	for _, w := range want {
		i := slices.IndexFunc(got, func(g attribution.Engagement) bool {
			return g.Level == w.Level && g.Key == w.Key && g.OccurredOn == w.OccurredOn
		})
		if i < 0 {
			t.Errorf("no engagement for %v %v on %v", w.Level, w.Key, w.OccurredOn)
			continue
		}
		if diff := cmp.Diff(w, got[i]); diff != "" {
			t.Errorf("engagement mismatch (-want +got):\n%s", diff)
		}
	}
	// Daily rows below the total, minus the direct channel's.
	wantN := 0
	for _, r := range res.Daily {
		if r.Level != attribution.TotalLevel && r.Key != direct {
			wantN++
		}
	}
	if len(got) != wantN {
		t.Errorf("%d engagements, want %d", len(got), wantN)
	}

	only, err := cfg.Engagements(res.Daily, attribution.EngagementOptions{
		Levels:          []attribution.Level{attribution.AdLevel},
		RemoteID:        func(l attribution.Level, k attribution.Key) (string, bool) { return "ads/" + k.Ad, k.Channel == "meta" },
		OmitConversions: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantOnly := []attribution.Engagement{{RemoteID: "ads/video", Level: attribution.AdLevel, Key: video, OccurredOn: d2, UTCOffset: "-05:00", ImpressionsCount: 1, ClicksCount: 1}}
	if diff := cmp.Diff(wantOnly, only); diff != "" {
		t.Errorf("filtered engagements mismatch (-want +got):\n%s", diff)
	}
}

// marketingEngagementInput lists the fields of MarketingEngagementInput in
// the Admin API 2025-01 schema.
var marketingEngagementInput = []string{
	"occurredOn", "impressionsCount", "viewsCount", "clicksCount", "sharesCount", "favoritesCount", "commentsCount",
	"unsubscribesCount", "complaintsCount", "failsCount", "sendsCount", "uniqueViewsCount", "uniqueClicksCount",
	"adSpend", "isCumulative", "utcOffset", "sales", "sessionsCount", "orders", "firstTimeCustomers", "returningCustomers",
}

func TestEngagementJSONIsTheShopifyInput(t *testing.T) {
	g := attribution.Engagement{
		RemoteID: "123", OccurredOn: d1, UTCOffset: "+09:00", ImpressionsCount: 7, ClicksCount: 2,
		AdSpend: ptr(money.MustParse("1200", "JPY")), Sales: ptr(money.MustParse("5000", "JPY")),
		Orders: ptr(attribution.Credit(1500000)), FirstTimeCustomers: ptr(attribution.One), ReturningCustomers: ptr(attribution.Credit(500000)),
	}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for f := range fields {
		if !slices.Contains(marketingEngagementInput, f) {
			t.Errorf("field %q is not in MarketingEngagementInput", f)
		}
	}
	want := map[string]any{
		"occurredOn": "2025-03-09", "utcOffset": "+09:00", "isCumulative": false,
		"impressionsCount": 7.0, "viewsCount": 0.0, "clicksCount": 2.0, "sendsCount": 0.0, "failsCount": 0.0, "unsubscribesCount": 0.0, "complaintsCount": 0.0,
		"adSpend": map[string]any{"amount": "1200", "currencyCode": "JPY"},
		"sales":   map[string]any{"amount": "5000", "currencyCode": "JPY"},
		"orders":  "1.5", "firstTimeCustomers": "1", "returningCustomers": "0.5",
	}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("JSON mismatch (-want +got):\n%s", diff)
	}
}

func TestEngagementErrors(t *testing.T) {
	row := func(m attribution.Measures) []attribution.Row {
		return []attribution.Row{{Level: attribution.CampaignLevel, Key: promo, From: d1, To: d1, Measures: m}}
	}
	tests := []struct {
		name  string
		rows  []attribution.Row
		opts  attribution.EngagementOptions
		field string
		is    error
	}{
		{"a period row", []attribution.Row{{Level: attribution.CampaignLevel, Key: promo, From: d1, To: d2}}, attribution.EngagementOptions{}, "To", attribution.ErrInvalid},
		{"too many impressions for a GraphQL Int", row(attribution.Measures{Impressions: math.MaxInt32 + 1}), attribution.EngagementOptions{}, "impressionsCount", attribution.ErrOverflow},
		{"delivered plus impressions too many", row(attribution.Measures{Impressions: math.MaxInt32, Sends: 1}), attribution.EngagementOptions{}, "impressionsCount", attribution.ErrOverflow},
		{"empty remote id", row(attribution.Measures{}), attribution.EngagementOptions{RemoteID: func(attribution.Level, attribution.Key) (string, bool) { return "", true }}, "remoteId", attribution.ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := attribution.Config{}.Engagements(tt.rows, tt.opts)
			var ie *attribution.InputError
			if !errors.As(err, &ie) || ie.Input != "row" || ie.Field != tt.field || !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want row %s: %v", err, tt.field, tt.is)
			}
		})
	}
	var mismatch *money.CurrencyMismatchError
	for field, m := range map[string]attribution.Measures{
		"adSpend": {Spend: totals(usd("1.00"), money.MustParse("1.00", "EUR"))},
		"sales":   {Revenue: totals(usd("1.00"), money.MustParse("100", "JPY"))},
	} {
		_, err := attribution.Config{}.Engagements(row(m), attribution.EngagementOptions{})
		var ie *attribution.InputError
		if !errors.As(err, &ie) || ie.Field != field || !errors.As(err, &mismatch) {
			t.Errorf("two currencies in %s: err = %v, want *money.CurrencyMismatchError", field, err)
		}
	}
	var ce *attribution.ConfigError
	if _, err := (attribution.Config{}).Engagements(nil, attribution.EngagementOptions{Levels: []attribution.Level{attribution.TotalLevel}}); !errors.As(err, &ce) {
		t.Errorf("total level: err = %v, want *ConfigError", err)
	}
}

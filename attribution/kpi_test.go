package attribution_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/ratio"
)

func TestKPIs(t *testing.T) {
	cost := func(as ...money.Amount) attribution.Cost { return attribution.Cost{Amounts: as, Defined: true} }
	r := ratio.Of
	tests := []struct {
		name string
		m    attribution.Measures
		want attribution.KPIs
	}{
		{"everything zero is undefined, never 0", attribution.Measures{}, attribution.KPIs{ROAS: []attribution.CurrencyRatio{}}},
		{"ads", attribution.Measures{Impressions: 2000, Clicks: 50, Spend: totals(usd("25.00")), Conversions: 2 * attribution.One, Revenue: totals(usd("100.00"))},
			attribution.KPIs{
				CTR: r(50, 2000), ConversionRate: r(2, 50), CPC: cost(usd("0.50")), CPM: cost(usd("12.50")), CPA: cost(usd("12.50")),
				ROAS: []attribution.CurrencyRatio{{Currency: "USD", Ratio: r(10000, 2500)}},
			}},
		// 0.05 / 2 = 0.025 → 0.02 and 0.15 / 2 = 0.075 → 0.08: half to even.
		{"CPC rounds half to even, down", attribution.Measures{Clicks: 2, Spend: totals(usd("0.05"))},
			attribution.KPIs{CTR: r(2, 0), ConversionRate: r(0, 2), CPC: cost(usd("0.02")), ROAS: []attribution.CurrencyRatio{{Currency: "USD", Ratio: r(0, 5)}}}},
		{"CPC rounds half to even, up", attribution.Measures{Clicks: 2, Spend: totals(usd("0.15"))},
			attribution.KPIs{CTR: r(2, 0), ConversionRate: r(0, 2), CPC: cost(usd("0.08")), ROAS: []attribution.CurrencyRatio{{Currency: "USD", Ratio: r(0, 15)}}}},
		{"CPM of a few impressions", attribution.Measures{Impressions: 3, Spend: totals(money.MustParse("1", "JPY"))},
			attribution.KPIs{CTR: r(0, 3), CPM: cost(money.MustParse("333", "JPY")), ROAS: []attribution.CurrencyRatio{{Currency: "JPY", Ratio: r(0, 1)}}}},
		{"CPA of fractional conversions", attribution.Measures{Spend: totals(usd("10.00")), Conversions: 2500000},
			attribution.KPIs{ConversionRate: r(5, 0), CPA: cost(usd("4.00")), ROAS: []attribution.CurrencyRatio{{Currency: "USD", Ratio: r(0, 1000)}}}},
		{"no spend but clicks: the cost is 0, not undefined", attribution.Measures{Clicks: 4},
			attribution.KPIs{CTR: r(4, 0), ConversionRate: r(0, 4), CPC: cost(), ROAS: []attribution.CurrencyRatio{}}},
		{"email", attribution.Measures{Sends: 100, Bounces: 4, Opens: 48, MessageClicks: 12, Conversions: 3 * attribution.One},
			attribution.KPIs{ConversionRate: r(3, 12), OpenRate: r(48, 96), ClickRate: r(12, 96), BounceRate: r(4, 100), CPA: cost(), ROAS: []attribution.CurrencyRatio{}}},
		{"everything bounced", attribution.Measures{Sends: 5, Bounces: 5, Opens: 1},
			attribution.KPIs{OpenRate: r(1, 0), ClickRate: r(0, 0), BounceRate: r(5, 5), ROAS: []attribution.CurrencyRatio{}}},
		{"revenue in a currency with no spend", attribution.Measures{Spend: totals(usd("5.00")), Revenue: totals(money.MustParse("900", "JPY"), usd("20.00"))},
			attribution.KPIs{ROAS: []attribution.CurrencyRatio{{Currency: "JPY", Ratio: r(900, 0)}, {Currency: "USD", Ratio: r(2000, 500)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.m.KPIs()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("KPIs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCostText(t *testing.T) {
	for _, tt := range []struct {
		c    attribution.Cost
		want string
	}{
		{attribution.Cost{}, "undefined"},
		{attribution.Cost{Defined: true}, "0"},
		{attribution.Cost{Defined: true, Amounts: []money.Amount{money.MustParse("0.500", "KWD"), usd("1.25")}}, "0.500 KWD + 1.25 USD"},
	} {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.c, got, tt.want)
		}
	}
}

// No KPI of any row ever prints NaN or Inf, in either report format.
func TestReportsNeverPrintNaN(t *testing.T) {
	res := rollup(t, attribution.Config{}, tiers())
	var b strings.Builder
	if err := attribution.WriteTable(&b, res.Daily); err != nil {
		t.Fatal(err)
	}
	if err := attribution.WriteCSV(&b, res.Daily); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Contains(s, "NaN") || strings.Contains(s, "Inf") || !strings.Contains(s, "undefined") {
		t.Errorf("reports print NaN or Inf, or no undefined at all:\n%s", s)
	}
}

package attribution_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/ratio"
)

var (
	d1 = calendar.NewDate(2025, time.March, 9)
	d2 = calendar.NewDate(2025, time.March, 10)
)

func on(d calendar.Date, hour int) time.Time {
	return d.Start(nil).Add(time.Duration(hour) * time.Hour)
}

// tiers is the hand-computed rollup over the seed's tiers: Google reports
// spend per ad, Meta once per campaign only, Klaviyo per email; touchpoints
// fill in what no row covers.
func tiers() attribution.Input {
	return attribution.Input{
		Spend: seq(
			attribution.Spend{Day: d1, Key: kw1, Amount: usd("10.00"), Impressions: 1000, Clicks: 50},
			attribution.Spend{Day: d1, Key: kw2, Amount: usd("5.00"), Impressions: 500, Clicks: 10},
			attribution.Spend{Day: d1, Key: gen1, Amount: usd("2.50"), Impressions: 250, Clicks: 5},
			attribution.Spend{Day: d2, Key: kw1, Amount: usd("4.00"), Impressions: 400, Clicks: 20},
			attribution.Spend{Day: d1, Key: promo, Amount: usd("7.00"), Impressions: 700, Clicks: 7},
		),
		Messages: seq(attribution.Messages{Day: d1, Key: email2, Sends: 100, Opens: 40, Clicks: 8, Bounces: 4, Unsubscribes: 1, Complaints: 1}),
		Touchpoints: seq(
			tp("a", on(d1, 8), attribution.AdClick, kw1),         // google has rows on d1: not counted
			tp("a", on(d1, 9), attribution.EmailClicked, email2), // klaviyo has rows on d1: not counted
			tp("b", on(d1, 7), attribution.AdImpression, video),  // meta has a row on d1: not counted
			tp("b", on(d2, 7), attribution.AdImpression, video),  // meta has none on d2: counted
			tp("b", on(d2, 8), attribution.AdClick, video),       // counted
			tp("b", on(d2, 9), attribution.AdClick, gen1),        // google has rows on d2: not counted
			attribution.Touchpoint{Customer: "c", Time: on(d1, 11), Action: attribution.DirectVisit},
		),
		Conversions: seq(
			attribution.Conversion{Order: "5", Time: on(d2, 14), Revenue: usd("2.00")}, // guest
			attribution.Conversion{Order: "1", Customer: "a", Time: on(d1, 10), Revenue: usd("30.00"), FirstTime: true},
			attribution.Conversion{Order: "2", Customer: "b", Time: on(d2, 10), Revenue: usd("20.01")},
			attribution.Conversion{Order: "3", Customer: "c", Time: on(d1, 12), Revenue: usd("10.00")},
			attribution.Conversion{Order: "4", Customer: "d", Time: on(d2, 13), Revenue: usd("5.00")}, // no touchpoints
		),
	}
}

// m builds measures tersely: ad (impressions, clicks, spend), then
// conversions (credit, first-time credit, revenue); returning is the rest.
func m(impr, clicks int64, spend string, conv, first attribution.Credit, rev string) attribution.Measures {
	x := attribution.Measures{Impressions: impr, Clicks: clicks, Conversions: conv, FirstTime: first, Returning: conv - first}
	if spend != "" {
		x.Spend = totals(usd(spend))
	}
	if rev != "" {
		x.Revenue = totals(usd(rev))
	}
	return x
}

// withMessages adds the Klaviyo row's counts.
func withMessages(x attribution.Measures) attribution.Measures {
	x.Sends, x.Opens, x.MessageClicks, x.Bounces, x.Unsubscribes, x.Complaints = 100, 40, 8, 4, 1, 1
	return x
}

func TestRollupTiers(t *testing.T) {
	res := rollup(t, attribution.Config{Model: attribution.Linear}, tiers())
	const half = attribution.One / 2
	row := func(l attribution.Level, k attribution.Key, x attribution.Measures) attribution.Row {
		k, _ = k.At(l)
		return attribution.Row{Level: l, Key: k, From: d1, To: d2, Measures: x}
	}
	google := m(2150, 85, "21.50", attribution.One, half, "25.00")
	klaviyo := withMessages(m(0, 0, "", half, half, "15.00"))
	want := []attribution.Row{
		row(attribution.TotalLevel, attribution.Key{}, withMessages(m(2851, 93, "28.50", 3*attribution.One, attribution.One, "60.01"))),
		row(attribution.ChannelLevel, direct, m(0, 0, "", attribution.One, 0, "10.00")),
		row(attribution.ChannelLevel, kw1, google),
		row(attribution.ChannelLevel, email2, klaviyo),
		row(attribution.ChannelLevel, video, m(701, 8, "7.00", half, 0, "10.01")),
		row(attribution.CampaignLevel, kw1, google),
		row(attribution.CampaignLevel, email2, klaviyo),
		row(attribution.CampaignLevel, promo, m(700, 7, "7.00", 0, 0, "")),
		row(attribution.CampaignLevel, video, m(1, 1, "", half, 0, "10.01")),
		row(attribution.AdGroupLevel, kw1, m(1900, 80, "19.00", half, half, "15.00")),
		row(attribution.AdGroupLevel, gen1, m(250, 5, "2.50", half, 0, "10.00")),
		row(attribution.AdGroupLevel, video, m(1, 1, "", half, 0, "10.01")),
		row(attribution.AdLevel, kw1, m(1400, 70, "14.00", half, half, "15.00")),
		row(attribution.AdLevel, kw2, m(500, 10, "5.00", 0, 0, "")),
		row(attribution.AdLevel, gen1, m(250, 5, "2.50", half, 0, "10.00")),
		row(attribution.AdLevel, email2, klaviyo),
		row(attribution.AdLevel, video, m(1, 1, "", half, 0, "10.01")),
	}
	if diff := cmp.Diff(want, res.Period); diff != "" {
		t.Errorf("period rows mismatch (-want +got):\n%s", diff)
	}

	daily := func(d calendar.Date, l attribution.Level, k attribution.Key, x attribution.Measures) attribution.Row {
		k, _ = k.At(l)
		return attribution.Row{Level: l, Key: k, From: d, To: d, Measures: x}
	}
	wantDaily := []attribution.Row{
		daily(d1, attribution.TotalLevel, attribution.Key{}, withMessages(m(2450, 72, "24.50", 2*attribution.One, attribution.One, "40.00"))),
		daily(d2, attribution.TotalLevel, attribution.Key{}, m(401, 21, "4.00", attribution.One, 0, "20.01")),
		daily(d1, attribution.ChannelLevel, direct, m(0, 0, "", attribution.One, 0, "10.00")),
		daily(d1, attribution.ChannelLevel, kw1, m(1750, 65, "17.50", half, half, "15.00")),
		daily(d2, attribution.ChannelLevel, kw1, m(400, 20, "4.00", half, 0, "10.00")),
	}
	if diff := cmp.Diff(wantDaily, res.Daily[:len(wantDaily)]); diff != "" {
		t.Errorf("daily rows mismatch (-want +got):\n%s", diff)
	}
	if n := countRows(res.Daily, attribution.AdLevel); n != 7 {
		t.Errorf("%d daily ad rows, want 7 (kw1 twice, kw2, kw3, email-2, video on d2 and none for its superseded d1)", n)
	}

	wantUn := attribution.Unattributed{Conversions: 2, NoCustomer: 1, Revenue: totals(usd("7.00"))}
	if diff := cmp.Diff(wantUn, res.Unattributed); diff != "" {
		t.Errorf("unattributed mismatch (-want +got):\n%s", diff)
	}
	wantStats := attribution.Stats{Touchpoints: 7, Conversions: 5, SpendRows: 5, MessageRows: 1, Attributed: 3, Superseded: 4}
	if diff := cmp.Diff(wantStats, res.Stats); diff != "" {
		t.Errorf("stats mismatch (-want +got):\n%s", diff)
	}
	if res.From != d1 || res.To != d2 || res.Model != attribution.Linear {
		t.Errorf("period %v..%v model %v, want %v..%v linear", res.From, res.To, res.Model, d1, d2)
	}
}

func countRows(rows []attribution.Row, l attribution.Level) int {
	n := 0
	for _, r := range rows {
		if r.Level == l {
			n++
		}
	}
	return n
}

// Any click credits each node once per order: Google gets one conversion
// although two of its campaigns were clicked, and so does the total.
func TestRollupAnyClickCountsNodesOnce(t *testing.T) {
	other := attribution.Key{Channel: "google", Campaign: "shopping", AdGroup: "all", Ad: "p1"}
	res := rollup(t, attribution.Config{Model: attribution.AnyClick}, attribution.Input{
		Touchpoints: seq(
			tp("a", on(d1, 1), attribution.AdClick, kw1),
			tp("a", on(d1, 2), attribution.AdClick, kw2),
			tp("a", on(d1, 3), attribution.AdClick, other),
			tp("a", on(d1, 4), attribution.AdClick, video),
		),
		Conversions: seq(attribution.Conversion{Order: "1", Customer: "a", Time: on(d1, 5), Revenue: usd("50.00"), FirstTime: true}),
	})
	full := func(l attribution.Level, k attribution.Key, clicks int64) attribution.Row {
		k, _ = k.At(l)
		return attribution.Row{Level: l, Key: k, From: d1, To: d1, Measures: m(0, clicks, "", attribution.One, attribution.One, "50.00")}
	}
	want := []attribution.Row{
		full(attribution.TotalLevel, attribution.Key{}, 4),
		full(attribution.ChannelLevel, kw1, 3),
		full(attribution.ChannelLevel, video, 1),
		full(attribution.CampaignLevel, kw1, 2),
		full(attribution.CampaignLevel, other, 1),
		full(attribution.CampaignLevel, video, 1),
		full(attribution.AdGroupLevel, other, 1),
		full(attribution.AdGroupLevel, kw1, 2),
		full(attribution.AdGroupLevel, video, 1),
		full(attribution.AdLevel, other, 1),
		full(attribution.AdLevel, kw1, 1),
		full(attribution.AdLevel, kw2, 1),
		full(attribution.AdLevel, video, 1),
	}
	// Keys sort field by field: google/search < google/shopping, and
	// google/search/brand < google/shopping/all.
	want[6], want[7] = want[7], want[6]
	want[9], want[10], want[11] = want[10], want[11], want[9]
	if diff := cmp.Diff(want, res.Period); diff != "" {
		t.Errorf("period rows mismatch (-want +got):\n%s", diff)
	}
}

// Touchpoints before the reported period still build journeys; activity
// outside it is not reported.
func TestRollupPeriodBounds(t *testing.T) {
	in := attribution.Input{
		Touchpoints: seq(
			tp("a", on(d1, 8), attribution.AdClick, kw1),
			tp("a", on(d2, 8), attribution.AdImpression, kw1),
		),
		Conversions: seq(
			attribution.Conversion{Order: "0", Customer: "a", Time: on(d1, 9), Revenue: usd("1.00")},
			attribution.Conversion{Order: "1", Customer: "a", Time: on(d2, 9), Revenue: usd("30.00")},
		),
		Spend: seq(attribution.Spend{Day: d1, Key: kw1, Amount: usd("9.00")}),
	}
	res := rollup(t, attribution.Config{From: d2, To: d2}, in)
	want := []attribution.Row{
		{Level: attribution.TotalLevel, From: d2, To: d2, Measures: m(1, 0, "", attribution.One, 0, "30.00")},
	}
	if diff := cmp.Diff(want, res.Period[:1]); diff != "" {
		t.Errorf("period rows mismatch (-want +got):\n%s", diff)
	}
	if res.Stats.OutsidePeriod != 3 {
		t.Errorf("OutsidePeriod = %d, want 3 (a click, an order and a spend row of d1)", res.Stats.OutsidePeriod)
	}
}

// Conversions are dated in the shop's zone: 23:30 UTC on d1 is d2 in Tokyo.
func TestRollupShopTimeZone(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*60*60)
	in := func() attribution.Input {
		return attribution.Input{
			Touchpoints: seq(tp("a", on(d1, 23), attribution.AdClick, kw1)),
			Conversions: seq(attribution.Conversion{Order: "1", Customer: "a", Time: on(d1, 23).Add(30 * time.Minute), Revenue: usd("1.00")}),
		}
	}
	for loc, want := range map[*time.Location]calendar.Date{time.UTC: d1, tokyo: d2} {
		res := rollup(t, attribution.Config{Location: loc}, in())
		if got := res.Daily[0].From; got != want {
			t.Errorf("%v: day %v, want %v", loc, got, want)
		}
	}
}

// Mixed currencies never add up: totals and KPIs stay per currency.
func TestRollupMixedCurrencies(t *testing.T) {
	eur := money.MustParse("8.00", "EUR")
	res := rollup(t, attribution.Config{}, attribution.Input{
		Spend: seq(
			attribution.Spend{Day: d1, Key: kw1, Amount: usd("10.00"), Clicks: 4},
			attribution.Spend{Day: d1, Key: kw2, Amount: money.MustParse("4.00", "EUR"), Clicks: 4},
		),
		Touchpoints: seq(tp("a", on(d1, 1), attribution.AdClick, kw1), tp("b", on(d1, 1), attribution.AdClick, kw2)),
		Conversions: seq(
			attribution.Conversion{Order: "1", Customer: "a", Time: on(d1, 2), Revenue: usd("30.00")},
			attribution.Conversion{Order: "2", Customer: "b", Time: on(d1, 2), Revenue: eur},
		),
	})
	total := res.Period[0]
	if want := totals(usd("10.00"), money.MustParse("4.00", "EUR")); !total.Spend.Equal(want) {
		t.Errorf("spend = %v, want %v", total.Spend, want)
	}
	if want := totals(usd("30.00"), eur); !total.Revenue.Equal(want) {
		t.Errorf("revenue = %v, want %v", total.Revenue, want)
	}
	wantROAS := []attribution.CurrencyRatio{
		{Currency: "EUR", Ratio: ratio.Of(800, 400)},
		{Currency: "USD", Ratio: ratio.Of(3000, 1000)},
	}
	if diff := cmp.Diff(wantROAS, total.ROAS()); diff != "" {
		t.Errorf("ROAS mismatch (-want +got):\n%s", diff)
	}
	wantCPC := attribution.Cost{Defined: true, Amounts: []money.Amount{money.MustParse("0.50", "EUR"), usd("1.25")}}
	if diff := cmp.Diff(wantCPC, total.CPC()); diff != "" {
		t.Errorf("CPC mismatch (-want +got):\n%s", diff)
	}
}

// LINE and push messages are touchpoints of their own: a click on a LINE
// message earns the conversion, and sends, opens, clicks and bounces count
// like an email's, under the channel the key names.
func TestMessagingTouchpoints(t *testing.T) {
	line := attribution.Key{Channel: "line", Campaign: "spring"}
	push := attribution.Key{Channel: "push", Campaign: "spring"}
	in := attribution.Input{
		Touchpoints: seq(
			tp("a", on(d1, 8), attribution.MessageSent, line),
			tp("a", on(d1, 9), attribution.MessageOpened, line),
			tp("a", on(d1, 10), attribution.MessageClicked, line),
			tp("a", on(d1, 11), attribution.MessageOpened, push), // an open earns nothing
			tp("b", on(d1, 8), attribution.MessageSent, line),
			tp("b", on(d1, 8), attribution.MessageBounced, line),
		),
		Conversions: seq(attribution.Conversion{Order: "1", Customer: "a", Time: on(d1, 12), Revenue: usd("10.00")}),
	}
	res, err := attribution.Config{Model: attribution.LastClick}.Rollup(in)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]attribution.Measures{}
	for _, r := range res.Period {
		if r.Level == attribution.ChannelLevel {
			got[r.Key.Channel] = r.Measures
		}
	}
	want := map[string]attribution.Measures{
		"line": {Sends: 2, Opens: 1, MessageClicks: 1, Bounces: 1, Conversions: attribution.One, Returning: attribution.One, Revenue: totals(usd("10.00"))},
		"push": {Opens: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("channel rows (-want +got):\n%s", diff)
	}
	if got := got["line"].ClickRate(); got != ratio.Of(1, 1) {
		t.Errorf("LINE click rate = %v", got)
	}
	for _, a := range []attribution.Action{attribution.MessageSent, attribution.MessageOpened, attribution.MessageClicked, attribution.MessageBounced} {
		if back, err := attribution.ParseAction(a.String()); err != nil || back != a {
			t.Errorf("ParseAction(%q) = %v, %v", a, back, err)
		}
		if a.Eligible() != (a == attribution.MessageClicked) {
			t.Errorf("%v.Eligible() = %v", a, a.Eligible())
		}
	}
}

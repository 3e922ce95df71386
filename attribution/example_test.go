package attribution_test

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
)

// at returns an instant on 1 June 2025 in UTC.
func at(hour, minute int) time.Time { return time.Date(2025, 6, 1, hour, minute, 0, 0, time.UTC) }

func exampleInput() attribution.Input {
	june1 := calendar.NewDate(2025, time.June, 1)
	a1 := attribution.Key{Channel: "google", Campaign: "summer", AdGroup: "brand", Ad: "a1"}
	a2 := attribution.Key{Channel: "google", Campaign: "summer", AdGroup: "brand", Ad: "a2"}
	news := attribution.Key{Channel: "klaviyo", Campaign: "june-news"}
	touchpoints := []attribution.Touchpoint{
		{Customer: "c1", Time: at(9, 0), Action: attribution.AdClick, Key: a1},
		{Customer: "c1", Time: at(12, 0), Action: attribution.EmailClicked, Key: news},
		{Customer: "c2", Time: at(10, 0), Action: attribution.DirectVisit},
		{Customer: "c3", Time: at(11, 0), Action: attribution.AdClick, Key: a2},
	}
	conversions := []attribution.Conversion{
		{Order: "1001", Customer: "c1", Time: at(13, 0), Revenue: money.MustParse("60.00", "USD"), FirstTime: true},
		{Order: "1002", Customer: "c2", Time: at(10, 30), Revenue: money.MustParse("25.00", "USD")},
		{Order: "1003", Customer: "c3", Time: at(11, 30), Revenue: money.MustParse("40.00", "USD"), FirstTime: true},
		{Order: "1004", Time: at(15, 0), Revenue: money.MustParse("9.99", "USD")}, // guest checkout
	}
	// Streams must be sorted by customer, then time.
	attribution.SortTouchpoints(touchpoints)
	attribution.SortConversions(conversions)
	return attribution.Input{
		Touchpoints: slices.Values(touchpoints),
		Conversions: slices.Values(conversions),
		Spend: slices.Values([]attribution.Spend{
			{Day: june1, Key: a1, Amount: money.MustParse("12.00", "USD"), Impressions: 1000, Clicks: 40},
			{Day: june1, Key: a2, Amount: money.MustParse("8.00", "USD"), Impressions: 600, Clicks: 20},
		}),
		Messages: slices.Values([]attribution.Messages{
			{Day: june1, Key: news, Sends: 500, Opens: 200, Clicks: 25, Bounces: 10},
		}),
	}
}

func Example() {
	res, err := attribution.Config{Model: attribution.Linear}.Rollup(exampleInput())
	if err != nil {
		fmt.Println(err)
		return
	}
	err = attribution.WriteTable(os.Stdout, res.Period,
		"level", "channel", "campaign", "ad_group", "ad", "clicks", "spend", "conversions", "revenue", "cpa", "roas", "open_rate")
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println("unattributed:", res.Unattributed.Conversions, res.Unattributed.Revenue)
	// Output:
	// level     channel  campaign   ad_group  ad  clicks      spend  conversions     revenue        cpa       roas  open_rate
	// total                                           60  20.00 USD            3  125.00 USD   6.67 USD       6.25     40.82%
	// channel   direct                                 0          0            1   25.00 USD          0  undefined  undefined
	// channel   google                                60  20.00 USD          1.5   70.00 USD  13.33 USD       3.50  undefined
	// channel   klaviyo                                0          0          0.5   30.00 USD          0  undefined     40.82%
	// campaign  google   summer                       60  20.00 USD          1.5   70.00 USD  13.33 USD       3.50  undefined
	// campaign  klaviyo  june-news                     0          0          0.5   30.00 USD          0  undefined     40.82%
	// ad_group  google   summer     brand             60  20.00 USD          1.5   70.00 USD  13.33 USD       3.50  undefined
	// ad        google   summer     brand     a1      40  12.00 USD          0.5   30.00 USD  24.00 USD       2.50  undefined
	// ad        google   summer     brand     a2      20   8.00 USD            1   40.00 USD   8.00 USD       5.00  undefined
	// unattributed: 1 9.99 USD
}

func ExampleWriteCSV() {
	res, err := attribution.Config{}.Rollup(exampleInput()) // last non-direct click
	if err != nil {
		fmt.Println(err)
		return
	}
	channels := slices.DeleteFunc(res.Period, func(r attribution.Row) bool { return r.Level != attribution.ChannelLevel })
	if err := attribution.WriteCSV(os.Stdout, channels, "channel", "clicks", "message_clicks", "conversions", "revenue", "cpc", "roas", "click_rate"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// channel,clicks,message_clicks,conversions,revenue,cpc,roas,click_rate
	// direct,0,0,1,25.00 USD,undefined,undefined,undefined
	// google,60,0,1,40.00 USD,0.33 USD,2,undefined
	// klaviyo,0,25,1,60.00 USD,undefined,undefined,0.05102040816326531
}

func ExampleConfig_Attribute() {
	search := attribution.Key{Channel: "google", Campaign: "search"}
	social := attribution.Key{Channel: "meta", Campaign: "retarget"}
	journey := []attribution.Touchpoint{
		{Customer: "c1", Time: at(8, 0), Action: attribution.AdClick, Key: search},
		{Customer: "c1", Time: at(9, 0), Action: attribution.AdImpression, Key: social}, // never earns credit
		{Customer: "c1", Time: at(10, 0), Action: attribution.AdClick, Key: social},
		{Customer: "c1", Time: at(11, 0), Action: attribution.DirectVisit},
	}
	order := attribution.Conversion{Order: "1001", Customer: "c1", Time: at(12, 0), Revenue: money.MustParse("100.00", "USD")}
	for _, m := range []attribution.Model{attribution.LastNonDirectClick, attribution.PositionBased} {
		parts, err := attribution.Config{Model: m}.Attribute(order, journey)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(m)
		for _, p := range parts {
			fmt.Printf("  %-18s %-4s %s\n", p.Key, p.Credit, p.Revenue)
		}
	}
	// Output:
	// last_non_direct_click
	//   meta / retarget    1    100.00 USD
	// position_based
	//   google / search    0.4  40.00 USD
	//   meta / retarget    0.2  20.00 USD
	//   direct             0.4  40.00 USD
}

func ExampleConfig_Engagements() {
	cfg := attribution.Config{Location: time.FixedZone("JST", 9*60*60)}
	res, err := cfg.Rollup(exampleInput())
	if err != nil {
		fmt.Println(err)
		return
	}
	rows, err := cfg.Engagements(res.Daily, attribution.EngagementOptions{
		Levels: []attribution.Level{attribution.ChannelLevel},
		ChannelHandle: func(channel string) (string, bool) {
			return channel + "-ads", channel == "google" // only our own channel
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range rows {
		fmt.Printf("%s %s%s impressions=%d clicks=%d adSpend=%s orders=%s sales=%s\n",
			g.ChannelHandle, g.OccurredOn, g.UTCOffset, g.ImpressionsCount, g.ClicksCount, g.AdSpend, g.Orders, g.Sales)
	}
	// Output:
	// google-ads 2025-06-01+09:00 impressions=1600 clicks=60 adSpend=20.00 USD orders=1 sales=40.00 USD
}

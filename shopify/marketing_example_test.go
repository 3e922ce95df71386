package shopify_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func ExampleMarketingService_SendEngagements() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	// A campaign with one ad, tracked by UTM.
	campaign := shopify.Activity{RemoteID: "cmp-1", Title: "Spring", RemoteURL: "https://ads.example.com/cmp-1",
		Tactic: shopify.TacticAd, Channel: shopify.ChannelSocial, Status: shopify.StatusActive, HierarchyLevel: shopify.LevelCampaign}
	ad := campaign
	ad.RemoteID, ad.Title, ad.HierarchyLevel, ad.ParentRemoteID = "ad-1", "Spring ad", shopify.LevelAd, "cmp-1"
	ad.UTM = &shopify.UTM{Campaign: "spring", Source: "meta", Medium: "cpc"}
	for _, a := range []shopify.Activity{campaign, ad} {
		if _, _, err := c.Marketing.Upsert(ctx, a, nil); err != nil {
			fmt.Println(err)
			return
		}
	}

	// Daily rows, usually from attribution.Config.Engagements.
	spend := money.MustParse("4.20", "USD")
	day := calendar.NewDate(2025, 3, 1)
	engs := []attribution.Engagement{
		{RemoteID: "ad-1", OccurredOn: day, UTCOffset: "+09:00", ImpressionsCount: 1200, ClicksCount: 31, AdSpend: &spend},
		{ChannelHandle: "my-app", OccurredOn: day, UTCOffset: "+09:00", SendsCount: 500, ViewsCount: 210},
	}

	// The record comes from the last run (empty the first time) and is
	// saved after this one.
	var rec shopify.EngagementRecord
	res, err := c.Marketing.SendEngagements(ctx, &rec, engs, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		fmt.Println(r.Target, r.Day, r.Outcome)
	}
	saved, _ := json.Marshal(&rec)

	// The next run skips what was applied.
	var next shopify.EngagementRecord
	_ = json.Unmarshal(saved, &next)
	res, _ = c.Marketing.SendEngagements(ctx, &next, engs, nil)
	fmt.Println(res[0].Outcome, res[0].Err)
	fmt.Println(len(srv.MarketingEngagements()), "engagements in the shop")
	// Output:
	// activity:ad-1 2025-03-01 applied
	// channel:my-app 2025-03-01 applied
	// applied shopify: engagement day already sent
	// 2 engagements in the shop
}

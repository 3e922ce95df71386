// Command marketing-engagements (W4) sends an ad campaign back to Shopify
// so the app shows as a marketing channel in Shopify's reports: the
// campaign → ad group → ad tree as external marketing activities, and the
// day's spend, impressions and clicks as daily engagements. Shopify keeps
// every engagement it is sent, so a day sent twice counts twice; the
// engagement record, saved before each request, keeps a day from being
// sent again.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func main() {
	dir, err := os.MkdirTemp("", "engagements-")
	if err == nil {
		defer os.RemoveAll(dir)
		err = run(context.Background(), dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "marketing-engagements:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string) error {
	store := shopifytest.NewServer()
	defer store.Close()
	shop := store.Client()

	// The tree: remote ids are the ad platform's ids.
	campaign := shopify.Activity{RemoteID: "cmp-7", Title: "Winter sale", RemoteURL: "https://ads.example.com/cmp-7",
		Tactic: shopify.TacticAd, Channel: shopify.ChannelSocial, Status: shopify.StatusActive, HierarchyLevel: shopify.LevelCampaign}
	group := campaign
	group.RemoteID, group.Title, group.HierarchyLevel, group.ParentRemoteID = "grp-7a", "Returning visitors", shopify.LevelAdGroup, "cmp-7"
	ad := campaign
	ad.RemoteID, ad.Title, ad.HierarchyLevel, ad.ParentRemoteID = "ad-7a1", "Carousel", shopify.LevelAd, "grp-7a"
	ad.UTM = &shopify.UTM{Campaign: "winter", Source: "meta", Medium: "paid_social"}
	for _, a := range []shopify.Activity{campaign, group, ad} {
		if _, _, err := shop.Marketing.Upsert(ctx, a, nil); err != nil {
			return err
		}
	}

	// The day's report from the ad platform, rolled up by the tree.
	jst := time.FixedZone("JST", 9*60*60)
	day := calendar.NewDate(2026, time.November, 23)
	key := attribution.Key{Channel: "meta", Campaign: "cmp-7", AdGroup: "grp-7a", Ad: "ad-7a1"}
	cfg := attribution.Config{Location: jst}
	res, err := cfg.Rollup(attribution.Input{Spend: slices.Values([]attribution.Spend{
		{Day: day, Key: key, Amount: money.MustParse("48000", "JPY"), Impressions: 52000, Clicks: 910},
	})})
	if err != nil {
		return err
	}
	engs, err := cfg.Engagements(res.Daily, attribution.EngagementOptions{
		Levels: []attribution.Level{attribution.CampaignLevel, attribution.AdGroupLevel, attribution.AdLevel},
	})
	if err != nil {
		return err
	}

	recordFile := filepath.Join(dir, "engagements.json")
	for run := 1; run <= 2; run++ {
		var rec shopify.EngagementRecord
		if b, err := os.ReadFile(recordFile); err == nil {
			if err := json.Unmarshal(b, &rec); err != nil {
				return err
			}
		}
		save := func(r *shopify.EngagementRecord) error {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := os.WriteFile(recordFile+".tmp", b, 0o600); err != nil {
				return err
			}
			return os.Rename(recordFile+".tmp", recordFile)
		}
		results, err := shop.Marketing.SendEngagements(ctx, &rec, engs, &shopify.SendOptions{Save: save})
		if err != nil {
			return err
		}
		if err := save(&rec); err != nil {
			return err
		}
		fmt.Printf("run %d:\n", run)
		for _, r := range results {
			fmt.Printf("  %s %s: %s %v\n", r.Target, r.Day, r.Outcome, r.Err)
		}
	}
	fmt.Println(len(store.MarketingEngagements()), "engagements in Shopify")
	return nil
}

package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
	shopifyapi "github.com/shopcrm/shopcrm/shopify"
)

// TestShopifyMarketingDocuments runs every marketing operation of the
// Shopify client against the fake and validates each document the fake
// received against the real 2025-01 Admin schema.
func TestShopifyMarketingDocuments(t *testing.T) {
	schema := ShopifySchema(t)
	srv, c := shopifyFake(t)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	spend := money.MustParse("10.00", "USD")
	cmp := shopifyapi.Activity{RemoteID: "c1", Title: "Campaign", RemoteURL: "https://ads.example.com/c1", Tactic: shopifyapi.TacticAd,
		Channel: shopifyapi.ChannelSearch, Status: shopifyapi.StatusActive, HierarchyLevel: shopifyapi.LevelCampaign,
		Budget: &shopifyapi.Budget{Type: shopifyapi.BudgetLifetime, Total: money.MustParse("500", "USD")}, AdSpend: &spend,
		ReferringDomain: "ads.example.com", PreviewImageURL: "https://ads.example.com/c1.png", Start: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
	ad := shopifyapi.Activity{RemoteID: "a1", Title: "Ad", RemoteURL: "https://ads.example.com/a1", Tactic: shopifyapi.TacticAd,
		Channel: shopifyapi.ChannelSearch, Status: shopifyapi.StatusActive, HierarchyLevel: shopifyapi.LevelAd, ParentRemoteID: "c1",
		UTM: &shopifyapi.UTM{Campaign: "spring", Source: "search", Medium: "cpc"}}
	news := shopifyapi.Activity{Title: "News", RemoteURL: "https://mail.example.com/1", Tactic: shopifyapi.TacticNewsletter,
		Channel: shopifyapi.ChannelEmail, URLParameterValue: "n1", ChannelHandle: "mailer"}
	_, _, err := c.Marketing.Upsert(ctx, cmp, nil)
	must(err)
	_, _, err = c.Marketing.Create(ctx, ad)
	must(err)
	_, _, err = c.Marketing.Create(ctx, news)
	must(err)
	next := ad
	next.Status = shopifyapi.StatusPaused
	_, _, err = c.Marketing.Update(ctx, ad, next)
	must(err)
	day := calendar.NewDate(2025, 3, 1)
	orders := attribution.One
	engs := []attribution.Engagement{
		{RemoteID: "a1", OccurredOn: day, UTCOffset: "+00:00", ClicksCount: 3, AdSpend: &spend, Sales: &spend, Orders: &orders},
		{ChannelHandle: "mailer", OccurredOn: day, UTCOffset: "+09:00", SendsCount: 10},
	}
	_, err = c.Marketing.CreateEngagement(ctx, engs[0])
	must(err)
	rec := &shopifyapi.EngagementRecord{}
	_, err = c.Marketing.SendEngagements(ctx, rec, append(engs[1:], attribution.Engagement{RemoteID: "c1", OccurredOn: day, UTCOffset: "+00:00"}), nil)
	must(err)
	_, _, err = c.Marketing.DeleteChannelEngagements(ctx, "mailer", rec)
	must(err)
	_, _, err = c.Marketing.Delete(ctx, "a1")
	must(err)

	docs := srv.Documents()
	if len(docs) < 8 {
		t.Fatalf("only %d documents recorded", len(docs))
	}
	checkDocuments(t, schema, docs)
}

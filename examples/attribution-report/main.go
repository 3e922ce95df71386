// Command attribution-report (W7) attributes a shop's orders to the
// channels and campaigns of the visits Shopify recorded in their customer
// journeys, under several models, and rolls ad spend and email activity
// up beside them: which channel earned what, and at what cost.
package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "attribution-report:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	day := calendar.NewDate(2026, time.November, 23)
	at := func(h int) time.Time { return day.Start(time.UTC).Add(time.Duration(h) * time.Hour) }
	store := shopifytest.NewServer(shopifytest.WithNow(at(23)))
	defer store.Close()
	visit := func(h int, src, medium, campaign string) *shopifytest.Visit {
		return &shopifytest.Visit{OccurredAt: at(h), UTMSource: src, UTMMedium: medium, UTMCampaign: campaign}
	}
	for i, v := range [][2]*shopifytest.Visit{
		{visit(1, "google", "cpc", "brand"), visit(9, "klaviyo", "email", "newsletter")},
		{visit(2, "meta", "paid_social", "winter"), visit(3, "meta", "paid_social", "winter")},
		{visit(4, "google", "cpc", "generic"), nil},
	} {
		c := store.AddCustomer(shopifytest.Customer{FirstName: fmt.Sprint("Buyer ", i+1)})
		last := v[1]
		if last == nil {
			last = v[0]
		}
		store.AddOrder(shopifytest.Order{CustomerID: c, CreatedAt: at(10 + i), Total: money.MustParse("60.00", "USD"),
			FirstVisit: v[0], LastVisit: last})
	}

	// Orders of the day and their journeys, read back from Shopify.
	var tps []attribution.Touchpoint
	var convs []attribution.Conversion
	for o, err := range store.Client().Orders.List(ctx, &shopify.ListOptions{Query: "processed_at:>=2026-11-23", LineItems: -1}) {
		if err != nil {
			return err
		}
		convs = append(convs, attribution.Conversion{Order: o.ID, Customer: o.CustomerID, Time: o.ProcessedAt, Revenue: o.TotalPrice})
		if j := o.Journey; j != nil {
			for i, v := range []*shopify.Visit{j.FirstVisit, j.LastVisit} {
				if v == nil || i == 1 && j.FirstVisit != nil && v.ID == j.FirstVisit.ID {
					continue // no visit, or the same one twice
				}
				action := attribution.AdClick
				if strings.Contains(v.UTM.Medium, "email") {
					action = attribution.EmailClicked
				}
				tps = append(tps, attribution.Touchpoint{Customer: o.CustomerID, Time: v.OccurredAt, Action: action,
					UTM: attribution.UTM{Source: v.UTM.Source, Medium: v.UTM.Medium, Campaign: v.UTM.Campaign}})
			}
		}
	}
	attribution.SortTouchpoints(tps)
	attribution.SortConversions(convs)
	spend := []attribution.Spend{
		{Day: day, Key: attribution.Key{Channel: "google", Campaign: "brand"}, Amount: money.MustParse("40.00", "USD"), Clicks: 50},
		{Day: day, Key: attribution.Key{Channel: "google", Campaign: "generic"}, Amount: money.MustParse("25.00", "USD"), Clicks: 30},
		{Day: day, Key: attribution.Key{Channel: "meta", Campaign: "winter"}, Amount: money.MustParse("30.00", "USD"), Clicks: 80},
	}
	for _, m := range []attribution.Model{attribution.LastClick, attribution.FirstClick, attribution.Linear} {
		res, err := attribution.Config{Model: m}.Rollup(attribution.Input{
			Touchpoints: slices.Values(tps), Conversions: slices.Values(convs), Spend: slices.Values(spend),
		})
		if err != nil {
			return err
		}
		var channels []attribution.Row
		for _, r := range res.Period {
			if r.Level <= attribution.ChannelLevel {
				channels = append(channels, r)
			}
		}
		fmt.Println("model:", m)
		if err := attribution.WriteTable(os.Stdout, channels, "level", "channel", "spend", "conversions", "revenue", "roas"); err != nil {
			return err
		}
	}
	return nil
}

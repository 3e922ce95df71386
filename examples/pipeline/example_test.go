package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/examples/pipeline"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// A day on a generated store of 60 customers, run against the fakes.
func ExampleRunDay() {
	jst := time.FixedZone("JST", 9*60*60)
	day := calendar.NewDate(2026, time.November, 23)
	now := day.Start(jst).Add(23 * time.Hour)
	limit := shopifytest.PlanPlus // pages of orders cost up to 1,000 points each
	store := shopifytest.NewServer(shopifytest.WithNow(now), shopifytest.WithRateLimit(limit))
	defer store.Close()
	chat := linetest.NewServer(linetest.WithNow(now))
	defer chat.Close()
	esp := omnisendtest.NewServer(omnisendtest.WithNow(now))
	defer esp.Close()
	crm := klaviyotest.NewServer(klaviyotest.WithNow(now), klaviyotest.WithJobDuration(0))
	defer crm.Close()

	demo, err := pipeline.SeedDemo(pipeline.Fakes{Shopify: store, LINE: chat, Omnisend: esp, Klaviyo: crm}, pipeline.DemoOptions{Customers: 60, Seed: 7, Day: day, Location: jst})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "pipeline-example-")
	defer os.RemoveAll(dir)
	state, err := pipeline.NewState(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	env := &pipeline.Env{Config: demo.Config, Clients: pipeline.Clients{Shopify: store.Client(), LINE: chat.Client(), Omnisend: esp.Client(), Klaviyo: crm.Client()}, State: state}
	rep, err := pipeline.RunDay(context.Background(), env, demo.Events)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range rep.Steps {
		fmt.Println(s.Step, s.Counts)
	}
	// Output:
	// lifecycle map[customer events:2 order events:1 tag changes:3 tags applied:3]
	// segments map[customers:60 members:59 shopify segments created:4 tag changes:59 tags applied:59]
	// line map[LINE-linked:5 already sent:0 calls:1 members:5 sent:5]
	// omnisend map[contacts:42 members without a contact:15 tags applied:35 unchanged:0]
	// klaviyo map[bounced email (90 days):2 clicked email (90 days):6 events applied:6 imported applied:25 list members not subscribed:6 list members suppressed:1 list members to add:25 list members to remove:3 loyalty events:6 loyalty events to send:6 new events read:33 opened email (90 days):10 properties applied:44 properties to write:50 properties without a profile:6 received email (90 days):15 removed applied:3]
	// marketing map[activities upserted:1 conversions:6 engagements:1 engagements applied:1 touchpoints:30]
}

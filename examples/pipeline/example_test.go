package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/examples/pipeline"
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

	demo, err := pipeline.SeedDemo(pipeline.Fakes{Shopify: store, LINE: chat, Omnisend: esp}, pipeline.DemoOptions{Customers: 60, Seed: 7, Day: day, Location: jst})
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
	env := &pipeline.Env{Config: demo.Config, Clients: pipeline.Clients{Shopify: store.Client(), LINE: chat.Client(), Omnisend: esp.Client()}, State: state}
	rep, err := pipeline.RunDay(context.Background(), env, demo.Events)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range rep.Steps {
		fmt.Println(s.Step, s.Counts)
	}
	// Output:
	// lifecycle map[customer events:3 order events:2 tag changes:5 tags applied:5]
	// segments map[customers:60 members:69 shopify segments created:4 tag changes:69 tags applied:69]
	// line map[LINE-linked:9 already sent:0 calls:1 members:9 sent:9]
	// omnisend map[contacts:42 members without a contact:15 tags applied:35 unchanged:0]
	// marketing map[activities upserted:1 conversions:5 engagements:1 engagements applied:1 touchpoints:5]
}

package pipeline_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
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
		for _, p := range slices.Sorted(maps.Keys(s.Minimum)) {
			fmt.Printf("  fewest requests to %s: %d\n", p, s.Minimum[p].Requests)
		}
	}
	// Output:
	// lifecycle map[customer events:2 order events:1 tag changes:3 tags applied:3]
	//   fewest requests to shopify: 4
	// segments map[customers:60 members:59 shopify segments created:4 tag changes:59 tags applied:59]
	//   fewest requests to shopify: 17
	// line map[LINE-linked:5 already sent:0 calls:1 members:5 sent:5]
	//   fewest requests to line: 1
	// omnisend map[contacts:42 members without a contact:15 tags applied:35 unchanged:0]
	//   fewest requests to omnisend: 6
	// klaviyo map[bounced email (90 days):2 clicked email (90 days):6 events applied:6 imported applied:25 list members not subscribed:6 list members suppressed:1 list members to add:25 list members to remove:3 loyalty events:6 loyalty events to send:6 new events read:33 opened email (90 days):10 properties applied:44 properties to write:50 properties without a profile:6 received email (90 days):15 removed applied:3]
	//   fewest requests to klaviyo: 15
	//   fewest requests to shopify: 2
	// marketing map[activities upserted:1 conversions:6 engagements:1 engagements applied:1 touchpoints:30]
	//   fewest requests to shopify: 4
}

// A step's requests and time beside the minimum of its work: Omnisend's
// 281 pages of contacts and 247 tag calls need 528 requests, and the tag
// calls, 60 a minute, no less than four minutes.
func ExampleStepReport_VersusMinimum() {
	rep := &pipeline.StepReport{
		Step:    "omnisend",
		Elapsed: 246 * time.Second,
		Counts:  map[string]int{"requests omnisend": 531},
		Minimum: map[string]pipeline.Minimum{
			pipeline.PlatformOmnisend: {Requests: 528, Floor: 240 * time.Second, Bound: "60 contact-tags calls/min"},
		},
	}
	fmt.Println(rep.VersusMinimum(pipeline.PlatformOmnisend))
	// Output:
	// omnisend: 531 requests (minimum 528), 246.0 s (floor 240.0 s at 60 contact-tags calls/min, efficiency 0.976)
}

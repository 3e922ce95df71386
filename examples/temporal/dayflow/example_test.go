package dayflow_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/shopcrm/shopcrm/examples/temporal/dayflow"
	"github.com/shopcrm/shopcrm/examples/temporal/internal/fleet"
)

// One shop's day as a workflow: a Temporal server in this process, a
// worker running the day's steps over a Directory, and the day started
// and awaited.
func Example() {
	ts := temporaltest.NewServer(temporaltest.WithBaseClientOptions(client.Options{Logger: quiet(io.Discard)}))
	defer ts.Stop()
	shops, err := fleet.New(fleet.Options{Shops: 1, Customers: 20, Seed: 7, Day: day})
	if err != nil {
		panic(err)
	}
	defer shops.Close()
	state, err := os.MkdirTemp("", "dayflow-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(state)

	c := ts.GetDefaultClient()
	w := worker.New(c, dayflow.TaskQueue, worker.Options{})
	// The worker keeps each shop's clients, and their rate limiters,
	// across the attempts and steps of its day.
	cache := dayflow.NewCache(shops.Directory(state), dayflow.CacheOptions{})
	defer cache.Close()
	dayflow.Register(w, cache)
	if err := w.Start(); err != nil {
		panic(err)
	}
	defer w.Stop()

	ctx := context.Background()
	run, err := dayflow.Start(ctx, c, "", dayflow.DayInput{Shop: fleet.ShopName(0), Day: day})
	if err != nil {
		panic(err)
	}
	var res dayflow.DayResult
	if err := run.Get(ctx, &res); err != nil {
		panic(err)
	}
	for _, s := range res.Steps {
		fmt.Printf("%s (attempt %d):", s.Step, s.Attempt)
		for _, k := range s.Order {
			fmt.Printf(" %s=%d", k, s.Counts[k])
		}
		fmt.Println()
	}
	s := cache.Stats()
	fmt.Printf("opened %d, reused %d, closed %d, open %d\n", s.Opens, s.Reuses, s.Closed, s.Open)
	// Output:
	// Lifecycle (attempt 1): tag changes=0
	// Segments (attempt 1): customers=20 members=20 tag changes=20 tags applied=20 shopify segments created=4
	// SendLINE (attempt 1): members=3 LINE-linked=3 sent=3 already sent=0 calls=1
	// SyncOmnisend (attempt 1): contacts=17 unchanged=0 members without a contact=2 tags applied=14
	// SyncKlaviyo (attempt 1): list members not subscribed=1 list members suppressed=1 list members to add=9 list members to remove=1 imported applied=9 removed applied=1 bounced email (90 days)=2 clicked email (90 days)=2 opened email (90 days)=3 received email (90 days)=6 new events read=13 properties to write=16 properties applied=16 loyalty events=0 loyalty events to send=0
	// Marketing (attempt 1): conversions=0 touchpoints=4 engagements=1 activities upserted=1 engagements applied=1
	// opened 1, reused 5, closed 1, open 0
}

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
	dayflow.Register(w, shops.Directory(state))
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
	// Output:
}

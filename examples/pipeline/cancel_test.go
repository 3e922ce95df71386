package pipeline_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/examples/pipeline"
)

var (
	cancelSeed  = flag.Uint64("cancel.seed", 1, "seed of the points where TestCancelledAndResumed cancels the day")
	cancelTotal = flag.Int("cancel.points", 6, "cancellations TestCancelledAndResumed makes in all")
)

// TestCancelledAndResumed cancels the day's context at random requests,
// as each leaves or as its answer arrives (the platform acted, the client
// never hears), and reruns the day, cancelled again, until a run
// finishes; then once more, which must find nothing left to do. The
// fakes end as after an uninterrupted day, with nothing done twice. New
// stores are started until the cancellations add up to -cancel.points.
func TestCancelledAndResumed(t *testing.T) {
	want := chaosReference(t)
	rng := rand.New(rand.NewPCG(*cancelSeed, 2))
	total := 0
	for world := 0; total < *cancelTotal; world++ {
		t.Run(fmt.Sprint("world", world), func(t *testing.T) {
			w := newChaosWorld(t, 0, 0)
			var points []string
			for {
				// Points are drawn over an uninterrupted day's requests;
				// a rerun needs fewer, so a late point lets it finish.
				at, afterAnswer := 1+rng.Int64N(chaosRefRequests), rng.IntN(2) == 0
				ctx, cancel := context.WithCancel(context.Background())
				var n atomic.Int64
				hook := func() func() {
					switch {
					case n.Add(1) != at:
						return func() {}
					case afterAnswer:
						return cancel
					}
					cancel()
					return func() {}
				}
				w.hook.Store(&hook)
				rep, err := pipeline.RunDay(ctx, w.env, w.demo.Events)
				w.hook.Store(nil)
				cancel()
				w.keep(t, rep, err)
				if err == nil {
					break
				}
				total++
				points = append(points, fmt.Sprintf("%d%s", at, map[bool]string{true: "a", false: "b"}[afterAnswer]))
			}
			writes := w.writes()
			_, rep := w.runDay(t, context.Background())
			if n := w.writes() - writes; n > 0 {
				t.Errorf("a rerun of the finished day wrote %d times", n)
			}
			got := w.end()
			for _, d := range got.duplicates(want) {
				t.Error(d)
			}
			unknownEngagements(t, rep, &got, want, false)
			unknownEvents(t, stepNotes(rep, "omnisend"), &got, want, false)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("after cancels at requests %v, the fakes differ from an uninterrupted day (-want +got):\n%s", points, d)
			}
			w.scanSecrets(t)
			t.Logf("cancelled at requests %v (b: as it left, a: as its answer came), then finished", points)
		})
	}
}

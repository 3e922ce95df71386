package pipeline_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/examples/pipeline"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

const (
	killCustomers = 150
	killSeed      = 11
)

// killLimit is Plus's bucket restoring 10 times faster: a restarted
// process finds the bucket its killed predecessors drained, and this test
// is about state, not about waiting for the refill.
var killLimit = shopcrm.RateLimit{PerSecond: 10 * shopifytest.PlanPlus.PerSecond, Burst: shopifytest.PlanPlus.Burst}

// killFakes starts the fakes of the kill test, seeded alike every time.
func killFakes(t *testing.T) (*shopifytest.Server, *linetest.Server, *pipeline.Demo) {
	t.Helper()
	now := day.Start(jst).Add(23 * time.Hour)
	store := shopifytest.NewServer(shopifytest.WithNow(now), shopifytest.WithRateLimit(killLimit))
	chat := linetest.NewServer(linetest.WithNow(now))
	t.Cleanup(store.Close)
	t.Cleanup(chat.Close)
	demo, err := pipeline.SeedDemo(pipeline.Fakes{Shopify: store, LINE: chat}, pipeline.DemoOptions{Customers: killCustomers, Seed: killSeed, Day: day, Location: jst})
	if err != nil {
		t.Fatal(err)
	}
	return store, chat, demo
}

// TestKillHelper is the pipeline as a separate process, for
// TestKilledAndResumed: it runs the day against the fakes whose URLs it is
// given and is killed at a random point.
func TestKillHelper(t *testing.T) {
	if os.Getenv("PIPELINE_KILL_STATE") == "" {
		t.Skip("run by TestKilledAndResumed")
	}
	// The same demo configuration as the parent's, from throwaway fakes
	// seeded alike (ids are assigned in the same order).
	_, _, demo := killFakes(t)
	shop, err := shopify.New(shopifytest.Shop, shopcrm.StaticToken(shopifytest.DefaultToken),
		shopify.WithBaseURL(os.Getenv("PIPELINE_KILL_SHOPIFY")), shopify.WithRateLimit(killLimit))
	if err != nil {
		t.Fatal(err)
	}
	bot, err := line.New(line.StaticToken(os.Getenv("PIPELINE_KILL_LINE_TOKEN")),
		line.WithBaseURL(os.Getenv("PIPELINE_KILL_LINE")), line.WithDataURL(os.Getenv("PIPELINE_KILL_LINE")))
	if err != nil {
		t.Fatal(err)
	}
	state, err := pipeline.NewState(os.Getenv("PIPELINE_KILL_STATE"))
	if err != nil {
		t.Fatal(err)
	}
	env := &pipeline.Env{Config: demo.Config, Clients: pipeline.Clients{Shopify: shop, LINE: bot}, State: state}
	rep, err := pipeline.RunDay(context.Background(), env, demo.Events)
	if rep != nil {
		for _, s := range rep.Steps {
			fmt.Fprintln(os.Stderr, s)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// endState is what a day leaves on the fakes.
type endState struct {
	CustomerTags map[int64][]string
	OrderTags    map[int64][]string
	Segments     []string
	LINE         map[string]int // user → messages received
	Engagements  map[string]int // target and day → engagements
}

func readEnd(store *shopifytest.Server, chat *linetest.Server) endState {
	e := endState{CustomerTags: map[int64][]string{}, OrderTags: map[int64][]string{}, LINE: map[string]int{}, Engagements: map[string]int{}}
	for _, c := range store.Customers() {
		e.CustomerTags[c.ID] = sorted(c.Tags)
	}
	for _, o := range store.Orders() {
		if len(o.Tags) > 0 {
			e.OrderTags[o.ID] = sorted(o.Tags)
		}
	}
	for _, g := range store.Segments() {
		e.Segments = append(e.Segments, g.Name+": "+g.Query)
	}
	e.Segments = sorted(e.Segments)
	for _, u := range chat.Recipients() {
		e.LINE[u] = len(chat.Messages(u))
	}
	for _, g := range store.MarketingEngagements() {
		e.Engagements[g.RemoteID+g.ChannelHandle+" "+g.OccurredOn]++
	}
	return e
}

// TestKilledAndResumed kills the pipeline, run as a subprocess against
// fakes that live in this process, at random points, then runs the day to
// the end: the fakes end as after an uninterrupted run, with no message
// or engagement twice.
func TestKilledAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	// The reference: one uninterrupted run in this process.
	refStore, refChat, demo := killFakes(t)
	refState, err := pipeline.NewState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	env := &pipeline.Env{Config: demo.Config, Clients: pipeline.Clients{Shopify: refStore.Client(), LINE: refChat.Client()}, State: refState}
	if _, err := pipeline.RunDay(context.Background(), env, demo.Events); err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)
	want := readEnd(refStore, refChat)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := range 3 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			store, chat, _ := killFakes(t)
			stateDir := t.TempDir()
			run := func(kill time.Duration) (killed bool) {
				cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
				cmd.Env = append(os.Environ(), "PIPELINE_KILL_STATE="+stateDir, "PIPELINE_KILL_SHOPIFY="+store.URL(),
					"PIPELINE_KILL_LINE="+chat.URL(), "PIPELINE_KILL_LINE_TOKEN="+chat.Token())
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				if kill > 0 {
					select {
					case err := <-done:
						if err != nil {
							t.Fatalf("helper failed: %v", err)
						}
						return false
					case <-time.After(kill):
						_ = cmd.Process.Kill()
						<-done
						return true
					}
				}
				if err := <-done; err != nil {
					t.Fatalf("final run failed: %v", err)
				}
				return false
			}
			// A process's start-up (the test binary) comes before the
			// day's work, so kills land over a window past the reference
			// run's length.
			kills := 0
			for range 4 {
				if run(time.Duration(rng.Int64N(int64(full+300*time.Millisecond))) + 50*time.Millisecond) {
					kills++
				}
			}
			run(0)
			got := readEnd(store, chat)
			// An engagement day whose request may have left before a kill
			// is recorded unknown and never resent: at most once. Every
			// other day is sent exactly once.
			for k, n := range got.Engagements {
				if n > 1 {
					t.Errorf("engagement %s sent %d times", k, n)
				}
			}
			for k := range want.Engagements {
				if got.Engagements[k] == 0 {
					t.Logf("engagement %s left unknown by a kill (not resent, by design)", k)
					got.Engagements[k] = want.Engagements[k]
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("after %d kills, end state differs from an uninterrupted run (-want +got):\n%s", kills, d)
			}
			t.Logf("%d of 4 runs killed (reference run %s)", kills, full.Round(time.Millisecond))
		})
	}
}

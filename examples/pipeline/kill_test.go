package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/examples/pipeline"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

const (
	killCustomers = 100
	killSeed      = 11
	killRounds    = 2
	killsPerRound = 3
)

// killLimit is Plus's bucket restoring 10 times faster: a restarted
// process finds the bucket its killed predecessors drained, and this test
// is about state, not about waiting for the refill.
var killLimit = shopcrm.RateLimit{PerSecond: 10 * shopifytest.PlanPlus.PerSecond, Burst: shopifytest.PlanPlus.Burst}

// killWorld is the four fakes of the kill test.
type killWorld struct {
	store *shopifytest.Server
	chat  *linetest.Server
	crm   *klaviyotest.Server
	esp   *omnisendtest.Server
	demo  *pipeline.Demo
}

// killFakes starts the fakes of the kill test, seeded alike every time.
func killFakes(t *testing.T) *killWorld {
	t.Helper()
	now := day.Start(jst).Add(23 * time.Hour)
	crmOpts, _ := fastKlaviyo()
	w := &killWorld{
		store: shopifytest.NewServer(shopifytest.WithNow(now), shopifytest.WithRateLimit(killLimit)),
		chat:  linetest.NewServer(linetest.WithNow(now)),
		crm:   klaviyotest.NewServer(append(crmOpts, klaviyotest.WithNow(now), klaviyotest.WithJobDuration(0))...),
		esp:   omnisendtest.NewServer(omnisendtest.WithNow(now)),
	}
	t.Cleanup(w.store.Close)
	t.Cleanup(w.chat.Close)
	t.Cleanup(w.crm.Close)
	t.Cleanup(w.esp.Close)
	demo, err := pipeline.SeedDemo(pipeline.Fakes{Shopify: w.store, LINE: w.chat, Klaviyo: w.crm, Omnisend: w.esp},
		pipeline.DemoOptions{Customers: killCustomers, Seed: killSeed, Day: day, Location: jst})
	if err != nil {
		t.Fatal(err)
	}
	w.demo = demo
	return w
}

// env is what the helper process is told of the fakes.
func (w *killWorld) env(stateDir string) []string {
	return []string{"PIPELINE_KILL_STATE=" + stateDir, "PIPELINE_KILL_SHOPIFY=" + w.store.URL(),
		"PIPELINE_KILL_LINE=" + w.chat.URL(), "PIPELINE_KILL_LINE_TOKEN=" + w.chat.Token(),
		"PIPELINE_KILL_KLAVIYO=" + w.crm.URL(), "PIPELINE_KILL_KLAVIYO_KEY=" + w.crm.APIKey(),
		"PIPELINE_KILL_OMNISEND=" + w.esp.URL(), "PIPELINE_KILL_OMNISEND_KEY=" + omnisendtest.DefaultAPIKey}
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
	demo := killFakes(t).demo
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
	_, limits := fastKlaviyo()
	crm, err := klaviyo.New(klaviyo.PrivateKey(os.Getenv("PIPELINE_KILL_KLAVIYO_KEY")),
		append(limits, klaviyo.WithBaseURL(os.Getenv("PIPELINE_KILL_KLAVIYO")), klaviyo.WithPollInterval(5*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	esp, err := omnisend.New(omnisend.APIKey(os.Getenv("PIPELINE_KILL_OMNISEND_KEY")), omnisend.WithBaseURL(os.Getenv("PIPELINE_KILL_OMNISEND")))
	if err != nil {
		t.Fatal(err)
	}
	state, err := pipeline.NewState(os.Getenv("PIPELINE_KILL_STATE"))
	if err != nil {
		t.Fatal(err)
	}
	env := &pipeline.Env{Config: harnessConfig(demo.Config), Clients: pipeline.Clients{Shopify: shop, LINE: bot, Klaviyo: crm, Omnisend: esp}, State: state}
	rep, err := pipeline.RunDay(context.Background(), env, demo.Events)
	if rep != nil {
		_ = rep.WriteText(os.Stderr)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// endState is what a day leaves on the Shopify and LINE fakes.
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

// checkState fails unless every record in the state directory is whole:
// a kill may leave a temporary file behind, never a torn record.
func checkState(t *testing.T, dir string, demo *pipeline.Demo) {
	t.Helper()
	state, err := pipeline.NewState(dir) // a kill may come before the process made it
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(filepath.Join(dir, "records"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && !json.Valid(b) {
			t.Errorf("state record %s is damaged after a kill: %.200q", path, b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, def := range demo.Config.Segments {
		if _, _, err := state.Segments().Load(context.Background(), def.Name); err != nil {
			t.Errorf("segment snapshot %q is damaged after a kill: %v", def.Name, err)
		}
	}
}

// TestKilledAndResumed kills the pipeline, run as a subprocess against
// the four fakes that live in this process, at random points, then runs
// the day to the end: the fakes end as after an uninterrupted run, with
// nothing sent twice, every state record whole after each kill, and an
// engagement a kill left unknown named in the final report.
func TestKilledAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	// The reference: one uninterrupted run in this process.
	ref := killFakes(t)
	refState, err := pipeline.NewState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, limits := fastKlaviyo()
	env := &pipeline.Env{Config: harnessConfig(ref.demo.Config), State: refState, Clients: pipeline.Clients{Shopify: ref.store.Client(),
		LINE: ref.chat.Client(), Klaviyo: ref.crm.Client(append(limits, klaviyo.WithPollInterval(5*time.Millisecond))...), Omnisend: ref.esp.Client()}}
	if _, err := pipeline.RunDay(context.Background(), env, ref.demo.Events); err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)
	want := readAll(ref.store, ref.chat, ref.crm, ref.esp)

	seed := uint64(time.Now().UnixNano())
	t.Logf("kill points seeded with %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := range killRounds {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			w := killFakes(t)
			stateDir := t.TempDir()
			run := func(kill time.Duration) (killed bool, out string) {
				cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.count=1")
				cmd.Env = append(os.Environ(), w.env(stateDir)...)
				var stderr bytes.Buffer // the report, then the test's output
				cmd.Stderr, cmd.Stdout = &stderr, &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				if kill > 0 {
					select {
					case err := <-done:
						if err != nil {
							t.Fatalf("helper failed: %v\n%s", err, stderr.String())
						}
						return false, stderr.String()
					case <-time.After(kill):
						_ = cmd.Process.Kill()
						<-done
						return true, stderr.String()
					}
				}
				if err := <-done; err != nil {
					t.Fatalf("final run failed: %v\n%s", err, stderr.String())
				}
				return false, stderr.String()
			}
			// A process's start-up (the test binary) comes before the
			// day's work, so kills land over a window past the reference
			// run's length.
			kills := 0
			for range killsPerRound {
				if killed, _ := run(time.Duration(rng.Int64N(int64(full+300*time.Millisecond))) + 50*time.Millisecond); killed {
					kills++
					checkState(t, stateDir, w.demo)
				}
			}
			_, out := run(0)
			got := readAll(w.store, w.chat, w.crm, w.esp)
			for _, d := range got.duplicates(want) {
				t.Error(d)
			}
			// An engagement day whose request may have left before a kill
			// is recorded unknown and never resent: at most once, and the
			// final report names it. Every other day is sent exactly once.
			unreported(t, strings.Split(out, "\n"), &got, want, false)
			unknownEvents(t, strings.Split(out, "\n"), &got, want, false)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("after %d kills, end state differs from an uninterrupted run (-want +got):\n%s", kills, d)
			}
			t.Logf("%d of %d runs killed (reference run %s)", kills, killsPerRound, full.Round(time.Millisecond))
		})
	}
}

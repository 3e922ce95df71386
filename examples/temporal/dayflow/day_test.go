package dayflow_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/examples/pipeline"
	"github.com/shopcrm/shopcrm/examples/temporal/dayflow"
	"github.com/shopcrm/shopcrm/examples/temporal/internal/fleet"
)

var day = calendar.NewDate(2026, time.November, 23)

const (
	testShops     = 50
	testCustomers = 30
	testSeed      = 100
)

// testPolicies are DefaultPolicies shrunk for tests: a killed worker is
// noticed after five seconds, retries come quickly (at 20% faults, an
// attempt of a step making dozens of requests, some of which a client
// cannot retry by itself, often fails), and still every step has a
// bounded number of attempts and a deadline.
func testPolicies() dayflow.Policies {
	p := dayflow.Policies{}
	for _, s := range dayflow.Steps {
		p[s] = dayflow.StepPolicy{StartToClose: time.Minute, ScheduleToClose: 10 * time.Minute, Heartbeat: 5 * time.Second,
			InitialInterval: 50 * time.Millisecond, Backoff: 2, MaxInterval: 500 * time.Millisecond, MaxAttempts: 500}
	}
	return p
}

// quiet is a Temporal logger that keeps warnings and errors only.
func quiet(w io.Writer) tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

func newServer(t *testing.T) *temporaltest.TestServer {
	return temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{Logger: quiet(io.Discard)}))
}

func newFleet(t *testing.T, o fleet.Options) *fleet.Fleet {
	t.Helper()
	o.Shops, o.Customers, o.Seed, o.Day = testShops, testCustomers, testSeed, day
	fl, err := fleet.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fl.Close)
	return fl
}

// reference is the fault-free end state of every shop: each day run
// directly with pipeline.RunDay on fakes seeded alike.
var reference = sync.OnceValues(func() (map[string]fleet.End, error) {
	fl, err := fleet.New(fleet.Options{Shops: testShops, Customers: testCustomers, Seed: testSeed, Day: day})
	if err != nil {
		return nil, err
	}
	defer fl.Close()
	dir, err := os.MkdirTemp("", "dayflow-ref-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	d := fl.Directory(dir)
	out := map[string]fleet.End{}
	var mu sync.Mutex
	errs := make(chan error, testShops)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, shop := range fl.Shops() {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			sh, err := d.Open(context.Background(), shop, day)
			if err != nil {
				errs <- err
				return
			}
			defer sh.Close()
			if _, err := pipeline.RunDay(context.Background(), sh.Env, sh.Events); err != nil {
				errs <- fmt.Errorf("%s: %w", shop, err)
				return
			}
			mu.Lock()
			out[shop] = fl.End(shop)
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	return out, <-errs
})

// startWorker runs the day's workflow and activities in this process,
// over a Cache in front of dir, as a production worker does.
func startWorker(t *testing.T, c client.Client, queue string, dir dayflow.Directory) *dayflow.Cache {
	t.Helper()
	cache := dayflow.NewCache(dir, dayflow.CacheOptions{})
	t.Cleanup(cache.Close) // after the worker stops
	w := worker.New(c, queue, worker.Options{MaxConcurrentActivityExecutionSize: 16})
	dayflow.Register(w, cache)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return cache
}

// checkCache checks that the worker opened each shop's day once, or a
// little more (a day closed by its last step, then its completion lost,
// opens again), and closed every day it finished.
func checkCache(t *testing.T, cache *dayflow.Cache, shops int) {
	t.Helper()
	// An attempt that outlived its heartbeat timeout may still be ending.
	s := cache.Stats()
	for deadline := time.Now().Add(10 * time.Second); s.Open != 0 && time.Now().Before(deadline); s = cache.Stats() {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("cache: %+v", s)
	if s.Opens < shops || s.Opens > shops+shops/10 || s.Reuses < shops*(len(dayflow.Steps)-1) {
		t.Errorf("cache %+v for %d shops: want each day opened once and reused by its other steps", s, shops)
	}
	if s.Open != 0 {
		t.Errorf("%d days left open after their last step", s.Open)
	}
}

// runDays starts every shop's day and waits for them all.
func runDays(t *testing.T, c client.Client, queue string, shops []string) map[string]*dayflow.DayResult {
	t.Helper()
	ctx := context.Background()
	var runs []client.WorkflowRun
	for _, shop := range shops {
		run, err := dayflow.Start(ctx, c, queue, dayflow.DayInput{Shop: shop, Day: day, Policies: testPolicies()})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run)
	}
	out := map[string]*dayflow.DayResult{}
	for i, run := range runs {
		var r dayflow.DayResult
		if err := run.Get(ctx, &r); err != nil {
			t.Fatalf("%s: %v", shops[i], err)
		}
		out[shops[i]] = &r
	}
	return out
}

// compare checks every shop's end state against the fault-free
// reference. One difference is allowed, by design: an engagement day
// whose request may have reached Shopify before its answer was lost (a
// fault, a kill) is recorded unknown and never resent, so it may be
// missing, never doubled; the day's Marketing result must then count it
// unknown.
func compare(t *testing.T, fl *fleet.Fleet, results map[string]*dayflow.DayResult) (unknown int) {
	t.Helper()
	want, err := reference()
	if err != nil {
		t.Fatal(err)
	}
	for _, shop := range fl.Shops() {
		got := fl.End(shop)
		for k, n := range got.Engagements {
			if n > 1 {
				t.Errorf("%s: engagement %s sent %d times", shop, k, n)
			}
		}
		marked := 0
		for _, s := range results[shop].Steps {
			if s.Step == dayflow.StepMarketing {
				marked = s.Counts["engagements unknown"]
			}
		}
		missing := 0
		for k, n := range want[shop].Engagements {
			if got.Engagements[k] == 0 {
				missing++
				got.Engagements[k] = n
			}
		}
		if missing > marked {
			t.Errorf("%s: %d engagement days missing, %d reported unknown", shop, missing, marked)
		}
		unknown += missing
		if d := cmp.Diff(want[shop], got); d != "" {
			t.Errorf("%s: end state differs from a fault-free RunDay (-want +got):\n%s", shop, d)
		}
	}
	return unknown
}

// retried counts the steps finished by a later attempt.
func retried(results map[string]*dayflow.DayResult) int {
	n := 0
	for _, r := range results {
		for _, s := range r.Steps {
			if s.Attempt > 1 {
				n++
			}
		}
	}
	return n
}

// checkThrottled fails if the fakes refused more than max requests for
// their rate limits. One activity at a time per shop, each with the shop's
// own limiters, stays within them; what may still be refused is a request
// that left a window after another but, delayed less on a loaded machine,
// arrived within it (Klaviyo's one-second window). The clients widen their
// margin, wait and send it again, so the end state is unchanged.
func checkThrottled(t *testing.T, fl *fleet.Fleet, max int) {
	t.Helper()
	n, by := fl.Throttled()
	t.Logf("throttled requests, absorbed by the clients' retries: %d %v", n, by)
	if n > max {
		t.Errorf("%d requests throttled by the fakes (%v), want at most %d", n, by, max)
	}
}

// TestFiftyShops runs 50 shops' days as workflows on a real Temporal
// server: every shop ends as a direct RunDay leaves it.
func TestFiftyShops(t *testing.T) {
	ts := newServer(t)
	fl := newFleet(t, fleet.Options{})
	cache := startWorker(t, ts.GetDefaultClient(), "fifty", fl.Directory(t.TempDir()))
	start := time.Now()
	res := runDays(t, ts.GetDefaultClient(), "fifty", fl.Shops())
	t.Logf("%d shops' days in %s", len(res), time.Since(start).Round(time.Millisecond))
	if n := compare(t, fl, res); n != 0 {
		t.Errorf("%d engagement days unknown without any fault", n)
	}
	checkThrottled(t, fl, maxJitterThrottled)
	checkCache(t, cache, len(res))
	// A step may still be retried without a fault when a loaded machine
	// delays its heartbeats past the timeout; the end state is the same.
	t.Logf("%d steps retried", retried(res))
	var requests int
	for _, r := range res {
		for _, s := range r.Steps {
			for _, n := range s.Requests {
				requests += n
			}
		}
	}
	if requests < len(res)*len(dayflow.Steps) {
		t.Errorf("%d requests for %d days: the steps did not run", requests, len(res))
	}
}

// maxJitterThrottled is how many requests a test lets the fakes refuse
// for network timing alone (one in some runs on a loaded machine).
const maxJitterThrottled = 3

// TestFaults runs the days on fakes failing 20% of requests (errors,
// dropped connections, answers lost after acting, malformed bodies): the
// clients and Temporal retry, and every shop ends as without faults.
func TestFaults(t *testing.T) {
	ts := newServer(t)
	fl := newFleet(t, fleet.Options{Chaos: 0.2})
	cache := startWorker(t, ts.GetDefaultClient(), "faults", fl.Directory(t.TempDir()))
	res := runDays(t, ts.GetDefaultClient(), "faults", fl.Shops())
	unknown := compare(t, fl, res)
	// A step retried by Temporal runs on the clients of the failed
	// attempt, kept by the worker's Cache: their limiters know what the
	// platform's window already holds.
	checkThrottled(t, fl, maxJitterThrottled)
	checkCache(t, cache, len(res))
	faults := fl.Faults()
	t.Logf("%d faults injected; %d steps retried by Temporal; %d engagement days left unknown", faults, retried(res), unknown)
	if faults < 100 {
		t.Errorf("only %d faults injected", faults)
	}
}

// TestWorkerProcess is a worker in its own process, for TestWorkerKilled:
// it runs until killed.
func TestWorkerProcess(t *testing.T) {
	manifest := os.Getenv("DAYFLOW_MANIFEST")
	if manifest == "" {
		t.Skip("run by TestWorkerKilled")
	}
	m, err := fleet.ReadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(client.Options{HostPort: os.Getenv("DAYFLOW_HOSTPORT"), Namespace: os.Getenv("DAYFLOW_NAMESPACE"), Logger: quiet(os.Stderr)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, os.Getenv("DAYFLOW_QUEUE"), worker.Options{MaxConcurrentActivityExecutionSize: 16})
	cache := dayflow.NewCache(fleet.NewDirectory(m, os.Getenv("DAYFLOW_STATE")), dayflow.CacheOptions{})
	defer cache.Close()
	dayflow.Register(w, cache)
	if err := w.Run(worker.InterruptCh()); err != nil {
		t.Fatal(err)
	}
}

// TestWorkerKilled kills a worker process (SIGKILL: no graceful stop)
// while its activities are mid-request, and starts another: the days
// finish, the killed steps run again, and every shop ends as without the
// kill.
func TestWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	ts := newServer(t)
	fl := newFleet(t, fleet.Options{})
	tmp := t.TempDir()
	// The first worker reaches the fakes through a shut gate: its first
	// requests hang until it is killed.
	g := newGate()
	t.Cleanup(g.release)
	manifest := filepath.Join(tmp, "manifest.json")
	if err := g.manifest(t, fl.Manifest()).WriteFile(manifest); err != nil {
		t.Fatal(err)
	}
	const queue = "killed"
	start := func(name string) (*exec.Cmd, chan error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "DAYFLOW_MANIFEST="+manifest, "DAYFLOW_HOSTPORT="+ts.GetFrontendHostPort(),
			"DAYFLOW_NAMESPACE="+ts.GetDefaultNamespace(), "DAYFLOW_QUEUE="+queue, "DAYFLOW_STATE="+filepath.Join(tmp, "state"))
		cmd.Stderr = &prefixWriter{t: t, prefix: name + ": "}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, done
	}
	first, firstDone := start("worker 1")
	c := ts.GetDefaultClient()
	resCh := make(chan map[string]*dayflow.DayResult, 1)
	go func() { resCh <- runDays(t, c, queue, fl.Shops()) }()

	// Kill the first worker once several of its activities wait on a
	// request; then open the gate for the second.
	held := g.wait(t, 3, 3*time.Minute)
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-firstDone
	g.release()
	t.Logf("worker 1 killed with %d requests in flight", held)
	second, secondDone := start("worker 2")
	defer func() {
		_ = second.Process.Kill()
		<-secondDone
	}()
	var res map[string]*dayflow.DayResult
	select {
	case res = <-resCh:
	case <-time.After(8 * time.Minute):
		t.Fatal("days not finished 8 minutes after the kill")
	}
	unknown := compare(t, fl, res)
	n := retried(res)
	// The kill loses the first worker's limiters: the second's start full
	// against windows that still hold the first's requests, so each step
	// run again may be refused once more than timing alone explains.
	checkThrottled(t, fl, maxJitterThrottled+n)
	t.Logf("%d steps finished by a later attempt; %d engagement days left unknown by the kill", n, unknown)
	if n == 0 {
		t.Error("no step ran again after the kill, though the kill caught requests in flight")
	}
}

// prefixWriter logs a subprocess's output through t.
type prefixWriter struct {
	t      *testing.T
	prefix string
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.t.Log(w.prefix + string(p))
	return len(p), nil
}

// Command simulate runs one day of many small shops as dayflow workflows
// on a Temporal server started in this process, against the fakes, with
// 1, 2 and 4 workers (in this process, each with its own client and
// activity slots), and prints what it measured: total time, activities per
// second, the shops' Shopify bucket utilisation, the requests the fakes
// throttled, and the share of attempts that found their shop's clients
// open on their worker.
//
//	go run ./cmd/simulate -shops 250,500,1000 -workers 1,2,4
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/examples/temporal/dayflow"
	"github.com/shopcrm/shopcrm/examples/temporal/internal/fleet"
	"github.com/shopcrm/shopcrm/omnisend"
)

func main() {
	shops := flag.String("shops", "1000", "shop counts to run, comma-separated")
	workers := flag.String("workers", "1,2,4", "worker counts to run, comma-separated")
	customers := flag.Int("customers", 20, "customers per shop")
	slots := flag.Int("slots", 8, "concurrent activities per worker")
	latency := flag.Duration("latency", 5*time.Millisecond, "latency of every fake request")
	chaos := flag.Float64("chaos", 0, "share of requests each fake fails (503, dropped connection, lost response, malformed body)")
	tags := flag.String("omnisend-tags", "", "every shop's Omnisend contact-tags window as n/duration, e.g. 5/1s (default Omnisend's 60/1m)")
	cache := flag.Bool("cache", true, "each worker keeps a shop's clients across attempts and steps (dayflow.Cache); false opens them per attempt")
	flag.Parse()
	o := fleet.Options{Customers: *customers, Seed: 1, Day: day, Latency: *latency, Chaos: *chaos, OmnisendTags: window(*tags)}
	if err := run(ints(*shops), ints(*workers), *slots, *cache, o); err != nil {
		fmt.Fprintln(os.Stderr, "simulate:", err)
		os.Exit(1)
	}
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "simulate: %q is not a positive count\n", f)
			os.Exit(2)
		}
		out = append(out, n)
	}
	return out
}

var day = calendar.NewDate(2026, time.November, 23)

// policies are DefaultPolicies with quick retries: the fakes recover at
// once.
func policies() dayflow.Policies {
	p := dayflow.DefaultPolicies()
	for s, sp := range p {
		sp.InitialInterval, sp.MaxInterval, sp.Heartbeat = 100*time.Millisecond, 2*time.Second, 10*time.Second
		p[s] = sp
	}
	return p
}

// window parses n/duration.
func window(s string) omnisend.Limit {
	if s == "" {
		return omnisend.Limit{}
	}
	n, per, ok := strings.Cut(s, "/")
	l := omnisend.Limit{}
	var err error
	if l.Requests, err = strconv.Atoi(n); ok && err == nil {
		l.Per, err = time.ParseDuration(per)
	}
	if !ok || err != nil || l.Requests <= 0 || l.Per <= 0 {
		fmt.Fprintf(os.Stderr, "simulate: %q is not a window n/duration\n", s)
		os.Exit(2)
	}
	return l
}

func run(shopCounts, workerCounts []int, slots int, cache bool, o fleet.Options) error {
	fmt.Printf("%d customers per shop, %d activity slots per worker, %s per fake request, %.0f%% of requests failed, %d steps per day\n",
		o.Customers, slots, o.Latency, 100*o.Chaos, len(dayflow.Steps))
	if o.OmnisendTags.Requests > 0 {
		fmt.Printf("Omnisend contact tags: %d per %s\n", o.OmnisendTags.Requests, o.OmnisendTags.Per)
	}
	fmt.Printf("clients kept across attempts by each worker: %v\n\n", cache)
	fmt.Println("shops workers  total   act/s  day p50  day p95  shopify util p50/max  req/shop  throttled  in steps  reused")
	for _, n := range shopCounts {
		for _, w := range workerCounts {
			// A fresh server per run: a day's workflow id is run once.
			quiet := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
			ts := temporaltest.NewServer(temporaltest.WithBaseClientOptions(client.Options{Logger: quiet}))
			o.Shops = n
			r, err := simulate(ts, w, slots, cache, o)
			ts.Stop()
			if err != nil {
				return err
			}
			fmt.Println(r)
		}
	}
	return nil
}

type result struct {
	shops, workers int
	total          time.Duration
	days           []time.Duration
	util           []float64
	requests       int
	throttled      int
	throttledBy    map[string]int
	steps          map[dayflow.Step]time.Duration // time in each step, summed over shops
	opens, reuses  int                            // the workers' caches: days opened, attempts served open clients
	retried        int                            // steps finished by a later attempt
}

func (r result) String() string {
	slices.Sort(r.days)
	slices.Sort(r.util)
	q := func(p float64) time.Duration { return r.days[int(p*float64(len(r.days)-1))] }
	acts := float64(r.shops*len(dayflow.Steps)) / r.total.Seconds()
	var inSteps time.Duration
	steps := ""
	for _, s := range dayflow.Steps {
		inSteps += r.steps[s]
		steps += fmt.Sprintf(" %s %.0fms", s, r.steps[s].Seconds()*1000/float64(r.shops))
	}
	var days time.Duration
	for _, d := range r.days {
		days += d
	}
	return fmt.Sprintf("%5d %7d %6.1fs %7.1f %7.2fs %7.2fs %9.1f%% / %5.1f%% %9.0f %10d %8.0f%% %7.0f%%\n      throttled %v; %d steps retried; mean step time:%s",
		r.shops, r.workers, r.total.Seconds(), acts, q(0.5).Seconds(), q(0.95).Seconds(),
		100*r.util[len(r.util)/2], 100*r.util[len(r.util)-1], float64(r.requests)/float64(r.shops), r.throttled,
		100*inSteps.Seconds()/days.Seconds(), 100*float64(r.reuses)/float64(max(r.opens+r.reuses, 1)), r.throttledBy, r.retried, steps)
}

// simulate runs o.Shops shops' day with w workers on a fresh fleet and task
// queue.
func simulate(ts *temporaltest.TestServer, w, slots int, cache bool, o fleet.Options) (result, error) {
	n := o.Shops
	res := result{shops: n, workers: w, steps: map[dayflow.Step]time.Duration{}}
	fl, err := fleet.New(o)
	if err != nil {
		return res, err
	}
	defer fl.Close()
	state, err := os.MkdirTemp("", "simulate-state-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(state)
	queue := fmt.Sprintf("sim-%d-%d", n, w)
	dir := fl.Directory(state)
	var caches []*dayflow.Cache
	for range w {
		// Each worker keeps its own shops' clients, as separate processes
		// would: a step that lands on another worker opens the shop there.
		var d dayflow.Directory = dir
		if cache {
			c := dayflow.NewCache(dir, dayflow.CacheOptions{})
			defer c.Close()
			caches = append(caches, c)
			d = c
		}
		wk := worker.New(ts.NewClientWithOptions(client.Options{}), queue, worker.Options{MaxConcurrentActivityExecutionSize: slots})
		dayflow.Register(wk, d)
		if err := wk.Start(); err != nil {
			return res, err
		}
		defer wk.Stop()
	}
	c := ts.GetDefaultClient()
	ctx := context.Background()
	res.days = make([]time.Duration, n)
	results := make([]*dayflow.DayResult, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i, shop := range fl.Shops() {
		run, err := dayflow.Start(ctx, c, queue, dayflow.DayInput{Shop: shop, Day: day, Policies: policies()})
		if err != nil {
			return res, err
		}
		began := time.Now()
		wg.Go(func() {
			var r dayflow.DayResult
			if err := run.Get(ctx, &r); err != nil {
				errs <- err
				return
			}
			res.days[i] = time.Since(began)
			results[i] = &r
		})
	}
	wg.Wait()
	res.total = time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return res, err
	}
	limit := fl.Options().ShopifyLimit
	for i, shop := range fl.Shops() {
		for _, s := range results[i].Steps {
			res.steps[s.Step] += s.Elapsed
			if s.Attempt > 1 {
				res.retried++
			}
			for _, k := range s.Requests {
				res.requests += k
			}
		}
		// The share of the shop's Shopify bucket its day used: the cost
		// spent over what a full bucket and its refill over the day
		// allow.
		allowed := float64(limit.Burst) + limit.PerSecond*res.days[i].Seconds()
		res.util = append(res.util, float64(fl.Fakes(shop).Shopify.Cost())/allowed)
	}
	res.throttled, res.throttledBy = fl.Throttled()
	for _, c := range caches {
		st := c.Stats()
		res.opens += st.Opens
		res.reuses += st.Reuses
	}
	return res, nil
}

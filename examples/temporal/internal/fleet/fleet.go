// Package fleet is many small shops, each on its own seeded fakes
// (Shopify, LINE, Omnisend, Klaviyo), for the tests and the simulation of
// package dayflow: it starts the fakes, describes them in a [Manifest] a
// worker in another process can read, serves a [dayflow.Directory] over
// them, and reads what a day left on them.
package fleet

import (
	"fmt"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/examples/pipeline"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// JST is the shops' zone.
var JST = time.FixedZone("JST", 9*60*60)

// Options size a fleet.
type Options struct {
	Shops     int           // default 10
	Customers int           // per shop; default 30
	Seed      int64         // shop i is seeded with Seed+i
	Day       calendar.Date // the day run; required
	// Chaos is the share of requests each fake fails (503, dropped
	// connection, lost response, malformed body), seeded per shop from
	// Seed; zero: none.
	Chaos float64
	// Latency delays every request to a fake, like a round trip.
	Latency time.Duration
	// ShopifyLimit is every shop's Shopify cost bucket (zero:
	// shopifytest.PlanStandard); the clients are built with it.
	ShopifyLimit shopcrm.RateLimit
	// OmnisendTags, when set, is every shop's Omnisend contact-tags window
	// (Omnisend's is 60 a minute); the clients are built with it. A short,
	// tight window makes a step fill it, so that a retry meets what the
	// failed attempt left in it.
	OmnisendTags omnisend.Limit
}

func (o *Options) defaults() {
	if o.Shops <= 0 {
		o.Shops = 10
	}
	if o.Customers <= 0 {
		o.Customers = 30
	}
	if o.ShopifyLimit.PerSecond <= 0 {
		o.ShopifyLimit = shopifytest.PlanStandard
	}
}

// Fakes are one shop's fakes.
type Fakes struct {
	Shopify  *shopifytest.Server
	LINE     *linetest.Server
	Omnisend *omnisendtest.Server
	Klaviyo  *klaviyotest.Server
}

// Fleet is the running fakes of many shops.
type Fleet struct {
	opts  Options
	names []string
	fakes map[string]*Fakes
	demos map[string]*pipeline.Demo
}

// ShopName is the myshopify domain of the i-th shop (from 0).
func ShopName(i int) string { return fmt.Sprintf("shop-%04d.myshopify.com", i+1) }

// New starts and seeds the fakes of o.Shops shops. Close it when done.
func New(o Options) (*Fleet, error) {
	o.defaults()
	if o.Day.IsZero() {
		return nil, fmt.Errorf("fleet: Options.Day must be set")
	}
	f := &Fleet{opts: o, fakes: map[string]*Fakes{}, demos: map[string]*pipeline.Demo{}}
	for i := range o.Shops {
		name := ShopName(i)
		fk := startFakes(o, i, true)
		f.names = append(f.names, name)
		f.fakes[name] = fk
		d, err := seed(o, i, fk)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.demos[name] = d
	}
	return f, nil
}

// startFakes starts shop i's fakes, with the run's latency and faults
// when live (throwaway fakes, used only to seed, have neither).
func startFakes(o Options, i int, live bool) *Fakes {
	now := o.Day.Start(JST).Add(23 * time.Hour)
	sh := []shopifytest.Option{shopifytest.WithNow(now), shopifytest.WithRateLimit(o.ShopifyLimit), shopifytest.WithBulkDuration(5 * time.Millisecond)}
	ln := []linetest.Option{linetest.WithNow(now)}
	om := []omnisendtest.Option{omnisendtest.WithNow(now)}
	if l := o.OmnisendTags; l.Requests > 0 {
		om = append(om, omnisendtest.WithRateLimit(omnisend.EndpointContactTags, l.Requests, l.Per))
	}
	kl := []klaviyotest.Option{klaviyotest.WithNow(now), klaviyotest.WithJobDuration(0)}
	if live && o.Latency > 0 {
		sh = append(sh, shopifytest.WithLatency(o.Latency))
		ln = append(ln, linetest.WithLatency(o.Latency))
		om = append(om, omnisendtest.WithLatency(o.Latency))
		kl = append(kl, klaviyotest.WithLatency(o.Latency))
	}
	if live && o.Chaos > 0 {
		s := uint64(o.Seed)*1000 + uint64(i)*4
		sh = append(sh, shopifytest.WithChaos(s, o.Chaos))
		ln = append(ln, linetest.WithChaos(s+1, o.Chaos))
		om = append(om, omnisendtest.WithChaos(s+2, o.Chaos))
		kl = append(kl, klaviyotest.WithChaos(s+3, o.Chaos))
	}
	return &Fakes{
		Shopify: shopifytest.NewServer(sh...), LINE: linetest.NewServer(ln...),
		Omnisend: omnisendtest.NewServer(om...), Klaviyo: klaviyotest.NewServer(kl...),
	}
}

// seed fills shop i's fakes with its generated store, the same for the
// same options, and names the shop in its configuration.
func seed(o Options, i int, fk *Fakes) (*pipeline.Demo, error) {
	d, err := pipeline.SeedDemo(pipeline.Fakes{Shopify: fk.Shopify, LINE: fk.LINE, Omnisend: fk.Omnisend, Klaviyo: fk.Klaviyo},
		pipeline.DemoOptions{Customers: o.Customers, Seed: o.Seed + int64(i), Day: o.Day, Location: JST})
	if err != nil {
		return nil, fmt.Errorf("fleet: seed %s: %w", ShopName(i), err)
	}
	d.Config.Shop = ShopName(i)
	d.Config.BulkPoll = 5 * time.Millisecond
	return d, nil
}

// Close stops every fake.
func (f *Fleet) Close() {
	for _, fk := range f.fakes {
		fk.close()
	}
}

func (fk *Fakes) close() {
	fk.Shopify.Close()
	fk.LINE.Close()
	fk.Omnisend.Close()
	fk.Klaviyo.Close()
}

// Shops returns the shops' names, in order.
func (f *Fleet) Shops() []string { return f.names }

// Fakes returns a shop's fakes.
func (f *Fleet) Fakes(shop string) *Fakes { return f.fakes[shop] }

// Demo returns a shop's generated store: its configuration and events.
func (f *Fleet) Demo(shop string) *pipeline.Demo { return f.demos[shop] }

// Options returns the fleet's options, defaults filled in.
func (f *Fleet) Options() Options { return f.opts }

// Throttled sums the requests the fakes refused for their rate limits.
func (f *Fleet) Throttled() (total int, byPlatform map[string]int) {
	byPlatform = map[string]int{}
	for _, fk := range f.fakes {
		byPlatform["shopify"] += fk.Shopify.Stats().Throttled
		byPlatform["line"] += fk.LINE.Stats().Throttled
		byPlatform["omnisend"] += fk.Omnisend.Stats().Throttled
		byPlatform["klaviyo"] += fk.Klaviyo.Stats().Throttled
	}
	for _, n := range byPlatform {
		total += n
	}
	return total, byPlatform
}

// Faults sums the requests struck by injected faults.
func (f *Fleet) Faults() int {
	n := 0
	for _, fk := range f.fakes {
		n += fk.Shopify.Stats().Faults + fk.LINE.Stats().Faults + fk.Omnisend.Stats().Faults + fk.Klaviyo.Stats().Faults
	}
	return n
}

// demoListID is the id the Klaviyo fake gives the demo's list: SeedDemo
// creates it first on a fresh fake, and the fake numbers objects in order.
var demoListID = sync.OnceValue(func() string {
	s := klaviyotest.NewServer()
	defer s.Close()
	return s.AddList("probe", klaviyo.SingleOptIn)
})

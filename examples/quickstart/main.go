// Command quickstart runs one day of a Shopify marketing integration
// against the bundled fakes, offline: the subscription lifecycle tags (W1),
// segments mirrored into tags and Shopify segments (W2), a LINE message to
// one segment (W3), and attribution with the daily engagements sent back
// to Shopify (W4, W7). It prints the day's report and writes it as CSV
// files and one HTML page. The report sets each step's requests to each
// platform beside the fewest its work needed, and the step's time beside
// the least the platform's rate limits allow (the floor).
//
//	go run ./examples/quickstart [-customers 2000] [-out report] [-apply]
//
// With SHOPCRM_SHOPIFY_SHOP and SHOPCRM_SHOPIFY_TOKEN set it reads and
// writes that shop instead of the fake, with SHOPCRM_LINE_TOKEN it sends
// through that LINE channel, with SHOPCRM_OMNISEND_API_KEY it tags that
// Omnisend brand's contacts, and with SHOPCRM_KLAVIYO_API_KEY (a private
// key) it syncs that Klaviyo account; then nothing is written unless
// -apply is given (a dry run prints what would change).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/calendar"
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

func main() {
	customers := flag.Int("customers", 2000, "customers in the generated store")
	out := flag.String("out", "report", "directory for the report's CSV and HTML files")
	state := flag.String("state", "", "state directory (default: a new temporary one)")
	apply := flag.Bool("apply", false, "write to real platforms (the fakes are always written)")
	seed := flag.Int64("seed", 1, "seed of the generated store")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *customers, *out, *state, *apply, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, customers int, out, stateDir string, apply bool, seed int64) error {
	day := calendar.NewDate(2026, time.November, 23)
	jst := time.FixedZone("JST", 9*60*60)
	now := day.Start(jst).Add(23 * time.Hour)

	fmt.Println("Fakes at the platforms' documented limits (Shopify: the Standard plan)")
	store := shopifytest.NewServer(shopifytest.WithNow(now))
	defer store.Close()
	chat := linetest.NewServer(linetest.WithNow(now))
	defer chat.Close()
	esp := omnisendtest.NewServer(omnisendtest.WithNow(now))
	defer esp.Close()
	crm := klaviyotest.NewServer(klaviyotest.WithNow(now))
	defer crm.Close()
	start := time.Now()
	demo, err := pipeline.SeedDemo(pipeline.Fakes{Shopify: store, LINE: chat, Omnisend: esp, Klaviyo: crm}, pipeline.DemoOptions{Customers: customers, Seed: seed, Day: day, Location: jst})
	if err != nil {
		return err
	}
	fmt.Printf("Seeded %d customers, %d orders, %d LINE followers, %d Omnisend contacts, %d Klaviyo profiles in %s\n",
		len(store.Customers()), len(store.Orders()), len(demo.LINEUsers), len(esp.Contacts()), len(crm.Profiles()),
		time.Since(start).Round(time.Millisecond))

	if stateDir == "" {
		if stateDir, err = os.MkdirTemp("", "shopcrm-state-"); err != nil {
			return err
		}
		defer os.RemoveAll(stateDir)
	}
	st, err := pipeline.NewState(stateDir)
	if err != nil {
		return err
	}
	env := &pipeline.Env{Config: demo.Config, State: st, Meter: &pipeline.Meter{}}
	env.Progress = progress()
	real, err := clients(env, fakes{store, chat, esp, crm}, apply)
	if err != nil {
		return err
	}
	rep, err := pipeline.RunDay(ctx, env, demo.Events)
	if rep != nil {
		fmt.Println()
		if werr := rep.WriteText(os.Stdout); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	files, err := rep.WriteFiles(out)
	if err != nil {
		return err
	}
	fmt.Println("\nReport files:", files)
	if !real {
		fmt.Printf("Requests: Shopify %d (throttled %d), LINE %d, Omnisend %d (throttled %d), Klaviyo %d (throttled %d)\n",
			store.Stats().Requests, store.Stats().Throttled, chat.Stats().Requests, esp.Stats().Requests, esp.Stats().Throttled,
			crm.Stats().Requests, crm.Stats().Throttled)
	}
	return nil
}

// clients points env at the fakes, or at a real platform where its
// credentials are in the environment; it reports whether any is real.
// fakes are the in-process platforms.
type fakes struct {
	store *shopifytest.Server
	chat  *linetest.Server
	esp   *omnisendtest.Server
	crm   *klaviyotest.Server
}

func clients(env *pipeline.Env, f fakes, apply bool) (bool, error) {
	// At the Standard plan's 100 points a second, aliased batches apply
	// ten tag changes a second; past a few hundred, bulk mutations finish
	// sooner.
	bulkAbove := shopify.WithBulkTagThreshold(200)
	env.Shopify = f.store.Client(shopify.WithHTTPClient(env.Meter.Client(pipeline.PlatformShopify)), bulkAbove)
	env.LINE = f.chat.Client(line.WithHTTPClient(env.Meter.Client(pipeline.PlatformLINE)))
	env.Omnisend = f.esp.Client(omnisend.WithHTTPClient(env.Meter.Client(pipeline.PlatformOmnisend)))
	env.Klaviyo = f.crm.Client(klaviyo.WithHTTPClient(env.Meter.Client(pipeline.PlatformKlaviyo)))
	real := false
	if shop, tok := os.Getenv("SHOPCRM_SHOPIFY_SHOP"), os.Getenv("SHOPCRM_SHOPIFY_TOKEN"); shop != "" && tok != "" {
		c, err := shopify.New(shop, shopcrm.StaticToken(tok), shopify.WithHTTPClient(env.Meter.Client(pipeline.PlatformShopify)), bulkAbove)
		if err != nil {
			return false, err
		}
		env.Shopify, env.Shop, real = c, shop, true
		fmt.Println("Shopify: the real shop", shop)
	}
	if tok := os.Getenv("SHOPCRM_LINE_TOKEN"); tok != "" {
		c, err := line.New(shopcrm.StaticToken(tok), line.WithHTTPClient(env.Meter.Client(pipeline.PlatformLINE)))
		if err != nil {
			return false, err
		}
		env.LINE, real = c, true
		fmt.Println("LINE: the real channel")
	}
	if key := os.Getenv("SHOPCRM_OMNISEND_API_KEY"); key != "" {
		c, err := omnisend.New(omnisend.APIKey(key), omnisend.WithHTTPClient(env.Meter.Client(pipeline.PlatformOmnisend)))
		if err != nil {
			return false, err
		}
		env.Omnisend, real = c, true
		fmt.Println("Omnisend: the real brand")
	}
	if key := os.Getenv("SHOPCRM_KLAVIYO_API_KEY"); key != "" {
		c, err := klaviyo.New(klaviyo.PrivateKey(key), klaviyo.WithHTTPClient(env.Meter.Client(pipeline.PlatformKlaviyo)))
		if err != nil {
			return false, err
		}
		env.Klaviyo, real = c, true
		fmt.Println("Klaviyo: the real account")
	}
	if real && !apply {
		env.Apply = false
		fmt.Println("Dry run: nothing is written to real platforms without -apply")
	}
	return real, nil
}

// progress prints long steps' progress at most once a second.
func progress() func(string, shopcrm.Progress) {
	last := time.Now()
	return func(step string, p shopcrm.Progress) {
		if time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		fmt.Printf("  %s: %d done (%d applied, %d failed, %d unknown)\n", step, p.Done(), p.Applied, p.Failed, p.Unknown)
	}
}

package fleet

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/examples/pipeline"
	"github.com/shopcrm/shopcrm/examples/temporal/dayflow"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// Manifest is where a fleet's fakes listen and how they were seeded: what
// a worker in another process needs to open the same shops.
type Manifest struct {
	Options Options
	Shops   []Endpoints
}

// Endpoints are one shop's fakes as a client reaches them.
type Endpoints struct {
	Shop                  string
	Shopify, ShopifyToken string
	LINE, LINEToken       string
	Omnisend, OmnisendKey string
	Klaviyo, KlaviyoKey   string
}

// Manifest describes the fleet.
func (f *Fleet) Manifest() Manifest {
	m := Manifest{Options: f.opts}
	for _, name := range f.names {
		fk := f.fakes[name]
		m.Shops = append(m.Shops, Endpoints{
			Shop: name, Shopify: fk.Shopify.URL(), ShopifyToken: shopifytest.DefaultToken,
			LINE: fk.LINE.URL(), LINEToken: fk.LINE.Token(),
			Omnisend: fk.Omnisend.URL(), OmnisendKey: omnisendtest.DefaultAPIKey,
			Klaviyo: fk.Klaviyo.URL(), KlaviyoKey: fk.Klaviyo.APIKey(),
		})
	}
	return m
}

// WriteFile writes m as JSON to path.
func (m Manifest) WriteFile(path string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// ReadManifest reads a manifest written by [Manifest.WriteFile].
func ReadManifest(path string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

// Directory opens the fleet's shops for dayflow's activities: each
// shop's State lives in its own directory under a root shared by every
// worker, and each Open builds clients with the shop's limits, counting
// their requests with a [pipeline.Meter]. Put a [dayflow.Cache] in front
// of it so that a worker keeps a shop's clients across attempts.
type Directory struct {
	m     Manifest
	by    map[string]int
	root  string
	mu    sync.Mutex
	demos map[string]*pipeline.Demo
}

var _ dayflow.Directory = (*Directory)(nil)

// NewDirectory serves the shops of m with their State under stateRoot. A
// shop's configuration and events are rebuilt on first use by seeding
// throwaway fakes alike, so a worker in another process needs only m.
func NewDirectory(m Manifest, stateRoot string) *Directory {
	d := &Directory{m: m, by: map[string]int{}, root: stateRoot, demos: map[string]*pipeline.Demo{}}
	for i, e := range m.Shops {
		d.by[e.Shop] = i
	}
	return d
}

// Directory serves the fleet's shops in this process, with their State
// under stateRoot.
func (f *Fleet) Directory(stateRoot string) *Directory {
	d := NewDirectory(f.Manifest(), stateRoot)
	maps.Copy(d.demos, f.demos)
	return d
}

// StateDir is a shop's State directory.
func (d *Directory) StateDir(shop string) string { return filepath.Join(d.root, shop) }

// demo returns shop i's generated store, seeding it on first use.
func (d *Directory) demo(shop string, i int) (*pipeline.Demo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if dm, ok := d.demos[shop]; ok {
		return dm, nil
	}
	fk := startFakes(d.m.Options, i, false)
	defer fk.close()
	dm, err := seed(d.m.Options, i, fk)
	if err != nil {
		return nil, err
	}
	d.demos[shop] = dm
	return dm, nil
}

// Open implements dayflow.Directory.
func (d *Directory) Open(ctx context.Context, shop string, day calendar.Date) (*dayflow.Shop, error) {
	i, ok := d.by[shop]
	if !ok {
		return nil, &shopcrm.InputError{Field: "shop", Value: shop, Reason: "not in the fleet"}
	}
	if day != d.m.Options.Day {
		return nil, &shopcrm.InputError{Field: "day", Value: day.String(), Reason: "the fleet is seeded for " + d.m.Options.Day.String()}
	}
	dm, err := d.demo(shop, i)
	if err != nil {
		return nil, err
	}
	state, err := pipeline.NewState(d.StateDir(shop))
	if err != nil {
		return nil, err
	}
	e := d.m.Shops[i]
	// One Meter per opened day: with a dayflow.Cache in front, the day's
	// attempts share it and each reports its difference.
	m := &pipeline.Meter{}
	var hcs []*http.Client
	hc := func(platform string) *http.Client {
		c := m.Client(platform)
		hcs = append(hcs, c)
		return c
	}
	sc, err := shopify.New(shop, shopcrm.StaticToken(e.ShopifyToken), shopify.WithBaseURL(e.Shopify),
		shopify.WithRateLimit(d.m.Options.ShopifyLimit), shopify.WithHTTPClient(hc("shopify")))
	if err != nil {
		return nil, err
	}
	lc, err := line.New(line.StaticToken(e.LINEToken), line.WithBaseURL(e.LINE), line.WithDataURL(e.LINE), line.WithHTTPClient(hc("line")))
	if err != nil {
		return nil, err
	}
	oo := []omnisend.Option{omnisend.WithBaseURL(e.Omnisend), omnisend.WithHTTPClient(hc("omnisend"))}
	if l := d.m.Options.OmnisendTags; l.Requests > 0 {
		oo = append(oo, omnisend.WithEndpointLimit(omnisend.EndpointContactTags, l.Requests, l.Per))
	}
	oc, err := omnisend.New(omnisend.APIKey(e.OmnisendKey), oo...)
	if err != nil {
		return nil, err
	}
	// The fake finishes Klaviyo's jobs at once: read their status every
	// 50ms rather than every second.
	kc, err := klaviyo.New(klaviyo.PrivateKey(e.KlaviyoKey), klaviyo.WithBaseURL(e.Klaviyo), klaviyo.WithHTTPClient(hc("klaviyo")),
		klaviyo.WithPollInterval(50*time.Millisecond))
	if err != nil {
		return nil, err
	}
	env := &pipeline.Env{Config: dm.Config, State: state, Meter: m,
		Clients: pipeline.Clients{Shopify: sc, LINE: lc, Omnisend: oc, Klaviyo: kc}}
	// Closing releases the connections: a fleet has thousands of fakes.
	closeConns := func() {
		for _, c := range hcs {
			c.CloseIdleConnections()
		}
	}
	return &dayflow.Shop{Env: env, Events: dm.Events, Close: closeConns}, nil
}

package pipeline

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

// Demo is a generated store loaded into the fakes, with what a day of the
// pipeline needs to run on it.
type Demo struct {
	Config    Config
	Events    Events
	LINEUsers map[string]string // customer GID → LINE user id
}

// DemoOptions size a generated store.
type DemoOptions struct {
	Customers int   // default 2,000
	Seed      int64 // the same seed gives the same store
	Day       calendar.Date
	Location  *time.Location // nil: Asia/Tokyo as a fixed +09:00 zone
}

// The demo store's fixed parts.
var (
	demoPlans    = []string{"monthly", "bimonthly", "quarterly"}
	demoProducts = []string{"coffee", "tea", "matcha", "cocoa"}
	demoPrices   = []int64{1980, 2980, 3480, 4980}
	// demoVisits are the sources of the demo's sessions: UTM source,
	// medium and campaign; an empty source is a direct visit.
	demoVisits = [][3]string{
		{"google", "cpc", "brand"}, {"google", "cpc", "generic"}, {"meta", "paid_social", "spring"},
		{"klaviyo", "email", "newsletter"}, {"line", "line", "daily"}, {"", "", ""},
	}
)

// demoKlaviyoList is the Klaviyo list mirroring the repeat buyers.
const demoKlaviyoList = "Shopify repeat buyers"

// DemoSegments are the demo's segments: first-time and repeat buyers, the
// LINE-linked repeat buyers, and active subscribers.
func DemoSegments(schema *tagging.Schema) []segment.Definition {
	return []segment.Definition{
		{Name: "First-time buyers", Tag: "ecp-first", Rule: segment.FirstTimeBuyer()},
		{Name: "Repeat buyers", Tag: "ecp-repeat", Rule: segment.RepeatBuyer()},
		{Name: "LINE repeat buyers", Tag: "ecp-line-repeat", Rule: segment.And(segment.HasTag("line"), segment.RepeatBuyer())},
		{Name: "Active subscribers", Tag: "ecp-subscriber", Rule: segment.Subscriber(schema)},
	}
}

// Fakes are the fakes a demo store is loaded into; a nil one is skipped.
type Fakes struct {
	Shopify  *shopifytest.Server
	LINE     *linetest.Server
	Omnisend *omnisendtest.Server
	Klaviyo  *klaviyotest.Server
}

// SeedDemo fills the fakes with a generated store (customers with orders,
// line items and customer journeys; subscription contracts written as
// tags; LINE-linked customers tagged "line" by another app, following the
// LINE channel; most customers also Omnisend contacts, a few carrying a
// stale segment tag or the merchant's own tags) and returns the day's
// configuration and events.
func SeedDemo(f Fakes, o DemoOptions) (*Demo, error) {
	store, chat := f.Shopify, f.LINE
	if o.Customers <= 0 {
		o.Customers = 2000
	}
	if o.Day.IsZero() {
		return nil, fmt.Errorf("pipeline: DemoOptions.Day must be set")
	}
	loc := o.Location
	if loc == nil {
		loc = time.FixedZone("JST", 9*60*60)
	}
	schema := tagging.Default()
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed))
	dayStart := o.Day.Start(loc)
	d := &Demo{LINEUsers: map[string]string{}}
	var staleList []string // Klaviyo profiles in the repeat buyers' list, whoever they are
	var kList string
	if f.Klaviyo != nil {
		kList = f.Klaviyo.AddList(demoKlaviyoList, klaviyo.SingleOptIn)
	}
	var lineIDs []string
	for i := range o.Customers {
		c := shopifytest.Customer{
			FirstName: fmt.Sprintf("Customer %d", i+1),
			Email:     fmt.Sprintf("c%d@example.com", i+1),
			CreatedAt: dayStart.AddDate(0, 0, -1-rng.IntN(365)),
		}
		linked := rng.IntN(100) < 35
		if linked {
			c.Tags = append(c.Tags, "line")
		}
		if rng.IntN(100) < 5 {
			c.Tags = append(c.Tags, "VIP") // the merchant's own
		}
		contract := ""
		if rng.IntN(100) < 20 {
			contract = fmt.Sprint(100000 + i)
			ch, err := schema.Apply("", nil, tagging.Created{Contract: contract, Plan: pick(rng, demoPlans), Product: pick(rng, demoProducts)})
			if err != nil {
				return nil, err
			}
			c.Tags = append(c.Tags, ch.Add...)
		}
		id := store.AddCustomer(c)
		cid := shopify.CustomerGID(id)
		if linked {
			u := fmt.Sprintf("U%032x", i+1)
			d.LINEUsers[cid] = u
			lineIDs = append(lineIDs, u)
		}
		orders := seedOrders(store, rng, id, c.CreatedAt, dayStart)
		if f.Klaviyo != nil && rng.IntN(100) < 60 {
			p := f.Klaviyo.AddProfile(klaviyo.ProfileInput{Email: c.Email, FirstName: c.FirstName})
			if rng.IntN(10) == 0 {
				staleList = append(staleList, p)
			}
			// Some email history for W5's collection: a newsletter
			// received, sometimes opened and clicked, or bounced hard.
			if rng.IntN(3) == 0 {
				at := dayStart.AddDate(0, 0, -1-rng.IntN(80))
				f.Klaviyo.AddEvent("Received Email", p, at, nil)
				switch rng.IntN(6) {
				case 0, 1:
					f.Klaviyo.AddEvent("Opened Email", p, at.Add(time.Hour), nil)
				case 2:
					f.Klaviyo.AddEvent("Opened Email", p, at.Add(time.Hour), nil)
					f.Klaviyo.AddEvent("Clicked Email", p, at.Add(2*time.Hour), nil)
				case 3:
					f.Klaviyo.AddEvent("Bounced Email", p, at, nil)
					f.Klaviyo.SuppressProfile(p, klaviyo.SuppressionHardBounce)
				}
			}
		}
		if f.Omnisend != nil && rng.IntN(100) < 70 {
			in := omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email(c.Email, omnisend.Subscribed)}, FirstName: c.FirstName}
			switch rng.IntN(20) {
			case 0:
				in.Tags = []string{"ecp-first"} // stale: removed unless a first-time buyer
			case 1:
				in.Tags = []string{"newsletter-2025"} // the merchant's own
			}
			f.Omnisend.AddContact(in)
		}
		if contract != "" {
			d.Events.Customers = append(d.Events.Customers, contractEvents(rng, cid, contract, o.Day)...)
			if n := len(orders); n > 0 && !orders[n-1].before(dayStart) {
				d.Events.Orders = append(d.Events.Orders, OrderEvent{Order: shopify.OrderGID(orders[n-1].id), Event: tagging.OrderPlaced{
					Contract: contract, Count: n, SubscriptionID: fmt.Sprintf("%010d", 1000000000+i)}})
			}
		}
	}
	if chat != nil {
		chat.AddFollowers(lineIDs...)
	}
	if f.Klaviyo != nil && len(staleList) > 0 {
		f.Klaviyo.AddListMembers(kList, staleList...)
	}
	d.Config = Config{
		Shop:     shopifytest.Shop,
		Day:      o.Day,
		Location: loc,
		Schema:   schema,
		Segments: DemoSegments(schema),
		LINEMessage: &LINESend{
			Segment:  "LINE repeat buyers",
			Messages: []line.Message{line.TextMessage{Text: "Thanks for coming back! 10% off your next order."}},
			UserID: func(c string) (string, bool) {
				u, ok := d.LINEUsers[c]
				return u, ok
			},
		},
		Marketing: demoMarketing(o.Day, rng),
		KlaviyoSync: &KlaviyoSync{
			Lists:            map[string]string{"Repeat buyers": demoKlaviyoList},
			PointsPer:        money.Amount{Minor: 100, Currency: "JPY"},
			SegmentsProperty: "shopcrm_segments",
		},
		Apply:    true,
		BulkPoll: 10 * time.Millisecond, // the fakes finish bulk operations in milliseconds
	}
	return d, nil
}

type seededOrder struct {
	id int64
	at time.Time
}

func (o seededOrder) before(t time.Time) bool { return o.at.Before(t) }

// seedOrders adds 0 to 5 orders over the half year before the day, and
// for one customer in twelve an order on the day itself.
func seedOrders(store *shopifytest.Server, rng *rand.Rand, customer int64, created, dayStart time.Time) []seededOrder {
	n := []int{0, 0, 1, 1, 1, 2, 2, 3, 4, 5}[rng.IntN(10)]
	var times []time.Time
	for range n {
		times = append(times, dayStart.Add(-time.Duration(1+rng.IntN(180*24))*time.Hour))
	}
	if rng.IntN(12) == 0 {
		times = append(times, dayStart.Add(time.Duration(1+rng.IntN(20))*time.Hour))
	}
	var out []seededOrder
	for _, at := range sortedTimes(times) {
		if at.Before(created) {
			at = created.Add(time.Hour)
		}
		o := shopifytest.Order{CustomerID: customer, CreatedAt: at, SourceName: "web"}
		for k := range 1 + rng.IntN(3) {
			p := rng.IntN(len(demoProducts))
			price := money.Amount{Minor: demoPrices[p], Currency: "JPY"}
			o.LineItems = append(o.LineItems, shopifytest.LineItem{ProductID: int64(9001 + p), VariantID: int64(8001 + p),
				Title: demoProducts[p], Quantity: 1 + k%2, Price: price})
		}
		if v := demoVisits[rng.IntN(len(demoVisits))]; v[0] != "" || rng.IntN(2) == 0 {
			o.LastVisit = &shopifytest.Visit{OccurredAt: at.Add(-time.Duration(1+rng.IntN(48)) * time.Hour),
				UTMSource: v[0], UTMMedium: v[1], UTMCampaign: v[2], Source: v[0]}
		}
		out = append(out, seededOrder{id: store.AddOrder(o), at: at})
	}
	return out
}

func sortedTimes(ts []time.Time) []time.Time {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
	return ts
}

// contractEvents are a subscriber's events of the day: for one in three,
// a plan change, a skip (with its count, so that it is safe to apply
// twice), a pause or a cancellation.
func contractEvents(rng *rand.Rand, customer, contract string, day calendar.Date) []CustomerEvent {
	if rng.IntN(3) != 0 {
		return nil
	}
	var e tagging.Event
	switch rng.IntN(4) {
	case 0:
		e = tagging.PlanChanged{Contract: contract, Plan: pick(rng, demoPlans)}
	case 1:
		e = tagging.Skipped{Contract: contract, Count: 1 + rng.IntN(3)}
	case 2:
		e = tagging.Paused{Contract: contract, On: day}
	default:
		e = tagging.Cancelled{Contract: contract, On: day}
	}
	return []CustomerEvent{{Customer: customer, Event: e}}
}

// demoMarketing is the day's ad spend and message reports; the app's own
// channel is LINE.
func demoMarketing(day calendar.Date, rng *rand.Rand) *MarketingInput {
	jpy := func(n int64) money.Amount { return money.Amount{Minor: n, Currency: "JPY"} }
	return &MarketingInput{
		ChannelHandle: "shopcrm",
		Channels:      []string{"line"},
		Activities: []shopify.Activity{{
			RemoteID: "line-daily", Title: "LINE daily message", RemoteURL: "https://example.com/campaigns/line-daily",
			Tactic: shopify.TacticMessage, Channel: shopify.ChannelSocial, Status: shopify.StatusActive,
			HierarchyLevel: shopify.LevelCampaign, UTM: &shopify.UTM{Campaign: "daily", Source: "line", Medium: "line"},
		}},
		Spend: []attribution.Spend{
			{Day: day, Key: attribution.Key{Channel: "google", Campaign: "brand"}, Amount: jpy(20000 + rng.Int64N(5000)), Impressions: 12000, Clicks: 340},
			{Day: day, Key: attribution.Key{Channel: "google", Campaign: "generic"}, Amount: jpy(35000 + rng.Int64N(5000)), Impressions: 30000, Clicks: 510},
			{Day: day, Key: attribution.Key{Channel: "meta", Campaign: "spring"}, Amount: jpy(28000 + rng.Int64N(5000)), Impressions: 45000, Clicks: 620},
		},
		Messages: []attribution.Messages{
			{Day: day, Key: attribution.Key{Channel: "klaviyo", Campaign: "newsletter"}, Sends: 1800, Opens: 760, Clicks: 95, Bounces: 12},
			{Day: day, Key: attribution.Key{Channel: "line", Campaign: "daily"}, Sends: 600, Opens: 410, Clicks: 88},
		},
	}
}

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

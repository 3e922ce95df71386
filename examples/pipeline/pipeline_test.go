package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/examples/pipeline"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

var (
	jst   = time.FixedZone("JST", 9*60*60)
	day   = calendar.NewDate(2026, time.November, 23)
	today = day.Start(jst).Add(10 * time.Hour)
	u1    = "U00000000000000000000000000000001"
	u2    = "U00000000000000000000000000000002"
)

// smallStore is a store small enough to work out its day by hand; the
// comments say what the day must do to each customer.
type smallStore struct {
	srv             *shopifytest.Server
	chat            *linetest.Server
	esp             *omnisendtest.Server
	crm             *klaviyotest.Server
	strayProfile    string
	listID          string
	c1, c2, c3, c4  int64
	c5, c6, c5Today int64
	lineUsers       map[string]string
	customerEvents  []pipeline.CustomerEvent
	orderEvents     []pipeline.OrderEvent
}

func newSmallStore(t *testing.T, espOpts ...omnisendtest.Option) *smallStore {
	t.Helper()
	now := day.Start(jst).Add(23 * time.Hour)
	s := &smallStore{srv: shopifytest.NewServer(shopifytest.WithNow(now)), chat: linetest.NewServer(linetest.WithNow(now))}
	s.esp = omnisendtest.NewServer(append([]omnisendtest.Option{omnisendtest.WithNow(now)}, espOpts...)...)
	s.crm = klaviyotest.NewServer(klaviyotest.WithNow(now), klaviyotest.WithJobDuration(0))
	t.Cleanup(s.crm.Close)
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.chat.Close)
	t.Cleanup(s.esp.Close)
	created := day.Start(jst).AddDate(0, -6, 0)
	order := func(c int64, daysAgo int, visit *shopifytest.Visit) int64 {
		at := today.AddDate(0, 0, -daysAgo)
		return s.srv.AddOrder(shopifytest.Order{CustomerID: c, CreatedAt: at, SourceName: "web",
			Total: money.MustParse("2980", "JPY"), LastVisit: visit})
	}
	// c1: one old order, linked to LINE: a first-time buyer.
	s.c1 = s.srv.AddCustomer(shopifytest.Customer{Email: "c1@example.com", Tags: []string{"line"}, CreatedAt: created})
	order(s.c1, 40, nil)
	// c2: two orders (one today, from the LINE message's link), linked to
	// LINE: a repeat buyer and a LINE repeat buyer, who gets the message.
	s.c2 = s.srv.AddCustomer(shopifytest.Customer{Email: "c2@example.com", Tags: []string{"line"}, CreatedAt: created})
	order(s.c2, 50, nil)
	order(s.c2, 0, &shopifytest.Visit{OccurredAt: today.Add(-time.Hour), UTMSource: "line", UTMMedium: "line", UTMCampaign: "daily"})
	// c3: three orders, no LINE: a repeat buyer.
	s.c3 = s.srv.AddCustomer(shopifytest.Customer{Email: "c3@example.com", CreatedAt: created})
	for _, d := range []int{10, 20, 30} {
		order(s.c3, d, nil)
	}
	// c4: no orders but tagged ecp-first by hand: a stray, loses the tag.
	s.c4 = s.srv.AddCustomer(shopifytest.Customer{Email: "c4@example.com", Tags: []string{"ecp-first"}, CreatedAt: created})
	// c5: a subscriber on contract 555 ordering for the first time today,
	// who changes plan and skips twice.
	s.c5 = s.srv.AddCustomer(shopifytest.Customer{Email: "c5@example.com", CreatedAt: created,
		Tags: []string{"subscription-555-plan:monthly", "subscription-555-product:coffee"}})
	s.c5Today = order(s.c5, 0, nil)
	// c6: the merchant's VIP with two orders: a repeat buyer; VIP stays.
	s.c6 = s.srv.AddCustomer(shopifytest.Customer{Email: "c6@example.com", Tags: []string{"VIP"}, CreatedAt: created})
	order(s.c6, 5, nil)
	order(s.c6, 15, nil)

	// Omnisend contacts: c1 (a first-time buyer: gets ecp-first), c4
	// (carries a stale ecp-first: loses it), c6 (a repeat buyer with the
	// merchant's own tag: gets ecp-repeat, keeps its tag). c2, c3 and c5
	// have no contact.
	for _, c := range []struct {
		email string
		tags  []string
	}{{"c1@example.com", nil}, {"c4@example.com", []string{"ecp-first"}}, {"c6@example.com", []string{"newsletter-2025"}}} {
		s.esp.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email(c.email, omnisend.Subscribed)}, Tags: c.tags})
	}
	// Klaviyo profiles: c1 and c6, and a stray in the repeat buyers'
	// list who is no customer: it leaves the list. c2 and c3 join it,
	// their profiles created; c5 has no profile when the segment property
	// is written (update only), and gets one from its loyalty event.
	s.crm.AddProfile(klaviyo.ProfileInput{Email: "c1@example.com"})
	s.crm.AddProfile(klaviyo.ProfileInput{Email: "c6@example.com"})
	s.strayProfile = s.crm.AddProfile(klaviyo.ProfileInput{Email: "x@example.com"})
	s.listID = s.crm.AddList("Repeat buyers", klaviyo.SingleOptIn)
	s.crm.AddListMembers(s.listID, s.strayProfile)
	s.lineUsers = map[string]string{shopify.CustomerGID(s.c1): u1, shopify.CustomerGID(s.c2): u2}
	s.chat.AddFollowers(u1, u2)
	s.customerEvents = []pipeline.CustomerEvent{
		{Customer: shopify.CustomerGID(s.c5), Event: tagging.PlanChanged{Contract: "555", Plan: "quarterly"}},
		{Customer: shopify.CustomerGID(s.c5), Event: tagging.Skipped{Contract: "555", Count: 2}},
	}
	s.orderEvents = []pipeline.OrderEvent{
		{Order: shopify.OrderGID(s.c5Today), Event: tagging.OrderPlaced{Contract: "555", Count: 1, SubscriptionID: "0000000555"}},
	}
	return s
}

func (s *smallStore) env(t *testing.T, state *pipeline.State) *pipeline.Env {
	schema := tagging.Default()
	return &pipeline.Env{
		Config: pipeline.Config{
			Shop: shopifytest.Shop, Day: day, Location: jst, Schema: schema, Apply: true, BulkPoll: 5 * time.Millisecond,
			Segments: pipeline.DemoSegments(schema),
			LINEMessage: &pipeline.LINESend{
				Segment:  "LINE repeat buyers",
				Messages: []line.Message{line.TextMessage{Text: "Thanks!"}},
				UserID:   func(c string) (string, bool) { u, ok := s.lineUsers[c]; return u, ok },
			},
			KlaviyoSync: &pipeline.KlaviyoSync{
				Lists:     map[string]string{"Repeat buyers": "Repeat buyers"},
				PointsPer: money.MustParse("100", "JPY"), SegmentsProperty: "shopcrm_segments",
			},
			Marketing: &pipeline.MarketingInput{
				ChannelHandle: "shopcrm", Channels: []string{"line"},
				Activities: []shopify.Activity{{RemoteID: "line-daily", Title: "LINE daily", RemoteURL: "https://example.com/line-daily",
					Tactic: shopify.TacticMessage, Channel: shopify.ChannelSocial, Status: shopify.StatusActive,
					HierarchyLevel: shopify.LevelCampaign, UTM: &shopify.UTM{Campaign: "daily", Source: "line", Medium: "line"}}},
			},
		},
		Clients: pipeline.Clients{Shopify: s.srv.Client(), LINE: s.chat.Client(), Omnisend: s.esp.Client(), Klaviyo: s.crm.Client()},
		State:   state,
	}
}

// writes counts the requests that change something on either fake.
func (s *smallStore) writes() int { return fakeWrites(s.srv, s.chat, s.crm, s.esp) }

// fakeWrites counts the requests that changed something on the fakes: the
// Shopify mutations that write and every LINE, Klaviyo and Omnisend
// request but reads (Klaviyo's metric aggregates are read with a POST).
func fakeWrites(srv *shopifytest.Server, chat *linetest.Server, crm *klaviyotest.Server, esp *omnisendtest.Server) int {
	n := 0
	for _, op := range []string{"tagsAdd", "tagsRemove", "segmentCreate", "segmentUpdate", "marketingActivityUpsertExternal",
		"marketingActivityCreateExternal", "marketingActivityUpdateExternal", "marketingActivityDeleteExternal",
		"marketingEngagementCreate", "marketingEngagementsDelete", "segmentDelete", "customerEmailMarketingConsentUpdate",
		"customerSmsMarketingConsentUpdate"} {
		n += srv.OpCount(op)
	}
	for _, r := range chat.Requests() {
		if r.Method != "GET" {
			n++
		}
	}
	for _, r := range crm.Requests() {
		if r.Method != "GET" && !strings.Contains(r.Path, "metric-aggregates") {
			n++
		}
	}
	for _, r := range esp.Requests() {
		if r.Method != "GET" {
			n++
		}
	}
	return n
}

func sorted(tags []string) []string {
	out := slices.Clone(tags)
	sort.Strings(out)
	return out
}

func TestDayOnSmallStore(t *testing.T) {
	s := newSmallStore(t)
	state, err := pipeline.NewState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := pipeline.RunDay(ctx, s.env(t, state), pipeline.Events{Customers: s.customerEvents, Orders: s.orderEvents}); err != nil {
		t.Fatal(err)
	}

	// Worked out by hand from the store above.
	wantTags := map[int64][]string{
		s.c1: {"ecp-first", "line"},
		s.c2: {"ecp-line-repeat", "ecp-repeat", "line"},
		s.c3: {"ecp-repeat"},
		s.c4: nil,
		s.c5: {"ecp-first", "ecp-subscriber", "subscription-555-plan:quarterly", "subscription-555-product:coffee", "subscription-555-skip-count:2"},
		s.c6: {"VIP", "ecp-repeat"},
	}
	for id, want := range wantTags {
		if d := cmp.Diff(want, sorted(s.srv.CustomerTags(id)), cmpopts.EquateEmpty()); d != "" {
			t.Errorf("customer %d tags (-want +got):\n%s", id, d)
		}
	}
	if d := cmp.Diff([]string{"subscription-count:1", "subscription-id:0000000555"}, sorted(s.srv.OrderTags(s.c5Today))); d != "" {
		t.Errorf("order tags (-want +got):\n%s", d)
	}
	var segs []string
	for _, g := range s.srv.Segments() {
		segs = append(segs, g.Name+": "+g.Query)
	}
	wantSegs := []string{
		"Active subscribers: customer_tags CONTAINS 'ecp-subscriber'",
		"First-time buyers: customer_tags CONTAINS 'ecp-first'",
		"LINE repeat buyers: customer_tags CONTAINS 'ecp-line-repeat'",
		"Repeat buyers: customer_tags CONTAINS 'ecp-repeat'",
	}
	if d := cmp.Diff(wantSegs, sorted(segs)); d != "" {
		t.Errorf("Shopify segments (-want +got):\n%s", d)
	}
	if got := s.chat.Recipients(); !slices.Equal(got, []string{u2}) {
		t.Errorf("LINE recipients = %v, want only %s", got, u2)
	}
	if n := len(s.chat.Messages(u2)); n != 1 {
		t.Errorf("%s got %d messages, want 1", u2, n)
	}
	engs := s.srv.MarketingEngagements()
	if len(engs) != 1 {
		t.Fatalf("%d engagements, want the one LINE channel day: %+v", len(engs), engs)
	}
	e := engs[0]
	if e.ChannelHandle != "shopcrm" || e.OccurredOn != "2026-11-23" || e.UTCOffset != "+09:00" ||
		e.Sales == nil || e.Sales.String() != money.MustParse("2980", "JPY").String() || e.Orders != "1" {
		t.Errorf("engagement %+v (sales %v)", e, e.Sales)
	}
	wantContacts := map[string][]string{
		"c1@example.com": {"ecp-first"},
		"c4@example.com": nil,
		"c6@example.com": {"ecp-repeat", "newsletter-2025"},
	}
	for email, want := range wantContacts {
		c, ok := s.esp.Contact(email)
		if !ok {
			t.Fatalf("contact %s gone", email)
		}
		if d := cmp.Diff(want, sorted(c.Tags), cmpopts.EquateEmpty()); d != "" {
			t.Errorf("Omnisend contact %s tags (-want +got):\n%s", email, d)
		}
	}
	if n := len(s.esp.Contacts()); n != 3 {
		t.Errorf("%d Omnisend contacts, want the 3 seeded: none is created", n)
	}
	s.checkKlaviyo(t)
	if _, ok := s.srv.MarketingActivityByRemoteID("line-daily"); !ok {
		t.Error("activity line-daily not upserted")
	}

	// The same day again, from the state the first run left: nothing is
	// written anywhere.
	before := s.writes()
	if _, err := pipeline.RunDay(ctx, s.env(t, state), pipeline.Events{Customers: s.customerEvents, Orders: s.orderEvents}); err != nil {
		t.Fatal(err)
	}
	if n := s.writes() - before; n != 0 {
		t.Errorf("second run of the day made %d writes, want 0", n)
	}
}

// checkKlaviyo compares the Klaviyo fake with the day worked out by hand.
func (s *smallStore) checkKlaviyo(t *testing.T) {
	t.Helper()
	ids, _ := s.crm.ListMembers(s.listID)
	var members []string
	for _, id := range ids {
		p, _ := s.crm.Profile(id)
		members = append(members, p.Email)
	}
	if d := cmp.Diff([]string{"c2@example.com", "c3@example.com", "c6@example.com"}, sorted(members)); d != "" {
		t.Errorf("Klaviyo list members (-want +got):\n%s", d)
	}
	wantProps := map[string][]string{
		"c1@example.com": {"First-time buyers"},
		"c2@example.com": {"LINE repeat buyers", "Repeat buyers"},
		"c3@example.com": {"Repeat buyers"},
		"c6@example.com": {"Repeat buyers"},
		"c5@example.com": nil, // no profile when the property was written
		"x@example.com":  nil,
	}
	for email, want := range wantProps {
		id, ok := s.crm.ProfileIDByEmail(email)
		if !ok {
			t.Errorf("no Klaviyo profile %s", email)
			continue
		}
		p, _ := s.crm.Profile(id)
		var got []string
		if v, ok := p.Properties["shopcrm_segments"].([]any); ok {
			for _, x := range v {
				got = append(got, fmt.Sprint(x))
			}
		}
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s shopcrm_segments (-want +got):\n%s", email, d)
		}
	}
	var events []string
	for _, e := range s.crm.Events() {
		p, _ := s.crm.Profile(e.ProfileID)
		events = append(events, fmt.Sprintf("%s %s %v", e.Metric, p.Email, e.Properties["points"]))
	}
	if d := cmp.Diff([]string{"Loyalty Points Earned c2@example.com 29", "Loyalty Points Earned c5@example.com 29"}, sorted(events)); d != "" {
		t.Errorf("Klaviyo events (-want +got):\n%s", d)
	}
}

// TestRedact: a customers/redact request for c2 (a LINE repeat buyer with
// an Omnisend contact added for the test) takes them out of every segment
// and send: the next day tags nobody for them and messages nobody new.
func TestRedact(t *testing.T) {
	s := newSmallStore(t)
	s.esp.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("c2@example.com", omnisend.Subscribed)}, Tags: []string{"ecp-repeat", "vip-club"}})
	state, err := pipeline.NewState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env := s.env(t, state)
	if _, err := pipeline.RunDay(ctx, env, pipeline.Events{Customers: s.customerEvents, Orders: s.orderEvents}); err != nil {
		t.Fatal(err)
	}
	rep, err := pipeline.Redact(ctx, env, &shopify.CustomersRedactPayload{ShopDomain: shopifytest.Shop,
		Customer: shopify.PrivacyCustomer{ID: s.c2, Email: "c2@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts["segments left"] != 2 {
		t.Errorf("redact report %v, want c2 out of its 2 segments", rep)
	}
	if _, ok := s.crm.ProfileIDByEmail("c2@example.com"); ok {
		t.Error("c2's Klaviyo profile is still there")
	}
	c, ok := s.esp.Contact("c2@example.com")
	if !ok || c.Status != omnisend.Unsubscribed || !slices.Equal(c.Tags, []string{"vip-club"}) {
		t.Errorf("Omnisend contact after redact: %+v", c)
	}
	// The next day: c2 is in no segment and gets no message.
	next := s.env(t, state)
	next.Day = day.AddDays(1)
	if _, err := pipeline.RunDay(ctx, next, pipeline.Events{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Repeat buyers", "LINE repeat buyers"} {
		snap, _, _ := state.Segments().Load(ctx, name)
		if slices.Contains(snap.Members, gid.New(gid.Customer, s.c2)) {
			t.Errorf("c2 still in %s", name)
		}
	}
	if n := len(s.chat.Messages(u2)); n != 1 {
		t.Errorf("c2 got %d LINE messages, want only the first day's", n)
	}
	if c, _ := s.esp.Contact("c2@example.com"); slices.Contains(c.Tags, "ecp-repeat") {
		t.Errorf("c2's contact got a segment tag back: %v", c.Tags)
	}
	if _, err := pipeline.Redact(ctx, env, &shopify.CustomersRedactPayload{ShopDomain: "other.myshopify.com",
		Customer: shopify.PrivacyCustomer{ID: s.c1}}); err == nil {
		t.Error("a request for another shop was carried out")
	}
}

// TestLifecycleReadsAlike: reading the customers' tags from a bulk export
// or one by one gives the same tags on the same store.
func TestLifecycleReadsAlike(t *testing.T) {
	end := func(bulkAbove int) map[int64][]string {
		defer pipeline.SetBulkReadAbove(bulkAbove)()
		store := shopifytest.NewServer(shopifytest.WithNow(day.Start(jst).Add(23*time.Hour)), shopifytest.WithRateLimit(shopifytest.PlanPlus))
		defer store.Close()
		demo, err := pipeline.SeedDemo(pipeline.Fakes{Shopify: store}, pipeline.DemoOptions{Customers: 400, Seed: 5, Day: day, Location: jst})
		if err != nil {
			t.Fatal(err)
		}
		state, err := pipeline.NewState(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		env := &pipeline.Env{Config: demo.Config, Clients: pipeline.Clients{Shopify: store.Client()}, State: state}
		rep, err := pipeline.Lifecycle(context.Background(), env, demo.Events.Customers, demo.Events.Orders)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Counts["customer events"] < 10 || rep.Counts["order events"] < 3 || rep.Counts["tags applied"] == 0 {
			t.Fatalf("a day with too few events to compare: %v", rep)
		}
		out := map[int64][]string{}
		for _, c := range store.Customers() {
			out[c.ID] = sorted(c.Tags)
		}
		for _, o := range store.Orders() {
			if len(o.Tags) > 0 {
				out[-o.ID] = sorted(o.Tags) // orders under negative ids
			}
		}
		return out
	}
	if d := cmp.Diff(end(1<<30), end(0)); d != "" {
		t.Errorf("tags after reading one by one (-) and from an export (+):\n%s", d)
	}
}

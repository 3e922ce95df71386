package shopify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

// fastSleep keeps retry waits short but real.
func fastSleep(ctx context.Context, d time.Duration) error {
	d = min(d/20, 20*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func setup(t *testing.T, opts ...shopifytest.Option) (*shopifytest.Server, *shopify.Client) {
	t.Helper()
	// A fast restore rate keeps tests quick; options given override it.
	srv := shopifytest.NewServer(append([]shopifytest.Option{shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 20000, Burst: 1000})}, opts...)...)
	t.Cleanup(srv.Close)
	return srv, srv.Client(shopify.WithSleep(fastSleep))
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		shop  string
		opts  []shopify.Option
		field string
	}{
		{"example.com", nil, "shopDomain"},
		{"Shop.myshopify.com", nil, "shopDomain"},
		{"shop.myshopify.com", []shopify.Option{shopify.WithAPIVersion("2025-02")}, "WithAPIVersion"},
		{"shop.myshopify.com", []shopify.Option{shopify.WithBaseURL("ftp://x")}, "WithBaseURL"},
		{"shop.myshopify.com", []shopify.Option{shopify.WithRateLimit(shopify.RateLimit{Burst: 10})}, "WithRateLimit.PerSecond"},
		{"shop.myshopify.com", []shopify.Option{shopify.WithRateLimit(shopify.RateLimit{PerSecond: math.NaN(), Burst: 10})}, "WithRateLimit.PerSecond"},
		{"shop.myshopify.com", []shopify.Option{shopify.WithRateLimit(shopify.RateLimit{PerSecond: math.Inf(1), Burst: 10})}, "WithRateLimit.PerSecond"},
		{"shop.myshopify.com", []shopify.Option{shopify.WithRetryPolicy(shopify.RetryPolicy{MaxRetries: -1})}, "WithRetryPolicy.MaxRetries"},
		{"shop.myshopify.com", []shopify.Option{shopify.WithHTTPClient(nil)}, "WithHTTPClient"},
		{"shop.myshopify.com", []shopify.Option{shopify.WithOrderTagMaxLength(0)}, "WithOrderTagMaxLength"},
		{"shop.myshopify.com", []shopify.Option{shopify.WithOrderTagMaxLength(256)}, "WithOrderTagMaxLength"},
	}
	for _, tt := range tests {
		_, err := shopify.New(tt.shop, shopify.StaticToken("shpat_x"), tt.opts...)
		var ie *shopify.InputError
		if !errors.As(err, &ie) || ie.Field != tt.field || !errors.Is(err, shopify.ErrInvalidInput) {
			t.Errorf("New(%q): err = %v, want InputError on %s", tt.shop, err, tt.field)
		}
	}
	if _, err := shopify.New("shop.myshopify.com", nil); err == nil {
		t.Error("nil token accepted")
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	const tok = "shpat_supersecret_value_123"
	var logs bytes.Buffer
	c, err := shopify.New("shop.myshopify.com", shopify.StaticToken(tok),
		shopify.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		shopify.WithBaseURL("http://127.0.0.1:1"), shopify.WithRetryPolicy(shopify.RetryPolicy{MaxRetries: 1}),
		shopify.WithSleep(fastSleep))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, tok) {
			t.Errorf("token printed: %s", s)
		}
	}
	_, err = c.Do(context.Background(), "{ shop { name } }", nil, nil)
	if err == nil || strings.Contains(err.Error(), tok) || strings.Contains(fmt.Sprintf("%+v", err), tok) {
		t.Errorf("err = %v", err)
	}
	if strings.Contains(logs.String(), tok) {
		t.Errorf("token logged: %s", logs.String())
	}
}

func TestCustomersRoundTrip(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	num := srv.AddCustomer(shopifytest.Customer{FirstName: "Aino", LastName: "Virtanen", Email: "aino@example.com",
		Phone: "+358401234567", Tags: []string{"line", "vip"}, CreatedAt: created})
	id := shopify.CustomerGID(num)
	for _, total := range []string{"40.00", "50.00", "30.50"} {
		srv.AddOrder(shopifytest.Order{CustomerID: num, Total: money.MustParse(total, "EUR")})
	}
	got, _, err := c.Customers.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := &shopify.Customer{ID: id, FirstName: "Aino", LastName: "Virtanen", DisplayName: "Aino Virtanen",
		Email: "aino@example.com", Phone: "+358401234567", Tags: []string{"line", "vip"}, NumberOfOrders: 3,
		AmountSpent: money.MustParse("120.50", "EUR"), State: "ENABLED", CreatedAt: created, UpdatedAt: created,
		EmailConsent: &shopify.EmailConsent{State: "NOT_SUBSCRIBED", OptInLevel: "SINGLE_OPT_IN"},
		SMSConsent:   &shopify.SMSConsent{State: "NOT_SUBSCRIBED", OptInLevel: "SINGLE_OPT_IN"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("customer (-want +got):\n%s", diff)
	}
	if _, _, err := c.Customers.Get(ctx, shopify.CustomerGID(1)); !errors.Is(err, shopify.ErrNotFound) {
		t.Errorf("missing customer: err = %v", err)
	}
	if _, _, err := c.Customers.Get(ctx, "123"); !errors.Is(err, shopify.ErrInvalidInput) {
		t.Errorf("bad id: err = %v", err)
	}
}

func TestTagRoundTrip(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Email: "a@example.com", Tags: []string{"line"}}))
	if _, err := c.Tags.Add(ctx, id, []string{"ecp-first", "subscription-1-plan:gold", "LINE"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Tags.Remove(ctx, id, []string{"Ecp-First"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"line", "subscription-1-plan:gold"}, tagsOf(srv, id)); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	got, _, err := c.Customers.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"line", "subscription-1-plan:gold"}, got.Tags); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	oid := shopify.OrderGID(srv.AddOrder(shopifytest.Order{CustomerID: 1, Tags: []string{"a"}}))
	if _, err := c.Tags.Add(ctx, oid, []string{"subscription-count:2"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "subscription-count:2"}, tagsOf(srv, oid)); diff != "" {
		t.Errorf("order tags (-want +got):\n%s", diff)
	}
}

func TestTagsBadInputNeverSent(t *testing.T) {
	srv, c := setup(t)
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{}))
	for _, tags := range [][]string{{"a,b"}, {" a"}, {strings.Repeat("x", 256)}, {""}} {
		_, err := c.Tags.Add(context.Background(), id, tags)
		var ie *shopify.InputError
		if !errors.As(err, &ie) || !strings.HasPrefix(ie.Field, "tags") {
			t.Errorf("Add(%q): err = %v, want InputError on tags", tags, err)
		}
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

// TestOrderTagLength: Shopify documents 40 characters per order tag (255
// per customer tag); a longer order tag is refused before it is sent, by
// Add and by Apply, and the fake refuses it as Shopify does.
func TestOrderTagLength(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	oid := shopify.OrderGID(srv.AddOrder(shopifytest.Order{}))
	cid := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{}))
	long := strings.Repeat("é", shopify.DefaultOrderTagMaxLength+1)
	_, err := c.Tags.Add(ctx, oid, []string{long})
	var ie *shopify.InputError
	if !errors.As(err, &ie) || ie.Field != "tags[0]" || !errors.Is(err, tagging.ErrTooLong) || !strings.Contains(ie.Reason, "40") {
		t.Errorf("Add(order, 41 characters): err = %v, want InputError on tags[0]", err)
	}
	res, err := c.Tags.Apply(ctx, []tagging.Change{{ID: oid, Add: []string{long}}}, nil)
	if err != nil || len(res) != 1 || res[0].Outcome != shopcrm.Failed || !errors.As(res[0].Err, &ie) {
		t.Errorf("Apply(order, 41 characters) = %+v, %v; want the change failed with an InputError", res, err)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent for a too long order tag", n)
	}
	// 40 on an order and 41 on a customer are fine.
	if _, err := c.Tags.Add(ctx, oid, []string{long[len("é"):]}); err != nil {
		t.Errorf("Add(order, 40 characters): %v", err)
	}
	if _, err := c.Tags.Add(ctx, cid, []string{long}); err != nil {
		t.Errorf("Add(customer, 41 characters): %v", err)
	}
	// A client told otherwise sends the tag; the fake refuses it.
	lax := srv.Client(shopify.WithSleep(fastSleep), shopify.WithOrderTagMaxLength(60))
	_, err = lax.Tags.Add(ctx, oid, []string{long})
	var ue *shopify.UserErrors
	if !errors.As(err, &ue) {
		t.Errorf("Add(order, 41 characters) with a 60 limit: err = %v, want *UserErrors from the fake", err)
	}
	if diff := cmp.Diff([]string{long[len("é"):]}, tagsOf(srv, oid)); diff != "" {
		t.Errorf("order tags (-want +got):\n%s", diff)
	}
}

// TestTagsEmptyIsNoOp: adding or removing no tags sends nothing and is
// not an error.
func TestTagsEmptyIsNoOp(t *testing.T) {
	srv, c := setup(t)
	num := srv.AddCustomer(shopifytest.Customer{Tags: []string{"keep"}})
	id := shopify.CustomerGID(num)
	for name, edit := range map[string]func(context.Context, string, []string) (*shopify.Response, error){
		"Add": c.Tags.Add, "Remove": c.Tags.Remove,
	} {
		for _, tags := range [][]string{nil, {}} {
			resp, err := edit(context.Background(), id, tags)
			if err != nil || resp != nil {
				t.Errorf("%s(%q) = %v, %v; want nil, nil", name, tags, resp, err)
			}
		}
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent for no tags", n)
	}
	if diff := cmp.Diff([]string{"keep"}, srv.CustomerTags(num)); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	// The id is still checked.
	if _, err := c.Tags.Add(context.Background(), "123", nil); !errors.Is(err, shopify.ErrInvalidInput) {
		t.Errorf("bad id with no tags: err = %v", err)
	}
}

func TestUserErrors(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	_, err := c.Tags.Add(ctx, shopify.CustomerGID(999999), []string{"x"})
	var ue *shopify.UserErrors
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *UserErrors", err)
	}
	if diff := cmp.Diff([]shopify.UserError{{Field: []string{"id"}, Message: "Resource not found"}}, ue.Errors); diff != "" {
		t.Errorf("user errors (-want +got):\n%s", diff)
	}
	// Too many tags on one resource.
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{}))
	many := make([]string, 251)
	for i := range many {
		many[i] = fmt.Sprintf("t%d", i)
	}
	if _, err := c.Tags.Add(ctx, id, many); !errors.As(err, &ue) {
		t.Errorf("251 tags: err = %v, want *UserErrors", err)
	}
	// Consent without email.
	_, err = c.Customers.UpdateEmailConsent(ctx, id, shopify.EmailConsent{State: "SUBSCRIBED"})
	if !errors.As(err, &ue) || ue.Errors[0].Code != "INVALID" {
		t.Errorf("consent: err = %v", err)
	}
}

func TestPaginationToTheEnd(t *testing.T) {
	srv, c := setup(t)
	var want []string
	for i := range 23 {
		want = append(want, shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Email: fmt.Sprintf("c%d@example.com", i)})))
	}
	var got []string
	for cu, err := range c.Customers.List(context.Background(), &shopify.ListOptions{PageSize: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, cu.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if n := srv.OpCount("customers"); n != 5 {
		t.Errorf("%d pages, want 5", n)
	}
	// Stop early.
	n := 0
	for range c.Customers.List(context.Background(), &shopify.ListOptions{PageSize: 5}) {
		n++
		if n == 7 {
			break
		}
	}
	if _, err := firstErr(c.Customers.List(context.Background(), &shopify.ListOptions{PageSize: 251})); !errors.Is(err, shopify.ErrInvalidInput) {
		t.Errorf("page size 251: err = %v", err)
	}
}

func firstErr[T any](seq func(func(T, error) bool)) (T, error) {
	var zero T
	for v, err := range seq {
		if err != nil {
			return zero, err
		}
		return v, nil
	}
	return zero, nil
}

func TestOrders(t *testing.T) {
	srv, c := setup(t)
	day := func(d int) time.Time { return time.Date(2025, 1, d, 9, 0, 0, 0, time.UTC) }
	cid := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{ID: 7, FirstName: "Yui"}))
	visit := &shopifytest.Visit{OccurredAt: day(9), Source: "email", UTMCampaign: "spring", UTMMedium: "email", UTMSource: "klaviyo", MarketingEventType: "NEWSLETTER", MarketingEventID: 5}
	o1 := shopify.OrderGID(srv.AddOrder(shopifytest.Order{CustomerID: 7, CreatedAt: day(10), Total: money.MustParse("3000", "JPY"), Tags: []string{"subscription-count:1"}, FirstVisit: visit, LastVisit: visit}))
	srv.AddOrder(shopifytest.Order{CustomerID: 7, CreatedAt: day(2), Total: money.MustParse("1000", "JPY")})
	o3 := shopify.OrderGID(srv.AddOrder(shopifytest.Order{CreatedAt: day(20), Total: money.MustParse("12.34", "USD"), Tags: []string{"subscription-count:1"}}))
	var got []string
	for o, err := range c.Orders.List(context.Background(), &shopify.ListOptions{Query: "created_at:>=2025-01-05 tag:subscription-count:1"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, o.ID)
	}
	if diff := cmp.Diff([]string{o1, o3}, got); diff != "" {
		t.Errorf("orders (-want +got):\n%s", diff)
	}
	o, _, err := c.Orders.Get(context.Background(), o1)
	if err != nil {
		t.Fatal(err)
	}
	if o.TotalPrice != money.MustParse("3000", "JPY") || o.CustomerID != cid || o.CustomerName != "Yui" {
		t.Errorf("order = %+v", o)
	}
	wantVisit := &shopify.Visit{ID: o.Journey.FirstVisit.ID, OccurredAt: day(9), Source: "email",
		UTM:            shopify.UTM{Campaign: "spring", Medium: "email", Source: "klaviyo"},
		MarketingEvent: &shopify.MarketingEvent{ID: "gid://shopify/MarketingEvent/5", Type: "NEWSLETTER", UTMCampaign: "spring", UTMMedium: "email", UTMSource: "klaviyo", SourceAndMedium: "klaviyo email"}}
	if diff := cmp.Diff(wantVisit, o.Journey.FirstVisit); diff != "" {
		t.Errorf("first visit (-want +got):\n%s", diff)
	}
	// The customer's second order, a day after the first visit.
	if o.Journey.CustomerOrderIndex != 2 || o.Journey.DaysToConversion != 1 {
		t.Errorf("journey: order index %d, days to conversion %d; want 2 and 1", o.Journey.CustomerOrderIndex, o.Journey.DaysToConversion)
	}
	// A search term the fake does not model is an error, not every order.
	if _, err := firstErr(c.Orders.List(context.Background(), &shopify.ListOptions{Query: "financial_status:paid"})); !errors.As(err, new(*shopify.GraphQLErrors)) {
		t.Errorf("unmodelled search term: err = %v", err)
	}
}

// TestEmailConsentRead: a customer's email marketing consent is read back
// as recorded; a customer without email has none.
func TestEmailConsentRead(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Email: "a@example.com"}))
	at := time.Date(2025, 5, 1, 8, 30, 0, 0, time.UTC)
	if _, err := c.Customers.UpdateEmailConsent(ctx, id, shopify.EmailConsent{State: shopify.Subscribed, OptInLevel: shopify.ConfirmedOptIn, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Customers.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&shopify.EmailConsent{State: shopify.Subscribed, OptInLevel: shopify.ConfirmedOptIn, UpdatedAt: at}, got.EmailConsent); diff != "" {
		t.Errorf("email consent (-want +got):\n%s", diff)
	}
	none := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Phone: "+81300000000"}))
	if got, _, err := c.Customers.Get(ctx, none); err != nil || got.EmailConsent != nil || got.SMSConsent == nil {
		t.Errorf("customer without email: %+v, %v", got, err)
	}
}

// TestOrderLineItems: orders bring their first line items, say when there
// are more, and LineItems pages through all of them, every document under
// the query cost limit.
func TestOrderLineItems(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	var lines []shopifytest.LineItem
	for i := range 7 {
		lines = append(lines, shopifytest.LineItem{ProductID: int64(100 + i), VariantID: int64(200 + i), Title: fmt.Sprintf("Tea %d", i),
			VariantTitle: "100 g", SKU: fmt.Sprintf("TEA-%d", i), Quantity: i + 1, Price: money.MustParse("1200", "JPY"), DiscountedPrice: money.MustParse("1000", "JPY")})
	}
	lines = append(lines, shopifytest.LineItem{Title: "Gift wrap", Quantity: 1, Price: money.MustParse("300", "JPY")})
	oid := srv.AddOrder(shopifytest.Order{LineItems: lines})
	srv.AddOrder(shopifytest.Order{LineItems: lines[:1]})
	want := make([]shopify.LineItem, len(lines))
	for i, l := range lines {
		want[i] = shopify.LineItem{ID: gid.New(gid.LineItem, oid*1000+int64(i)+1).String(), Title: l.Title, VariantTitle: l.VariantTitle, SKU: l.SKU,
			Quantity: l.Quantity, UnitPrice: l.Price, DiscountedUnitPrice: l.DiscountedPrice}
		if l.ProductID != 0 {
			want[i].ProductID, want[i].VariantID = gid.New(gid.Product, l.ProductID).String(), gid.New(gid.ProductVariant, l.VariantID).String()
		}
	}
	want[7].DiscountedUnitPrice = want[7].UnitPrice

	var orders []*shopify.Order
	for o, err := range c.Orders.List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		orders = append(orders, o)
	}
	if len(orders) != 2 || !orders[0].MoreLineItems || orders[1].MoreLineItems || len(orders[1].LineItems) != 1 {
		t.Fatalf("orders %+v", orders)
	}
	if diff := cmp.Diff(want[:shopify.DefaultLineItems], orders[0].LineItems); diff != "" {
		t.Errorf("listed line items (-want +got):\n%s", diff)
	}
	if orders[0].TotalPrice != money.MustParse("28300", "JPY") {
		t.Errorf("total %v, want the line items' 28300 JPY", orders[0].TotalPrice)
	}
	var all []shopify.LineItem
	for li, err := range c.Orders.LineItems(ctx, shopify.OrderGID(oid)) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, li)
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("all line items (-want +got):\n%s", diff)
	}
	if o, _, err := c.Orders.Get(ctx, shopify.OrderGID(oid)); err != nil || len(o.LineItems) != shopify.DefaultLineItems || !o.MoreLineItems {
		t.Errorf("Get: %+v, %v", o, err)
	}
	// No line items; as many as fit; too many.
	for o, err := range c.Orders.List(ctx, &shopify.ListOptions{LineItems: -1}) {
		if err != nil || o.LineItems != nil || o.MoreLineItems {
			t.Fatalf("LineItems -1: %+v, %v", o, err)
		}
	}
	for o, err := range c.Orders.List(ctx, &shopify.ListOptions{LineItems: shopify.MaxLineItems}) {
		if err != nil || len(o.LineItems) == 0 || o.MoreLineItems {
			t.Fatalf("LineItems max: %+v, %v", o, err)
		}
	}
	if _, err := firstErr(c.Orders.List(ctx, &shopify.ListOptions{LineItems: shopify.MaxLineItems + 1})); !errors.Is(err, shopify.ErrInvalidInput) {
		t.Errorf("too many line items: %v", err)
	}
	if _, err := firstErr(c.Customers.List(ctx, &shopify.ListOptions{LineItems: 3})); !errors.Is(err, shopify.ErrInvalidInput) {
		t.Errorf("customers with line items: %v", err)
	}
	if _, err := firstErr(c.Orders.LineItems(ctx, shopify.OrderGID(1))); !errors.Is(err, shopify.ErrNotFound) {
		t.Errorf("line items of a missing order: %v", err)
	}
}

// TestReadAllOrdersScope: without read_all_orders Shopify serves only the
// last 60 days of orders, quietly; RequireScopes says so up front.
func TestReadAllOrdersScope(t *testing.T) {
	now := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	seed := func(srv *shopifytest.Server) (recent, old string) {
		return shopify.OrderGID(srv.AddOrder(shopifytest.Order{CreatedAt: now.AddDate(0, 0, -10)})),
			shopify.OrderGID(srv.AddOrder(shopifytest.Order{CreatedAt: now.AddDate(0, 0, -90)}))
	}
	list := func(c *shopify.Client) []string {
		var ids []string
		for o, err := range c.Orders.List(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, o.ID)
		}
		return ids
	}

	// An app without the scope.
	srv, c := setup(t, shopifytest.WithNow(now), shopifytest.WithAccessScopes(shopify.ScopeWriteCustomers, shopify.ScopeWriteOrders))
	recent, old := seed(srv)
	if diff := cmp.Diff([]string{recent}, list(c)); diff != "" {
		t.Errorf("orders without read_all_orders (-want +got):\n%s", diff)
	}
	if _, _, err := c.Orders.Get(ctx, old); !errors.Is(err, shopify.ErrNotFound) {
		t.Errorf("old order without read_all_orders: %v", err)
	}
	err := c.RequireScopes(ctx, shopify.ScopeReadCustomers, shopify.ScopeReadOrders, shopify.ScopeReadAllOrders)
	var ms *shopify.MissingScopesError
	if !errors.As(err, &ms) || !errors.Is(err, shopify.ErrUnauthorized) || !cmp.Equal(ms.Missing, []string{shopify.ScopeReadAllOrders}) {
		t.Errorf("RequireScopes: %v, want read_all_orders missing", err)
	}

	// The default: everything the package needs.
	srv2, c2 := setup(t, shopifytest.WithNow(now))
	recent, old = seed(srv2)
	if diff := cmp.Diff([]string{old, recent}, list(c2)); diff != "" {
		t.Errorf("orders with read_all_orders (-want +got):\n%s", diff)
	}
	granted, _, err := c2.AccessScopes(ctx)
	if err != nil || !cmp.Equal(granted, shopifytest.DefaultAccessScopes()) {
		t.Errorf("AccessScopes = %v, %v", granted, err)
	}
	if err := c2.RequireScopes(ctx, granted...); err != nil {
		t.Errorf("RequireScopes(all granted): %v", err)
	}
}

func TestSegments(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	a := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{FirstName: "A", Email: "a@example.com", EmailState: "SUBSCRIBED", Tags: []string{"ecp-first"}}))
	srv.AddCustomer(shopifytest.Customer{FirstName: "B", Tags: []string{"other"}})
	seg, _, err := c.Segments.Create(ctx, "First buyers", mustQuery("ecp-first"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Segments.Create(ctx, "First buyers", mustQuery("x")); !errors.As(err, new(*shopify.UserErrors)) {
		t.Errorf("duplicate name: err = %v", err)
	}
	found, err := c.Segments.FindByName(ctx, "First buyers")
	if err != nil || found.ID != seg.ID {
		t.Fatalf("FindByName = %v, %v", found, err)
	}
	var members []*shopify.Member
	for m, err := range c.Segments.Members(ctx, shopify.MembersOptions{SegmentID: seg.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	zero := money.Zero("USD")
	want := []*shopify.Member{{ID: a, FirstName: "A", DisplayName: "A", Email: "a@example.com", EmailState: "SUBSCRIBED", AmountSpent: &zero}}
	if diff := cmp.Diff(want, members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if _, _, err := c.Segments.Update(ctx, seg.ID, "", mustQuery("other")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Segments.Delete(ctx, seg.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Segments.Get(ctx, seg.ID); !errors.Is(err, shopify.ErrNotFound) {
		t.Errorf("deleted segment: err = %v", err)
	}
}

func TestConsent(t *testing.T) {
	srv, c := setup(t)
	num := srv.AddCustomer(shopifytest.Customer{Email: "a@example.com", Phone: "+81312345678"})
	id := shopify.CustomerGID(num)
	ctx := context.Background()
	if _, err := c.Customers.UpdateEmailConsent(ctx, id, shopify.EmailConsent{State: "UNSUBSCRIBED", OptInLevel: "SINGLE_OPT_IN", UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Customers.UpdateSMSConsent(ctx, id, shopify.SMSConsentInput{State: "SUBSCRIBED"}); err != nil {
		t.Fatal(err)
	}
	cu, _ := srv.Customer(num)
	if cu.EmailState != "UNSUBSCRIBED" || cu.SMSState != "SUBSCRIBED" {
		t.Errorf("consent = %s/%s", cu.EmailState, cu.SMSState)
	}
	if _, err := c.Customers.UpdateEmailConsent(ctx, id, shopify.EmailConsent{State: "YES"}); !errors.Is(err, shopify.ErrInvalidInput) {
		t.Errorf("bad state: err = %v", err)
	}
}

func TestDoErrors(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	resp, err := c.Do(ctx, `{ customers(first: 1) { nodes { tagz } } }`, nil, nil)
	var ge *shopify.GraphQLError
	if !errors.As(err, &ge) || !strings.Contains(ge.Message, "tagz") || len(ge.Locations) == 0 {
		t.Errorf("unknown field: err = %v", err)
	}
	_ = resp
	// MAX_COST_EXCEEDED is not retried.
	q := `{ customers(first: 250) { nodes { id amountSpent { amount } smsMarketingConsent { marketingState } } } segments(first: 250) { nodes { id } } }`
	_, err = c.Do(ctx, q, nil, nil)
	if !errors.Is(err, shopify.ErrMaxCostExceeded) || !errors.As(err, &ge) || ge.Code != "MAX_COST_EXCEEDED" {
		t.Errorf("max cost: err = %v", err)
	}
	// A good document reports its cost.
	var out struct {
		Customers struct {
			Nodes []struct{ ID string }
		}
	}
	resp, err = c.Do(ctx, `query { customers(first: 10) { nodes { id } } }`, nil, &out)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Cost.RequestedQueryCost != 12 || resp.Cost.ThrottleStatus.MaximumAvailable != 1000 || resp.RequestID == "" {
		t.Errorf("response = %+v", resp)
	}
}

func TestUnauthorized(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	c, _ := shopify.New(shopifytest.Shop, shopify.StaticToken("shpat_wrong_token"), shopify.WithBaseURL(srv.URL()))
	_, err := c.Do(context.Background(), `{ customers(first: 1) { nodes { id } } }`, nil, nil)
	var ae *shopify.APIError
	if !errors.Is(err, shopify.ErrUnauthorized) || !errors.As(err, &ae) || ae.Status != 401 || !strings.Contains(ae.Message, "Invalid API key") {
		t.Errorf("err = %v", err)
	}
}

func TestVersionMismatchLogged(t *testing.T) {
	var logs bytes.Buffer
	srv := shopifytest.NewServer(shopifytest.WithServedVersion("2025-10"))
	defer srv.Close()
	c := srv.Client(shopify.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	resp, err := c.Do(context.Background(), `{ segments(first: 1) { nodes { id } } }`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.APIVersion != "2025-10" || !strings.Contains(logs.String(), "served=2025-10") {
		t.Errorf("version %q, logs %q", resp.APIVersion, logs.String())
	}
}

// TestDefaultsFollowStandardPlan: a client's first guess of the bucket is
// the Standard plan, so the first answer from such a shop changes nothing.
func TestDefaultsFollowStandardPlan(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	c, err := shopify.New(shopifytest.Shop, shopify.StaticToken(shopifytest.DefaultToken), shopify.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	rate, burst, _ := c.RateLimit()
	resp, err := c.Do(context.Background(), `{ segments(first: 1) { nodes { id } } }`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := resp.Cost.ThrottleStatus
	if ts.RestoreRate != shopify.DefaultRestoreRate || ts.MaximumAvailable != shopify.DefaultBucketSize {
		t.Errorf("Standard shop reports %v/s and %v, defaults are %v/s and %v", ts.RestoreRate, ts.MaximumAvailable, shopify.DefaultRestoreRate, shopify.DefaultBucketSize)
	}
	if rate2, burst2, _ := c.RateLimit(); rate2 != rate || burst2 != burst {
		t.Errorf("gate retuned from %v/s, %d to %v/s, %d by a Standard shop's answer", rate, burst, rate2, burst2)
	}
}

func TestThrottledRetried(t *testing.T) {
	srv, c := setup(t, shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 2000, Burst: 100}))
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{}))
	}
	// Another app drained the bucket: the client's first guess is wrong.
	srv.Drain()
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Tags.Add(context.Background(), id, []string{"x"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if srv.Stats().Throttled == 0 {
		t.Error("expected some THROTTLED answers")
	}
}

// TestThrottledWithoutCostBacksOff: a THROTTLED answer that carries no
// extensions.cost names no wait, so the client backs off exponentially
// instead of hammering the server every millisecond.
func TestThrottledWithoutCostBacksOff(t *testing.T) {
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.WriteString(w, `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}`)
	}))
	defer hs.Close()
	var mu sync.Mutex
	var waits []time.Duration
	c, err := shopify.New("shop", shopify.StaticToken("shpat_x"), shopify.WithBaseURL(hs.URL),
		shopify.WithRetryPolicy(shopify.RetryPolicy{MaxRetries: 5, MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second, MaxWait: time.Minute}),
		shopify.WithSleep(func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			waits = append(waits, d)
			return ctx.Err()
		}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), `{ shop { name } }`, nil, nil)
	if !errors.Is(err, shopify.ErrRateLimited) || !errors.As(err, new(*shopify.ThrottledError)) {
		t.Fatalf("err = %v, want a rate-limit error wrapping THROTTLED", err)
	}
	if n.Load() != 6 || len(waits) != 5 {
		t.Fatalf("%d attempts, waits %v; want 6 attempts", n.Load(), waits)
	}
	// Exponential with equal jitter: attempt k waits within [d/2, d] for
	// d = 100ms·2^(k-1), so each wait is at least the one before.
	for i, w := range waits {
		lo, hi := 50*time.Millisecond<<i, 100*time.Millisecond<<i
		if w < lo || w > hi {
			t.Errorf("wait %d = %v, want in [%v, %v] (all waits %v)", i+1, w, lo, hi, waits)
		}
	}
}

// TestRefused429sCostNothing: a 429 means Shopify did not run the
// document, so the cost gate does not charge the refused attempts and the
// retry that gets through does not wait for them.
func TestRefused429sCostNothing(t *testing.T) {
	// A slow restore: were the three refusals charged, the third attempt
	// would wait more than a second for its 402 points.
	srv, c := setup(t, shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 200, Burst: 1000}))
	for range 3 {
		srv.AddFaults(shopifytest.Fault{Op: "customers", Kind: shopcrmtest.FaultStatus, Status: 429, RetryAfter: "0.01"})
	}
	start := time.Now()
	for _, err := range c.Customers.List(context.Background(), &shopify.ListOptions{PageSize: 100}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := srv.Stats(); st.Requests != 4 || st.Faults != 3 {
		t.Fatalf("stats %+v, want 4 requests and 3 faults", st)
	}
	if d := time.Since(start); d > 700*time.Millisecond {
		t.Errorf("took %v: the refused attempts were charged", d)
	}
	_, burst, avail := c.RateLimit()
	if want := float64(burst - 402 - 10); avail < want {
		t.Errorf("gate holds %.0f of %d points, want at least %.0f (one page charged)", avail, burst, want)
	}
}

func TestThrottlePath500Changes(t *testing.T) {
	srv, c := setup(t, shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 2000, Burst: 1000}))
	var changes []tagging.Change
	for i := range 500 {
		id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Tags: []string{"keep"}}))
		ch := tagging.Change{ID: id, Add: []string{"ecp-first"}}
		if i%2 == 0 {
			ch.Remove = []string{"keep"}
		}
		changes = append(changes, ch)
	}
	var last [2]int
	res, err := c.Tags.Apply(context.Background(), changes, &shopify.ApplyOptions{Progress: func(p shopcrm.Progress) { last = [2]int{p.Done(), p.Seen} }})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Applied || r.Err != nil {
			t.Fatalf("result %+v", r)
		}
	}
	if last != [2]int{500, 500} {
		t.Errorf("last progress %v", last)
	}
	for i, ch := range changes {
		want := []string{"ecp-first", "keep"}
		if i%2 == 0 {
			want = []string{"ecp-first"}
		}
		if diff := cmp.Diff(want, tagsOf(srv, ch.ID)); diff != "" {
			t.Fatalf("%s tags (-want +got):\n%s", ch.ID, diff)
		}
	}
	t.Logf("requests %d, throttled %d", srv.Stats().Requests, srv.Stats().Throttled)
}

func TestApplyRejectsBadChanges(t *testing.T) {
	srv, c := setup(t)
	good := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{}))
	res, err := c.Tags.Apply(context.Background(), []tagging.Change{
		{ID: good, Add: []string{"ok"}},
		{ID: "gid://shopify/Product/1", Add: []string{"x"}},
		{ID: good, Add: []string{"a,b"}},
		{ID: good, Add: []string{"x"}, Remove: []string{"X"}},
		{ID: shopify.CustomerGID(424242), Add: []string{"x"}},
		{ID: good},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	applied := make([]bool, len(res))
	for i, r := range res {
		applied[i] = r.Applied
	}
	if diff := cmp.Diff([]bool{true, false, false, false, false, true}, applied); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
	for _, i := range []int{1, 2, 3} {
		if !errors.Is(res[i].Err, shopify.ErrInvalidInput) {
			t.Errorf("result %d: %v", i, res[i].Err)
		}
	}
	if !errors.As(res[4].Err, new(*shopify.UserErrors)) {
		t.Errorf("result 4: %v", res[4].Err)
	}
	if n := srv.OpCount("tagsAdd"); n != 2 {
		t.Errorf("tagsAdd sent %d times, want 2", n)
	}
}

func TestContextCancel(t *testing.T) {
	srv, c := setup(t, shopifytest.WithLatency(time.Second))
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.Customers.Get(ctx, id)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if time.Since(start) > 700*time.Millisecond {
		t.Errorf("took %s", time.Since(start))
	}
}

func TestLostResponsesAndFaults(t *testing.T) {
	srv, c := setup(t, shopifytest.WithFaults(
		shopifytest.Fault{Op: "tagsAdd", Kind: shopcrmtest.FaultLostResponse},
		shopifytest.Fault{Op: "tagsAdd", Kind: shopcrmtest.FaultStatus, Status: 503, Times: 2},
		shopifytest.Fault{Op: "tagsAdd", Kind: shopcrmtest.FaultMalformed},
		shopifytest.Fault{Op: "tagsAdd", Kind: shopcrmtest.FaultStatus, Status: 429, RetryAfter: "0.1"},
	))
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{}))
	if _, err := c.Tags.Add(context.Background(), id, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"x"}, tagsOf(srv, id)); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if st := srv.Stats(); st.Faults != 5 || st.Requests != 6 {
		t.Errorf("stats %+v", st)
	}
	// A segment create is not sent again after a lost response: the
	// segment it made is found by name.
	srv2, c2 := setup(t, shopifytest.WithFaults(shopifytest.Fault{Op: "segmentCreate", Kind: shopcrmtest.FaultLostResponse}))
	seg, _, err := c2.Segments.Create(context.Background(), "s", mustQuery("x"))
	if err != nil || seg.Name != "s" {
		t.Errorf("lost response: %+v, %v", seg, err)
	}
	if n := srv2.Stats().Ops["segmentCreate"].Requests; n != 1 {
		t.Errorf("segmentCreate sent %d times", n)
	}
	// A raw mutation is not retried after a lost response.
	srv3, c3 := setup(t, shopifytest.WithFaults(shopifytest.Fault{Op: "segmentCreate", Kind: shopcrmtest.FaultLostResponse}))
	if _, err := c3.Mutate(context.Background(), segmentCreateDoc, map[string]any{"name": "s", "query": mustQuery("x")}, nil); err == nil {
		t.Error("lost response: no error")
	}
	if n := srv3.Stats().Requests; n != 1 {
		t.Errorf("segmentCreate sent %d times", n)
	}
}

const segmentCreateDoc = `mutation segmentCreate($name: String!, $query: String!) { segmentCreate(name: $name, query: $query) { segment { id } userErrors { field message } } }`

func TestConcurrentClientUse(t *testing.T) {
	srv, c := setup(t)
	for range 10 {
		srv.AddCustomer(shopifytest.Customer{Tags: []string{"a"}})
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cu, err := range c.Customers.List(context.Background(), &shopify.ListOptions{PageSize: 3}) {
				if err != nil {
					t.Error(err)
					return
				}
				if !slices.Contains(cu.Tags, "a") {
					t.Error("missing tag")
				}
			}
		}()
	}
	wg.Wait()
}

// tagsOf returns the tags the fake holds for a customer or order GID.
func tagsOf(srv *shopifytest.Server, id string) []string {
	g, err := gid.Parse(id)
	if err != nil {
		panic(err)
	}
	if g.Type == gid.Order {
		return srv.OrderTags(g.Num)
	}
	return srv.CustomerTags(g.Num)
}

// mustQuery is segment.Query for tags known to be valid.
func mustQuery(tag string) string {
	q, err := segment.Query(tag)
	if err != nil {
		panic(err)
	}
	return q
}

// TestConsentStatesShopifySets: REDACTED and INVALID are Shopify's to set;
// the client refuses them before any request.
func TestConsentStatesShopifySets(t *testing.T) {
	srv, c := setup(t)
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Email: "a@example.com", Phone: "+81300000000"}))
	ctx := context.Background()
	for _, st := range []shopify.MarketingState{shopify.Redacted, shopify.Invalid} {
		if _, err := c.Customers.UpdateEmailConsent(ctx, id, shopify.EmailConsent{State: st}); !errors.Is(err, shopify.ErrInvalidInput) {
			t.Errorf("email %s: %v", st, err)
		}
		if _, err := c.Customers.UpdateSMSConsent(ctx, id, shopify.SMSConsentInput{State: st}); !errors.Is(err, shopify.ErrInvalidInput) {
			t.Errorf("sms %s: %v", st, err)
		}
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestBareShopName: "myshop" means myshop.myshopify.com.
func TestBareShopName(t *testing.T) {
	c, err := shopify.New("myshop", shopify.StaticToken("shpat_x"))
	if err != nil || c.Shop() != "myshop.myshopify.com" {
		t.Fatalf("New(myshop) = %v, %v", c, err)
	}
}

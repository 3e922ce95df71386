package shopifytest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// post sends a raw GraphQL request and decodes the answer.
func post(t *testing.T, srv *shopifytest.Server, query string, vars map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/admin/api/2025-01/graphql.json", bytes.NewReader(body))
	req.Header.Set("X-Shopify-Access-Token", shopifytest.DefaultToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return resp.StatusCode, out
}

func costOf(t *testing.T, out map[string]any) (requested float64, ts map[string]any) {
	t.Helper()
	c := out["extensions"].(map[string]any)["cost"].(map[string]any)
	return c["requestedQueryCost"].(float64), c["throttleStatus"].(map[string]any)
}

func TestCost(t *testing.T) {
	srv := shopifytest.NewServer(shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 1e6, Burst: 1000}))
	defer srv.Close()
	tests := []struct {
		query string
		want  float64
	}{
		{`{ customer(id: "gid://shopify/Customer/1") { id tags } }`, 1},
		{`{ customer(id: "gid://shopify/Customer/1") { id amountSpent { amount } } }`, 2},
		{`{ customers(first: 10) { nodes { id } } }`, 12},
		{`{ customers(first: 10) { pageInfo { hasNextPage } edges { cursor node { id amountSpent { amount } } } } }`, 22},
		{`{ orders(first: 5) { nodes { id customer { id } totalPriceSet { shopMoney { amount } } } } }`, 2 + 5*4},
		{`{ customerSegmentMembers(first: 100, query: "customer_tags CONTAINS 'a'") { edges { node { id defaultEmailAddress { emailAddress } } } } }`, 202},
		{`{ orders(first: 5) { nodes { id lineItems(first: 3) { nodes { id product { id } } } } } }`, 2 + 5*(1+2+3*2)},
		{`mutation { a: tagsAdd(id: "gid://shopify/Customer/1", tags: ["x"]) { userErrors { message } } b: tagsRemove(id: "gid://shopify/Customer/1", tags: ["x"]) { userErrors { message } } }`, 20},
	}
	for _, tt := range tests {
		status, out := post(t, srv, tt.query, nil)
		if status != 200 {
			t.Errorf("%s: status %d", tt.query, status)
			continue
		}
		if got, _ := costOf(t, out); got != tt.want {
			t.Errorf("%s: cost %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestThrottledShape(t *testing.T) {
	srv := shopifytest.NewServer(shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 50, Burst: 100}), shopifytest.WithNow(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)))
	defer srv.Close()
	for range 30 {
		srv.AddCustomer(shopifytest.Customer{})
	}
	q := `{ customers(first: 30) { nodes { id } } }` // cost 32, nothing refunded
	for range 3 {
		post(t, srv, q, nil)
	}
	status, out := post(t, srv, q, nil)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	if out["data"] != nil {
		t.Errorf("data = %v", out["data"])
	}
	errs := out["errors"].([]any)
	e := errs[0].(map[string]any)
	if e["message"] != "Throttled" || e["extensions"].(map[string]any)["code"] != "THROTTLED" {
		t.Errorf("error = %v", e)
	}
	cost := out["extensions"].(map[string]any)["cost"].(map[string]any)
	if cost["actualQueryCost"] != nil || cost["requestedQueryCost"] != 32.0 {
		t.Errorf("cost = %v", cost)
	}
	ts := cost["throttleStatus"].(map[string]any)
	if ts["maximumAvailable"] != 100.0 || ts["restoreRate"] != 50.0 || ts["currentlyAvailable"].(float64) >= 32 {
		t.Errorf("throttleStatus = %v", ts)
	}
	if srv.Stats().Throttled != 1 {
		t.Errorf("throttled %d", srv.Stats().Throttled)
	}
	// The server's clock refills the bucket.
	srv.Advance(2 * time.Second)
	if avail, _, _ := srv.Bucket(); avail != 100 {
		t.Errorf("after Advance: %v available", avail)
	}
	if _, out := post(t, srv, q, nil); out["errors"] != nil {
		t.Errorf("after Advance: %v", out["errors"])
	}
}

func TestMaxCostExceeded(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	_, out := post(t, srv, `{ customers(first: 250) { nodes { id amountSpent { amount } smsMarketingConsent { marketingState } } } segments(first: 250) { nodes { id } } }`, nil)
	e := out["errors"].([]any)[0].(map[string]any)
	ext := e["extensions"].(map[string]any)
	if ext["code"] != "MAX_COST_EXCEEDED" || ext["cost"] != 1004.0 || ext["maxCost"] != 1000.0 {
		t.Errorf("error = %v", e)
	}
	if avail, _, _ := srv.Bucket(); avail < 999 {
		t.Errorf("bucket charged: %v", avail)
	}
}

func TestValidation(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	tests := []struct {
		query string
		vars  map[string]any
		want  string
	}{
		{`{ customers(first: 1) { nodes { tagz } } }`, nil, `Cannot query field "tagz" on type "Customer"`},
		{`{ customers(first: "x") { nodes { id } } }`, nil, `Int cannot represent non-integer value`},
		{`query($n: Int!) { customers(first: $n) { nodes { id } } }`, map[string]any{"n": "ten"}, `cannot use string as Int`},
		{`{ productVariants(first: 1) { nodes { id } } }`, nil, `Cannot query field "productVariants"`},
		{`mutation { tagsAdd(tags: ["x"]) { userErrors { message } } }`, nil, `argument "id" of type "ID!" is required`},
	}
	for _, tt := range tests {
		status, out := post(t, srv, tt.query, tt.vars)
		errs, _ := out["errors"].([]any)
		if status != 200 || len(errs) == 0 || !strings.Contains(errs[0].(map[string]any)["message"].(string), tt.want) {
			t.Errorf("%s: status %d, errors %v; want %q", tt.query, status, errs, tt.want)
		}
	}
	if n := len(srv.Documents()); n != 0 {
		t.Errorf("%d invalid documents recorded", n)
	}
}

func TestTagLimits(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	num := srv.AddCustomer(shopifytest.Customer{})
	id := shopify.CustomerGID(num)
	add := func(tags any) []any {
		_, out := post(t, srv, `mutation($id: ID!, $t: [String!]!) { tagsAdd(id: $id, tags: $t) { node { id } userErrors { field message } } }`,
			map[string]any{"id": id, "t": tags})
		return out["data"].(map[string]any)["tagsAdd"].(map[string]any)["userErrors"].([]any)
	}
	if ue := add([]string{strings.Repeat("é", 256)}); len(ue) != 1 {
		t.Errorf("256 characters: %v", ue)
	}
	if ue := add([]string{strings.Repeat("é", 255), "A, b ,", "a"}); len(ue) != 0 {
		t.Errorf("255 characters: %v", ue)
	}
	if diff := cmp.Diff([]string{"A", "b", strings.Repeat("é", 255)}, srv.CustomerTags(num)); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	many := make([]string, 248)
	for i := range many {
		many[i] = "t" + strings.Repeat("x", i)
	}
	if ue := add(many); len(ue) != 1 || !strings.Contains(ue[0].(map[string]any)["message"].(string), "250") {
		t.Errorf("251 tags: %v", ue)
	}
	if n := len(srv.CustomerTags(num)); n != 3 {
		t.Errorf("%d tags after refused add", n)
	}
	// An order tag is limited to 40 characters.
	oid := shopify.OrderGID(srv.AddOrder(shopifytest.Order{}))
	_, out := post(t, srv, `mutation($id: ID!, $t: [String!]!) { tagsAdd(id: $id, tags: $t) { userErrors { field message } } }`,
		map[string]any{"id": oid, "t": []string{strings.Repeat("é", 41)}})
	if ue := out["data"].(map[string]any)["tagsAdd"].(map[string]any)["userErrors"].([]any); len(ue) != 1 {
		t.Errorf("41-character order tag: %v", ue)
	}
}

func TestSegmentQueries(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	srv.AddCustomer(shopifytest.Customer{ID: 1, Email: "a@x", EmailState: "SUBSCRIBED", Tags: []string{"VIP", "line"}})
	srv.AddCustomer(shopifytest.Customer{ID: 2, Tags: []string{"vip"}})
	srv.AddCustomer(shopifytest.Customer{ID: 3, Tags: []string{"line"}})
	tests := map[string][]string{
		`customer_tags CONTAINS 'vip'`:                                         {"1", "2"},
		`customer_tags CONTAINS 'vip' AND customer_tags CONTAINS 'line'`:       {"1"},
		`customer_tags CONTAINS 'vip' OR customer_tags CONTAINS 'line'`:        {"1", "2", "3"},
		`customer_tags NOT CONTAINS 'vip'`:                                     {"3"},
		`NOT (customer_tags CONTAINS 'line') AND customer_tags CONTAINS 'vip'`: {"2"},
		`email_subscription_status = 'SUBSCRIBED'`:                             {"1"},
	}
	for q, want := range tests {
		_, out := post(t, srv, `query($q: String) { customerSegmentMembers(first: 10, query: $q) { totalCount edges { node { id } } } }`, map[string]any{"q": q})
		if out["errors"] != nil {
			t.Errorf("%s: %v", q, out["errors"])
			continue
		}
		var got []string
		for _, e := range out["data"].(map[string]any)["customerSegmentMembers"].(map[string]any)["edges"].([]any) {
			id := e.(map[string]any)["node"].(map[string]any)["id"].(string)
			got = append(got, id[strings.LastIndex(id, "/")+1:])
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", q, diff)
		}
	}
	_, out := post(t, srv, `mutation { segmentCreate(name: "x", query: "amount_spent > 10") { segment { id } userErrors { field message } } }`, nil)
	ue := out["data"].(map[string]any)["segmentCreate"].(map[string]any)["userErrors"].([]any)
	if len(ue) != 1 {
		t.Errorf("unsupported query accepted: %v", out)
	}
}

func TestUnauthorized(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	resp, err := http.Post(srv.URL()+"/admin/api/2025-01/graphql.json", "application/json", strings.NewReader(`{"query":"{ shop { id } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestCustomerSearchAndInspection(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	day := func(d int) time.Time { return time.Date(2025, 2, d, 0, 0, 0, 0, time.UTC) }
	srv.AddCustomer(shopifytest.Customer{ID: 1, Email: "a@x", UpdatedAt: day(1), CreatedAt: day(1)})
	srv.AddCustomer(shopifytest.Customer{ID: 2, UpdatedAt: day(10), CreatedAt: day(1)})
	for q, want := range map[string]int{"updated_at:>=2025-02-05": 1, "email:a@x": 1, "email:*": 1, "id:>=1": 2, "": 2} {
		_, out := post(t, srv, `query($q: String) { customers(first: 5, query: $q) { nodes { id } } }`, map[string]any{"q": q})
		if n := len(out["data"].(map[string]any)["customers"].(map[string]any)["nodes"].([]any)); n != want {
			t.Errorf("%q: %d customers, want %d", q, n, want)
		}
	}
	if cs := srv.Customers(); len(cs) != 2 || cs[0].ID != 1 || cs[0].EmailState != "NOT_SUBSCRIBED" {
		t.Errorf("Customers() = %+v", cs)
	}
}

func TestActualCostRefunded(t *testing.T) {
	srv := shopifytest.NewServer(shopifytest.WithNow(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)), shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 1e-9, Burst: 1000}))
	defer srv.Close()
	for range 3 {
		srv.AddCustomer(shopifytest.Customer{})
	}
	_, out := post(t, srv, `{ customers(first: 10) { edges { node { id amountSpent { amount } } } } }`, nil)
	cost := out["extensions"].(map[string]any)["cost"].(map[string]any)
	if cost["requestedQueryCost"] != 22.0 || cost["actualQueryCost"] != 8.0 {
		t.Errorf("cost = %v", cost)
	}
	if avail := cost["throttleStatus"].(map[string]any)["currentlyAvailable"].(float64); avail != 992 {
		t.Errorf("available %v, want 992", avail)
	}
	if cost := srv.Cost(); cost != 8 {
		t.Errorf("stats cost %d", cost)
	}
}

func TestSeedingIDs(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	cid := srv.AddCustomer(shopifytest.Customer{Tags: []string{"b", "A"}})
	oid := srv.AddOrder(shopifytest.Order{CustomerID: cid, Tags: []string{"x"}})
	sid := srv.AddSegment(shopifytest.Segment{Name: "A buyers", Query: "customer_tags CONTAINS 'a'"})
	if cid == oid || oid == sid {
		t.Fatalf("ids %d, %d, %d", cid, oid, sid)
	}
	if diff := cmp.Diff([]string{"A", "b"}, srv.CustomerTags(cid)); diff != "" {
		t.Errorf("customer tags (-want +got):\n%s", diff)
	}
	if o, ok := srv.Order(oid); !ok || o.CustomerID != cid || srv.OrderTags(oid)[0] != "x" {
		t.Errorf("order = %+v, %v", o, ok)
	}
	if g, ok := srv.Segment(sid); !ok || g.GID() != gid.New(gid.Segment, sid).String() {
		t.Errorf("segment = %+v, %v", g, ok)
	}
	// The wire carries the same ids as global ids.
	_, out := post(t, srv, `query($id: ID!, $s: ID!) { order(id: $id) { customer { id } } customerSegmentMembers(first: 5, segmentId: $s) { edges { node { id } } } }`,
		map[string]any{"id": shopify.OrderGID(oid), "s": gid.New(gid.Segment, sid).String()})
	data := out["data"].(map[string]any)
	if got := data["order"].(map[string]any)["customer"].(map[string]any)["id"]; got != shopify.CustomerGID(cid) {
		t.Errorf("order's customer = %v", got)
	}
	if n := len(data["customerSegmentMembers"].(map[string]any)["edges"].([]any)); n != 1 {
		t.Errorf("%d segment members", n)
	}
	for name, seed := range map[string]func(){
		"unsupported query": func() { srv.AddSegment(shopifytest.Segment{Name: "x", Query: "amount_spent > 10"}) },
		"taken name":        func() { srv.AddSegment(shopifytest.Segment{Name: "a BUYERS", Query: "customer_tags CONTAINS 'b'"}) },
		"no name":           func() { srv.AddSegment(shopifytest.Segment{Query: "customer_tags CONTAINS 'b'"}) },
	} {
		if !panics(seed) {
			t.Errorf("%s: seeded", name)
		}
	}
}

func panics(f func()) (p bool) {
	defer func() { p = recover() != nil }()
	f()
	return false
}

func TestFaultsRefusedAtStart(t *testing.T) {
	for name, opt := range map[string]shopifytest.Option{
		"unknown op":      shopifytest.WithFaults(shopifytest.Fault{Op: "tagAdd", Kind: shopcrmtest.FaultDrop}),
		"status on drop":  shopifytest.WithFaults(shopifytest.Fault{Kind: shopcrmtest.FaultDrop, Status: 500}),
		"chaos rate":      shopifytest.WithChaos(1, 2),
		"no restore rate": shopifytest.WithRateLimit(shopcrm.RateLimit{Burst: 1000}),
		"no write_orders": shopifytest.WithAccessScopes(shopify.ScopeReadCustomers, shopify.ScopeWriteCustomers, shopify.ScopeReadOrders),
	} {
		if !panics(func() { shopifytest.NewServer(opt).Close() }) {
			t.Errorf("%s: accepted", name)
		}
	}
	srv := shopifytest.NewServer()
	defer srv.Close()
	if !panics(func() { srv.AddFaults(shopifytest.Fault{Op: "nope"}) }) {
		t.Error("AddFaults accepted an unknown op")
	}
}

func TestFaultsAndStatsPerOp(t *testing.T) {
	srv := shopifytest.NewServer(shopifytest.WithFaults(
		shopifytest.Fault{Op: "customers", Kind: shopcrmtest.FaultStatus, Status: 503, RetryAfter: "1"},
		shopifytest.Fault{Op: "tagsAdd", Kind: shopcrmtest.FaultStatus, Status: 500},
	))
	defer srv.Close()
	status, out := post(t, srv, `{ customers(first: 1) { nodes { id } } }`, nil)
	if status != 503 || out["errors"] != "Service Unavailable" {
		t.Errorf("fault answer = %d %v", status, out)
	}
	// The fault on an op the document does not have stays armed.
	if status, _ := post(t, srv, `{ customers(first: 1) { nodes { id } } segments(first: 1) { nodes { id } } }`, nil); status != 200 {
		t.Errorf("second request: %d", status)
	}
	want := shopifytest.Stats{Requests: 2, Faults: 1, Accepted: 1, Ops: map[string]shopifytest.OpStats{
		"customers": {Requests: 2, Faults: 1, Accepted: 1},
		"segments":  {Requests: 1, Accepted: 1},
	}}
	if diff := cmp.Diff(want, srv.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

// TestPlans: the default bucket is Shopify's Standard plan, and every plan
// preset is a bucket of 20 times its restore rate, as responses report.
func TestPlans(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	_, out := post(t, srv, `{ segments(first: 1) { nodes { id } } }`, nil)
	if _, ts := costOf(t, out); ts["maximumAvailable"] != 2000.0 || ts["restoreRate"] != 100.0 {
		t.Errorf("default throttleStatus = %v, want the Standard plan's 2000 restoring 100/s", ts)
	}
	for name, tt := range map[string]struct {
		plan shopcrm.RateLimit
		rate float64
	}{
		"standard": {shopifytest.PlanStandard, 100}, "advanced": {shopifytest.PlanAdvanced, 200},
		"plus": {shopifytest.PlanPlus, 1000}, "enterprise": {shopifytest.PlanEnterprise, 2000},
	} {
		s := shopifytest.NewServer(shopifytest.WithRateLimit(tt.plan))
		_, size, rate := s.Bucket()
		s.Close()
		if rate != tt.rate || size != 20*tt.rate {
			t.Errorf("%s: bucket %v restoring %v/s, want %v restoring %v/s", name, size, rate, 20*tt.rate, tt.rate)
		}
	}
}

// gqlErrors returns the messages of a response's errors[] and their paths.
func gqlErrors(out map[string]any) (msgs []string, paths []string) {
	errs, _ := out["errors"].([]any)
	for _, e := range errs {
		m := e.(map[string]any)
		msgs = append(msgs, m["message"].(string))
		paths = append(paths, fmt.Sprint(m["path"]))
	}
	return msgs, paths
}

// TestUnmodelledSearchRefused: a search term, sort key or filter the fake
// does not evaluate is an error on the field naming it, never every
// resource.
func TestUnmodelledSearchRefused(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	cid := srv.AddCustomer(shopifytest.Customer{Email: "a@x", Tags: []string{"vip"}})
	srv.AddOrder(shopifytest.Order{CustomerID: cid, Tags: []string{"vip"}})
	const orders = `query($q: String) { orders(first: 5, query: $q) { nodes { id } } }`
	const customers = `query($q: String) { customers(first: 5, query: $q) { nodes { id } } }`
	tests := []struct {
		field, doc, query string
		want              string // in the message
	}{
		{"orders", orders, "financial_status:paid", `search field "financial_status"`},
		{"orders", orders, "tag:vip OR tag:x", `"OR" is not modelled`},
		{"orders", orders, "-tag:vip", `"-tag:vip" is not modelled`},
		{"orders", orders, "(tag:vip)", `"(tag:vip)" is not modelled`},
		{"orders", orders, "id:abc", `"abc" is not a number`},
		{"orders", orders, "created_at:>=yesterday", `"yesterday" is neither a date`},
		{"orders", `{ orders(first: 5, sortKey: TOTAL_PRICE) { nodes { id } } }`, "", `sort key TOTAL_PRICE is not modelled`},
		{"orders", `{ orders(first: 5, savedSearchId: "gid://shopify/SavedSearch/1") { nodes { id } } }`, "", `savedSearchId is not modelled`},
		{"customers", customers, "tag:vip", `search field "tag"`},
		{"customers", customers, "aino", `"aino" is not modelled`},
		{"customers", `{ customers(first: 5, sortKey: NAME) { nodes { id } } }`, "", `sort key NAME is not modelled`},
		{"segments", `{ segments(first: 5, query: "name:x") { nodes { id } } }`, "", `segments(query:) is not modelled`},
		{"segments", `{ segments(first: 5, sortKey: RELEVANCE) { nodes { id } } }`, "", `sort key RELEVANCE is not modelled`},
	}
	for _, tt := range tests {
		_, out := post(t, srv, tt.doc, map[string]any{"q": tt.query})
		msgs, paths := gqlErrors(out)
		if len(msgs) != 1 || !strings.Contains(msgs[0], tt.want) || paths[0] != "["+tt.field+"]" {
			t.Errorf("%s %q: errors %q at %q, want one at [%s] saying %s", tt.field, tt.query, msgs, paths, tt.field, tt.want)
		}
		if data := out["data"].(map[string]any); data[tt.field] != nil {
			t.Errorf("%s %q: data %v beside the error", tt.field, tt.query, data[tt.field])
		}
	}
}

// TestSearchModelled: the terms, comparators and sort keys the fake
// evaluates.
func TestSearchModelled(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	day := func(d int) time.Time { return time.Date(2025, 3, d, 12, 0, 0, 0, time.UTC) }
	a := srv.AddCustomer(shopifytest.Customer{ID: 1, CreatedAt: day(5), UpdatedAt: day(9)})
	b := srv.AddCustomer(shopifytest.Customer{ID: 2, CreatedAt: day(1), UpdatedAt: day(20)})
	srv.AddOrder(shopifytest.Order{ID: 10, CustomerID: a, CreatedAt: day(3), ProcessedAt: day(8), Tags: []string{"gift wrap", "vip"}, Email: "A@x"})
	srv.AddOrder(shopifytest.Order{ID: 11, CustomerID: b, CreatedAt: day(2), ProcessedAt: day(9), Tags: []string{"vip"}})
	srv.AddOrder(shopifytest.Order{ID: 12, CreatedAt: day(1), ProcessedAt: day(1)})
	ids := func(field, doc string, vars map[string]any) []string {
		t.Helper()
		_, out := post(t, srv, doc, vars)
		if out["errors"] != nil {
			t.Fatalf("%s %v: %v", doc, vars, out["errors"])
		}
		var got []string
		for _, n := range out["data"].(map[string]any)[field].(map[string]any)["nodes"].([]any) {
			id := n.(map[string]any)["id"].(string)
			got = append(got, id[strings.LastIndex(id, "/")+1:])
		}
		return got
	}
	orders := `query($q: String, $s: OrderSortKeys, $r: Boolean) { orders(first: 10, query: $q, sortKey: $s, reverse: $r) { nodes { id } } }`
	for q, want := range map[string][]string{
		"":                                     {"12", "10", "11"}, // PROCESSED_AT
		"tag:vip":                              {"10", "11"},
		"tag:'gift wrap'":                      {"10"},
		"tag_not:vip":                          {"12"},
		"tag:vip AND customer_id:2":            {"11"},
		"id:>=11":                              {"12", "11"},
		"email:a@x":                            {"10"},
		"created_at:2025-03-02":                {"11"},
		"created_at:>2025-03-02":               {"10"},
		"created_at:<=2025-03-02":              {"12", "11"},
		`processed_at:>"2025-03-08T12:00:00Z"`: {"11"},
	} {
		if diff := cmp.Diff(want, ids("orders", orders, map[string]any{"q": q})); diff != "" {
			t.Errorf("orders %q (-want +got):\n%s", q, diff)
		}
	}
	if diff := cmp.Diff([]string{"10", "11", "12"}, ids("orders", orders, map[string]any{"s": "CREATED_AT", "r": true})); diff != "" {
		t.Errorf("orders by CREATED_AT, reversed (-want +got):\n%s", diff)
	}
	customers := `query($s: CustomerSortKeys) { customers(first: 10, sortKey: $s) { nodes { id } } }`
	for key, want := range map[string][]string{"ID": {"1", "2"}, "CREATED_AT": {"2", "1"}, "UPDATED_AT": {"1", "2"}} {
		if diff := cmp.Diff(want, ids("customers", customers, map[string]any{"s": key})); diff != "" {
			t.Errorf("customers by %s (-want +got):\n%s", key, diff)
		}
	}
}

// TestCustomerTotalsFollowOrders: numberOfOrders and amountSpent are the
// count and sum of the customer's seeded orders.
func TestCustomerTotalsFollowOrders(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	// Orders may come before their customer.
	srv.AddOrder(shopifytest.Order{ID: 50, CustomerID: 7, Total: money.MustParse("3000", "JPY")})
	a := srv.AddCustomer(shopifytest.Customer{ID: 7})
	b := srv.AddCustomer(shopifytest.Customer{ID: 8})
	srv.AddOrder(shopifytest.Order{CustomerID: a, Total: money.MustParse("5000", "JPY")})
	srv.AddOrder(shopifytest.Order{Total: money.MustParse("100", "JPY")}) // a guest
	totals := func(id int64) (string, any) {
		_, out := post(t, srv, `query($id: ID!) { customer(id: $id) { numberOfOrders amountSpent { amount currencyCode } } }`, map[string]any{"id": shopify.CustomerGID(id)})
		c := out["data"].(map[string]any)["customer"].(map[string]any)
		return c["numberOfOrders"].(string), c["amountSpent"]
	}
	if n, spent := totals(a); n != "2" || !cmp.Equal(spent, map[string]any{"amount": "8000", "currencyCode": "JPY"}) {
		t.Errorf("customer with two orders: %s orders, spent %v", n, spent)
	}
	if n, spent := totals(b); n != "0" || !cmp.Equal(spent, map[string]any{"amount": "0.00", "currencyCode": "USD"}) {
		t.Errorf("customer without orders: %s orders, spent %v", n, spent)
	}
	// Moving an order to another customer moves its total.
	srv.AddOrder(shopifytest.Order{ID: 50, CustomerID: b, Total: money.MustParse("3000", "JPY")})
	if ca, _ := srv.Customer(a); ca.NumberOfOrders != 1 || ca.AmountSpent != money.MustParse("5000", "JPY") {
		t.Errorf("after moving an order away: %d, %v", ca.NumberOfOrders, ca.AmountSpent)
	}
	if cb, _ := srv.Customer(b); cb.NumberOfOrders != 1 || cb.AmountSpent != money.MustParse("3000", "JPY") {
		t.Errorf("after moving an order in: %d, %v", cb.NumberOfOrders, cb.AmountSpent)
	}
	for name, seed := range map[string]func(){
		"seeded count":     func() { srv.AddCustomer(shopifytest.Customer{NumberOfOrders: 3}) },
		"seeded spend":     func() { srv.AddCustomer(shopifytest.Customer{AmountSpent: money.MustParse("1", "USD")}) },
		"mixed currencies": func() { srv.AddOrder(shopifytest.Order{CustomerID: a, Total: money.MustParse("1", "USD")}) },
	} {
		if !panics(seed) {
			t.Errorf("%s: seeded", name)
		}
	}
}

// TestJourneyCounts: an order's journey reports its position among the
// customer's orders and the days from the first visit.
func TestJourneyCounts(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	day := func(d int) time.Time { return time.Date(2025, 4, d, 10, 0, 0, 0, time.UTC) }
	c := srv.AddCustomer(shopifytest.Customer{})
	srv.AddOrder(shopifytest.Order{CustomerID: c, CreatedAt: day(1)})
	second := srv.AddOrder(shopifytest.Order{CustomerID: c, CreatedAt: day(20),
		FirstVisit: &shopifytest.Visit{OccurredAt: day(12).Add(time.Hour)}, LastVisit: &shopifytest.Visit{OccurredAt: day(19)}})
	guest := srv.AddOrder(shopifytest.Order{CreatedAt: day(5), FirstVisit: &shopifytest.Visit{}})
	journey := func(id int64) map[string]any {
		_, out := post(t, srv, `query($id: ID!) { order(id: $id) { customerJourneySummary { customerOrderIndex daysToConversion } } }`, map[string]any{"id": shopify.OrderGID(id)})
		return out["data"].(map[string]any)["order"].(map[string]any)["customerJourneySummary"].(map[string]any)
	}
	if diff := cmp.Diff(map[string]any{"customerOrderIndex": 2.0, "daysToConversion": 7.0}, journey(second)); diff != "" {
		t.Errorf("second order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"customerOrderIndex": nil, "daysToConversion": 0.0}, journey(guest)); diff != "" {
		t.Errorf("guest order (-want +got):\n%s", diff)
	}
	for name, v := range map[string]shopifytest.Order{
		"visit after the order": {CreatedAt: day(5), FirstVisit: &shopifytest.Visit{OccurredAt: day(6)}},
		"outside the window":    {CreatedAt: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), FirstVisit: &shopifytest.Visit{OccurredAt: day(1)}},
		"last before first":     {CreatedAt: day(9), FirstVisit: &shopifytest.Visit{OccurredAt: day(8)}, LastVisit: &shopifytest.Visit{OccurredAt: day(7)}},
	} {
		if !panics(func() { srv.AddOrder(v) }) {
			t.Errorf("%s: seeded", name)
		}
	}
}

// TestLineItemsAndNestedRefund: an order's line items page like any
// connection, and the actual cost counts the nested nodes returned.
func TestLineItemsAndNestedRefund(t *testing.T) {
	srv := shopifytest.NewServer(shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 1e-9, Burst: 1000}))
	defer srv.Close()
	jpy := func(s string) money.Amount { return money.MustParse(s, "JPY") }
	oid := srv.AddOrder(shopifytest.Order{LineItems: []shopifytest.LineItem{
		{ProductID: 1, VariantID: 2, Title: "Tea", Quantity: 2, Price: jpy("1200"), DiscountedPrice: jpy("1000")},
		{Title: "Wrap", Quantity: 1, Price: jpy("300")},
	}})
	if o, _ := srv.Order(oid); o.Total != jpy("2300") {
		t.Errorf("total %v, want the line items' 2300 JPY", o.Total)
	}
	_, out := post(t, srv, `{ orders(first: 10) { nodes { id lineItems(first: 5) { pageInfo { hasNextPage } nodes { quantity product { id } } } } } }`, nil)
	cost := out["extensions"].(map[string]any)["cost"].(map[string]any)
	// Requested 2 + 10 x (1 + 2 + 5 x 2); returned one order with two line
	// items, each 1 and its product 1 (a null object is charged as
	// requested): 2 + (1 + 2 + 2 x 2).
	if cost["requestedQueryCost"] != 132.0 || cost["actualQueryCost"] != 9.0 {
		t.Errorf("cost = %v", cost)
	}
	li := out["data"].(map[string]any)["orders"].(map[string]any)["nodes"].([]any)[0].(map[string]any)["lineItems"].(map[string]any)
	if n := len(li["nodes"].([]any)); n != 2 || li["pageInfo"].(map[string]any)["hasNextPage"] != false {
		t.Errorf("line items %v", li)
	}
	for name, o := range map[string]shopifytest.Order{
		"no quantity":         {LineItems: []shopifytest.LineItem{{Price: jpy("1")}}},
		"mixed currencies":    {LineItems: []shopifytest.LineItem{{Quantity: 1, Price: jpy("1")}, {Quantity: 1, Price: money.MustParse("1", "USD")}}},
		"total in a currency": {Total: money.MustParse("1", "USD"), LineItems: []shopifytest.LineItem{{Quantity: 1, Price: jpy("1")}}},
	} {
		if !panics(func() { srv.AddOrder(o) }) {
			t.Errorf("%s: seeded", name)
		}
	}
}

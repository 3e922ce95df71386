package conformance

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/segment"
	shopifyapi "github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

// shopifyFake starts the Shopify fake with a restore rate that keeps the
// suite quick, and a client pointed at it.
func shopifyFake(t *testing.T) (*shopifytest.Server, *shopifyapi.Client) {
	t.Helper()
	srv := shopifytest.NewServer(shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 50000, Burst: 1000}))
	t.Cleanup(srv.Close)
	return srv, srv.Client()
}

// TestShopifyDocuments runs every operation of the Shopify client against the
// fake and validates each document the fake received against the real
// 2025-01 Admin schema.
func TestShopifyDocuments(t *testing.T) {
	schema := ShopifySchema(t)
	srv, c := shopifyFake(t)
	ctx := context.Background()

	cust := shopifyapi.CustomerGID(srv.AddCustomer(shopifytest.Customer{FirstName: "A", Email: "a@example.com", Phone: "+15555550100", Tags: []string{"line"}}))
	srv.AddCustomer(shopifytest.Customer{FirstName: "B", Tags: []string{"ecp-first"}})
	visit := &shopifytest.Visit{OccurredAt: srv.Now().AddDate(0, 0, -2), UTMSource: "klaviyo", MarketingEventType: "NEWSLETTER"}
	order := shopifyapi.OrderGID(srv.AddOrder(shopifytest.Order{CustomerID: 1001, FirstVisit: visit, LastVisit: visit,
		LineItems: []shopifytest.LineItem{{ProductID: 1, VariantID: 2, Title: "Tea", SKU: "TEA", Quantity: 2, Price: money.MustParse("5.00", "USD")}}}))

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.RequireScopes(ctx, shopifyapi.ScopeReadAllOrders))
	_, _, err := c.Customers.Get(ctx, cust)
	must(err)
	for _, err := range c.Customers.List(ctx, &shopifyapi.ListOptions{Query: "email:a@example.com", SortKey: "UPDATED_AT", Reverse: true, PageSize: 10}) {
		must(err)
	}
	_, _, err = c.Orders.Get(ctx, order)
	must(err)
	for _, err := range c.Orders.List(ctx, &shopifyapi.ListOptions{Query: "created_at:>=2025-01-01 tag:x", SortKey: "CREATED_AT"}) {
		must(err)
	}
	for _, err := range c.Orders.List(ctx, &shopifyapi.ListOptions{LineItems: -1}) {
		must(err)
	}
	for _, err := range c.Orders.LineItems(ctx, order) {
		must(err)
	}
	_, err = c.Tags.Add(ctx, cust, []string{"vip"})
	must(err)
	_, err = c.Tags.Remove(ctx, order, []string{"vip"})
	must(err)
	_, err = c.Tags.Apply(ctx, []tagging.Change{{ID: cust, Add: []string{"a"}, Remove: []string{"b"}}, {ID: order, Add: []string{"c"}}}, nil)
	must(err)
	seg, _, err := c.Segments.Create(ctx, "VIP", mustQuery("vip"))
	must(err)
	_, _, err = c.Segments.Update(ctx, seg.ID, "VIPs", mustQuery("vip"))
	must(err)
	_, _, err = c.Segments.Get(ctx, seg.ID)
	must(err)
	_, err = c.Segments.FindByName(ctx, "VIPs")
	must(err)
	for _, err := range c.Segments.Members(ctx, shopifyapi.MembersOptions{SegmentID: seg.ID}) {
		must(err)
	}
	for _, err := range c.Segments.Members(ctx, shopifyapi.MembersOptions{Query: mustQuery("line"), PageSize: 100}) {
		must(err)
	}
	for _, err := range c.Segments.TaggedCustomers(ctx, "ecp-first") {
		must(err)
	}
	_, err = c.Segments.Delete(ctx, seg.ID)
	must(err)
	_, err = c.Customers.UpdateEmailConsent(ctx, cust, shopifyapi.EmailConsent{State: "SUBSCRIBED", OptInLevel: "CONFIRMED_OPT_IN", UpdatedAt: time.Now()})
	must(err)
	_, err = c.Customers.UpdateSMSConsent(ctx, cust, shopifyapi.SMSConsentInput{State: "UNSUBSCRIBED"})
	must(err)

	docs := srv.Documents()
	if len(docs) < 15 {
		t.Fatalf("only %d documents recorded", len(docs))
	}
	checkDocuments(t, schema, docs)
}

// checkDocuments validates documents against the real schema and refuses
// deprecated fields that have a replacement.
func checkDocuments(t *testing.T, schema *ast.Schema, docs []string) {
	t.Helper()
	for _, d := range docs {
		if err := ValidateGraphQL(schema, d); err != nil {
			t.Errorf("document invalid against the real schema: %v\n%s", err, d)
		}
		for _, f := range deprecatedUses(schema, d) {
			if !noReplacement[f] {
				t.Errorf("document selects deprecated %s:\n%s", f, d)
			}
		}
	}
}

// noReplacement are deprecated fields whose replacement is not in 2025-01
// (Customer.defaultEmailAddress arrives later).
var noReplacement = map[string]bool{"Customer.email": true, "Customer.emailMarketingConsent": true}

// deprecatedUses lists the deprecated fields a document selects.
func deprecatedUses(schema *ast.Schema, doc string) []string {
	q, errs := gqlparser.LoadQuery(schema, doc)
	if len(errs) > 0 {
		return nil
	}
	var out []string
	var walk func(ast.SelectionSet)
	walk = func(ss ast.SelectionSet) {
		for _, sel := range ss {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Definition != nil && s.Definition.Directives.ForName("deprecated") != nil {
					out = append(out, s.ObjectDefinition.Name+"."+s.Name)
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			}
		}
	}
	for _, op := range q.Operations {
		walk(op.SelectionSet)
	}
	return out
}

// TestShopifySchemaSubset checks the fake's SDL against the real schema:
// every type, field, argument, input field and enum value exists with the
// same type, and every required argument of the real schema is there.
func TestShopifySchemaSubset(t *testing.T) {
	real := ShopifySchema(t)
	sub, err := gqlparser.LoadSchema(&ast.Source{Name: "shopifytest/schema.graphql", Input: shopifytest.SchemaSDL()})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Query.Name != real.Query.Name || sub.Mutation.Name != real.Mutation.Name {
		t.Errorf("roots %s/%s, want %s/%s", sub.Query.Name, sub.Mutation.Name, real.Query.Name, real.Mutation.Name)
	}
	for name, def := range sub.Types {
		if def.BuiltIn {
			continue
		}
		rd := real.Types[name]
		if rd == nil {
			t.Errorf("type %s: not in the real schema", name)
			continue
		}
		if rd.Kind != def.Kind {
			t.Errorf("type %s: kind %s, real %s", name, def.Kind, rd.Kind)
		}
		for _, iface := range def.Interfaces {
			if !slices.Contains(rd.Interfaces, iface) {
				t.Errorf("type %s: implements %s, the real type does not", name, iface)
			}
		}
		for _, ev := range def.EnumValues {
			if rd.EnumValues.ForName(ev.Name) == nil {
				t.Errorf("enum %s: value %s not in the real schema", name, ev.Name)
			}
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			rf := rd.Fields.ForName(f.Name)
			if rf == nil {
				t.Errorf("%s.%s: not in the real schema", name, f.Name)
				continue
			}
			if f.Type.String() != rf.Type.String() {
				t.Errorf("%s.%s: type %s, real %s", name, f.Name, f.Type, rf.Type)
			}
			if def.Kind == ast.InputObject && rf.Type.NonNull && rf.DefaultValue == nil {
				continue // checked below
			}
			for _, a := range f.Arguments {
				ra := rf.Arguments.ForName(a.Name)
				if ra == nil {
					t.Errorf("%s.%s(%s): not in the real schema", name, f.Name, a.Name)
					continue
				}
				if a.Type.String() != ra.Type.String() {
					t.Errorf("%s.%s(%s): type %s, real %s", name, f.Name, a.Name, a.Type, ra.Type)
				}
				if (a.DefaultValue == nil) != (ra.DefaultValue == nil) || a.DefaultValue != nil && a.DefaultValue.String() != ra.DefaultValue.String() {
					t.Errorf("%s.%s(%s): default %v, real %v", name, f.Name, a.Name, a.DefaultValue, ra.DefaultValue)
				}
			}
			for _, ra := range rf.Arguments {
				if ra.Type.NonNull && ra.DefaultValue == nil && f.Arguments.ForName(ra.Name) == nil {
					t.Errorf("%s.%s: required argument %s missing", name, f.Name, ra.Name)
				}
			}
		}
		if def.Kind == ast.InputObject {
			for _, rf := range rd.Fields {
				if rf.Type.NonNull && rf.DefaultValue == nil && def.Fields.ForName(rf.Name) == nil {
					t.Errorf("input %s: required field %s missing", name, rf.Name)
				}
			}
		}
	}
}

// mustQuery is segment.Query for tags known to be valid.
func mustQuery(tag string) string {
	q, err := segment.Query(tag)
	if err != nil {
		panic(err)
	}
	return q
}

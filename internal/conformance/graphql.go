package conformance

import (
	"os"
	"sync"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopcrm/shopcrm/internal/testshared"
)

var shopify struct {
	once   sync.Once
	schema *ast.Schema
	err    error
}

// ShopifySchema loads Shopify's Admin GraphQL schema (2025-01 SDL) once per
// test binary.
func ShopifySchema(t testing.TB) *ast.Schema {
	t.Helper()
	p := testshared.Path(t, "specs/shopify/admin_2025-01.graphql")
	shopify.once.Do(func() {
		b, err := os.ReadFile(p)
		if err != nil {
			shopify.err = err
			return
		}
		s, gerr := gqlparser.LoadSchema(&ast.Source{Name: "admin_2025-01.graphql", Input: string(b)})
		if gerr != nil {
			shopify.err = gerr
			return
		}
		shopify.schema = s
	})
	if shopify.err != nil {
		t.Fatalf("load Shopify schema: %v", shopify.err)
	}
	return shopify.schema
}

// ValidateGraphQL parses and validates a document against schema. The error
// lists every problem with its location.
func ValidateGraphQL(schema *ast.Schema, query string) error {
	if _, errs := gqlparser.LoadQuery(schema, query); len(errs) > 0 {
		return errs
	}
	return nil
}

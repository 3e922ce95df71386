package shopify_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// TestSpecAnchors checks that every "//spec:graphql query|mutation name"
// line names a root field of the schema the fake serves (itself checked
// against Shopify's schema by the conformance module).
func TestSpecAnchors(t *testing.T) {
	schema, err := gqlparser.LoadSchema(&ast.Source{Input: shopifytest.SchemaSDL()})
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^//spec:graphql (query|mutation) (\w+)$`)
	files, _ := filepath.Glob("*.go")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			n++
			root := schema.Query
			if m[1] == "mutation" {
				root = schema.Mutation
			}
			if root.Fields.ForName(m[2]) == nil {
				t.Errorf("%s: %s %s is not in the schema", f, m[1], m[2])
			}
		}
	}
	if n < 14 {
		t.Errorf("only %d anchors found", n)
	}
}

package shopifytest_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// TestPaginationLimit: a connection pages through its first limit objects
// and stops there; counts stop at the limit plus one; a cursor beyond the
// limit is an error.
func TestPaginationLimit(t *testing.T) {
	srv := shopifytest.NewServer(shopifytest.WithPaginationLimit(5),
		shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 20000, Burst: 1000}))
	defer srv.Close()
	for range 8 {
		srv.AddCustomer(shopifytest.Customer{Tags: []string{"vip"}})
	}
	const members = `query($after: String) { customerSegmentMembers(first: 3, after: $after, query: "customer_tags CONTAINS 'vip'") {
  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	const customers = `query($after: String) { customers(first: 3, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } }`
	for _, tc := range []struct{ field, doc string }{{"customerSegmentMembers", members}, {"customers", customers}} {
		var after any
		read := 0
		for page := 1; ; page++ {
			_, out := post(t, srv, tc.doc, map[string]any{"after": after})
			conn := out["data"].(map[string]any)[tc.field].(map[string]any)
			if tc.field == "customerSegmentMembers" {
				if got := conn["totalCount"]; got != float64(6) {
					t.Errorf("%s: totalCount %v, want 6 (the limit plus one)", tc.field, got)
				}
				read += len(conn["edges"].([]any))
			} else {
				read += len(conn["nodes"].([]any))
			}
			pi := conn["pageInfo"].(map[string]any)
			if pi["hasNextPage"] != true {
				break
			}
			if page > 3 {
				t.Fatalf("%s: still paging after %d pages", tc.field, page)
			}
			after = pi["endCursor"]
		}
		if read != 5 {
			t.Errorf("%s: paged through %d objects, want the limit, 5", tc.field, read)
		}
	}

	// A cursor beyond the limit (the 6th object's) is refused.
	_, out := post(t, srv, members, map[string]any{"after": cursorOf(5)})
	errs, _ := out["errors"].([]any)
	if len(errs) != 1 || !strings.Contains(fmt.Sprint(errs[0]), "limited to 5 objects") {
		t.Errorf("cursor past the limit: %v", out)
	}
}

// cursorOf forges the fake's cursor of the object at index i: opaque to
// clients, known to its tests.
func cursorOf(i int) string { return base64.StdEncoding.EncodeToString([]byte(fmt.Sprint("pos:", i))) }

func TestPaginationLimitOption(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "WithPaginationLimit(0)") {
			t.Errorf("recover() = %v", r)
		}
	}()
	shopifytest.NewServer(shopifytest.WithPaginationLimit(0)).Close()
}

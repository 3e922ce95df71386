package shopifytest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// TestInputArrayLimit: Shopify takes at most 250 elements in an input
// array (shopify.md §1, "Input arrays can hold at most 250 items"). The
// fake refuses a longer one, given as a variable or inline, with an error
// on the field and no change; the client's own Tags.Remove splits such a
// list and goes through.
func TestInputArrayLimit(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	id := srv.AddCustomer(shopifytest.Customer{Email: "a@example.com", Tags: []string{"keep", "t0"}})
	gid := shopify.CustomerGID(id)
	c := srv.Client()
	ctx := context.Background()

	tags := make([]string, shopifytest.MaxInputArray+1)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%d", i)
	}
	q := `mutation($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { userErrors { field message } } }`
	_, err := c.Do(ctx, q, map[string]any{"id": gid, "tags": tags}, nil)
	var ge *shopify.GraphQLErrors
	if !errors.As(err, &ge) || !strings.Contains(err.Error(), "input array size of 251") {
		t.Fatalf("tagsRemove of 251 tags: %v, want an input array error", err)
	}
	inline := `mutation { tagsRemove(id: "` + gid + `", tags: ["` + strings.Join(tags, `", "`) + `"]) { userErrors { field message } } }`
	if _, err := c.Do(ctx, inline, nil, nil); !errors.As(err, &ge) {
		t.Fatalf("inline tagsRemove of 251 tags: %v, want an input array error", err)
	}
	if got := srv.CustomerTags(id); len(got) != 2 {
		t.Errorf("tags after refused calls = %v, want unchanged", got)
	}
	// 250 is fine.
	if _, err := c.Do(ctx, q, map[string]any{"id": gid, "tags": tags[:250]}, nil); err != nil {
		t.Fatalf("tagsRemove of 250 tags: %v", err)
	}
	srv.AddCustomer(shopifytest.Customer{ID: id + 1, Email: "b@example.com", Tags: []string{"keep", "t0", "t250"}})
	if _, err := c.Tags.Remove(ctx, shopify.CustomerGID(id+1), tags); err != nil {
		t.Fatalf("Tags.Remove of 251 tags: %v", err)
	}
	if got := srv.CustomerTags(id + 1); len(got) != 1 || got[0] != "keep" {
		t.Errorf("tags after Tags.Remove = %v, want [keep]", got)
	}
}

package bulk_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/shopcrm/shopcrm/internal/bulk"
)

// tagOp is one tagsAdd or tagsRemove mutation on one customer.
type tagOp struct {
	Customer string
	Op       string // "tagsAdd" or "tagsRemove"
	Tags     []string
}

// Shopify tag changes: aliased mutations in one document, each costing 10
// points, under the query cost limit and the bucket learned from the
// responses, in customer order.
func ExampleWriter_Run_tags() {
	bucket := func() int { return 30 } // the client's gate: points a document may cost now
	ops := []tagOp{
		{"gid://shopify/Customer/1", "tagsRemove", []string{"ecp-first"}},
		{"gid://shopify/Customer/1", "tagsAdd", []string{"ecp-repeat"}},
		{"gid://shopify/Customer/2", "tagsAdd", []string{"ecp-repeat"}},
		{"gid://shopify/Customer/3", "tagsAdd", []string{"ecp-first"}},
	}
	w := bulk.Writer[tagOp]{
		Max:      bulk.Limits{Items: 250, Weight: 1000},
		Limit:    func() bulk.Limits { return bulk.Limits{Weight: bucket() * 4 / 5} },
		Weight:   func(tagOp) int { return 10 },
		Key:      func(op tagOp) string { return op.Customer },
		InFlight: 1, // as the gate allows in a client; 1 keeps this output in order
		Send: func(ctx context.Context, c *bulk.Chunk[tagOp]) error {
			// The client builds one document of aliased mutations and sets
			// c.Results[i].Err from each alias's userErrors.
			var names []string
			for _, op := range c.Items {
				names = append(names, op.Op+"("+strings.TrimPrefix(op.Customer, "gid://shopify/Customer/")+")")
			}
			fmt.Printf("document %d: %s\n", c.Seq, strings.Join(names, " "))
			return nil
		},
	}
	p, err := w.Run(context.Background(), slices.Values(ops))
	fmt.Println(p.Applied, "applied,", p.Chunks, "documents, error:", err)
	// Output:
	// document 0: tagsRemove(1) tagsAdd(1)
	// document 1: tagsAdd(2) tagsAdd(3)
	// 4 applied, 2 documents, error: <nil>
}

// LINE multicast: 500 user ids per request, a few requests at once, each
// chunk carrying a retry key derived from the send's key and its number.
func ExampleWriter_Run_multicast() {
	users := make([]string, 1200)
	for i := range users {
		users[i] = fmt.Sprintf("U%032d", i)
	}
	w := bulk.Writer[string]{
		Max:      bulk.Limits{Items: 500},
		InFlight: 1, // the client's concurrency; 1 keeps this output in order
		Send: func(ctx context.Context, c *bulk.Chunk[string]) error {
			retryKey := fmt.Sprintf("send-key/%d", c.Seq) // the client derives a UUID
			fmt.Println("multicast", len(c.Items), "users with", retryKey)
			return nil // one error for the chunk; the classifier decides what it means
		},
	}
	p, err := w.Run(context.Background(), slices.Values(users))
	fmt.Println(p.Applied, "users reached, error:", err)
	// Output:
	// multicast 500 users with send-key/0
	// multicast 500 users with send-key/1
	// multicast 200 users with send-key/2
	// 1200 users reached, error: <nil>
}

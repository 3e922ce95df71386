package shopifytest_test

import (
	"context"
	"fmt"

	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func ExampleNewServer() {
	srv := shopifytest.NewServer(shopifytest.WithRateLimit(shopifytest.PlanAdvanced))
	defer srv.Close()
	id := srv.AddCustomer(shopifytest.Customer{Email: "a@example.com", Tags: []string{"VIP"}})

	// Shopify splits a tag string on commas, trims each tag and compares
	// them case-insensitively; so does the fake.
	c := srv.Client()
	_, err := c.Do(context.Background(),
		`mutation($id: ID!) { tagsAdd(id: $id, tags: " vip , line") { userErrors { field message } } }`,
		map[string]any{"id": shopify.CustomerGID(id)}, nil)
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(srv.CustomerTags(id), srv.OpCount("tagsAdd"), srv.Stats().Throttled)
	// Output: [VIP line] 1 0
}

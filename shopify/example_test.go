package shopify_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func Example() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{FirstName: "Aino", Email: "aino@example.com", Tags: []string{"line"}}))

	// In production: shopify.New("your-shop.myshopify.com", shopify.StaticToken(token))
	c, err := shopify.New(shopifytest.Shop, shopify.StaticToken(shopifytest.DefaultToken), shopify.WithBaseURL(srv.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if _, err := c.Tags.Add(ctx, id, []string{"ecp-first"}); err != nil {
		fmt.Println(err)
		return
	}
	for cu, err := range c.Customers.List(ctx, nil) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(cu.DisplayName, cu.Tags)
	}
	// Output: Aino [line ecp-first]
}

func ExampleClient_Do() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	srv.AddCustomer(shopifytest.Customer{Email: "a@example.com"})
	c := srv.Client()

	var out struct {
		Customers struct {
			Nodes []struct {
				ID string `json:"id"`
			} `json:"nodes"`
		} `json:"customers"`
	}
	resp, err := c.Do(context.Background(), `query { customers(first: 5) { nodes { id } } }`, nil, &out)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(out.Customers.Nodes), "customer; cost", resp.Cost.RequestedQueryCost)

	_, err = c.Do(context.Background(), `query { customers(first: 5) { nodes { tagz } } }`, nil, nil)
	var ge *shopify.GraphQLError
	if errors.As(err, &ge) {
		fmt.Println(ge.Message)
	}
	// Output:
	// 1 customer; cost 7
	// Cannot query field "tagz" on type "Customer". Did you mean "tags"?
}

func ExampleSegmentsService_Members() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	srv.AddCustomer(shopifytest.Customer{FirstName: "Yui", Email: "yui@example.com", EmailState: "SUBSCRIBED", Tags: []string{"ecp-first"}})
	srv.AddCustomer(shopifytest.Customer{FirstName: "Ken", Tags: []string{"line"}})
	c := srv.Client()
	ctx := context.Background()

	seg, _, err := c.Segments.Create(ctx, "First-time buyers", mustQuery("ecp-first"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(seg.Query)
	for m, err := range c.Segments.Members(ctx, shopify.MembersOptions{SegmentID: seg.ID}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(m.DisplayName, m.Email, m.EmailState)
	}
	// Output:
	// customer_tags CONTAINS 'ecp-first'
	// Yui yui@example.com SUBSCRIBED
}

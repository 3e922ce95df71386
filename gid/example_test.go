package gid_test

import (
	"fmt"

	"github.com/shopcrm/shopcrm/gid"
)

func ExampleParseAs() {
	a, _ := gid.ParseAs("gid://shopify/Customer/123", gid.Customer)
	b, _ := gid.ParseAs("123", gid.Customer) // a plain number from a CSV export
	fmt.Println(a == b, a, a.Num)
	_, err := gid.ParseAs("gid://shopify/Order/123", gid.Customer)
	fmt.Println(err)
	// Output:
	// true gid://shopify/Customer/123 123
	// gid: parse Customer id "gid://shopify/Order/123": GID is a Order
}

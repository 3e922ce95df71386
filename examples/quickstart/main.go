// Command quickstart shows the pieces of shopcrm working together offline.
package main

import (
	"fmt"
	"log"

	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/tagging"
)

func main() {
	var revenue money.Totals
	for _, o := range []struct{ amount, currency string }{
		{"1234.50", "USD"}, {"4500", "JPY"}, {"19.99", "USD"},
	} {
		a, err := money.Parse(o.amount, money.Currency(o.currency))
		if err != nil {
			log.Fatal(err)
		}
		if err := revenue.Add(a); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("revenue:", revenue)

	ch := tagging.Change{ID: "gid://shopify/Customer/1", Add: []string{"ecp-first"}}
	fmt.Printf("change: %s +%v -%v\n", ch.ID, ch.Add, ch.Remove)
}

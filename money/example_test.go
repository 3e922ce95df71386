package money_test

import (
	"errors"
	"fmt"

	"github.com/shopcrm/shopcrm/money"
)

func ExampleParse() {
	price, _ := money.Parse("1234.50", "USD")
	yen, _ := money.Parse("1200", "JPY")
	fmt.Println(price, price.Minor)
	fmt.Println(yen, yen.Minor)

	_, err := money.Parse("12.5", "JPY")
	var pe *money.ParseError
	fmt.Println(errors.As(err, &pe), pe.Reason)
	// Output:
	// 1234.50 USD 123450
	// 1200 JPY 1200
	// true more than 0 decimal places
}

func ExampleTotals() {
	var revenue money.Totals
	_ = revenue.Add(money.MustParse("19.99", "USD"))
	_ = revenue.Add(money.MustParse("4500", "JPY"))
	_ = revenue.Add(money.MustParse("5.01", "USD"))

	_, err := money.MustParse("1", "USD").Add(money.MustParse("1", "EUR"))
	fmt.Println(revenue)
	fmt.Println(err)
	// Output:
	// 4500 JPY + 25.00 USD
	// money: cannot add USD and EUR
}

func ExampleAmount_Allocate() {
	parts, _ := money.MustParse("100.00", "USD").Allocate([]float64{1, 1, 1})
	fmt.Println(parts)
	// Output: [33.34 USD 33.33 USD 33.33 USD]
}

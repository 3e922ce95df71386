package main

import "context"

func Example() {
	if err := run(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// model: last_click
	// level    channel      spend  conversions     revenue       roas
	// total             95.00 USD            3  180.00 USD       1.89
	// channel  google   65.00 USD            1   60.00 USD       0.92
	// channel  klaviyo          0            1   60.00 USD  undefined
	// channel  meta     30.00 USD            1   60.00 USD       2.00
	// model: first_click
	// level    channel      spend  conversions     revenue       roas
	// total             95.00 USD            3  180.00 USD       1.89
	// channel  google   65.00 USD            2  120.00 USD       1.85
	// channel  klaviyo          0            0           0  undefined
	// channel  meta     30.00 USD            1   60.00 USD       2.00
	// model: linear
	// level    channel      spend  conversions     revenue       roas
	// total             95.00 USD            3  180.00 USD       1.89
	// channel  google   65.00 USD          1.5   90.00 USD       1.38
	// channel  klaviyo          0          0.5   30.00 USD  undefined
	// channel  meta     30.00 USD            1   60.00 USD       2.00
}

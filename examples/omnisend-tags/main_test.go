package main

import "context"

func Example() {
	if err := run(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// run 1: 3 contacts changed, 0 unchanged
	//   ann@example.com +[ecp-repeat] -[]: applied
	//   bo@example.com +[ecp-first] -[ecp-repeat]: applied
	//   cy@example.com +[] -[ecp-first]: applied
	// run 2: 0 contacts changed, 3 unchanged
	// ann@example.com [ecp-repeat]
	// bo@example.com [black-friday ecp-first]
	// cy@example.com [newsletter]
}

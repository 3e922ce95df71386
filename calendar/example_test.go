package calendar_test

import (
	"fmt"
	"time"

	"github.com/shopcrm/shopcrm/calendar"
)

func ExampleDate() {
	d := calendar.NewDate(2025, time.February, 28)
	next := d.AddDays(1)
	fmt.Println(d, next, next.Sub(d), d < next)
	tokyo := time.FixedZone("JST", 9*3600)
	fmt.Println(calendar.DateOf(time.Date(2025, 3, 1, 20, 0, 0, 0, time.UTC).In(tokyo)))
	// Output:
	// 2025-02-28 2025-03-01 1 true
	// 2025-03-02
}

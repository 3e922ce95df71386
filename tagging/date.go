package tagging

import (
	"time"

	"github.com/shopcrm/shopcrm/calendar"
)

// scanDate reads a YYYY-MM-DD date at s[i:]. On failure it returns the offset
// of the problem and what was expected there; want is "" on success.
func scanDate(s string, i int) (d calendar.Date, pos int, want string) {
	const layout = "dddd-dd-dd"
	for k := 0; k < len(layout); k++ {
		j := i + k
		if j >= len(s) {
			return 0, j, wantDateChar(k)
		}
		c := s[j]
		if layout[k] == '-' && c != '-' || layout[k] == 'd' && (c < '0' || c > '9') {
			return 0, j, wantDateChar(k)
		}
	}
	n := func(k int) int { return int(s[i+k] - '0') }
	year, month, day := n(0)*1000+n(1)*100+n(2)*10+n(3), time.Month(n(5)*10+n(6)), n(8)*10+n(9)
	switch {
	case year == 0:
		return 0, i, wantYear
	case month < time.January || month > time.December:
		return 0, i + 5, wantMonth
	case day < 1 || day > calendar.DaysIn(year, month):
		return 0, i + 8, wantDay
	}
	d = calendar.NewDate(year, month, day)
	return d, i + 10, ""
}

func wantDateChar(k int) string {
	switch {
	case k < 4:
		return wantYear
	case k == 4 || k == 7:
		return `"-" in a YYYY-MM-DD date`
	case k < 7:
		return wantMonth
	}
	return wantDay
}

const (
	wantYear  = "year 0001-9999 of a YYYY-MM-DD date"
	wantMonth = "month 01-12 of a YYYY-MM-DD date"
	wantDay   = "day of the month of a YYYY-MM-DD date"
	wantEnd   = "end of tag"
)

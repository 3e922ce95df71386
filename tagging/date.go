package tagging

import (
	"fmt"
	"time"
)

// Date is a calendar date as tags write it (YYYY-MM-DD), with no time of day
// and no time zone: a cancel date is the merchant's calendar day, whatever
// the server's zone. The zero Date means "no date".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses a YYYY-MM-DD date. The error is a [*ParseError].
func ParseDate(s string) (Date, error) {
	d, pos, want := scanDate(s, 0)
	if want == "" && len(s) > 10 {
		pos, want = 10, wantEnd
	}
	if want != "" {
		return Date{}, &ParseError{Tag: s, Pos: pos, Expected: want}
	}
	return d, nil
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is a real calendar date from 0001-01-01 to
// 9999-12-31, the range four year digits can write.
func (d Date) Valid() bool {
	return 1 <= d.Year && d.Year <= 9999 && time.January <= d.Month && d.Month <= time.December &&
		1 <= d.Day && d.Day <= daysIn(d.Month, d.Year)
}

// String returns d as YYYY-MM-DD. A date that is not Valid prints its
// fields as they are, for error messages.
func (d Date) String() string {
	if !d.Valid() {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	var b [10]byte
	return string(d.appendTo(b[:0]))
}

// Time returns midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// appendTo writes d as YYYY-MM-DD; d must be Valid.
func (d Date) appendTo(b []byte) []byte {
	y, m := d.Year, int(d.Month)
	return append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+d.Day/10), byte('0'+d.Day%10))
}

func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// scanDate reads a YYYY-MM-DD date at s[i:]. On failure it returns the offset
// of the problem and what was expected there; want is "" on success.
func scanDate(s string, i int) (d Date, pos int, want string) {
	const layout = "dddd-dd-dd"
	for k := 0; k < len(layout); k++ {
		j := i + k
		if j >= len(s) {
			return Date{}, j, wantDateChar(k)
		}
		c := s[j]
		if layout[k] == '-' && c != '-' || layout[k] == 'd' && (c < '0' || c > '9') {
			return Date{}, j, wantDateChar(k)
		}
	}
	n := func(k int) int { return int(s[i+k] - '0') }
	d = Date{
		Year:  n(0)*1000 + n(1)*100 + n(2)*10 + n(3),
		Month: time.Month(n(5)*10 + n(6)),
		Day:   n(8)*10 + n(9),
	}
	switch {
	case d.Year == 0:
		return Date{}, i, wantYear
	case d.Month < time.January || d.Month > time.December:
		return Date{}, i + 5, wantMonth
	case d.Day < 1 || d.Day > daysIn(d.Month, d.Year):
		return Date{}, i + 8, wantDay
	}
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

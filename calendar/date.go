// Package calendar holds the SDK's one calendar date type: a day with no
// time of day and no time zone, as tags write it (a cancel date), as
// reports bucket activity (a day of spend) and as Shopify's GraphQL Date
// scalar carries it.
//
// It is pure (no I/O, no platform import), shared by packages tagging and
// attribution.
package calendar

import (
	"fmt"
	"strconv"
	"time"
)

// Date is a calendar date in the proleptic Gregorian calendar, counted in
// days: 0001-01-01 is 1, so dates compare with < and ==, and d+1 is the
// next day ([Date.AddDays], [Date.Sub]). The zero Date means "no date".
//
// Which day an instant falls on depends on a time zone; [DateOf] takes it
// from the time.Time, so convert with time.Time.In first.
type Date int32

// Range of valid dates, the years four digits can write.
const (
	minDate Date = 1       // 0001-01-01
	maxDate Date = 3652059 // 9999-12-31
)

// unixEpoch is 1970-01-01 as a Date; civil-from-days below counts from it.
const unixEpoch = 719163

// NewDate returns the date of year, month and day. Months and days out of
// range normalise as they do for [time.Date]: NewDate(2025, 2, 30) is
// 2025-03-02.
func NewDate(year int, month time.Month, day int) Date {
	m := int64(month) - 1
	y := int64(year) + floorDiv(m, 12)
	m -= floorDiv(m, 12) * 12
	return Date(daysFromCivil(y, m+1, 1) + int64(day) - 1 + unixEpoch)
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return NewDate(y, m, d)
}

// ParseDate reads a date written YYYY-MM-DD, from 0001-01-01 to
// 9999-12-31. The error is a [*ParseError].
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, &ParseError{Input: s, Err: err}
	}
	d := DateOf(t)
	if !d.Valid() {
		return 0, &ParseError{Input: s}
	}
	return d, nil
}

// ParseError reports text that is not a YYYY-MM-DD date. Err is the
// time package's error, when there is one.
type ParseError struct {
	Input string
	Err   error
}

// Error describes the input.
func (e *ParseError) Error() string {
	return "calendar: parse date " + strconv.Quote(e.Input) + ": expected YYYY-MM-DD from 0001-01-01 to 9999-12-31"
}

// Unwrap returns Err.
func (e *ParseError) Unwrap() error { return e.Err }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == 0 }

// Valid reports whether d is a date from 0001-01-01 to 9999-12-31.
func (d Date) Valid() bool { return minDate <= d && d <= maxDate }

// AddDays returns the date n days after d (before it for negative n).
func (d Date) AddDays(n int) Date { return d + Date(n) }

// Sub returns the number of days from o to d.
func (d Date) Sub(o Date) int { return int(d) - int(o) }

// Split returns the year, month and day of d.
func (d Date) Split() (year int, month time.Month, day int) {
	y, m, dd := civilFromDays(int64(d) - unixEpoch)
	return int(y), time.Month(m), int(dd)
}

// Start returns midnight at the start of d in loc (UTC when loc is nil).
func (d Date) Start(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, m, dd := d.Split()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// String returns d as YYYY-MM-DD. A date that is not Valid prints its
// fields as they are, for error messages.
func (d Date) String() string {
	if !d.Valid() {
		y, m, dd := d.Split()
		return fmt.Sprintf("%04d-%02d-%02d", y, int(m), dd)
	}
	var b [10]byte
	return string(d.Append(b[:0]))
}

// Append appends d as YYYY-MM-DD to b; d must be Valid.
func (d Date) Append(b []byte) []byte {
	y, m, dd := d.Split()
	return append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+dd/10), byte('0'+dd%10))
}

// MarshalText writes d as YYYY-MM-DD, the form of GraphQL's Date scalar.
// The zero Date and other invalid dates are an error.
func (d Date) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fmt.Errorf("calendar: date %d out of range", int32(d))
	}
	return d.Append(nil), nil
}

// UnmarshalText reads YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// DaysIn returns the number of days in month of year.
func DaysIn(year int, month time.Month) int {
	switch month {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// daysFromCivil and civilFromDays convert between a proleptic Gregorian
// date (m 1-12) and days since 1970-01-01, after Howard Hinnant's
// "chrono-Compatible Low-Level Date Algorithms".
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

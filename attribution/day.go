package attribution

import (
	"fmt"
	"time"
)

// Day is a calendar day, counted in days since 1970-01-01. Rollups bucket
// activity by the day on which it happened in the shop's time zone
// ([Config.Location]), which is also how Shopify's occurredOn is defined.
// Days order and subtract like integers.
type Day int32

const secondsPerDay = 24 * 60 * 60

// Date returns the day for a calendar date. Out-of-range months and days
// normalise as they do for [time.Date].
func Date(year int, month time.Month, day int) Day {
	return Day(floorDiv(time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix(), secondsPerDay))
}

// DayOf returns the calendar day of t in loc (UTC when loc is nil).
func DayOf(t time.Time, loc *time.Location) Day {
	if loc == nil {
		loc = time.UTC
	}
	_, off := t.In(loc).Zone()
	return Day(floorDiv(t.Unix()+int64(off), secondsPerDay))
}

// ParseDay reads a day in the form "2006-01-02".
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("attribution: parse day %q: %w", s, err)
	}
	return DayOf(t, time.UTC), nil
}

// Date returns the calendar date of d.
func (d Day) Date() (year int, month time.Month, day int) {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Date()
}

// Start returns the first instant of d in loc (UTC when loc is nil).
func (d Day) Start(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// String formats d as "2006-01-02".
func (d Day) String() string {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Format(time.DateOnly)
}

// MarshalText formats d as "2006-01-02", the form of GraphQL's Date scalar.
func (d Day) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses "2006-01-02".
func (d *Day) UnmarshalText(b []byte) error {
	v, err := ParseDay(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UTCOffset formats the offset from UTC in effect in loc at the start of d as
// "+HH:MM" or "-HH:MM", the form of Shopify's UtcOffset scalar. Offsets with
// seconds (historical local mean time) are truncated to the minute.
func (d Day) UTCOffset(loc *time.Location) string {
	_, off := d.Start(loc).Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off/60%60)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// dayCache maps instants to days in one location. It remembers the offset
// of the last zone period seen (time.Time.ZoneBounds), so UTC, fixed zones
// and the months between daylight-saving changes cost no zone lookup.
type dayCache struct {
	loc    *time.Location
	lo, hi int64 // unix seconds where off holds; hi == lo means empty
	open   bool  // the zone period has no end (no further transitions)
	off    int64
}

func newDayCache(loc *time.Location) dayCache {
	if loc == nil {
		loc = time.UTC
	}
	if loc == time.UTC {
		return dayCache{loc: loc, open: true, lo: minSeconds}
	}
	return dayCache{loc: loc}
}

func (c *dayCache) day(sec int64) Day {
	if sec < c.lo || (!c.open && sec >= c.hi) {
		t := time.Unix(sec, 0).In(c.loc)
		_, off := t.Zone()
		c.off = int64(off)
		start, end := t.ZoneBounds()
		c.lo, c.open = minSeconds, end.IsZero()
		if !start.IsZero() {
			c.lo = start.Unix()
		}
		if !c.open {
			c.hi = end.Unix()
		}
	}
	return Day(floorDiv(sec+c.off, secondsPerDay))
}

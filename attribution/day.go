package attribution

import (
	"fmt"
	"time"

	"github.com/shopcrm/shopcrm/calendar"
)

// Days are [calendar.Date] values: rollups bucket activity by the day on
// which it happened in the shop's time zone ([Config.Location]), which is
// also how Shopify's occurredOn is defined.

const secondsPerDay = 24 * 60 * 60

// unixEpoch is 1970-01-01, the day unix day counts start from.
var unixEpoch = calendar.NewDate(1970, time.January, 1)

// dateOf returns the calendar day of t in loc (UTC when loc is nil).
func dateOf(t time.Time, loc *time.Location) calendar.Date {
	if loc == nil {
		loc = time.UTC
	}
	return calendar.DateOf(t.In(loc))
}

// utcOffset formats the offset from UTC in effect in loc at the start of d
// as "+HH:MM" or "-HH:MM", the form of Shopify's UtcOffset scalar. Offsets
// with seconds (historical local mean time) are truncated to the minute.
func utcOffset(d calendar.Date, loc *time.Location) string {
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

func (c *dayCache) day(sec int64) calendar.Date {
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
	return unixEpoch.AddDays(int(floorDiv(sec+c.off, secondsPerDay)))
}

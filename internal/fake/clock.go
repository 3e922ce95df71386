package fake

import (
	"sync/atomic"
	"time"
)

// Clock is real time plus an offset that Advance and SetNow move, so slow
// things (day-long keys, hourly limits, months) can be skipped while
// per-second limits still run in real time. It is safe for concurrent use.
type Clock struct {
	offset atomic.Int64 // nanoseconds
}

// NewClock returns a clock reading start now; a zero start is real time.
func NewClock(start time.Time) *Clock {
	c := &Clock{}
	if !start.IsZero() {
		c.SetNow(start)
	}
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// SetNow sets the clock to t; it runs on at real speed from there.
func (c *Clock) SetNow(t time.Time) { c.offset.Store(int64(time.Until(t))) }

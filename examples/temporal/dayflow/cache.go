package dayflow

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm/calendar"
)

// Cache defaults.
const (
	// DefaultCacheIdle is how long a [Cache] keeps a shop's day open
	// unused. It outlasts the default policies' longest backoff (10 min),
	// so a retry on this worker finds the clients it left, and every
	// platform window the pipeline meets (a minute at most, LINE's hourly
	// narrowcast aside) has long reset once it passes.
	DefaultCacheIdle = 15 * time.Minute
	// DefaultCacheMaxIdle is how many unused shops' days a [Cache] keeps
	// open at most.
	DefaultCacheMaxIdle = 1000
)

// ErrCacheClosed is returned by [Cache.Open] after [Cache.Close].
var ErrCacheClosed = errors.New("dayflow: cache closed")

// CacheOptions bound what a [Cache] keeps.
type CacheOptions struct {
	// Idle closes a shop's day once unused for this long; zero:
	// [DefaultCacheIdle].
	Idle time.Duration
	// MaxIdle bounds the unused days kept open; past it the least recently
	// used is closed first. Days in use are never closed, and count apart
	// (the worker's activity slots bound them). Zero: [DefaultCacheMaxIdle].
	MaxIdle int
}

// CacheStats count what a [Cache] did.
type CacheStats struct {
	Opens  int // days opened from the Directory
	Reuses int // attempts served a day already open
	Closed int // days closed (day ended, idle, over MaxIdle, Close)
	Open   int // days open now
}

// Cache is a [Directory] in front of another that keeps a shop's day open
// across the attempts and steps this worker runs for it, so that every
// one of them uses the same clients. The SDK's clients are safe for
// concurrent use and carry their rate limiters, so a step retried here
// starts from what the platform's window already holds rather than from a
// full bucket, and sends nothing the platform would refuse for its limits.
//
// The Directory's contract already makes this sound: it builds the same
// environment for every attempt of a shop's day, so opening it once is
// the same as opening it per attempt, provided the Shop's State reads
// through to its store rather than keeping records in memory
// ([pipeline.State] reads every record from disk when used) and nothing
// in the Shop depends on the context given to Open beyond that call.
//
// A day is closed (its Shop.Close called) once unused and either its last
// step has succeeded ([Cache.EndDay], called by the activities), or it
// stayed unused for [CacheOptions.Idle], or more than
// [CacheOptions.MaxIdle] days are unused (least recently used first), or
// the Cache is closed. So a worker keeps the shops it is running plus a
// bounded number of recent ones.
//
// Counting requests per attempt keeps working: Shop.Requests (or the
// Env's Meter) counts over the day, and the activity reports the
// difference over its attempt. If two attempts of one shop overlap on a
// worker (one stalled past its heartbeat timeout), each counts both.
//
// A Cache is per worker process: a step that lands on another worker
// opens the shop there, with clients whose limiters start full.
type Cache struct {
	dir  Directory
	idle time.Duration
	max  int

	mu      sync.Mutex
	days    map[dayKey]*cached
	lru     list.List // unused days, least recently used first
	stats   CacheStats
	closing bool
}

type dayKey struct {
	shop string
	day  calendar.Date
}

// cached is one open day.
type cached struct {
	key   dayKey
	ready chan struct{} // closed once sh or err is set
	sh    *Shop
	err   error
	users int
	ended bool          // the day's last step succeeded
	idle  *list.Element // in lru while unused
	timer *time.Timer   // closes it at the end of its idle spell
	gen   int           // counts idle spells, so a stale timer does nothing
}

var _ Directory = (*Cache)(nil)

// NewCache returns a Cache over dir. Close it when the worker stops.
func NewCache(dir Directory, o CacheOptions) *Cache {
	if o.Idle <= 0 {
		o.Idle = DefaultCacheIdle
	}
	if o.MaxIdle <= 0 {
		o.MaxIdle = DefaultCacheMaxIdle
	}
	return &Cache{dir: dir, idle: o.Idle, max: o.MaxIdle, days: map[dayKey]*cached{}}
}

// Open returns the shop's day, opening it from the Directory the first
// time. The Shop's Close releases it: the day stays open for the next
// attempt or step. Concurrent Opens of one day open it once; a failed
// open is not kept.
func (c *Cache) Open(ctx context.Context, shop string, day calendar.Date) (*Shop, error) {
	k := dayKey{shop, day}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil, ErrCacheClosed
	}
	e := c.days[k]
	first := e == nil
	if first {
		e = &cached{key: k, ready: make(chan struct{})}
		c.days[k] = e
		c.stats.Opens++
	} else {
		c.stats.Reuses++
		c.busy(e)
	}
	e.users++
	c.mu.Unlock()

	if first {
		e.sh, e.err = c.dir.Open(ctx, shop, day)
		if e.err == nil && e.sh == nil {
			e.err = errors.New("dayflow: Directory.Open returned no Shop and no error")
		}
		if e.err != nil {
			c.mu.Lock()
			if c.days[k] == e {
				delete(c.days, k)
			}
			c.stats.Opens--
			c.mu.Unlock()
		}
		close(e.ready)
	} else {
		select {
		case <-e.ready:
		case <-ctx.Done():
			c.release(e)
			return nil, ctx.Err()
		}
	}
	if e.err != nil {
		c.release(e)
		return nil, e.err
	}
	sh := *e.sh
	var once sync.Once
	sh.Close = func() { once.Do(func() { c.release(e) }) }
	return &sh, nil
}

// EndDay tells the cache that the day's last step has succeeded: the day
// is closed as soon as no attempt uses it.
func (c *Cache) EndDay(shop string, day calendar.Date) {
	c.mu.Lock()
	e := c.days[dayKey{shop, day}]
	if e == nil {
		c.mu.Unlock()
		return
	}
	e.ended = true
	var toClose []*cached
	if e.users == 0 && e.err == nil {
		toClose = append(toClose, c.drop(e))
	}
	c.mu.Unlock()
	closeAll(toClose)
}

// Stats returns what the cache did so far.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Open = len(c.days)
	return s
}

// Close closes every open day now, and the days in use as their attempts
// end; later Opens fail with [ErrCacheClosed].
func (c *Cache) Close() {
	c.mu.Lock()
	c.closing = true
	var toClose []*cached
	for _, e := range c.days {
		if e.users == 0 {
			toClose = append(toClose, c.drop(e))
		}
	}
	c.mu.Unlock()
	closeAll(toClose)
}

// release ends one use of e, and closes it, or starts its idle spell.
func (c *Cache) release(e *cached) {
	c.mu.Lock()
	e.users--
	var toClose []*cached
	switch {
	case e.users > 0 || e.err != nil:
	case e.ended || c.closing:
		toClose = append(toClose, c.drop(e))
	default:
		e.gen++
		e.idle = c.lru.PushBack(e)
		gen := e.gen
		e.timer = time.AfterFunc(c.idle, func() { c.expire(e, gen) })
		for c.lru.Len() > c.max {
			toClose = append(toClose, c.drop(c.lru.Front().Value.(*cached)))
		}
	}
	c.mu.Unlock()
	closeAll(toClose)
}

// expire closes e if it is still in the idle spell gen.
func (c *Cache) expire(e *cached, gen int) {
	c.mu.Lock()
	var toClose []*cached
	if e.gen == gen && e.users == 0 && c.days[e.key] == e {
		toClose = append(toClose, c.drop(e))
	}
	c.mu.Unlock()
	closeAll(toClose)
}

// busy ends e's idle spell, if any. c.mu is held.
func (c *Cache) busy(e *cached) {
	if e.idle != nil {
		c.lru.Remove(e.idle)
		e.idle = nil
	}
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
}

// drop forgets e and returns it for the caller to close after unlocking,
// or nil if it was dropped already. c.mu is held.
func (c *Cache) drop(e *cached) *cached {
	c.busy(e)
	if c.days[e.key] != e {
		return nil
	}
	delete(c.days, e.key)
	c.stats.Closed++
	return e
}

// closeAll closes the days' Shops, outside the cache's lock: a Shop's
// Close may take its time.
func closeAll(days []*cached) {
	for _, e := range days {
		if e != nil && e.sh != nil && e.sh.Close != nil {
			e.sh.Close()
		}
	}
}

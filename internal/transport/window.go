package transport

import (
	"sort"
	"sync"
	"time"
)

// Window admits at most N events in any span of length Per, the way a
// platform counts "60 requests per hour". A token bucket alone does not:
// with a burst of b it lets b + N through the first window. A Window is the
// check a Gate makes on top of its bucket (Gate.SetWindow), and what a fake
// enforces for such limits. It keeps the times of the events of the last
// Per. It is safe for concurrent use.
type Window struct {
	n   int
	per time.Duration

	mu    sync.Mutex
	times []time.Time // booked events, ascending
}

// NewWindow returns a window of n events per per; nil when either is not
// positive (no limit).
func NewWindow(n int, per time.Duration) *Window {
	if n <= 0 || per <= 0 {
		return nil
	}
	return &Window{n: n, per: per}
}

// Limit reports the window's count and span.
func (w *Window) Limit() (n int, per time.Duration) {
	if w == nil {
		return 0, 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n, w.per
}

// Resize changes the window's count and span, keeping the events booked
// so far, so that a change (a longer span after throttling) never lets a
// burst through that the old window had held back. n and per must be
// positive.
func (w *Window) Resize(n int, per time.Duration) {
	if w == nil || n <= 0 || per <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n, w.per = n, per
}

// forget drops the events that no span ending at or after t can hold.
func (w *Window) forget(t time.Time) {
	i := sort.Search(len(w.times), func(i int) bool { return w.times[i].After(t.Add(-w.per)) })
	w.times = w.times[i:]
}

// Reserve books k events (clamped to [1, N]) at the earliest time at or
// after t, and after every event already booked, that keeps each span of
// length Per at N events or fewer, and returns that time.
func (w *Window) Reserve(t time.Time, k int) time.Time {
	if w == nil {
		return t
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	k = max(1, min(k, w.n))
	w.forget(t)
	at := t
	if len(w.times) > 0 {
		at = later(at, w.times[len(w.times)-1])
	}
	// The event with N-k booked after it must lie a whole span before.
	if i := len(w.times) - (w.n - k) - 1; i >= 0 {
		at = later(at, w.times[i].Add(w.per))
	}
	for range k {
		w.times = append(w.times, at)
	}
	return at
}

// Allow books one event at t if the span ending at t holds fewer than N,
// and reports whether it did. It is for servers counting arrivals.
func (w *Window) Allow(t time.Time) bool {
	if w == nil {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.forget(t)
	if len(w.times) >= w.n {
		return false
	}
	i := sort.Search(len(w.times), func(i int) bool { return w.times[i].After(t) })
	w.times = append(w.times, time.Time{})
	copy(w.times[i+1:], w.times[i:])
	w.times[i] = t
	return true
}

// Cancel takes back k events booked at at by Reserve, for a wait given up.
func (w *Window) Cancel(at time.Time, k int) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.times) - 1; i >= 0 && k > 0; i-- {
		if w.times[i].Equal(at) {
			w.times = append(w.times[:i], w.times[i+1:]...)
			k--
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

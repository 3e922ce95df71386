package transport

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Gate paces requests on the client side with an x/time/rate token bucket.
// Every attempt passes through it, retries included. It is safe for
// concurrent use and can be retuned while in use (SetLimit, SetBurst), for
// example when a server reports a larger plan.
//
// A cost-based API such as Shopify's GraphQL maps onto it as limit =
// restoreRate points per second and burst = maximumAvailable points; each
// call waits for its requested cost. x/time/rate cannot set its token count,
// so [Gate.Reconcile] keeps the local bucket no fuller than the server's by
// debiting the difference; it never credits, which errs on the side of
// waiting. A cost above the burst is clamped to the burst, because WaitN
// fails outright when n exceeds it.
//
// A retune applies to the waits already queued, not only to later ones: a
// first guess that was too low (a shop on a larger plan) would otherwise
// keep every queued wait at the old pace. x/time/rate reservations cannot be
// moved, so a retune builds a new limiter holding the same tokens, less the
// queued waits' reservations, and books those again in their order at the
// new rate. Growing the burst adds the new room as tokens: the server's
// bucket was that much larger all along (Reconcile takes back what the
// server says is not there).
//
// An attempt the server refused with a 429 was not charged there, so
// [Gate.Refund] gives its tokens back. x/time/rate cannot add tokens either
// (a Reservation's Cancel restores nothing once its time has passed, and
// only part of them when other reservations followed), so refunds are kept
// beside the limiter as a credit that the next waits spend first. The
// credit never lifts the gate above its burst.
//
// A gate can also hold a Window (SetWindow), and a second one
// (SetSecondWindow) for platforms that count two spans at once (a second
// and a minute): no span of a window's length
// then sees more than its count of requests, whatever the burst.
type Gate struct {
	mu      sync.Mutex // guards everything but win
	lim     *rate.Limiter
	credit  float64   // refunded tokens, spent before the limiter's
	pending []*waiter // waits not yet due, in the order they were booked
	win     atomic.Pointer[Window]
	win2    atomic.Pointer[Window]
}

// waiter is one queued Wait.
type waiter struct {
	n        int       // tokens asked for (clamped)
	rest     int       // tokens reserved on the limiter (n less the credit)
	credited float64   // credit spent
	at       time.Time // when it may go: limiter and window
	win      *Window   // the window booked at at, if any
	win2     *Window   // the second window booked at at, if any
	wake     chan struct{}
}

// SetWindow adds a window check: at most n requests in any span of per
// (each attempt counts its cost). n or per not positive removes it.
func (g *Gate) SetWindow(n int, per time.Duration) { g.win.Store(NewWindow(n, per)) }

// Window reports the window check (zeros when there is none).
func (g *Gate) Window() (n int, per time.Duration) { return g.win.Load().Limit() }

// ResizeWindows changes the spans of the gate's windows in place, keeping
// what they have booked (SetWindow and SetSecondWindow start afresh); a
// zero span leaves that window as it is.
func (g *Gate) ResizeWindows(per, secondPer time.Duration) {
	if w := g.win.Load(); w != nil && per > 0 {
		n, _ := w.Limit()
		w.Resize(n, per)
	}
	if w := g.win2.Load(); w != nil && secondPer > 0 {
		n, _ := w.Limit()
		w.Resize(n, secondPer)
	}
}

// SetSecondWindow adds a second window check beside SetWindow's: at most n
// requests in any span of per. n or per not positive removes it.
func (g *Gate) SetSecondWindow(n int, per time.Duration) { g.win2.Store(NewWindow(n, per)) }

// SecondWindow reports the second window check (zeros when there is none).
func (g *Gate) SecondWindow() (n int, per time.Duration) { return g.win2.Load().Limit() }

// NewGate returns a gate refilling perSecond tokens per second up to burst.
// perSecond <= 0 or +Inf means no limit.
func NewGate(perSecond float64, burst int) *Gate {
	return &Gate{lim: rate.NewLimiter(toLimit(perSecond), max(burst, 1))}
}

func toLimit(perSecond float64) rate.Limit {
	if perSecond <= 0 || math.IsInf(perSecond, 1) || math.IsNaN(perSecond) {
		return rate.Inf
	}
	return rate.Limit(perSecond)
}

// Limit reports tokens per second (+Inf when unlimited).
func (g *Gate) Limit() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return float64(g.lim.Limit())
}

// Burst reports the bucket size.
func (g *Gate) Burst() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lim.Burst()
}

// Tokens reports the tokens available now, refunds included (negative
// while reservations are pending).
func (g *Gate) Tokens() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	g.settle(now)
	return g.lim.TokensAt(now) + g.credit
}

// SetLimit changes the refill rate; perSecond <= 0 means no limit. Queued
// waits are booked again at the new rate.
func (g *Gate) SetLimit(perSecond float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if l := toLimit(perSecond); l != g.lim.Limit() {
		g.rebuild(time.Now(), l, g.lim.Burst(), nil)
	}
}

// SetBurst changes the bucket size (at least 1). A larger bucket holds its
// new room as tokens at once; queued waits are booked again.
func (g *Gate) SetBurst(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n = max(n, 1); n != g.lim.Burst() {
		g.rebuild(time.Now(), g.lim.Limit(), n, nil)
	}
}

// rebuild replaces the limiter with one at limit and burst holding the same
// tokens (plus the room a larger burst adds), then books the queued waits
// again in order, except drop, whose tokens go back (g.mu held). Waits
// already due keep their booking: their tokens are spent.
func (g *Gate) rebuild(now time.Time, limit rate.Limit, burst int, drop *waiter) {
	level := g.lim.TokensAt(now)
	var queued []*waiter
	for _, w := range g.pending {
		if w.at.After(now) {
			level += float64(w.rest)
			queued = append(queued, w)
		}
	}
	for i := len(queued) - 1; i >= 0; i-- { // the window books in order: free every slot first
		queued[i].win.Cancel(queued[i].at, queued[i].n)
		queued[i].win2.Cancel(queued[i].at, queued[i].n)
	}
	if grow := burst - g.lim.Burst(); grow > 0 {
		level += float64(grow)
	}
	g.lim = newLimiterAt(now, limit, burst, level)
	for _, w := range queued {
		if w == drop {
			g.pending = slices.DeleteFunc(g.pending, func(x *waiter) bool { return x == drop })
			continue
		}
		// A cost above the new burst is clamped, as in Wait.
		w.rest = min(w.rest, burst)
		w.n = min(w.n, burst)
		g.book(now, w)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// newLimiterAt returns a limiter at limit and burst holding level tokens
// (at most burst) at now. It debits a full one with reservations made a
// little before now, so that the fraction of a token left is kept.
func newLimiterAt(now time.Time, limit rate.Limit, burst int, level float64) *rate.Limiter {
	lim := rate.NewLimiter(limit, burst)
	if limit == rate.Inf {
		return lim
	}
	debt := math.Ceil(float64(burst) - min(level, float64(burst)))
	if debt <= 0 {
		return lim
	}
	frac := debt - (float64(burst) - min(level, float64(burst)))
	at := now.Add(-time.Duration(frac / float64(limit) * float64(time.Second)))
	for d := int(debt); d > 0; {
		k := min(d, burst)
		lim.ReserveN(at, k)
		d -= k
	}
	return lim
}

// book reserves w's tokens on the limiter and its slot in the window, and
// sets when it may go (g.mu held).
func (g *Gate) book(now time.Time, w *waiter) {
	t := now
	if w.rest > 0 {
		t = now.Add(g.lim.ReserveN(now, w.rest).DelayFrom(now))
	}
	w.win, w.win2 = g.win.Load(), g.win2.Load()
	w.at = w.win.Reserve(t, w.n)
	if at := w.win2.Reserve(w.at, w.n); at.After(w.at) {
		// Any time after a feasible one is feasible for the first window
		// too: book it again where the second one allows.
		w.win.Cancel(w.at, w.n)
		w.at = w.win.Reserve(at, w.n)
	}
}

// settle caps the credit so that the gate holds no more than its burst
// (g.mu held). Without a limit there is nothing to refund.
func (g *Gate) settle(now time.Time) {
	if g.lim.Limit() == rate.Inf {
		g.credit = 0
		return
	}
	room := float64(g.lim.Burst()) - max(g.lim.TokensAt(now), 0)
	g.credit = max(0, min(g.credit, room))
}

// take spends up to n tokens of credit and returns how many, and how many
// the limiter must give (g.mu held). The limiter reserves whole tokens, so
// the rest is rounded: the credit erodes by fractions while the limiter
// refills, and rounding up would make a wait for a few thousandths of a
// token cost a whole one.
func (g *Gate) take(now time.Time, n int) (credited float64, rest int) {
	g.settle(now)
	credited = min(g.credit, float64(n))
	g.credit -= credited
	return credited, int(math.Round(float64(n) - credited))
}

// Wait blocks until n tokens are available, n clamped to [1, Burst]. It
// returns ctx.Err() as soon as ctx is done, and a *WaitError that matches
// context.DeadlineExceeded at once when the wait would outlast ctx's
// deadline. A retune while it waits (SetLimit, SetBurst, Reconcile) moves
// its time to go, earlier or later.
func (g *Gate) Wait(ctx context.Context, n int) error {
	if g == nil {
		return ctx.Err()
	}
	g.mu.Lock()
	now := time.Now()
	w := &waiter{n: max(1, min(n, g.lim.Burst())), wake: make(chan struct{}, 1)}
	w.credited, w.rest = g.take(now, w.n)
	g.book(now, w)
	if !w.at.After(now) {
		g.mu.Unlock()
		return nil
	}
	g.pending = append(g.pending, w)
	if err := g.checkDeadline(ctx, now, w); err != nil {
		g.mu.Unlock()
		return err
	}
	t := time.NewTimer(w.at.Sub(now))
	g.mu.Unlock()
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-w.wake:
		case <-ctx.Done():
			g.mu.Lock()
			g.drop(time.Now(), w)
			g.mu.Unlock()
			return ctx.Err()
		}
		g.mu.Lock()
		now := time.Now()
		if !w.at.After(now) {
			g.pending = slices.DeleteFunc(g.pending, func(x *waiter) bool { return x == w })
			g.mu.Unlock()
			return nil
		}
		if err := g.checkDeadline(ctx, now, w); err != nil {
			g.mu.Unlock()
			return err
		}
		t.Reset(w.at.Sub(now))
		g.mu.Unlock()
	}
}

// checkDeadline gives up w when it would go after ctx's deadline (g.mu
// held).
func (g *Gate) checkDeadline(ctx context.Context, now time.Time, w *waiter) error {
	dl, ok := ctx.Deadline()
	if !ok || !w.at.After(dl) {
		return nil
	}
	d := w.at.Sub(now)
	g.drop(now, w)
	return &WaitError{N: w.n, Burst: g.lim.Burst(), Delay: d, Deadline: true}
}

// drop gives up a queued wait: its reservation and credit go back unless it
// was already due (g.mu held).
func (g *Gate) drop(now time.Time, w *waiter) {
	if !w.at.After(now) {
		g.pending = slices.DeleteFunc(g.pending, func(x *waiter) bool { return x == w })
		return
	}
	g.rebuild(now, g.lim.Limit(), g.lim.Burst(), w)
	g.credit += w.credited
	g.settle(now)
}

// giveBack adds n tokens of credit: refunded, or taken by a wait that did
// not happen.
func (g *Gate) giveBack(n float64) {
	if n == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.credit += n
	g.settle(time.Now())
}

// Refund gives back n tokens of an attempt the server refused without
// charging it (a 429), so that a refusal does not make the next attempts
// wait as if it had run. The gate never exceeds its burst.
func (g *Gate) Refund(n int) {
	if g == nil || n <= 0 {
		return
	}
	g.giveBack(float64(n))
}

// Reconcile tells the gate how many tokens the server says are available.
// When the local bucket holds more, the difference is debited, from the
// credit first.
func (g *Gate) Reconcile(available float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	g.settle(now)
	have := g.lim.TokensAt(now) + g.credit
	if have <= available {
		return
	}
	excess := have - available
	fromCredit := min(g.credit, excess)
	g.credit -= fromCredit
	if debit := int(math.Ceil(excess - fromCredit)); debit > 0 {
		g.lim.ReserveN(now, min(debit, g.lim.Burst()))
		if len(g.pending) > 0 { // the server's deficit comes before the queued waits
			g.rebuild(now, g.lim.Limit(), g.lim.Burst(), nil)
		}
	}
}

// WaitError reports a gate wait that could not happen.
type WaitError struct {
	N, Burst int
	Delay    time.Duration
	Deadline bool // the wait would have outlasted the context's deadline
}

func (e *WaitError) Error() string {
	if e.Deadline {
		return fmt.Sprintf("rate gate: waiting %s for %d tokens would exceed the context deadline", e.Delay, e.N)
	}
	return fmt.Sprintf("rate gate: %d tokens exceed the burst of %d", e.N, e.Burst)
}

// Is matches context.DeadlineExceeded for a wait cut short by the deadline.
func (e *WaitError) Is(target error) bool {
	return e.Deadline && target == context.DeadlineExceeded
}

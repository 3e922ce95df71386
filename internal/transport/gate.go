package transport

import (
	"context"
	"fmt"
	"math"
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
// An attempt the server refused with a 429 was not charged there, so
// [Gate.Refund] gives its tokens back. x/time/rate cannot add tokens either
// (a Reservation's Cancel restores nothing once its time has passed, and
// only part of them when other reservations followed), so refunds are kept
// beside the limiter as a credit that the next waits spend first. The
// credit never lifts the gate above its burst.
//
// A gate can also hold a Window (SetWindow): no span of the window's length
// then sees more than its count of requests, whatever the burst.
type Gate struct {
	mu     sync.Mutex // serialises Reconcile's read-then-debit and the credit
	lim    *rate.Limiter
	credit float64 // refunded tokens, spent before the limiter's
	win    atomic.Pointer[Window]
}

// SetWindow adds a window check: at most n requests in any span of per
// (each attempt counts its cost). n or per not positive removes it.
func (g *Gate) SetWindow(n int, per time.Duration) { g.win.Store(NewWindow(n, per)) }

// Window reports the window check (zeros when there is none).
func (g *Gate) Window() (n int, per time.Duration) { return g.win.Load().Limit() }

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
func (g *Gate) Limit() float64 { return float64(g.lim.Limit()) }

// Burst reports the bucket size.
func (g *Gate) Burst() int { return g.lim.Burst() }

// Tokens reports the tokens available now, refunds included (negative
// while reservations are pending).
func (g *Gate) Tokens() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	g.settle(now)
	return g.lim.TokensAt(now) + g.credit
}

// SetLimit changes the refill rate; perSecond <= 0 means no limit.
func (g *Gate) SetLimit(perSecond float64) { g.lim.SetLimit(toLimit(perSecond)) }

// SetBurst changes the bucket size (at least 1).
func (g *Gate) SetBurst(n int) { g.lim.SetBurst(max(n, 1)) }

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
// context.DeadlineExceeded at once when the wait would outlast ctx's deadline.
func (g *Gate) Wait(ctx context.Context, n int) error {
	if g == nil {
		return ctx.Err()
	}
	n = max(1, min(n, g.lim.Burst()))
	now := time.Now()
	g.mu.Lock()
	credited, rest := g.take(now, n)
	var r *rate.Reservation
	if rest > 0 {
		r = g.lim.ReserveN(now, rest)
	}
	g.mu.Unlock()
	if r != nil && !r.OK() {
		g.giveBack(credited)
		return &WaitError{N: n, Burst: g.lim.Burst()}
	}
	var d time.Duration
	if r != nil {
		d = r.DelayFrom(now)
	}
	win := g.win.Load()
	at := win.Reserve(now.Add(d), n)
	d = at.Sub(now)
	if d <= 0 {
		return nil
	}
	undo := func(cancel func()) {
		if r != nil {
			cancel()
		}
		win.Cancel(at, n)
		g.giveBack(credited)
	}
	if dl, ok := ctx.Deadline(); ok && now.Add(d).After(dl) {
		undo(func() { r.CancelAt(now) })
		return &WaitError{N: n, Burst: g.lim.Burst(), Delay: d, Deadline: true}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		undo(r.Cancel)
		return ctx.Err()
	}
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

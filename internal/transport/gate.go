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
// A gate can also hold a Window (SetWindow): no span of the window's length
// then sees more than its count of requests, whatever the burst.
type Gate struct {
	mu  sync.Mutex // serialises Reconcile's read-then-debit
	lim *rate.Limiter
	win atomic.Pointer[Window]
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

// Tokens reports the tokens available now (negative while reservations are
// pending).
func (g *Gate) Tokens() float64 { return g.lim.Tokens() }

// SetLimit changes the refill rate; perSecond <= 0 means no limit.
func (g *Gate) SetLimit(perSecond float64) { g.lim.SetLimit(toLimit(perSecond)) }

// SetBurst changes the bucket size (at least 1).
func (g *Gate) SetBurst(n int) { g.lim.SetBurst(max(n, 1)) }

// Wait blocks until n tokens are available, n clamped to [1, Burst]. It
// returns ctx.Err() as soon as ctx is done, and a *WaitError that matches
// context.DeadlineExceeded at once when the wait would outlast ctx's deadline.
func (g *Gate) Wait(ctx context.Context, n int) error {
	if g == nil {
		return ctx.Err()
	}
	n = max(1, min(n, g.lim.Burst()))
	now := time.Now()
	r := g.lim.ReserveN(now, n)
	if !r.OK() {
		return &WaitError{N: n, Burst: g.lim.Burst()}
	}
	d := r.DelayFrom(now)
	win := g.win.Load()
	at := win.Reserve(now.Add(d), n)
	d = at.Sub(now)
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && now.Add(d).After(dl) {
		r.CancelAt(now)
		win.Cancel(at, n)
		return &WaitError{N: n, Burst: g.lim.Burst(), Delay: d, Deadline: true}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		win.Cancel(at, n)
		return ctx.Err()
	}
}

// Reconcile tells the gate how many tokens the server says are available.
// When the local bucket holds more, the difference is debited.
func (g *Gate) Reconcile(available float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	have := g.lim.TokensAt(now)
	if have <= available {
		return
	}
	debit := int(math.Ceil(have - available))
	g.lim.ReserveN(now, min(debit, g.lim.Burst()))
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

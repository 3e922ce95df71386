package shopify

import (
	"math"
	"net/http"
	"sync"
	"time"
)

// observe retunes the cost gate from a response's throttleStatus: restore
// rate, bucket size, and the points the server says are left.
func (c *Client) observe(ts ThrottleStatus, throttled bool) {
	if !believable(ts) {
		return
	}
	if ts.RestoreRate > 0 {
		if r := ts.RestoreRate * c.pace.next(throttled); r != c.gate.Limit() {
			c.gate.SetLimit(r)
		}
	}
	if ts.MaximumAvailable > 0 {
		if b := gateBurst(ts.MaximumAvailable, c.gate.Limit()); b != c.gate.Burst() {
			c.gate.SetBurst(b)
		}
	}
	if ts.MaximumAvailable > 0 {
		c.gate.Reconcile(ts.CurrentlyAvailable)
	}
}

// The bounds of a throttleStatus the gate is tuned from. Shopify's plans
// restore 50 to a few thousand points a second into buckets of 1,000 to
// 20,000; an answer far outside (broken, or not Shopify's) is not obeyed:
// a restore rate near zero would stall every later call of the client.
const (
	minRestoreRate = 1
	maxRestoreRate = 1e7
	maxBucketSize  = 1e8
)

// believable reports whether ts is within those bounds; zero fields are
// absent, not out of bounds.
func believable(ts ThrottleStatus) bool {
	return (ts.RestoreRate == 0 || ts.RestoreRate >= minRestoreRate && ts.RestoreRate <= maxRestoreRate) &&
		ts.MaximumAvailable <= maxBucketSize && ts.CurrentlyAvailable <= maxBucketSize
}

// pacer scales the gate's rate below the server's restore rate after a
// THROTTLED answer, which means calls reached the server closer together
// than they left the client (latency varies). The server's bucket then
// fills a little ahead of the client's, and the scale creeps back to 1 as
// calls succeed: multiplicative decrease, additive increase.
type pacer struct {
	mu sync.Mutex
	f  float64
}

const (
	paceFloor    = 0.5
	paceDecrease = 0.85
	paceIncrease = 0.01
)

func (p *pacer) next(throttled bool) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f == 0 {
		p.f = 1
	}
	if throttled {
		p.f = max(paceFloor, p.f*paceDecrease)
	} else {
		p.f = min(1, p.f+paceIncrease)
	}
	return p.f
}

// gateBurst is the gate's bucket size for a server bucket of size points
// restoring rate points per second. It keeps a safety margin below the
// server's size: the client debits a call when it sends it and the server
// when the call arrives, so with the client's bucket a little emptier than
// the server's, a call that arrives early (latency varies) still finds its
// cost there. The margin is the larger of 5% of the bucket and 50ms of
// restore, at most a quarter of the bucket.
func gateBurst(size, rate float64) int {
	m := max(0.05*size, 0.05*rate)
	m = min(m, size/4)
	return max(int(size-m), 1)
}

// throttled builds the retryable error for a THROTTLED answer: wait
// (requested - available) / restoreRate. Without cost information, or when
// the bucket should already hold the cost (Shopify may lower its limits for
// a while), the wait is zero and the retry policy's exponential backoff
// applies instead: retrying at once would only be throttled again.
func (c *Client) throttled(cost Cost, errs []*GraphQLError, resp *http.Response) *ThrottledError {
	ts := cost.ThrottleStatus
	var wait time.Duration
	if ts.RestoreRate > 0 {
		need := float64(cost.RequestedQueryCost) - ts.CurrentlyAvailable
		if need > 0 {
			// Capped: a restore rate near zero would overflow the
			// Duration into a negative wait.
			wait = time.Duration(math.Ceil(min(need/ts.RestoreRate, maxThrottleWait.Seconds()) * float64(time.Second)))
		}
	}
	return &ThrottledError{
		RequestedCost: cost.RequestedQueryCost,
		Throttle:      ts,
		Wait:          wait,
		Errors:        &GraphQLErrors{Errors: errs, RequestID: resp.Header.Get("X-Request-Id")},
	}
}

// maxThrottleWait bounds the wait a THROTTLED answer can ask for, as
// Retry-After values are bounded: far beyond any retry policy's MaxWait, so
// such an answer ends the call with a *RateLimitError.
const maxThrottleWait = 365 * 24 * time.Hour

// overBucketError is a THROTTLED answer for a document costing more than
// the server's whole bucket, which no wait makes room for. It matches
// ErrRateLimited but is not retried (it has no RetryAfter); a bulk write
// splits the document instead.
type overBucketError struct{ t *ThrottledError }

func (e *overBucketError) Error() string {
	return e.t.Error() + " (more than the whole bucket)"
}

// Is matches ErrRateLimited.
func (e *overBucketError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap returns the errors[] of the answer, not the *ThrottledError: that
// one is Retryable.
func (e *overBucketError) Unwrap() error {
	if e.t.Errors == nil {
		return nil
	}
	return e.t.Errors
}

// unknownCost is the gate cost of a document never sent before.
const unknownCost = 10

// costCache remembers the requested cost the server reported for each
// document, so the next call with it waits for the right amount. It is
// bounded; when full it starts over.
type costCache struct {
	mu sync.Mutex
	m  map[string]int
}

const costCacheSize = 256

func newCostCache() *costCache { return &costCache{m: map[string]int{}} }

func (cc *costCache) get(q string) int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if v, ok := cc.m[q]; ok {
		return v
	}
	return unknownCost
}

func (cc *costCache) put(q string, cost int) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if _, ok := cc.m[q]; !ok && len(cc.m) >= costCacheSize {
		clear(cc.m)
	}
	cc.m[q] = cost
}

package fake

import (
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// Config is what the options every fake shares set: WithNow, WithLatency,
// WithFaults and WithChaos.
type Config struct {
	Now     time.Time           // the clock's start; zero: real time
	Latency time.Duration       // delay of every request
	Faults  []shopcrmtest.Fault // the script
	Chaos   Chaos               // seeded faults
}

// Platform is what a fake tells the plumbing about its platform.
type Platform struct {
	// MaxBody caps request bodies; a larger one is answered 413.
	MaxBody int64
	// ErrorBody is the platform's error body for an HTTP status, encoded
	// as JSON.
	ErrorBody func(status int) any
	// ValidOp rejects a Fault.Op the fake does not know; nil accepts any.
	ValidOp func(op string) error
}

// Base is the shared half of a fake server: its clock, its faults, its
// latency and its counters. It is safe for concurrent use.
type Base struct {
	*Clock
	latency time.Duration
	p       Platform
	faults  *Faults

	mu    sync.Mutex
	total [nCounts]int
	ops   map[string]*[nCounts]int
}

type count int

const (
	cRequests count = iota
	cThrottled
	cFaults
	cAccepted
	nCounts
)

// New returns the base of a fake configured by cfg, or an error naming a
// fault or chaos setting it cannot carry out.
func New(cfg Config, p Platform) (*Base, error) {
	if p.ErrorBody == nil {
		return nil, errors.New("fake: Platform.ErrorBody is required")
	}
	fs, err := NewFaults(cfg.Faults, cfg.Chaos, p.ValidOp)
	if err != nil {
		return nil, err
	}
	return &Base{Clock: NewClock(cfg.Now), latency: cfg.Latency, p: p, faults: fs, ops: map[string]*[nCounts]int{}}, nil
}

// Receive reads a request's body and waits the latency, then counts the
// request and returns its body and its number (1 for the first). A body
// over the cap is answered 413 with the platform's error body; ok is false
// then, and when the client hung up.
func (b *Base) Receive(w http.ResponseWriter, r *http.Request) (body []byte, n int, ok bool) {
	body, err := Receive(r, b.p.MaxBody, b.latency)
	if err != nil && !errors.Is(err, ErrTooLarge) {
		return nil, 0, false
	}
	b.mu.Lock()
	b.total[cRequests]++
	n = b.total[cRequests]
	b.mu.Unlock()
	if err != nil {
		WriteJSON(w, http.StatusRequestEntityTooLarge, b.p.ErrorBody(http.StatusRequestEntityTooLarge))
		return nil, n, false
	}
	return body, n, true
}

// AddFaults appends scripted faults; see Faults.Add.
func (b *Base) AddFaults(f ...shopcrmtest.Fault) error { return b.faults.Add(f...) }

// Pick picks the fault of a request for ops, matching a fault whose Op is
// one of ops or of aliases (other names of the request, such as a path),
// and counts it under ops.
func (b *Base) Pick(ops []string, aliases ...string) shopcrmtest.Fault {
	f := b.faults.Pick(func(op string) bool { return slices.Contains(ops, op) || slices.Contains(aliases, op) })
	if f.Kind != shopcrmtest.FaultNone {
		b.add(cFaults, true, ops)
	}
	return f
}

// Respond builds a request's answer under f with the platform's error
// bodies; see the function Respond.
func (b *Base) Respond(w http.ResponseWriter, f shopcrmtest.Fault, act func()) {
	Respond(w, f, b.p.ErrorBody, act)
}

// Seen counts a request under its ops once the fake can tell them (the
// total was counted by Receive).
func (b *Base) Seen(ops ...string) { b.add(cRequests, false, ops) }

// Throttled counts a request the fake's own rate limit refused.
func (b *Base) Throttled(ops ...string) { b.add(cThrottled, true, ops) }

// Accepted counts a request the fake acted on with success.
func (b *Base) Accepted(ops ...string) { b.add(cAccepted, true, ops) }

func (b *Base) add(c count, total bool, ops []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if total {
		b.total[c]++
	}
	for _, op := range ops {
		o := b.ops[op]
		if o == nil {
			o = new([nCounts]int)
			b.ops[op] = o
		}
		o[c]++
	}
}

// Stats returns a copy of the counters.
func (b *Base) Stats() shopcrmtest.Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := shopcrmtest.Stats{Requests: b.total[cRequests], Throttled: b.total[cThrottled],
		Faults: b.total[cFaults], Accepted: b.total[cAccepted], Ops: make(map[string]shopcrmtest.OpStats, len(b.ops))}
	for op, o := range b.ops {
		st.Ops[op] = shopcrmtest.OpStats{Requests: o[cRequests], Throttled: o[cThrottled], Faults: o[cFaults], Accepted: o[cAccepted]}
	}
	return st
}

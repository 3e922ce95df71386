package bulk

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
)

// pItem is an input of the property test.
type pItem struct {
	id  int
	key string
	w   int
}

// pCase is one random configuration.
type pCase struct {
	seed     uint64
	in       []pItem
	max      Limits
	dynamic  bool
	weighted bool
	keyed    bool
	distinct bool
	inFlight int
	// terminal allows terminal faults (a third of the cases), so that the
	// other cases run to the end and exercise ordering throughout.
	terminal bool
}

func randomCase(seed uint64) pCase {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	c := pCase{
		seed:     seed,
		max:      Limits{Items: 1 + rng.IntN(12)},
		dynamic:  rng.IntN(10) < 3,
		weighted: rng.IntN(2) == 0,
		keyed:    rng.IntN(10) < 6,
		inFlight: 1 + rng.IntN(6),
		terminal: rng.IntN(3) == 0,
	}
	c.distinct = c.keyed && rng.IntN(5) == 0
	if c.weighted {
		c.max.Weight = 5 + rng.IntN(15)
	}
	keys := 1 + rng.IntN(8)
	c.in = make([]pItem, rng.IntN(150))
	for i := range c.in {
		it := pItem{id: i, key: fmt.Sprint("k", rng.IntN(keys)), w: rng.IntN(7)}
		if rng.IntN(30) == 0 {
			it.w = 10 + rng.IntN(20) // sometimes too heavy for any chunk
		}
		if i > 0 && rng.IntN(3) == 0 {
			it.key = c.in[i-1].key // runs of one key, like one customer's ops
		}
		c.in[i] = it
	}
	return c
}

// pServer is the platform of the property test: it applies what it is
// sent, with faults drawn from a random source seeded by the chunk, so a
// chunk meets the same fate whatever the scheduling.
type pServer struct {
	c      pCase
	cancel context.CancelFunc

	mu         sync.Mutex
	applied    map[int]bool     // by item id
	perKey     map[string][]int // ids in the order they took effect
	inFlight   int
	peak       int
	bad        []string // violations seen while serving
	terminated bool     // a terminal answer was given
}

var errLost = errors.New("connection reset: response lost")

func (s *pServer) apply(it pItem) {
	s.applied[it.id] = true
	s.perKey[it.key] = append(s.perKey[it.key], it.id)
}

func (s *pServer) send(ctx context.Context, ch *Chunk[pItem]) error {
	rng := rand.New(rand.NewPCG(s.c.seed, uint64(ch.Index[0])<<8|uint64(len(ch.Items))))
	s.mu.Lock()
	s.inFlight++
	s.peak = max(s.peak, s.inFlight)
	s.check(ch)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if d := rng.IntN(4); d == 0 {
		time.Sleep(time.Duration(rng.IntN(120)) * time.Microsecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := rng.IntN(100)
	if !s.c.terminal && f < 6 {
		f += 50 // a plain success instead
	}
	switch {
	case f < 4: // terminal: the server refuses everything from now on
		s.terminated = true
		return fmt.Errorf("tagsAdd: %w", shopcrm.ErrUnauthorized)
	case f < 6: // the caller gives up while the request is in flight
		if rng.IntN(2) == 0 {
			for _, it := range ch.Items {
				s.apply(it)
			}
		}
		s.terminated = true
		s.cancel()
		return fmt.Errorf("post: %w", context.Canceled)
	case f < 14: // applied, but the response is lost
		for _, it := range ch.Items {
			s.apply(it)
		}
		return errLost
	case f < 22: // refused as a whole
		return fmt.Errorf("busy: %w", shopcrm.ErrConflict)
	case f < 45: // per item
		for i, it := range ch.Items {
			switch g := rng.IntN(50); {
			case g == 0 && s.c.terminal:
				s.terminated = true
				ch.Results[i].Err = fmt.Errorf("monthly limit: %w", shopcrm.ErrQuotaExceeded)
			case g < 10:
				ch.Results[i] = ItemResult{Outcome: Failed, Err: shopcrm.ErrNotFound}
			case g < 16:
				s.apply(it)
				ch.Results[i].Err = errLost
			default:
				s.apply(it)
			}
		}
		return nil
	}
	for _, it := range ch.Items {
		s.apply(it)
	}
	return nil
}

// check looks at a chunk as it arrives; s.mu is held.
func (s *pServer) check(ch *Chunk[pItem]) {
	if len(ch.Items) == 0 || len(ch.Items) > s.c.max.Items {
		s.bad = append(s.bad, fmt.Sprintf("chunk %d has %d items", ch.Seq, len(ch.Items)))
	}
	w := 0
	keys := map[string]bool{}
	for i, it := range ch.Items {
		w += it.w
		if ch.Index[i] != it.id || (i > 0 && ch.Index[i] <= ch.Index[i-1]) {
			s.bad = append(s.bad, fmt.Sprintf("chunk %d: index %v", ch.Seq, ch.Index))
		}
		if s.c.distinct && keys[it.key] {
			s.bad = append(s.bad, fmt.Sprintf("chunk %d: key %s twice", ch.Seq, it.key))
		}
		keys[it.key] = true
	}
	if s.c.weighted && w > s.c.max.Weight {
		s.bad = append(s.bad, fmt.Sprintf("chunk %d weighs %d > %d", ch.Seq, w, s.c.max.Weight))
	}
}

func runCase(t *testing.T, c pCase) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &pServer{c: c, cancel: cancel, applied: map[int]bool{}, perKey: map[string][]int{}}

	// Events under the engine's lock: chunk starts and the terminal error.
	var events []string
	var limitCalls atomic.Int64
	w := Writer[pItem]{
		Send:         s.send,
		Max:          c.max,
		InFlight:     c.inFlight,
		DistinctKeys: c.distinct,
		hooks: &hooks{
			start: func(seq int) { events = append(events, fmt.Sprint("start ", seq)) },
			stop:  func(err error) { events = append(events, "stop") },
		},
	}
	if c.weighted {
		w.Weight = func(it pItem) int { return it.w }
	}
	if c.keyed {
		w.Key = func(it pItem) string { return it.key }
	}
	if c.dynamic {
		w.Limit = func() Limits {
			n := limitCalls.Add(1)
			return Limits{Items: 1 + int(n*7919%int64(c.max.Items)), Weight: int(n % 11)}
		}
	}
	var results []Result[pItem]
	var progress []Progress
	w.OnResult = func(r Result[pItem]) { results = append(results, r) }
	w.Progress = func(p Progress) { progress = append(progress, p) }

	final, err := w.Run(ctx, slices.Values(c.in))

	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("case %d (%d items, max %+v, in flight %d, keyed %v, distinct %v, dynamic %v): %s",
			c.seed, len(c.in), c.max, c.inFlight, c.keyed, c.distinct, c.dynamic, fmt.Sprintf(format, args...))
	}
	for _, b := range s.bad {
		fail("%s", b)
	}
	if s.peak > c.inFlight {
		fail("%d chunks in flight, limit %d", s.peak, c.inFlight)
	}

	// Every input item gets exactly one outcome, consistent with the server.
	got := make([]int, len(c.in))
	var counts Progress
	for _, r := range results {
		if r.Index < 0 || r.Index >= len(c.in) || r.Item != c.in[r.Index] {
			fail("result %+v does not match the input", r)
			continue
		}
		got[r.Index]++
		switch r.Outcome {
		case Applied:
			counts.Applied++
			if !s.applied[r.Index] {
				fail("item %d reported applied, server never applied it", r.Index)
			}
		case Failed:
			counts.Failed++
			if s.applied[r.Index] {
				fail("item %d reported failed, server applied it", r.Index)
			}
			var we *WeightError
			if errors.As(r.Err, &we) && we.Weight != c.in[r.Index].w {
				fail("item %d: %v", r.Index, r.Err)
			}
		case Unknown:
			counts.Unknown++
		case NotSent:
			counts.NotSent++
			if s.applied[r.Index] || !errors.Is(r.Err, ErrNotSent) {
				fail("item %d not sent: %v, applied %v", r.Index, r.Err, s.applied[r.Index])
			}
		default:
			fail("item %d: outcome %v", r.Index, r.Outcome)
		}
		if (r.Err == nil) != (r.Outcome == Applied) {
			fail("item %d: %v with error %v", r.Index, r.Outcome, r.Err)
		}
	}
	for i, n := range got {
		if n != 1 {
			fail("item %d reported %d times", i, n)
		}
	}
	counts.Seen, counts.Chunks = len(c.in), final.Chunks
	if final != counts {
		fail("final progress %+v, results count %+v", final, counts)
	}
	if len(progress) > 0 && progress[len(progress)-1] != final {
		fail("last progress %+v, final %+v", progress[len(progress)-1], final)
	}

	// No chunk starts after a terminal error is observed.
	for i, e := range events {
		if e == "stop" {
			if late := len(events) - i - 1; late != 0 {
				fail("%d chunks started after the terminal error: %v", late, events[i+1:])
			}
			break
		}
	}

	// The run's error is the terminal error, and only then are items left unsent.
	switch {
	case err != nil && !errors.Is(err, shopcrm.ErrUnauthorized) && !errors.Is(err, shopcrm.ErrQuotaExceeded) && !errors.Is(err, context.Canceled):
		fail("Run returned %v, not a terminal error", err)
	case err == nil && (counts.NotSent > 0 || s.terminated):
		fail("Run returned nil after a terminal answer (%d not sent)", counts.NotSent)
	}

	// Per key, writes took effect in input order.
	if c.keyed {
		for k, ids := range s.perKey {
			if !slices.IsSorted(ids) {
				fail("key %s applied in order %v", k, ids)
			}
		}
	}
}

// TestProperties runs random inputs, limits and faults at fixed seeds and
// checks the engine's promises on each run.
func TestProperties(t *testing.T) {
	cases := 400
	if testing.Short() {
		cases = 50
	}
	for seed := range uint64(cases) {
		runCase(t, randomCase(seed))
		if t.Failed() {
			return // the first failing case says enough
		}
	}
}

package bulk

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
)

// errPanicked is the terminal error of a run stopped by a panic in Send or
// a callback; Run raises the panic again before it could be returned.
var errPanicked = errors.New("bulk: stopped by a panic")

// errNoReason stands in for the missing error of an item a send reported
// Failed or Unknown without saying why.
var errNoReason = errors.New("bulk: send gave no reason")

// Run reads items, sends them in chunks and reports every item's outcome
// through OnResult. It returns the final counts and the terminal error
// that stopped the run, nil when none did (a run that merely had failed
// items returns nil). When the context ends, the items not yet sent are
// reported NotSent and Run returns the context's error.
//
// Run returns once every goroutine it started has ended and every result
// has been delivered. A panic in Send, a callback or the input stops the
// run like a terminal error and is raised again by Run at that point.
func (w *Writer[T]) Run(ctx context.Context, items iter.Seq[T]) (Progress, error) {
	if err := w.check(); err != nil {
		return Progress{}, err
	}
	r := newRun(ctx, w)
	go r.deliverLoop()
	func() {
		defer func() {
			if v := recover(); v != nil {
				r.setPanic(v)
			}
		}()
		r.dispatch(items)
	}()
	close(r.ready)
	r.workers.Wait()
	close(r.out)
	<-r.delivered
	if r.panicked {
		panic(r.panicVal)
	}
	return r.final, r.terminal
}

// run is the state of one Run.
type run[T any] struct {
	w        *Writer[T]
	inFlight int
	ctx      context.Context
	classify func(error) Class

	ready     chan *chunk[T] // unbuffered: a chunk goes straight to an idle sender
	out       chan *batch[T]
	free      chan *chunk[T] // delivered chunks whose buffers can be reused
	delivered chan struct{}  // closed when the delivery goroutine has ended
	workers   sync.WaitGroup
	seen      atomic.Int64

	mu       sync.Mutex
	terminal error
	notSent  *NotSentError // the error of items not sent, set with terminal
	stopped  chan struct{} // closed when terminal is set
	halted   atomic.Bool   // set with terminal: a cheaper test, once per item
	seed     maphash.Seed
	panicked bool
	panicVal any

	// Owned by the dispatching goroutine.
	cur     *chunk[T] // the chunk being cut
	senders int       // sender goroutines started, at most InFlight
	seq     int
	n       int
	local   *batch[T] // results the engine decided alone, not yet delivered
	// live holds the chunks handed over (or waiting to be) that have not
	// finished, in order; with a key function a new chunk waits for those
	// sharing a key with it. There are at most InFlight+1 of them.
	live []*chunk[T]

	// Written by the delivery goroutine before it closes delivered.
	final Progress
}

// chunk is a Chunk with the engine's bookkeeping.
type chunk[T any] struct {
	Chunk[T]
	lim     Limits
	weight  int
	weights []int               // per item, when Writer.Weight is set
	keys    []uint64            // per item, the hash of its key, when Writer.Key is set
	set     hashSet             // the key hashes, filled at launch
	keySet  map[uint64]struct{} // with DistinctKeys
	deps    []*chunk[T]         // earlier unfinished chunks sharing a key
	done    chan struct{}       // closed when its send has returned, or it was dropped
}

// batch is a group of settled results on their way to the callbacks.
type batch[T any] struct {
	items []T
	index []int
	res   []ItemResult
	from  *chunk[T] // the chunk they come from, recycled once delivered
	sent  bool      // from a chunk that was sent (counted in Progress.Chunks)
}

func newRun[T any](ctx context.Context, w *Writer[T]) *run[T] {
	inFlight := max(w.InFlight, 1)
	r := &run[T]{
		w:         w,
		inFlight:  inFlight,
		ctx:       ctx,
		classify:  w.Classify,
		ready:     make(chan *chunk[T]),
		out:       make(chan *batch[T], inFlight),
		free:      make(chan *chunk[T], 2*inFlight+4), // room for every chunk that can be alive
		delivered: make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	if r.classify == nil {
		r.classify = DefaultClassify
	}
	if w.Key != nil {
		r.seed = maphash.MakeSeed()
	}
	return r
}

// dispatch reads the input, cuts chunks and hands them to the senders one
// after the other. The next chunk is cut while earlier ones are in flight,
// and a sender that finishes takes it at once, so that neither reading the
// input nor waking this goroutine sits between two requests. Chunks are
// handed over in the order they were cut: one waiting for an earlier chunk
// with the same key holds back the later ones, which keeps the engine
// simple; keeping runs of a key in one chunk makes such waits rare.
func (r *run[T]) dispatch(items iter.Seq[T]) {
	var reason *NotSentError
	for it := range items {
		idx := r.n
		r.n++
		if reason == nil && r.halted.Load() {
			reason = r.reason()
			if r.cur != nil {
				r.drop(r.cur)
				r.cur = nil
			}
		}
		if reason != nil {
			r.record(it, idx, ItemResult{Outcome: NotSent, Err: reason})
			continue
		}
		wt := 0
		if r.w.Weight != nil {
			wt = r.w.Weight(it)
		}
		var k uint64
		if r.w.Key != nil {
			k = maphash.String(r.seed, r.w.Key(it))
		}
		r.put(it, idx, wt, k)
	}
	if c := r.cur; c != nil && len(c.Items) > 0 {
		r.cur = nil
		r.launch(c)
	}
	r.flushLocal()
}

// put adds one item to the chunk being cut, launching that chunk when the
// item does not fit in it.
func (r *run[T]) put(it T, idx, wt int, k uint64) {
	if r.cur == nil {
		r.open()
	}
	c := r.cur
	if !c.heavy(wt) && !c.fits(wt, k) {
		held := r.detachRun(c, wt, k)
		r.cur = nil
		r.launch(c)
		for _, h := range held {
			r.put(h.it, h.idx, h.wt, h.key)
		}
		r.put(it, idx, wt, k)
		return
	}
	if c.heavy(wt) {
		r.record(it, idx, ItemResult{Outcome: Failed, Err: &WeightError{Weight: wt, Max: c.lim.Weight}})
		return
	}
	c.push(it, idx, wt, k)
	// A full chunk goes at once, unless a following item with the same
	// key might have to come with it (see detachRun).
	if (r.w.Key == nil || r.w.DistinctKeys) && c.full() {
		r.cur = nil
		r.launch(c)
	}
}

// limits returns the limits of the moment: Max, lowered by Limit.
func (r *run[T]) limits() Limits {
	lim := r.w.Max
	if r.w.Limit != nil {
		l := r.w.Limit()
		if l.Items > 0 && l.Items < lim.Items {
			lim.Items = l.Items
		}
		if l.Weight > 0 && (lim.Weight == 0 || l.Weight < lim.Weight) {
			lim.Weight = l.Weight
		}
	}
	return lim
}

// open starts cutting a chunk with the limits of the moment, reusing the
// buffers of a delivered chunk when there is one: chunks alive are few,
// and allocating per chunk would cost more than the rest of the engine.
func (r *run[T]) open() {
	lim := r.limits()
	var c *chunk[T]
	select {
	case c = <-r.free:
		r.prune() // a recycled chunk has finished: it leaves live first
		*c = chunk[T]{
			Chunk:   Chunk[T]{Items: c.Items[:0], Index: c.Index[:0], Results: c.Results[:0]},
			weights: c.weights[:0],
			keys:    c.keys[:0],
			set:     c.set,
			keySet:  c.keySet,
		}
		clear(c.keySet)
	default:
		size := min(lim.Items, 1024) // a 10,000-item limit need not cost 10,000 slots for 3 items
		c = &chunk[T]{}
		c.Items = make([]T, 0, size)
		c.Index = make([]int, 0, size)
		if r.w.Weight != nil {
			c.weights = make([]int, 0, size)
		}
		if r.w.Key != nil {
			c.keys = make([]uint64, 0, size)
			if r.w.DistinctKeys {
				c.keySet = make(map[uint64]struct{})
			}
		}
	}
	c.lim = lim
	r.cur = c
}

// recycle offers a delivered chunk's buffers for reuse.
func (r *run[T]) recycle(c *chunk[T]) {
	clear(c.Items) // hold no item longer than the run needs it
	clear(c.Results)
	select {
	case r.free <- c:
	default:
	}
}

// heavy reports an item that no chunk with c's limits can hold.
func (c *chunk[T]) heavy(wt int) bool {
	return wt < 0 || (c.lim.Weight > 0 && wt > c.lim.Weight)
}

// fits reports whether an item of weight wt and key k can join c.
func (c *chunk[T]) fits(wt int, k uint64) bool {
	if len(c.Items) >= c.lim.Items || (c.lim.Weight > 0 && c.weight+wt > c.lim.Weight) {
		return false
	}
	if c.keySet != nil {
		if _, dup := c.keySet[k]; dup {
			return false
		}
	}
	return true
}

// full reports a chunk nothing more can join.
func (c *chunk[T]) full() bool {
	return len(c.Items) >= c.lim.Items || (c.lim.Weight > 0 && c.weight >= c.lim.Weight)
}

func (c *chunk[T]) push(it T, idx, wt int, k uint64) {
	c.Items = append(c.Items, it)
	c.Index = append(c.Index, idx)
	c.weight += wt
	if c.weights != nil {
		c.weights = append(c.weights, wt)
	}
	if c.keys != nil {
		c.keys = append(c.keys, k)
		if c.keySet != nil {
			c.keySet[k] = struct{}{}
		}
	}
}

// heldItem is an item taken back from a chunk before it was sent.
type heldItem[T any] struct {
	it      T
	idx, wt int
	key     uint64
}

// cut takes the items of c from position j on back out of it.
func (c *chunk[T]) cut(j int) []heldItem[T] {
	n := len(c.Items)
	held := make([]heldItem[T], 0, n-j)
	for m := j; m < n; m++ {
		h := heldItem[T]{it: c.Items[m], idx: c.Index[m]}
		if c.weights != nil {
			h.wt = c.weights[m]
			c.weight -= h.wt
		}
		if c.keys != nil {
			h.key = c.keys[m]
			if c.keySet != nil {
				delete(c.keySet, h.key) // distinct keys: no other item has it
			}
		}
		held = append(held, h)
	}
	clear(c.Items[j:]) // the held items now belong to a later chunk only
	c.Items, c.Index = c.Items[:j], c.Index[:j]
	if c.weights != nil {
		c.weights = c.weights[:j]
	}
	if c.keys != nil {
		c.keys = c.keys[:j]
	}
	return held
}

// detachRun takes the trailing items of c that share key k with the item
// that does not fit, when they and that item would fit in a chunk like c,
// so that they go on together in the next chunk. Items of one key usually
// come together (the remove and add mutations of one customer); split
// across two chunks they would make the second wait for the first.
func (r *run[T]) detachRun(c *chunk[T], wt int, k uint64) []heldItem[T] {
	if r.w.Key == nil || r.w.DistinctKeys {
		return nil
	}
	n := len(c.Items)
	if n == 0 || c.keys[n-1] != k {
		return nil
	}
	j := n - 1
	for j > 0 && c.keys[j-1] == k {
		j--
	}
	if j == 0 {
		return nil // the whole chunk is that key: nothing to gain
	}
	runW := 0
	if c.weights != nil {
		for _, x := range c.weights[j:] {
			runW += x
		}
	}
	if n-j+1 > c.lim.Items || (c.lim.Weight > 0 && runW+wt > c.lim.Weight) {
		return nil
	}
	return c.cut(j)
}

// launch hands a cut chunk to a sender once the earlier chunks sharing a
// key with it have finished, or reports its items NotSent when the run
// stops first.
func (r *run[T]) launch(c *chunk[T]) {
	c.Seq = r.seq
	r.seq++
	c.done = make(chan struct{})
	r.flushLocal()
	if r.w.Key != nil {
		r.link(c)
	}
	if !r.waitDeps(c) || !r.handOff(c) {
		r.drop(c)
	}
}

// handOff gives c to an idle sender, starting one while fewer than
// InFlight exist, or waits for one to come back. It returns false when
// the run stops first.
func (r *run[T]) handOff(c *chunk[T]) bool {
	select {
	case r.ready <- c:
		return true
	default:
	}
	if r.senders < r.inFlight {
		r.senders++
		r.workers.Add(1)
		go r.sender()
	}
	select {
	case r.ready <- c:
		return true
	case <-r.stopped:
		return false
	case <-r.ctx.Done():
		r.stop(r.ctx.Err())
		return false
	}
}

// link makes c depend on the unfinished chunks before it that share a
// key with it. Keys go by a 64-bit hash: a collision makes two keys wait
// on each other when they need not, never the reverse, so the order per
// key holds. Testing c's keys against the sets of the few chunks alive
// costs less than a map of every key in flight, and needs no lock.
func (r *run[T]) link(c *chunk[T]) {
	c.set.reset(len(c.keys))
	for _, k := range c.keys {
		c.set.add(k)
	}
	r.prune()
	for _, p := range r.live {
		for _, k := range c.keys {
			if p.set.has(k) {
				c.deps = append(c.deps, p)
				break
			}
		}
	}
	r.live = append(r.live, c)
}

// prune forgets the chunks of live that have finished.
func (r *run[T]) prune() {
	r.live = slices.DeleteFunc(r.live, func(c *chunk[T]) bool {
		select {
		case <-c.done:
			return true
		default:
			return false
		}
	})
}

// waitDeps blocks until c's dependencies have finished. It returns false
// when the run stops first.
func (r *run[T]) waitDeps(c *chunk[T]) bool {
	for _, d := range c.deps {
		select {
		case <-d.done:
		case <-r.stopped:
			return false
		case <-r.ctx.Done():
			r.stop(r.ctx.Err())
			return false
		}
	}
	return true
}

// drop reports the items of a chunk that will not be sent NotSent; the run
// has stopped.
func (r *run[T]) drop(c *chunk[T]) {
	if c.done != nil {
		close(c.done)
	}
	reason := r.reason()
	for i, it := range c.Items {
		r.record(it, c.Index[i], ItemResult{Outcome: NotSent, Err: reason})
	}
}

// sender sends the chunks handed to it, one at a time: InFlight senders
// bound the requests in flight.
func (r *run[T]) sender() {
	defer r.workers.Done()
	for c := range r.ready {
		r.serve(c)
	}
}

// serve sends one chunk, or reports it NotSent when the run has stopped,
// and queues its results for delivery.
func (r *run[T]) serve(c *chunk[T]) {
	c.Results = slices.Grow(c.Results[:0], len(c.Items))[:len(c.Items)]
	clear(c.Results) // every entry starts as applied
	// The terminal check and the start are one step under the lock, and a
	// sender records a terminal error before it takes another chunk, so no
	// chunk starts once a terminal error has been seen.
	r.mu.Lock()
	if r.terminal == nil && r.ctx.Err() != nil {
		r.stopLocked(r.ctx.Err())
	}
	if r.terminal != nil {
		reason := r.notSent
		r.mu.Unlock()
		close(c.done)
		for i := range c.Results {
			c.Results[i] = ItemResult{Outcome: NotSent, Err: reason}
		}
		r.out <- &batch[T]{items: c.Items, index: c.Index, res: c.Results, from: c}
		return
	}
	if r.w.hooks != nil && r.w.hooks.start != nil {
		r.w.hooks.start(c.Seq)
	}
	r.mu.Unlock()

	if terminal := r.sendChunk(c); terminal != nil {
		r.stop(terminal)
	}
	close(c.done)
	// Queuing may wait for a slow callback; meanwhile this sender takes no
	// new chunk, so chunks alive stay bounded instead of piling up.
	r.out <- &batch[T]{items: c.Items, index: c.Index, res: c.Results, from: c, sent: true}
}

// sendChunk calls Send and settles every entry of c.Results. It returns
// the terminal error among them, if any.
func (r *run[T]) sendChunk(c *chunk[T]) (terminal error) {
	defer func() {
		if v := recover(); v != nil {
			r.setPanic(v)
			for i := range c.Results {
				c.Results[i] = ItemResult{Outcome: Unknown, Err: errPanicked}
			}
			terminal = errPanicked
		}
	}()
	if err := r.w.Send(r.ctx, &c.Chunk); err != nil {
		cl := r.classify(err)
		res := settle(ItemResult{Outcome: cl.Outcome, Err: err})
		for i := range c.Results {
			c.Results[i] = res
		}
		if cl.Terminal {
			return err
		}
		return nil
	}
	for i := range c.Results {
		res := &c.Results[i]
		if res.Err != nil {
			cl := r.classify(res.Err)
			if res.Outcome == 0 {
				res.Outcome = cl.Outcome
			}
			if cl.Terminal && terminal == nil {
				terminal = res.Err
			}
		}
		*res = settle(*res)
	}
	return terminal
}

// settle makes a send's result consistent: a known outcome, no error when
// applied, an error otherwise, matching ErrNotSent when not sent.
func settle(res ItemResult) ItemResult {
	switch res.Outcome {
	case 0:
		if res.Err == nil {
			return ItemResult{Outcome: Applied}
		}
		res.Outcome = Unknown
	case Applied:
		return ItemResult{Outcome: Applied}
	case Failed, Unknown, NotSent:
	default:
		return ItemResult{Outcome: Unknown, Err: fmt.Errorf("bulk: send reported %v (error: %v)", res.Outcome, res.Err)}
	}
	if res.Err == nil {
		res.Err = errNoReason
	}
	if res.Outcome == NotSent && !errors.Is(res.Err, ErrNotSent) {
		res.Err = &NotSentError{Reason: res.Err}
	}
	return res
}

// record queues a result the engine decided alone (not sent, too heavy).
func (r *run[T]) record(it T, idx int, res ItemResult) {
	if r.local == nil {
		r.local = &batch[T]{}
	}
	b := r.local
	b.items = append(b.items, it)
	b.index = append(b.index, idx)
	b.res = append(b.res, res)
	if len(b.items) >= r.w.Max.Items {
		r.flushLocal()
	}
}

func (r *run[T]) flushLocal() {
	r.seen.Store(int64(r.n))
	if r.local != nil {
		r.out <- r.local
		r.local = nil
	}
}

// reason is the error of items not sent; the run has stopped.
func (r *run[T]) reason() *NotSentError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notSent
}

func (r *run[T]) stop(err error) {
	r.mu.Lock()
	r.stopLocked(err)
	r.mu.Unlock()
}

// stopLocked records the first terminal error; r.mu is held.
func (r *run[T]) stopLocked(err error) {
	if r.terminal != nil {
		return
	}
	r.terminal = err
	r.notSent = &NotSentError{Reason: err}
	r.halted.Store(true)
	if r.w.hooks != nil && r.w.hooks.stop != nil {
		r.w.hooks.stop(err)
	}
	close(r.stopped)
}

func (r *run[T]) setPanic(v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.panicked {
		r.panicked, r.panicVal = true, v
	}
	r.stopLocked(errPanicked)
}

// deliverLoop is the one goroutine that calls OnResult and Progress, so
// that callbacks never run concurrently, in a worker, or under r.mu.
func (r *run[T]) deliverLoop() {
	defer close(r.delivered)
	var p Progress
	quiet := false // a callback panicked: stop calling them, keep draining
	for b := range r.out {
		for _, res := range b.res {
			switch res.Outcome {
			case Applied:
				p.Applied++
			case Failed:
				p.Failed++
			case Unknown:
				p.Unknown++
			case NotSent:
				p.NotSent++
			}
		}
		if b.sent {
			p.Chunks++
		}
		p.Seen = int(r.seen.Load())
		if !quiet {
			quiet = !r.deliver(b, p)
		}
		if b.from != nil {
			r.recycle(b.from)
		}
	}
	p.Seen = int(r.seen.Load())
	r.final = p
}

// deliver calls the callbacks for one batch; false means one panicked.
func (r *run[T]) deliver(b *batch[T], p Progress) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			r.setPanic(v)
			ok = false
		}
	}()
	if f := r.w.OnResult; f != nil {
		for i, res := range b.res {
			f(Result[T]{Index: b.index[i], Item: b.items[i], Outcome: res.Outcome, Err: res.Err})
		}
	}
	if f := r.w.Progress; f != nil {
		f(p)
	}
	return true
}

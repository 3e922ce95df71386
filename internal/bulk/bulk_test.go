package bulk_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/bulk"
)

// item is a test input: its position, the key it writes to, its weight.
type item struct {
	ID  int
	Key string
	W   int
}

func items(n int) []item {
	out := make([]item, n)
	for i := range out {
		out[i] = item{ID: i, W: 1}
	}
	return out
}

func ids(c *bulk.Chunk[item]) []int {
	out := make([]int, len(c.Items))
	for i, it := range c.Items {
		out[i] = it.ID
	}
	return out
}

// recorder is a Send that records the chunks it was given, in call order.
type recorder struct {
	mu     sync.Mutex
	chunks [][]int
	seqs   []int
}

func (r *recorder) send(_ context.Context, c *bulk.Chunk[item]) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunks = append(r.chunks, ids(c))
	r.seqs = append(r.seqs, c.Seq)
	return nil
}

// outcomes maps each index to its result, failing t on a missing or
// repeated index.
func outcomes(t *testing.T, n int, rs []bulk.Result[item]) map[int]bulk.Result[item] {
	t.Helper()
	m := make(map[int]bulk.Result[item], n)
	for _, r := range rs {
		if _, dup := m[r.Index]; dup {
			t.Errorf("item %d reported twice", r.Index)
		}
		if r.Item.ID != r.Index {
			t.Errorf("result index %d carries item %d", r.Index, r.Item.ID)
		}
		m[r.Index] = r
	}
	if len(m) != n {
		t.Errorf("%d items reported, want %d", len(m), n)
	}
	return m
}

func TestChunkByCount(t *testing.T) {
	var rec recorder
	w := bulk.Writer[item]{Send: rec.send, Max: bulk.Limits{Items: 3}}
	rs, err := w.Collect(context.Background(), slices.Values(items(7)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]int{{0, 1, 2}, {3, 4, 5}, {6}}, rec.chunks); diff != "" {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
	if !slices.Equal(rec.seqs, []int{0, 1, 2}) {
		t.Errorf("seqs = %v", rec.seqs)
	}
	for i, r := range rs {
		if r.Index != i || r.Outcome != bulk.Applied || r.Err != nil {
			t.Errorf("result %d = %+v", i, r)
		}
	}
}

func TestChunkByWeight(t *testing.T) {
	weights := []int{4, 4, 4, 9, 1, 11, -1, 2}
	in := make([]item, len(weights))
	for i, wt := range weights {
		in[i] = item{ID: i, W: wt}
	}
	var rec recorder
	w := bulk.Writer[item]{
		Send:   rec.send,
		Max:    bulk.Limits{Items: 10, Weight: 10},
		Weight: func(it item) int { return it.W },
	}
	rs, err := w.Collect(context.Background(), slices.Values(in))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]int{{0, 1}, {2}, {3, 4}, {7}}, rec.chunks); diff != "" {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
	for _, i := range []int{5, 6} {
		r := rs[i]
		var we *bulk.WeightError
		if r.Outcome != bulk.Failed || !errors.As(r.Err, &we) || we.Weight != weights[i] || we.Max != 10 {
			t.Errorf("item %d: %v %v, want failed with a WeightError", i, r.Outcome, r.Err)
		}
		if !errors.Is(r.Err, shopcrm.ErrInvalidInput) {
			t.Errorf("item %d: %v does not match ErrInvalidInput", i, r.Err)
		}
	}
}

func TestChangingLimit(t *testing.T) {
	t.Run("items", func(t *testing.T) {
		// Limit is consulted once per chunk cut; 9 is above Max and capped,
		// 0 leaves Max.
		sizes := []int{2, 3, 1, 9, 0}
		calls := 0
		var rec recorder
		w := bulk.Writer[item]{
			Send: rec.send,
			Max:  bulk.Limits{Items: 4},
			Limit: func() bulk.Limits {
				l := bulk.Limits{Items: sizes[min(calls, len(sizes)-1)]}
				calls++
				return l
			},
		}
		if _, err := w.Run(context.Background(), slices.Values(items(16))); err != nil {
			t.Fatal(err)
		}
		want := [][]int{{0, 1}, {2, 3, 4}, {5}, {6, 7, 8, 9}, {10, 11, 12, 13}, {14, 15}}
		if diff := cmp.Diff(want, rec.chunks); diff != "" {
			t.Errorf("chunks (-want +got):\n%s", diff)
		}
	})
	t.Run("weight", func(t *testing.T) {
		// The bucket shrinks as the run goes: 30, then 20, then 10 points.
		buckets := []int{30, 20, 10}
		calls := 0
		var rec recorder
		w := bulk.Writer[item]{
			Send: rec.send,
			Max:  bulk.Limits{Items: 250, Weight: 1000},
			Limit: func() bulk.Limits {
				l := bulk.Limits{Weight: buckets[min(calls, len(buckets)-1)]}
				calls++
				return l
			},
			Weight: func(it item) int { return it.W },
		}
		in := items(9)
		for i := range in {
			in[i].W = 10
		}
		in[8].W = 20 // fitted the first chunks' limit, not the last one's
		rs, err := w.Collect(context.Background(), slices.Values(in))
		if err != nil {
			t.Fatal(err)
		}
		want := [][]int{{0, 1, 2}, {3, 4}, {5}, {6}, {7}}
		if diff := cmp.Diff(want, rec.chunks); diff != "" {
			t.Errorf("chunks (-want +got):\n%s", diff)
		}
		var we *bulk.WeightError
		if rs[8].Outcome != bulk.Failed || !errors.As(rs[8].Err, &we) || we.Max != 10 {
			t.Errorf("item 8: %v %v, want failed: heavier than the limit when its chunk was cut", rs[8].Outcome, rs[8].Err)
		}
	})
	t.Run("rising", func(t *testing.T) {
		// A limit that rises applies to the chunks cut afterwards: they
		// grow with it and never exceed it.
		var sent atomic.Int64
		limit := func() bulk.Limits { return bulk.Limits{Items: 1 + int(sent.Load())} }
		w := bulk.Writer[item]{
			Send: func(ctx context.Context, c *bulk.Chunk[item]) error {
				if now := limit().Items; len(c.Items) > now {
					t.Errorf("chunk %d has %d items, limit %d", c.Seq, len(c.Items), now)
				}
				sent.Add(1)
				return nil
			},
			Max:   bulk.Limits{Items: 100},
			Limit: limit,
		}
		p, err := w.Run(context.Background(), slices.Values(items(50)))
		if err != nil || p.Applied != 50 || p.Chunks > 12 {
			t.Errorf("got %+v %v; want 50 items applied in a few growing chunks", p, err)
		}
	})
}

func TestInFlightBound(t *testing.T) {
	const limit = 3
	var cur, peak atomic.Int32
	reached := make(chan struct{})
	var once sync.Once
	w := bulk.Writer[item]{
		Max:      bulk.Limits{Items: 2},
		InFlight: limit,
		Send: func(ctx context.Context, c *bulk.Chunk[item]) error {
			n := cur.Add(1)
			defer cur.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			if n == limit {
				once.Do(func() { close(reached) })
			}
			// Hold the slot until the bound is reached once, so that the
			// test sees the engine fill it rather than luck.
			select {
			case <-reached:
			case <-time.After(2 * time.Second):
			}
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
			return nil
		},
	}
	p, err := w.Run(context.Background(), slices.Values(items(60)))
	if err != nil {
		t.Fatal(err)
	}
	if got := peak.Load(); got != limit {
		t.Errorf("peak concurrency %d, want %d", got, limit)
	}
	if p.Applied != 60 || p.Chunks != 30 {
		t.Errorf("progress %+v", p)
	}
}

// The terminal error arrives while every slot is taken, so the only way a
// chunk could start afterwards is by the slot the terminal chunk frees:
// the engine must record the error before it frees the slot.
func TestTerminalStopsIssuing(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		perItem  bool
		classify func(error) bulk.Class
	}{
		{name: "unauthorized", err: fmt.Errorf("tags: %w", shopcrm.ErrUnauthorized)},
		{name: "quota", err: fmt.Errorf("multicast: %w", shopcrm.ErrQuotaExceeded)},
		{name: "per item", err: shopcrm.ErrUnauthorized, perItem: true},
		{name: "classified", err: errors.New("shop is frozen"), classify: func(error) bulk.Class {
			return bulk.Class{Outcome: bulk.Failed, Terminal: true}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const inFlight = 3
			var (
				entered     = make(chan int, 100)
				release     = make(chan struct{})
				returned    atomic.Bool
				startedLate atomic.Int32
			)
			w := bulk.Writer[item]{
				Max:      bulk.Limits{Items: 2},
				InFlight: inFlight,
				Classify: tc.classify,
				Send: func(ctx context.Context, c *bulk.Chunk[item]) error {
					if returned.Load() {
						startedLate.Add(1)
					}
					switch c.Seq {
					case 0:
						for range inFlight - 1 { // chunks 1 and 2 keep the other senders busy
							<-entered
						}
						returned.Store(true)
						if tc.perItem {
							c.Results[1].Err = tc.err
							return nil
						}
						return tc.err
					default:
						entered <- c.Seq
						<-release
						return nil
					}
				},
			}
			done := make(chan struct{})
			var rs []bulk.Result[item]
			var err error
			go func() {
				defer close(done)
				rs, err = w.Collect(context.Background(), slices.Values(items(20)))
			}()
			time.Sleep(20 * time.Millisecond) // room for a wrong start
			close(release)
			<-done
			if n := startedLate.Load(); n != 0 {
				t.Errorf("%d requests started after the terminal error", n)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("Run returned %v, want %v", err, tc.err)
			}
			m := outcomes(t, 20, rs)
			want := map[int]bulk.Outcome{0: bulk.Failed, 1: bulk.Failed, 2: bulk.Applied, 3: bulk.Applied, 4: bulk.Applied, 5: bulk.Applied}
			if tc.perItem {
				want[0] = bulk.Applied
			}
			for i := range 20 {
				r := m[i]
				wo, ok := want[i]
				if !ok {
					wo = bulk.NotSent
				}
				if r.Outcome != wo {
					t.Errorf("item %d: %v, want %v", i, r.Outcome, wo)
				}
				if wo == bulk.NotSent {
					var ns *bulk.NotSentError
					if !errors.Is(r.Err, bulk.ErrNotSent) || !errors.As(r.Err, &ns) || !errors.Is(ns.Reason, tc.err) {
						t.Errorf("item %d: error %v, want not sent because of %v", i, r.Err, tc.err)
					}
				}
			}
		})
	}
}

func TestFailuresDoNotStop(t *testing.T) {
	w := bulk.Writer[item]{
		Max:      bulk.Limits{Items: 2},
		InFlight: 2,
		Send: func(ctx context.Context, c *bulk.Chunk[item]) error {
			switch c.Seq % 3 {
			case 0:
				return fmt.Errorf("refused: %w", shopcrm.ErrNotFound)
			case 1:
				c.Results[0].Err = errors.New("connection reset")
			}
			return nil
		},
	}
	p, err := w.Run(context.Background(), slices.Values(items(12)))
	if err != nil {
		t.Fatalf("Run: %v, want nil: no failure was terminal", err)
	}
	want := bulk.Progress{Seen: 12, Applied: 6, Failed: 4, Unknown: 2, Chunks: 6}
	if p != want {
		t.Errorf("progress %+v, want %+v", p, want)
	}
}

func TestSendResults(t *testing.T) {
	boom := errors.New("boom")
	w := bulk.Writer[item]{
		Max: bulk.Limits{Items: 8},
		Send: func(ctx context.Context, c *bulk.Chunk[item]) error {
			c.Results[1] = bulk.ItemResult{Err: boom}                                       // classified: unknown
			c.Results[2] = bulk.ItemResult{Err: shopcrm.ErrConflict}                        // classified: failed
			c.Results[3] = bulk.ItemResult{Outcome: bulk.Failed}                            // no reason given
			c.Results[4] = bulk.ItemResult{Outcome: bulk.NotSent, Err: boom}                // validated locally
			c.Results[5] = bulk.ItemResult{Outcome: 42}                                     // nonsense
			c.Results[6] = bulk.ItemResult{Outcome: bulk.Applied, Err: errors.New("noise")} // applied wins
			c.Results[7] = bulk.ItemResult{Outcome: bulk.Unknown, Err: boom}
			return nil
		},
	}
	rs, err := w.Collect(context.Background(), slices.Values(items(8)))
	if err != nil {
		t.Fatal(err)
	}
	want := []bulk.Outcome{bulk.Applied, bulk.Unknown, bulk.Failed, bulk.Failed, bulk.NotSent, bulk.Unknown, bulk.Applied, bulk.Unknown}
	for i, r := range rs {
		if r.Outcome != want[i] {
			t.Errorf("item %d: %v, want %v", i, r.Outcome, want[i])
		}
		if (r.Err == nil) != (r.Outcome == bulk.Applied) {
			t.Errorf("item %d: %v with error %v", i, r.Outcome, r.Err)
		}
	}
	if !errors.Is(rs[4].Err, bulk.ErrNotSent) || !errors.Is(rs[4].Err, boom) {
		t.Errorf("item 4: %v, want not sent wrapping boom", rs[4].Err)
	}
}

func TestDefaultClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bulk.Class
	}{
		{context.Canceled, bulk.Class{Outcome: bulk.Unknown, Terminal: true}},
		{fmt.Errorf("post: %w", context.DeadlineExceeded), bulk.Class{Outcome: bulk.Unknown, Terminal: true}},
		{shopcrm.ErrUnauthorized, bulk.Class{Outcome: bulk.Failed, Terminal: true}},
		{shopcrm.ErrQuotaExceeded, bulk.Class{Outcome: bulk.Failed, Terminal: true}},
		{&shopcrm.RateLimitError{}, bulk.Class{Outcome: bulk.Failed}},
		{shopcrm.ErrNotFound, bulk.Class{Outcome: bulk.Failed}},
		{&shopcrm.InputError{Field: "To[3]"}, bulk.Class{Outcome: bulk.Failed}},
		{errors.New("unexpected EOF"), bulk.Class{Outcome: bulk.Unknown}},
	} {
		if got := bulk.DefaultClassify(tc.err); got != tc.want {
			t.Errorf("DefaultClassify(%v) = %+v, want %+v", tc.err, got, tc.want)
		}
	}
}

// A timeout of one attempt under a live context leaves its items Unknown
// without stopping the run; the run's own context ending stops it.
func TestClassifyIn(t *testing.T) {
	attempt := fmt.Errorf("post: %w", context.DeadlineExceeded)
	live := context.Background()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		ctx  context.Context
		err  error
		want bulk.Class
	}{
		{live, attempt, bulk.Class{Outcome: bulk.Unknown}},
		{live, context.Canceled, bulk.Class{Outcome: bulk.Unknown}},
		{done, attempt, bulk.Class{Outcome: bulk.Unknown, Terminal: true}},
		{done, context.Canceled, bulk.Class{Outcome: bulk.Unknown, Terminal: true}},
		{live, shopcrm.ErrUnauthorized, bulk.Class{Outcome: bulk.Failed, Terminal: true}},
		{live, shopcrm.ErrNotFound, bulk.Class{Outcome: bulk.Failed}},
	} {
		if got := bulk.ClassifyIn(tc.ctx, tc.err); got != tc.want {
			t.Errorf("ClassifyIn(ctx done %v, %v) = %+v, want %+v", tc.ctx.Err() != nil, tc.err, got, tc.want)
		}
	}
}

func TestContextCancellation(t *testing.T) {
	t.Run("while a chunk is in flight", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var sends atomic.Int32
		w := bulk.Writer[item]{
			Max: bulk.Limits{Items: 2},
			Send: func(ctx context.Context, c *bulk.Chunk[item]) error {
				sends.Add(1)
				if c.Seq == 2 {
					cancel()
					<-ctx.Done()
					return fmt.Errorf("post: %w", ctx.Err())
				}
				return nil
			},
		}
		rs, err := w.Collect(ctx, slices.Values(items(10)))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v, want context.Canceled", err)
		}
		if n := sends.Load(); n != 3 {
			t.Errorf("%d sends, want 3", n)
		}
		m := outcomes(t, 10, rs)
		for i := range 10 {
			want := bulk.NotSent
			switch {
			case i < 4:
				want = bulk.Applied
			case i < 6:
				want = bulk.Unknown // the request may have reached the server
			}
			if m[i].Outcome != want {
				t.Errorf("item %d: %v, want %v", i, m[i].Outcome, want)
			}
			if want == bulk.NotSent && !errors.Is(m[i].Err, context.Canceled) {
				t.Errorf("item %d: %v, want the context's error as reason", i, m[i].Err)
			}
		}
	})
	t.Run("while waiting for a slot", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		started := make(chan struct{})
		w := bulk.Writer[item]{
			Max: bulk.Limits{Items: 1},
			Send: func(ctx context.Context, c *bulk.Chunk[item]) error {
				close(started) // a second call would panic
				return nil     // ignores ctx and succeeds after all
			},
		}
		go func() { <-started; cancel() }()
		block := func(yield func(item) bool) {
			for i := range 5 {
				if i == 1 {
					<-ctx.Done() // the input is slow; the run ends meanwhile
				}
				if !yield(item{ID: i}) {
					return
				}
			}
		}
		rs, err := w.Collect(ctx, block)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
		m := outcomes(t, 5, rs)
		if m[0].Outcome != bulk.Applied {
			t.Errorf("item 0: %v", m[0].Outcome)
		}
		for i := 1; i < 5; i++ {
			if m[i].Outcome != bulk.NotSent {
				t.Errorf("item %d: %v", i, m[i].Outcome)
			}
		}
	})
	t.Run("before the run", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel()
		<-ctx.Done()
		w := bulk.Writer[item]{Max: bulk.Limits{Items: 3}, Send: func(context.Context, *bulk.Chunk[item]) error {
			t.Error("sent after the deadline")
			return nil
		}}
		p, err := w.Run(ctx, slices.Values(items(7)))
		if !errors.Is(err, context.DeadlineExceeded) || p.NotSent != 7 || p.Seen != 7 || p.Chunks != 0 {
			t.Errorf("got %+v %v", p, err)
		}
	})
}

// The progress callback blocks until a later chunk has started. Were it
// called under the engine's lock, or from a worker holding the only slot,
// that chunk could never start.
func TestProgressOutsideLock(t *testing.T) {
	const n = 8
	entered := make([]chan struct{}, n)
	for i := range entered {
		entered[i] = make(chan struct{})
	}
	calls := 0
	w := bulk.Writer[item]{
		Max:      bulk.Limits{Items: 1},
		InFlight: 1,
		Send: func(ctx context.Context, c *bulk.Chunk[item]) error {
			close(entered[c.Seq])
			return nil
		},
		Progress: func(p bulk.Progress) {
			calls++
			if calls == 1 {
				select {
				case <-entered[2]:
				case <-time.After(5 * time.Second):
					t.Error("engine stalled while the progress callback ran")
				}
			}
		},
	}
	p, err := w.Run(context.Background(), slices.Values(items(n)))
	if err != nil || p.Applied != n || calls != n {
		t.Errorf("got %+v %v after %d calls", p, err, calls)
	}
}

func TestCallbacksSerializedInOrder(t *testing.T) {
	const n = 400
	var inside atomic.Int32
	var last bulk.Progress
	results := 0
	enter := func() {
		if inside.Add(1) != 1 {
			t.Error("callbacks ran concurrently")
		}
	}
	w := bulk.Writer[item]{
		Max:      bulk.Limits{Items: 3},
		InFlight: 8,
		Send: func(ctx context.Context, c *bulk.Chunk[item]) error {
			time.Sleep(time.Duration(rand.IntN(100)) * time.Microsecond)
			if c.Seq%5 == 0 {
				return errors.New("lost")
			}
			return nil
		},
		OnResult: func(bulk.Result[item]) {
			enter()
			defer inside.Add(-1)
			results++
		},
		Progress: func(p bulk.Progress) {
			enter()
			defer inside.Add(-1)
			time.Sleep(20 * time.Microsecond) // slow
			if p.Seen < last.Seen || p.Applied < last.Applied || p.Unknown < last.Unknown || p.Chunks < last.Chunks {
				t.Errorf("progress went back: %+v after %+v", p, last)
			}
			if p.Done() != results {
				t.Errorf("progress counts %d results, %d delivered", p.Done(), results)
			}
			if p.Seen < p.Done() {
				t.Errorf("progress %+v: more done than seen", p)
			}
			last = p
		},
	}
	p, err := w.Run(context.Background(), slices.Values(items(n)))
	if err != nil {
		t.Fatal(err)
	}
	if p != last || p.Seen != n || p.Done() != n || results != n {
		t.Errorf("final %+v, last callback %+v, %d results", p, last, results)
	}
}

// Results leave as chunks finish; a slow consumer holds the input back
// instead of letting chunks pile up.
func TestStreamingBoundedLag(t *testing.T) {
	const maxItems, inFlight = 10, 4
	// In flight, queued for delivery, being delivered, being handed over,
	// being cut.
	bound := maxItems * (2*inFlight + 3)
	var seen atomic.Int64
	gen := func(yield func(item) bool) {
		for i := 0; i < 5000; i++ {
			seen.Add(1)
			if !yield(item{ID: i}) {
				return
			}
		}
	}
	done := 0
	worst := 0
	w := bulk.Writer[item]{
		Max:      bulk.Limits{Items: maxItems},
		InFlight: inFlight,
		Send:     func(ctx context.Context, c *bulk.Chunk[item]) error { return nil },
		OnResult: func(bulk.Result[item]) {
			done++
			if done%97 == 0 {
				time.Sleep(50 * time.Microsecond)
			}
			worst = max(worst, int(seen.Load())-done)
		},
	}
	if _, err := w.Run(context.Background(), gen); err != nil {
		t.Fatal(err)
	}
	if worst > bound {
		t.Errorf("input ran %d items ahead of the results, want at most %d", worst, bound)
	}
}

// keyed returns one item per letter of keys, the letter being its key.
func keyed(keys string) []item {
	in := make([]item, len(keys))
	for i, k := range keys {
		in[i] = item{ID: i, Key: string(k)}
	}
	return in
}

func TestKeepsRunsOfAKeyTogether(t *testing.T) {
	in := keyed("aabbbcdd")
	var rec recorder
	w := bulk.Writer[item]{Send: rec.send, Max: bulk.Limits{Items: 4}, Key: func(it item) string { return it.Key }}
	if _, err := w.Run(context.Background(), slices.Values(in)); err != nil {
		t.Fatal(err)
	}
	// [a a b b] would split the b's: they move on together.
	want := [][]int{{0, 1}, {2, 3, 4, 5}, {6, 7}}
	if diff := cmp.Diff(want, rec.chunks); diff != "" {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
}

func TestDistinctKeys(t *testing.T) {
	in := keyed("abacbb")
	var rec recorder
	w := bulk.Writer[item]{
		Send: rec.send, Max: bulk.Limits{Items: 10}, InFlight: 4, DistinctKeys: true,
		Key: func(it item) string { return it.Key },
	}
	if _, err := w.Run(context.Background(), slices.Values(in)); err != nil {
		t.Fatal(err)
	}
	want := [][]int{{0, 1}, {2, 3, 4}, {5}}
	if diff := cmp.Diff(want, rec.chunks); diff != "" {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
}

// keyServer applies chunks like a platform would, keeping the order in
// which each key's writes took effect, and checks that no two requests
// touching one key are in flight at once.
type keyServer struct {
	mu       sync.Mutex
	inFlight map[string]int
	applied  map[string][]int
	overlaps int
}

func newKeyServer() *keyServer {
	return &keyServer{inFlight: map[string]int{}, applied: map[string][]int{}}
}

func (s *keyServer) send(rng func() *rand.Rand) func(context.Context, *bulk.Chunk[item]) error {
	return func(ctx context.Context, c *bulk.Chunk[item]) error {
		s.mu.Lock()
		for _, k := range chunkKeys(c) {
			if s.inFlight[k] > 0 {
				s.overlaps++
			}
			s.inFlight[k]++
		}
		s.mu.Unlock()
		r := rng()
		time.Sleep(time.Duration(r.IntN(300)) * time.Microsecond)
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, it := range c.Items {
			s.applied[it.Key] = append(s.applied[it.Key], it.ID)
		}
		for _, k := range chunkKeys(c) {
			s.inFlight[k]--
		}
		return nil
	}
}

func chunkKeys(c *bulk.Chunk[item]) []string {
	var ks []string
	for _, it := range c.Items {
		if !slices.Contains(ks, it.Key) {
			ks = append(ks, it.Key)
		}
	}
	return ks
}

func TestKeyOrderUnderRandomDelays(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := make([]item, 600)
	for i := range in {
		in[i] = item{ID: i, Key: fmt.Sprint("customer-", rng.IntN(12))}
	}
	s := newKeyServer()
	var mu sync.Mutex
	var seed uint64
	w := bulk.Writer[item]{
		Max: bulk.Limits{Items: 5}, InFlight: 8,
		Key: func(it item) string { return it.Key },
		Send: s.send(func() *rand.Rand {
			mu.Lock()
			defer mu.Unlock()
			seed++
			return rand.New(rand.NewPCG(seed, 0))
		}),
	}
	if _, err := w.Run(context.Background(), slices.Values(in)); err != nil {
		t.Fatal(err)
	}
	if s.overlaps != 0 {
		t.Errorf("%d requests overlapped another on the same key", s.overlaps)
	}
	for k, got := range s.applied {
		if !slices.IsSorted(got) {
			t.Errorf("key %s applied out of input order: %v", k, got)
		}
	}
}

// A panic in Send, a callback or the input stops the run and comes out of
// Run once every goroutine it started has ended.
func TestPanicIsRaisedByRun(t *testing.T) {
	ok := func(context.Context, *bulk.Chunk[item]) error { return nil }
	for _, tc := range []struct {
		name string
		w    bulk.Writer[item]
		in   iter.Seq[item]
	}{
		{name: "send", w: bulk.Writer[item]{Send: func(ctx context.Context, c *bulk.Chunk[item]) error {
			if c.Seq == 3 {
				panic("broke")
			}
			return nil
		}}},
		{name: "progress", w: bulk.Writer[item]{Send: ok, Progress: func(bulk.Progress) { panic("broke") }}},
		{name: "result", w: bulk.Writer[item]{Send: ok, OnResult: func(bulk.Result[item]) { panic("broke") }}},
		{name: "input", w: bulk.Writer[item]{Send: ok}, in: func(yield func(item) bool) {
			for i := range 20 {
				if i == 10 {
					panic("broke")
				}
				if !yield(item{ID: i}) {
					return
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			w := tc.w
			w.Max, w.InFlight = bulk.Limits{Items: 1}, 4
			in := tc.in
			if in == nil {
				in = slices.Values(items(50))
			}
			func() {
				defer func() {
					if v := recover(); v != "broke" {
						t.Errorf("recovered %v, want the panic", v)
					}
				}()
				_, _ = w.Run(context.Background(), in)
				t.Error("Run returned")
			}()
			waitGoroutines(t, before)
		})
	}
}

func TestNoGoroutineOutlivesRun(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	w := bulk.Writer[item]{
		Max: bulk.Limits{Items: 2}, InFlight: 6,
		Key: func(it item) string { return fmt.Sprint(it.ID % 3) },
		Send: func(ctx context.Context, c *bulk.Chunk[item]) error {
			if c.Seq == 10 {
				cancel()
			}
			time.Sleep(100 * time.Microsecond)
			return ctx.Err()
		},
	}
	_, err := w.Run(ctx, slices.Values(items(100)))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	waitGoroutines(t, before)
}

// waitGoroutines fails t unless the goroutine count comes back to n (a
// goroutine that has called Done may take a moment to be gone).
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBadWriter(t *testing.T) {
	send := func(context.Context, *bulk.Chunk[item]) error { return nil }
	for _, w := range []bulk.Writer[item]{
		{Max: bulk.Limits{Items: 1}},
		{Send: send},
		{Send: send, Max: bulk.Limits{Items: 1, Weight: -1}},
		{Send: send, Max: bulk.Limits{Items: 1}, InFlight: -2},
	} {
		var consumed bool
		in := func(yield func(item) bool) { consumed = true }
		if _, err := w.Run(context.Background(), iter.Seq[item](in)); !errors.Is(err, shopcrm.ErrInvalidInput) {
			t.Errorf("%+v: Run = %v, want an input error", w, err)
		}
		if consumed {
			t.Error("input read by a writer that cannot run")
		}
	}
}

func TestEmptyInput(t *testing.T) {
	w := bulk.Writer[item]{Max: bulk.Limits{Items: 1}, Send: func(context.Context, *bulk.Chunk[item]) error {
		t.Error("sent nothing")
		return nil
	}}
	p, err := w.Run(context.Background(), slices.Values([]item(nil)))
	if err != nil || p != (bulk.Progress{}) {
		t.Errorf("got %+v %v", p, err)
	}
}

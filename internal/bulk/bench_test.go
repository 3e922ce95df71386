package bulk_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/internal/bulk"
	"github.com/shopcrm/shopcrm/internal/cputime"
)

// encode is a trivial send: it builds the body a request would carry (a
// JSON array of ids) and nothing more, so that the engine's own cost per
// item shows against the cheapest useful work.
func encode(ids []string) int {
	buf := make([]byte, 0, 40*len(ids))
	buf = append(buf, '[')
	for i, id := range ids {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendQuote(buf, id)
	}
	buf = append(buf, ']')
	return len(buf)
}

// naive is the floor: a loop over the same chunks that calls the same send
// and hands every item's result to the same callback, with no streaming,
// concurrency, ordering or failure handling.
func naive(ids []string, per int, onResult func(bulk.Result[string])) {
	for lo := 0; lo < len(ids); lo += per {
		chunk := ids[lo:min(lo+per, len(ids))]
		encode(chunk)
		for i, id := range chunk {
			onResult(bulk.Result[string]{Index: lo + i, Item: id, Outcome: bulk.Applied})
		}
	}
}

// BenchmarkOverhead measures the engine against the naive loop for the
// writers the clients build: LINE multicast (500 per chunk), the same with
// 8 in flight, and Shopify tag ops (weighted, keyed, 4 in flight). It
// reports
//
//   - engine/naive: the CPU time of the engine over the naive loop's, both
//     with the trivial send (1.0: no overhead). CPU time, because a shared
//     machine stretches wall time, not work; it includes the scheduler's
//     cost of handing chunks between goroutines;
//   - wall-engine/naive: the same in wall time (below 1 when sends overlap);
//   - send-ns/item: the naive loop's CPU time per item, i.e. the trivial
//     send's cost;
//   - overhead-ns/item: the engine's CPU time per item with a send that does
//     nothing, i.e. what the engine itself costs.
//
// Each iteration times every side a few times, alternating, and keeps the
// fastest of each.
func BenchmarkOverhead(b *testing.B) {
	const n, reps = 100_000, 5
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "gid://shopify/Customer/" + strconv.Itoa(7_000_000_000+i)
	}
	for _, bc := range []struct {
		name   string
		writer bulk.Writer[string]
	}{
		{"multicast", bulk.Writer[string]{Max: bulk.Limits{Items: 500}}},
		{"multicast-8", bulk.Writer[string]{Max: bulk.Limits{Items: 500}, InFlight: 8}},
		{"tags-keyed", bulk.Writer[string]{
			Max:      bulk.Limits{Items: 250, Weight: 1000},
			Limit:    func() bulk.Limits { return bulk.Limits{Weight: 800} },
			Weight:   func(string) int { return 10 },
			Key:      func(id string) string { return id },
			InFlight: 4,
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			results := 0
			count := func(bulk.Result[string]) { results++ }
			w := bc.writer
			w.Send = func(_ context.Context, c *bulk.Chunk[string]) error {
				encode(c.Items)
				return nil
			}
			w.OnResult = count
			per := w.Max.Items
			if w.Limit != nil {
				per = 80 // the same chunks: 800 points of 10
			}
			type sample struct{ cpu, wall time.Duration }
			measure := func(f func()) sample {
				c0, w0 := cputime.Now(), time.Now()
				f()
				return sample{cputime.Now() - c0, time.Since(w0)}
			}
			best := func(a, b sample) sample { return sample{min(a.cpu, b.cpu), min(a.wall, b.wall)} }
			idle := w
			idle.Send = func(context.Context, *bulk.Chunk[string]) error { return nil }
			run := func(w *bulk.Writer[string]) func() {
				return func() {
					p, err := w.Run(context.Background(), slices.Values(ids))
					if err != nil || p.Applied != n {
						b.Fatalf("got %+v %v", p, err)
					}
				}
			}
			var tNaive, tEngine, tIdle sample
			for b.Loop() {
				inf := time.Duration(1 << 62)
				bn, be, bi := sample{inf, inf}, sample{inf, inf}, sample{inf, inf}
				for range reps {
					bn = best(bn, measure(func() { naive(ids, per, count) }))
					be = best(be, measure(run(&w)))
					bi = best(bi, measure(run(&idle)))
				}
				tNaive.cpu += bn.cpu
				tNaive.wall += bn.wall
				tEngine.cpu += be.cpu
				tEngine.wall += be.wall
				tIdle.cpu += bi.cpu
			}
			if results != 3*reps*n*b.N {
				b.Fatalf("%d results", results)
			}
			perItem := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n*b.N) }
			b.ReportMetric(float64(tEngine.cpu)/float64(tNaive.cpu), "engine/naive")
			b.ReportMetric(float64(tEngine.wall)/float64(tNaive.wall), "wall-engine/naive")
			b.ReportMetric(perItem(tNaive.cpu), "send-ns/item")
			b.ReportMetric(perItem(tIdle.cpu), "overhead-ns/item")
		})
	}
}

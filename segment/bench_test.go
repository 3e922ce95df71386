package segment

// Benchmarks at the scale of a large store. Inputs come from generators
// built inside each benchmark; figures that compare two ways of doing the
// same work (a floor, a map diff) are measured in the same run and
// reported as ratios, along with peak heap measured the same way for both
// sides and excluding the input. Run them as CI does:
//
//	go test -run '^$' -bench . -benchtime 1x -cpu 1 ./segment/

import (
	"iter"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/internal/cputime"
	"github.com/shopcrm/shopcrm/money"
)

// Diff benchmarks: 10,000,000 ids on each side with 1% churn. Both sides
// read one shared list of benchGIDs GIDs: previous skips the entries at
// i%101 == 0, current those at i%101 == 50, so 100,000 left, 100,000
// joined and 9,900,000 unchanged.
const (
	benchGIDs   = 10_100_000
	churnPeriod = 101
	wantMoves   = benchGIDs / churnPeriod // of each kind
)

// gidList returns n customer GIDs with realistic Shopify numbers
// (thirteen digits, uneven gaps), ascending, or shuffled when shuffle is
// set. Every GID is gidLen bytes; they are laid out one after another in
// list order in a single string, as a reader of an export would allocate
// them, and the list slices it.
func gidList(n int, shuffle bool) []string {
	r := rand.New(rand.NewPCG(7, 7))
	ids := make([]int64, n)
	num := int64(6_100_000_000_000)
	for i := range ids {
		num += 1 + r.Int64N(2000)
		ids[i] = num
	}
	if shuffle {
		r.Shuffle(n, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	}
	var b strings.Builder
	b.Grow(n * gidLen)
	buf := make([]byte, 0, 48)
	for _, num := range ids {
		buf = gid.ID{Type: gid.Customer, Num: num}.Append(buf[:0])
		if len(buf) != gidLen {
			panic("benchmark GID of unexpected length: " + string(buf))
		}
		b.Write(buf)
	}
	ids = nil
	all := b.String()
	out := make([]string, n)
	for i := range out {
		out[i] = all[i*gidLen : (i+1)*gidLen]
	}
	return out
}

const gidLen = len("gid://shopify/Customer/6100000000000")

// side yields all but the entries at i%churnPeriod == skip.
func side(all []string, skip int) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i, s := range all {
			if i%churnPeriod == skip {
				continue
			}
			if !yield(s) {
				return
			}
		}
	}
}

// floorRead is the least any diff of the two inputs must do: read every
// byte of both once, eight at a time where it can (the byte pattern below
// compiles to one load). The sum keeps the compiler from skipping it.
func floorRead(prev, cur iter.Seq[string]) uint64 {
	var sum uint64
	for _, seq := range []iter.Seq[string]{prev, cur} {
		for s := range seq {
			for len(s) >= 8 {
				sum += uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
					uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
				s = s[8:]
			}
			for i := 0; i < len(s); i++ {
				sum += uint64(s[i])
			}
		}
	}
	return sum
}

// mapDiff is the baseline for unsorted input: the usual hash-set diff on
// the GID strings themselves, with the set sized up front. It skips
// parsing, which only makes it faster.
func mapDiff(prev, cur iter.Seq[string]) (joined, left []string) {
	set := make(map[string]struct{}, benchGIDs)
	for s := range prev {
		set[s] = struct{}{}
	}
	for s := range cur {
		if _, ok := set[s]; ok {
			delete(set, s)
		} else {
			joined = append(joined, s)
		}
	}
	for s := range set {
		left = append(left, s)
	}
	return joined, left
}

// peakHeap runs f and returns the highest heap (live and not yet freed
// objects) seen while it ran, above the heap before it started, so the
// input is not counted. A sampler reads the runtime's heap metric every
// 5 ms; with -cpu 1 it runs at each preemption, about every 10 ms.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	peak := base
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				v := read()
				mu.Lock()
				peak = max(peak, v)
				mu.Unlock()
			}
		}
	}()
	f()
	v := read()
	close(stop)
	wg.Wait()
	peak = max(peak, v)
	return peak - base
}

// timed runs f, adding the CPU time it took to *d and its peak heap to
// *peak. Ratios compare CPU time rather than wall time because the
// machine may be shared: other processes' load changes wall time between
// the two measurements, not the work done.
func timed(d *time.Duration, peak *uint64, f func()) {
	start := cputime.Now()
	p := peakHeap(f)
	*d += cputime.Now() - start
	*peak = max(*peak, p)
}

const mb = 1 << 20

func BenchmarkDiffSorted10M(b *testing.B) {
	all := gidList(benchGIDs, false)
	prev, cur := side(all, 0), side(all, churnPeriod/2)
	var ours, floor time.Duration
	var peak, floorPeak uint64
	runs := 0
	for b.Loop() {
		runs++
		timed(&ours, &peak, func() {
			joined, left := 0, 0
			for m, err := range DiffSorted(ParseIDs(gid.Customer, prev), ParseIDs(gid.Customer, cur)) {
				if err != nil {
					b.Fatal(err)
				}
				if m.Joined {
					joined++
				} else {
					left++
				}
			}
			if joined != wantMoves || left != wantMoves {
				b.Fatalf("joined %d, left %d; want %d each", joined, left, wantMoves)
			}
		})
	}
	var sink uint64
	for range runs {
		timed(&floor, &floorPeak, func() { sink += floorRead(prev, cur) })
	}
	b.ReportMetric(float64(ours)/float64(floor), "x-floor")
	b.ReportMetric(float64(2*(benchGIDs-wantMoves)*runs)/ours.Seconds(), "ids/s")
	b.ReportMetric(float64(peak)/mb, "peak-MB")
	_ = sink
}

func BenchmarkDiffUnsorted10M(b *testing.B) {
	all := gidList(benchGIDs, true)
	prev, cur := side(all, 0), side(all, churnPeriod/2)
	var ours, base time.Duration
	var peak, mapPeak uint64
	runs := 0
	for b.Loop() {
		runs++
		timed(&ours, &peak, func() {
			d, err := Diff(ParseIDs(gid.Customer, prev), ParseIDs(gid.Customer, cur))
			if err != nil {
				b.Fatal(err)
			}
			if len(d.Joined) != wantMoves || len(d.Left) != wantMoves {
				b.Fatalf("joined %d, left %d; want %d each", len(d.Joined), len(d.Left), wantMoves)
			}
		})
	}
	for range runs {
		timed(&base, &mapPeak, func() {
			joined, left := mapDiff(prev, cur)
			if len(joined) != wantMoves || len(left) != wantMoves {
				b.Fatalf("map diff: joined %d, left %d", len(joined), len(left))
			}
		})
	}
	b.ReportMetric(float64(base)/float64(ours), "x-faster-than-map")
	b.ReportMetric(float64(2*(benchGIDs-wantMoves)*runs)/ours.Seconds(), "ids/s")
	b.ReportMetric(float64(peak)/mb, "peak-MB")
	b.ReportMetric(float64(mapPeak)/mb, "map-peak-MB")
}

// shopGen streams a store of n customers and 5n orders, reusing one
// customer's buffers throughout, as a bulk-export reader would.
type shopGen struct {
	n   int
	now time.Time
}

// orderCounts averages exactly five orders per customer.
var orderCounts = [10]int{0, 10, 1, 9, 2, 8, 3, 7, 4, 6}

func mix(x uint64) uint64 { // splitmix64
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

var (
	benchTypes    = []string{"Coffee", "Tea", "Mug", "Gift", "Subscription box"}
	benchChannels = []string{"web", "web", "pos", "line", "instagram", ""}
	benchSubTags  = []string{"subscription-1042-plan:monthly", "subscription-1042-product:beans", "vip"}
)

func (g shopGen) customers(yield func(Customer) bool) {
	var c Customer
	orders := make([]Order, 0, 16)
	items := make([]LineItem, 0, 48)
	tags := make([]string, 0, 8)
	const span = 3 * 365 * 24 * time.Hour
	orderNum := int64(5_500_000_000_000)
	for i := range g.n {
		h := mix(uint64(i))
		tags = tags[:0]
		if h%10 < 3 {
			tags = append(tags, "line")
		}
		if h>>8%10 == 0 {
			tags = append(tags, benchSubTags...)
		}
		if h>>16%4 == 0 {
			tags = append(tags, "ecp-first")
		}
		k := orderCounts[i%10]
		orders, items = orders[:0], items[:0]
		t := g.now.Add(-time.Duration(h>>20%uint64(span/time.Hour)) * time.Hour)
		for j := range k {
			oh := mix(h + uint64(j))
			orderNum += 1 + int64(oh%50)
			start := len(items)
			for m := range 1 + oh>>8%3 {
				p := int64(oh >> (12 + 4*m) % 500)
				items = append(items, LineItem{
					Product:     gid.ID{Type: gid.Product, Num: 8_000_000_000 + p},
					ProductType: benchTypes[p%5],
					Vendor:      "vendor",
				})
			}
			orders = append(orders, Order{
				ID:      gid.ID{Type: gid.Order, Num: orderNum},
				Time:    t,
				Total:   money.Amount{Minor: 1000 + int64(oh>>32%19000), Currency: "JPY"},
				Channel: benchChannels[oh>>40%6],
				Items:   items[start:len(items):len(items)],
			})
			t = t.Add(time.Duration(1+oh>>44%2000) * time.Hour)
		}
		c = Customer{ID: gid.ID{Type: gid.Customer, Num: 6_100_000_000_000 + int64(i)*7}, Tags: tags, Orders: orders}
		if !yield(c) {
			return
		}
	}
}

// floorOrders is the least a pass over the store must do: read every order
// once.
func floorOrders(customers iter.Seq[Customer]) int64 {
	var sum int64
	for c := range customers {
		for i := range c.Orders {
			o := &c.Orders[i]
			sum += o.Total.Minor + int64(len(o.Items)) + o.Time.Unix()
		}
	}
	return sum
}

func benchDefinitions() []Definition {
	return []Definition{
		{Name: "first", Tag: "ecp-first", Rule: FirstTimeBuyer()},
		{Name: "repeat", Tag: "ecp-repeat", Rule: RepeatBuyer()},
		{Name: "loyal", Tag: "ecp-loyal", Rule: Loyal(5, money.Amount{Minor: 50000, Currency: "JPY"}, 365*24*time.Hour)},
		{Name: "coffee", Tag: "ecp-coffee", Rule: ProductFan(ProductMatch{Type: "coffee"}, 3)},
		{Name: "line", Tag: "ecp-line", Rule: HasTag("line")},
		{Name: "subscriber", Tag: "ecp-subscriber", Rule: Subscriber(nil)},
		{Name: "lapsed", Tag: "ecp-lapsed", Rule: Lapsed(180 * 24 * time.Hour)},
		{Name: "new", Tag: "ecp-new", Rule: NewBuyer(30 * 24 * time.Hour)},
	}
}

func BenchmarkMembership1M(b *testing.B) {
	const customers = 1_000_000
	now := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	gen := shopGen{n: customers, now: now}
	defs := benchDefinitions()
	opts := Options{Now: now, Sends: []Send{{Segment: "line", At: now.Add(-14 * 24 * time.Hour), Within: 7 * 24 * time.Hour}}}
	var ours, floor time.Duration
	var peak, floorPeak uint64
	runs := 0
	for b.Loop() {
		runs++
		timed(&ours, &peak, func() {
			res, err := Evaluate(gen.customers, defs, opts)
			if err != nil {
				b.Fatal(err)
			}
			if res.Customers != customers || res.Segments[0].Metrics.Customers == 0 {
				b.Fatalf("unexpected result: %d customers", res.Customers)
			}
		})
	}
	var sink int64
	orders := 0
	for c := range gen.customers {
		orders += len(c.Orders)
	}
	if orders != 5*customers {
		b.Fatalf("generator made %d orders", orders)
	}
	for range runs {
		timed(&floor, &floorPeak, func() { sink += floorOrders(gen.customers) })
	}
	b.ReportMetric(float64(ours)/float64(floor), "x-floor")
	b.ReportMetric(float64(customers*runs)/ours.Seconds(), "customers/s")
	b.ReportMetric(float64(peak)/mb, "peak-MB")
	_ = sink
}

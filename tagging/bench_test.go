package tagging

import (
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/shopcrm/shopcrm/calendar"
)

// Benchmarks report their speed-ups against baselines measured in the same
// run (see the metrics each one reports). Inputs come from deterministic
// generators here, never from files, and large inputs are generated in
// chunks so memory stays flat.

var sink int

// ---- Parse against one precompiled regexp per tag kind ----

// regexpParser is the baseline for Parse: one precompiled regexp per tag
// kind, tried in Parse's order, turning the submatches into the same Tag
// with the same checks (free text, calendar dates, count range).
type regexpParser struct {
	kinds []regexpKind
}

type regexpKind struct {
	kind Kind
	re   *regexp.Regexp
}

func newRegexpParser() *regexpParser {
	const date = `(\d{4})-(\d{2})-(\d{2})`
	p := &regexpParser{}
	for _, k := range []struct {
		kind Kind
		re   string
	}{
		{KindPlan, `^(?i:subscription-)(\d+)(?i:-plan:)(.*)$`},
		{KindProduct, `^(?i:subscription-)(\d+)(?i:-product:)(.*)$`},
		{KindCancel, `^(?i:subscription-)(\d+)(?i:-cancel:)` + date + `$`},
		{KindSkipCount, `^(?i:subscription-)(\d+)(?i:-skip-count:)(0|[1-9]\d*)$`},
		{KindOrderCount, `^(?i:subscription-count:)(0|[1-9]\d*)$`},
		{KindSubscriptionID, `^(?i:subscription-id:)(\d{10})$`},
		{KindDelivery, `^(?i:delivery-)(\d+):` + date + `(?: (.+))?$`},
		{KindPause, `^(?i:subscription-)(\d+)(?i:-pause:)` + date + `$`},
		{KindRank, `^(?i:subscription-rank:)(.*)$`},
		{KindStatus, `^(?i:subscription-)(\d+)(?i:-status:)(.*)$`},
	} {
		p.kinds = append(p.kinds, regexpKind{k.kind, regexp.MustCompile(`(?s)` + k.re)})
	}
	return p
}

func (p *regexpParser) parse(tag string) (Tag, bool) {
	for _, k := range p.kinds {
		m := k.re.FindStringSubmatch(tag)
		if m == nil {
			continue
		}
		t := Tag{Kind: k.kind}
		var ok bool
		switch k.kind {
		case KindPlan, KindProduct, KindRank, KindStatus:
			v := m[len(m)-1]
			if pos, _ := checkText(v); pos >= 0 {
				return Tag{}, false
			}
			t.Value = v
			if k.kind != KindRank {
				t.Contract = m[1]
			}
		case KindCancel, KindPause:
			t.Contract = m[1]
			if t.Date, ok = regexpDate(m[2], m[3], m[4]); !ok {
				return Tag{}, false
			}
		case KindSkipCount, KindOrderCount:
			n, err := strconv.Atoi(m[len(m)-1])
			if err != nil {
				return Tag{}, false
			}
			t.Count = n
			if k.kind == KindSkipCount {
				t.Contract = m[1]
			}
		case KindSubscriptionID:
			t.Value = m[1]
		case KindDelivery:
			t.Contract = m[1]
			if t.Date, ok = regexpDate(m[2], m[3], m[4]); !ok {
				return Tag{}, false
			}
			if m[5] != "" {
				if pos, _ := checkText(m[5]); pos >= 0 {
					return Tag{}, false
				}
				t.Value = m[5]
			}
		}
		return t, true
	}
	return Tag{}, false
}

func regexpDate(y, m, d string) (calendar.Date, bool) {
	yy, _ := strconv.Atoi(y)
	mm, _ := strconv.Atoi(m)
	dd, _ := strconv.Atoi(d)
	if yy < 1 || mm < 1 || mm > 12 || dd < 1 || dd > calendar.DaysIn(yy, time.Month(mm)) {
		return 0, false
	}
	return calendar.NewDate(yy, time.Month(mm), dd), true
}

// parseCorpus returns n tags of every kind in turn, with ASCII and Japanese
// values, as a store's customers and orders carry them.
func parseCorpus(n int) []string {
	plans := []string{"Gold Monthly", "定期便A", "お試しコース", "Premium 2x"}
	products := []string{"コーヒー豆 200g", "Green Tea", "プロテイン", "Vitamin C 60"}
	tags := make([]string, 0, n)
	var b []byte
	for i := 0; len(tags) < n; i++ {
		id := strconv.Itoa(1_000_000_000 + i*7919%9_000_000)
		date := calendar.NewDate(2024+i%3, time.Month(1+i%12), 1+i%28)
		var t Tag
		switch Kind(1 + i%int(numKinds-1)) {
		case KindPlan:
			t = Tag{Kind: KindPlan, Contract: id, Value: plans[i%len(plans)]}
		case KindProduct:
			t = Tag{Kind: KindProduct, Contract: id, Value: products[i%len(products)]}
		case KindCancel:
			t = Tag{Kind: KindCancel, Contract: id, Date: date}
		case KindSkipCount:
			t = Tag{Kind: KindSkipCount, Contract: id, Count: i % 7}
		case KindPause:
			t = Tag{Kind: KindPause, Contract: id, Date: date}
		case KindRank:
			t = Tag{Kind: KindRank, Value: []string{"Gold", "シルバー"}[i%2]}
		case KindStatus:
			t = Tag{Kind: KindStatus, Contract: id, Value: []string{"active", "休止中"}[i%2]}
		case KindOrderCount:
			t = Tag{Kind: KindOrderCount, Count: 1 + i%24}
		case KindSubscriptionID:
			t = Tag{Kind: KindSubscriptionID, Value: id}
		case KindDelivery:
			t = Tag{Kind: KindDelivery, Contract: id, Date: date, Value: []string{"14:00-16:00", "午前中", ""}[i%3]}
		}
		var err error
		if b, err = Default().AppendFormat(b[:0], t); err != nil {
			panic(err)
		}
		tags = append(tags, string(b))
	}
	return tags
}

// The baseline must parse the benchmark's tags exactly as Parse does, or
// the comparison means nothing.
func TestRegexpBaselineAgrees(t *testing.T) {
	p := newRegexpParser()
	tags := append(parseCorpus(500),
		"SUBSCRIPTION-1-PLAN:x", "subscription-1-plan:a,b", "subscription-1-plan: a", "subscription-1-cancel:2023-02-29",
		"subscription-1-skip-count:01", "subscription-id:123", "delivery-1:2024-01-01 ", "delivery-1:2024-01-01", "VIP", "",
		"subscription-rank:", "subscription-1-status:x\ny")
	for _, tag := range tags {
		want, err := Parse(tag)
		got, ok := p.parse(tag)
		if ok != (err == nil) || got != want {
			t.Errorf("%q: regexp baseline = %+v, %v; Parse = %+v, %v", tag, got, ok, want, err)
		}
	}
}

// BenchmarkParse parses a mix of every tag kind, and the same tags with the
// regexp baseline, in alternating rounds. Metrics: ns/tag for each and
// x-vs-regexp, how many times faster Parse is (the median of the rounds'
// ratios, so a round that lost the CPU to another process does not skew
// it). ns/op, B/op and allocs/op are Parse's alone, measured around its
// rounds: the op as a whole also runs the baseline, which keeps the number
// of ops, and the run, short.
func BenchmarkParse(b *testing.B) {
	const rounds = 50
	tags := parseCorpus(4096)
	s := Default()
	base := newRegexpParser()
	var parseNs, regexpNs time.Duration
	var allocs, bytes uint64
	var before, after runtime.MemStats
	ratios := make([]float64, 0, b.N*rounds)
	b.ResetTimer()
	for range b.N {
		for range rounds {
			runtime.ReadMemStats(&before)
			start := time.Now()
			for _, tag := range tags {
				t, err := s.Parse(tag)
				if err != nil {
					b.Fatal(err)
				}
				sink += len(t.Value)
			}
			p := time.Since(start)
			runtime.ReadMemStats(&after)
			allocs += after.Mallocs - before.Mallocs
			bytes += after.TotalAlloc - before.TotalAlloc

			start = time.Now()
			for _, tag := range tags {
				t, ok := base.parse(tag)
				if !ok {
					b.Fatalf("baseline failed on %q", tag)
				}
				sink += len(t.Value)
			}
			r := time.Since(start)

			parseNs += p
			regexpNs += r
			ratios = append(ratios, float64(r)/float64(p))
		}
	}
	n := float64(b.N * rounds * len(tags))
	b.ReportMetric(float64(parseNs)/float64(b.N), "ns/op")
	b.ReportMetric(float64(bytes)/float64(b.N), "B/op")
	b.ReportMetric(float64(allocs)/float64(b.N), "allocs/op")
	b.ReportMetric(float64(parseNs)/n, "ns/tag")
	b.ReportMetric(float64(regexpNs)/n, "regexp-ns/tag")
	b.ReportMetric(median(ratios), "x-vs-regexp")
}

// median returns the middle value of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// ---- Planning a million customers against a floor ----

// customer is one generated customer: 8 owned tags (plan, product, skip
// count and status of two contracts) and 4 foreign ones, in the sorted order
// Shopify returns tags in, and the 8 owned tags it should have. Changes that
// Plan returns for it are counted and dropped, never kept.
type customer struct {
	id      string
	current []string
	desired []string
}

// customerGen generates customers in chunks. Every tenth customer differs
// from its desired tags (a skip, a plan change or a status change on its
// second contract). A chunk's text lives in one buffer that the next chunk
// reuses, so a million customers make no garbage: nothing may keep a string
// of a chunk once the next one is generated.
type customerGen struct {
	s     *Schema
	buf   []byte
	spans []int // end offset of each string in buf
	cs    []customer
	all   []string
}

const tagsPerCustomer = 1 + 12 + 8 // id, current, desired

func (g *customerGen) chunk(from, n int) []customer {
	if g.s == nil {
		g.s = Default()
	}
	plans := [...]string{"Gold Monthly", "定期便A", "お試しコース"}
	products := [...]string{"コーヒー豆 200g", "Green Tea"}
	statuses := [...]string{"active", "休止中"}
	g.buf, g.spans = g.buf[:0], g.spans[:0]
	add := func(t Tag) {
		var err error
		if g.buf, err = g.s.AppendFormat(g.buf, t); err != nil {
			panic(err)
		}
		g.spans = append(g.spans, len(g.buf))
	}
	owned := func(i int, changed bool) {
		for c := range 2 {
			contract := strconv.Itoa(1_000_000_000 + 2*i + c)
			plan, skips, status := plans[(i+c)%len(plans)], (i+c)%5, statuses[(i/3+c)%2]
			if changed && c == 1 {
				switch i / 10 % 3 {
				case 0:
					skips++
				case 1:
					plan = plans[(i+c+1)%len(plans)]
				case 2:
					status = "解約済み"
				}
			}
			add(Tag{Kind: KindPlan, Contract: contract, Value: plan})
			add(Tag{Kind: KindProduct, Contract: contract, Value: products[(i+c)%len(products)]})
			add(Tag{Kind: KindSkipCount, Contract: contract, Count: skips})
			add(Tag{Kind: KindStatus, Contract: contract, Value: status})
		}
	}
	for i := from; i < from+n; i++ {
		g.buf = strconv.AppendInt(append(g.buf, "gid://shopify/Customer/"...), int64(100000+i), 10)
		g.spans = append(g.spans, len(g.buf))
		for _, f := range [...]string{"VIP", "ecp-first", "line", "newsletter"} {
			g.buf = append(g.buf, f...)
			g.spans = append(g.spans, len(g.buf))
		}
		owned(i, false)
		owned(i, i%10 == 0)
	}
	text := unsafe.String(&g.buf[0], len(g.buf))
	g.all = g.all[:0]
	prev := 0
	for _, end := range g.spans {
		g.all = append(g.all, text[prev:end])
		prev = end
	}
	g.cs = g.cs[:0]
	for i := range n {
		t := g.all[i*tagsPerCustomer : (i+1)*tagsPerCustomer]
		g.cs = append(g.cs, customer{id: t[0], current: t[1:13], desired: t[13:]})
	}
	return g.cs
}

// customerChunk returns customers [from, from+n) in memory of their own.
func customerChunk(from, n int) []customer {
	var g customerGen
	return g.chunk(from, n)
}

// floor reads every tag of the input once, byte by byte: the least any
// planner has to do, since a tag it has not read could be anything.
func floor(cs []customer) int {
	sum := 0
	for i := range cs {
		for _, t := range cs[i].current {
			for j := 0; j < len(t); j++ {
				sum += int(t[j])
			}
		}
		for _, t := range cs[i].desired {
			for j := 0; j < len(t); j++ {
				sum += int(t[j])
			}
		}
	}
	return sum
}

// BenchmarkPlanCustomers plans 1,000,000 customers (8 owned and 4 foreign
// tags, 2 contracts, 10% changed) per op, generated in chunks. Run it with
// -cpu 1. Metrics: customers/s for Plan and for the floor, and x-of-floor,
// Plan's time over the floor's on the same chunk (the median over chunks, so
// a chunk that lost the CPU to another process does not skew it). ns/op and
// allocs/op count Plan alone.
func BenchmarkPlanCustomers(b *testing.B) {
	const customers, chunk = 1_000_000, 4096
	s, err := NewSchema(WithRules(Rule{At: 3, Tag: "3回目購入"}, Rule{At: 12, Tag: "常連"}))
	if err != nil {
		b.Fatal(err)
	}
	var planNs, floorNs time.Duration
	ratios := make([]float64, 0, b.N*(customers+chunk-1)/chunk)
	var gen customerGen
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		changed := 0
		for from := 0; from < customers; from += chunk {
			b.StopTimer()
			cs := gen.chunk(from, min(chunk, customers-from))
			// Alternate which side runs first so neither always meets a
			// cold cache.
			flip := from/chunk%2 == 1
			var f time.Duration
			if flip {
				start := time.Now()
				sink += floor(cs)
				f = time.Since(start)
			}
			b.StartTimer()
			start := time.Now()
			for i := range cs {
				c, err := s.Plan(cs[i].id, cs[i].current, cs[i].desired)
				if err != nil {
					b.Fatal(err)
				}
				if !c.Empty() {
					changed++
				}
			}
			p := time.Since(start)
			b.StopTimer()
			if !flip {
				start := time.Now()
				sink += floor(cs)
				f = time.Since(start)
			}
			b.StartTimer()
			planNs += p
			floorNs += f
			ratios = append(ratios, float64(p)/float64(f))
		}
		if changed != customers/10 {
			b.Fatalf("%d customers changed, want %d", changed, customers/10)
		}
	}
	n := float64(b.N * customers)
	b.ReportMetric(n/planNs.Seconds(), "customers/s")
	b.ReportMetric(n/floorNs.Seconds(), "floor-customers/s")
	b.ReportMetric(median(ratios), "x-of-floor")
}

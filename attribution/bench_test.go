package attribution_test

import (
	"iter"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/internal/cputime"
	"github.com/shopcrm/shopcrm/money"
)

// workload streams a synthetic shop: customers with perCustomer
// touchpoints each (impressions, clicks, sends, opens, bounces, SMS,
// direct visits) over the seed's tiers, and one order per customer placed
// after its eighth touchpoint. Everything derives from the customer index
// by hashing, so the two streams agree without being held in memory and a
// smaller workload uses the same keys and days.
type workload struct {
	customers   int
	perCustomer int
}

var benchStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// benchKeys: 3 ad channels × 4 campaigns × 3 ad groups × 4 ads, Klaviyo
// emails under 2 campaigns, SMS under 1.
var adKeys, emailKeys, smsKeys = func() (ads, emails, sms []attribution.Key) {
	for _, ch := range []string{"google", "meta", "tiktok"} {
		for c := range 4 {
			for g := range 3 {
				for a := range 4 {
					ads = append(ads, attribution.Key{Channel: ch, Campaign: "campaign-" + strconv.Itoa(c),
						AdGroup: "group-" + strconv.Itoa(g), Ad: "ad-" + strconv.Itoa(a)})
				}
			}
		}
	}
	for c := range 2 {
		for e := range 5 {
			emails = append(emails, attribution.Key{Channel: "klaviyo", Campaign: "flow-" + strconv.Itoa(c), Ad: "email-" + strconv.Itoa(e)})
		}
	}
	for s := range 3 {
		sms = append(sms, attribution.Key{Channel: "klaviyo-sms", Campaign: "sms", Ad: "sms-" + strconv.Itoa(s)})
	}
	return
}()

func hash(a, b uint64) uint64 { // splitmix64 of a pair
	z := a*0x9e3779b97f4a7c15 + b + 0x632be59bd9b4e5d
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// customer returns the id of customer i, zero-padded so that byte order
// is index order, as the rollup requires.
func customer(i int) string {
	var b [12]byte
	b[0] = 'c'
	s := strconv.AppendUint(b[:1], uint64(i)+1e10, 10) // fixed width
	return string(s)
}

// touchAt returns the instant of customer i's j-th touchpoint, given the
// previous one (or the zero time for j == 0).
func touchAt(i, j int, prev time.Time) time.Time {
	h := hash(uint64(i), uint64(j))
	if j == 0 {
		return benchStart.Add(time.Duration(h%(60*24*3600)) * time.Second) // within 60 days
	}
	return prev.Add(time.Duration(3600+h%(2*24*3600)) * time.Second) // 1 hour to 2 days later
}

func (w workload) touchpoints() iter.Seq[attribution.Touchpoint] {
	return func(yield func(attribution.Touchpoint) bool) {
		for i := range w.customers {
			id := customer(i)
			var t time.Time
			for j := range w.perCustomer {
				t = touchAt(i, j, t)
				h := hash(uint64(j), uint64(i))
				tp := attribution.Touchpoint{Customer: id, Time: t}
				switch r := h % 100; {
				case r < 40:
					tp.Action, tp.Key = attribution.AdImpression, adKeys[h>>8%uint64(len(adKeys))]
				case r < 55:
					tp.Action, tp.Key = attribution.AdClick, adKeys[h>>8%uint64(len(adKeys))]
				case r < 70:
					tp.Action, tp.Key = attribution.EmailSent, emailKeys[h>>8%uint64(len(emailKeys))]
				case r < 80:
					tp.Action, tp.Key = attribution.EmailOpened, emailKeys[h>>8%uint64(len(emailKeys))]
				case r < 86:
					tp.Action, tp.Key = attribution.EmailClicked, emailKeys[h>>8%uint64(len(emailKeys))]
				case r < 88:
					tp.Action, tp.Key = attribution.EmailBounced, emailKeys[h>>8%uint64(len(emailKeys))]
				case r < 92:
					tp.Action, tp.Key = attribution.SMSSent, smsKeys[h>>8%uint64(len(smsKeys))]
				case r < 95:
					tp.Action, tp.Key = attribution.SMSClicked, smsKeys[h>>8%uint64(len(smsKeys))]
				default:
					tp.Action = attribution.DirectVisit
				}
				if !yield(tp) {
					return
				}
			}
		}
	}
}

func (w workload) conversions() iter.Seq[attribution.Conversion] {
	return func(yield func(attribution.Conversion) bool) {
		for i := range w.customers {
			var t time.Time
			for j := range min(8, w.perCustomer) {
				t = touchAt(i, j, t)
			}
			h := hash(uint64(i), 1<<40)
			c := attribution.Conversion{
				Order: strconv.Itoa(i), Customer: customer(i), Time: t.Add(30 * time.Minute),
				Revenue: money.Amount{Minor: 1000 + int64(h%50000), Currency: "USD"}, FirstTime: h&(1<<20) != 0,
			}
			if !yield(c) {
				return
			}
		}
	}
}

func (w workload) input() attribution.Input {
	return attribution.Input{Touchpoints: w.touchpoints(), Conversions: w.conversions()}
}

// floor is the least any rollup must do: read every touchpoint and
// conversion once, looking at every field, from the same generators.
func floor(in attribution.Input) uint64 {
	var sum uint64
	for tp := range in.Touchpoints {
		k := tp.Key
		sum += uint64(len(tp.Customer)+len(k.Channel)+len(k.Campaign)+len(k.AdGroup)+len(k.Ad)+len(tp.UTM.Source)+len(tp.UTM.Medium)+len(tp.UTM.Campaign)) +
			uint64(tp.Time.UnixNano()) + uint64(tp.Action)
	}
	for c := range in.Conversions {
		sum += uint64(len(c.Order)+len(c.Customer)+len(c.Revenue.Currency)) + uint64(c.Time.UnixNano()) + uint64(c.Revenue.Minor)
		if c.FirstTime {
			sum++
		}
	}
	return sum
}

var sink uint64

// BenchmarkRollup10M rolls up 10,000,000 touchpoints and 1,000,000
// conversions and reports the speed (touchpoints per CPU second) and the
// ratio of its CPU time to the floor's, measured in the same run.
func BenchmarkRollup10M(b *testing.B) {
	w := workload{customers: 1_000_000, perCustomer: 10}
	n := w.customers * w.perCustomer
	cfg := attribution.Config{Model: attribution.Linear}
	var floorTime, rollupTime time.Duration
	for range b.N {
		b.StopTimer()
		runtime.GC()
		start := cputime.Now()
		sink += floor(w.input())
		floorTime += cputime.Now() - start
		runtime.GC()
		b.StartTimer()

		start = cputime.Now()
		res, err := cfg.Rollup(w.input())
		rollupTime += cputime.Now() - start
		if err != nil {
			b.Fatal(err)
		}
		if res.Stats.Touchpoints != int64(n) || res.Stats.Conversions != int64(w.customers) {
			b.Fatalf("read %d touchpoints and %d conversions", res.Stats.Touchpoints, res.Stats.Conversions)
		}
	}
	b.ReportMetric(float64(n*b.N)/rollupTime.Seconds(), "touchpoints/s")
	b.ReportMetric(float64(n*b.N)/floorTime.Seconds(), "floor-touchpoints/s")
	b.ReportMetric(rollupTime.Seconds()/floorTime.Seconds(), "x-of-floor")
}

// peakHeap runs a rollup and returns the largest heap in use while it ran,
// above what was in use before, sampled every 65,536 touchpoints and once
// more with the result still alive. The input is streamed, so none of it
// is counted.
func peakHeap(b *testing.B, cfg attribution.Config, w workload) (uint64, *attribution.Result) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	sample := func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	in := w.input()
	tps := in.Touchpoints
	in.Touchpoints = func(yield func(attribution.Touchpoint) bool) {
		i := 0
		for tp := range tps {
			if i++; i&(1<<16-1) == 0 {
				sample()
			}
			if !yield(tp) {
				return
			}
		}
	}
	res, err := cfg.Rollup(in)
	if err != nil {
		b.Fatal(err)
	}
	sample()
	return peak - base, res
}

// BenchmarkRollupHeap compares the peak heap of a rollup of 1,000,000
// touchpoints with one of 10,000,000 over the same keys and days: memory
// follows the rows, not the touchpoints.
func BenchmarkRollupHeap(b *testing.B) {
	cfg := attribution.Config{Model: attribution.Linear}
	small := workload{customers: 100_000, perCustomer: 10}
	large := workload{customers: 1_000_000, perCustomer: 10}
	var h1, h10 uint64
	for range b.N {
		p1, r1 := peakHeap(b, cfg, small)
		p10, r10 := peakHeap(b, cfg, large)
		if len(r1.Daily) == 0 || len(r10.Daily) < len(r1.Daily) {
			b.Fatalf("rows: %d for 1M, %d for 10M", len(r1.Daily), len(r10.Daily))
		}
		h1, h10 = max(h1, p1), max(h10, p10)
		b.ReportMetric(float64(len(r10.Daily)), "rows")
	}
	const mb = 1 << 20
	b.ReportMetric(float64(h1)/mb, "heap-1M-MB")
	b.ReportMetric(float64(h10)/mb, "heap-10M-MB")
	b.ReportMetric(float64(h10)/float64(h1), "heap-ratio")
}

// BenchmarkAttribute splits one order over a 12-click journey, per model.
func BenchmarkAttribute(b *testing.B) {
	var journey []attribution.Touchpoint
	for j := range 12 {
		journey = append(journey, tp("c", t0.Add(-time.Duration(j)*day), attribution.AdClick, adKeys[j*7]))
	}
	conv := attribution.Conversion{Order: "1", Customer: "c", Time: t0, Revenue: usd("123.45")}
	for _, m := range append(summing, attribution.AnyClick) {
		b.Run(m.String(), func(b *testing.B) {
			cfg := attribution.Config{Model: m}
			for b.Loop() {
				if _, err := cfg.Attribute(conv, journey); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

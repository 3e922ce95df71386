package attribution_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
)

var summing = []attribution.Model{
	attribution.LastNonDirectClick, attribution.LastClick, attribution.FirstClick,
	attribution.Linear, attribution.TimeDecay, attribution.PositionBased,
}

// randKeys are full four-tier keys, so that every parent must equal the
// sum of its children.
func randKeys() []attribution.Key {
	var ks []attribution.Key
	for _, ch := range []string{"google", "meta", "klaviyo"} {
		for _, ca := range []string{"c1", "c2"} {
			for _, g := range []string{"g1", "g2"} {
				for _, ad := range []string{"a1", "a2"} {
					ks = append(ks, attribution.Key{Channel: ch, Campaign: ca, AdGroup: g, Ad: ad})
				}
			}
		}
	}
	return ks
}

var currencies = []money.Currency{"USD", "JPY", "KWD"}

// randJourney returns up to 12 touchpoints of one customer around base,
// with ties at the same instant, and some of every action.
func randJourney(r *rand.Rand, customer string, base time.Time, keys []attribution.Key) []attribution.Touchpoint {
	n := r.IntN(13)
	ts := make([]attribution.Touchpoint, 0, n)
	for range n {
		at := base.Add(time.Duration(r.IntN(80)-60) * 12 * time.Hour) // 30 days before to 10 after, coarse so ties happen
		action := attribution.Action(1 + r.IntN(int(attribution.MessageBounced)))
		t := attribution.Touchpoint{Customer: customer, Time: at, Action: action, Key: keys[r.IntN(len(keys))]}
		if action == attribution.DirectVisit {
			t.Key = attribution.Key{}
		}
		ts = append(ts, t)
	}
	return ts
}

func randConversion(r *rand.Rand, order, customer string, at time.Time) attribution.Conversion {
	return attribution.Conversion{
		Order: order, Customer: customer, Time: at, FirstTime: r.IntN(2) == 0,
		Revenue: money.Amount{Minor: r.Int64N(1_000_000), Currency: currencies[r.IntN(len(currencies))]},
	}
}

// For the six summing models a conversion's credits add up to exactly one
// and its revenue parts to exactly its revenue; any click gives every
// clicked key the whole order.
func TestPropertyAttributeSums(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := randKeys()
	for i := range 400 {
		base := t0.Add(time.Duration(r.IntN(1000)) * time.Minute)
		journey := randJourney(r, "c", base, keys)
		conv := randConversion(r, "o", "c", base)
		eligible := map[attribution.Key]bool{}
		for _, tp := range journey {
			if tp.Action.Eligible() && !tp.Time.After(conv.Time) && !tp.Time.Before(conv.Time.Add(-attribution.DefaultLookback)) {
				k := tp.Key
				if k == (attribution.Key{}) {
					k = direct
				}
				eligible[k] = true
			}
		}
		for _, model := range append(slices.Clone(summing), attribution.AnyClick) {
			parts, err := attribution.Config{Model: model}.Attribute(conv, journey)
			if err != nil {
				t.Fatalf("case %d %v: %v", i, model, err)
			}
			if (len(parts) == 0) != (len(eligible) == 0) {
				t.Fatalf("case %d %v: %d parts for %d eligible keys", i, model, len(parts), len(eligible))
			}
			if len(parts) == 0 {
				continue
			}
			var credit attribution.Credit
			rev := money.Zero(conv.Revenue.Currency)
			for _, p := range parts {
				if !eligible[p.Key] {
					t.Fatalf("case %d %v: credit to %v, which has no eligible touchpoint", i, model, p.Key)
				}
				if p.Credit < 0 || p.Revenue.Sign() < 0 {
					t.Fatalf("case %d %v: negative part %+v", i, model, p)
				}
				if model == attribution.AnyClick && (p.Credit != attribution.One || p.Revenue != conv.Revenue) {
					t.Fatalf("case %d: any click part %+v, want a whole order", i, p)
				}
				credit += p.Credit
				if rev, err = rev.Add(p.Revenue); err != nil {
					t.Fatalf("case %d %v: %v", i, model, err)
				}
			}
			if model == attribution.AnyClick {
				if len(parts) != len(eligible) {
					t.Fatalf("case %d: any click credited %d keys, want %d", i, len(parts), len(eligible))
				}
				continue
			}
			if credit != attribution.One {
				t.Fatalf("case %d %v: credits sum to %v, want 1", i, model, credit)
			}
			if rev != conv.Revenue {
				t.Fatalf("case %d %v: revenue parts sum to %v, want %v", i, model, rev, conv.Revenue)
			}
		}
	}
}

// The streaming rollup agrees with Attribute conversion by conversion, its
// totals account for every order, every parent is the sum of its children
// and every period row the sum of its days.
func TestPropertyRollup(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	keys := randKeys()
	for round := range 12 {
		var tps []attribution.Touchpoint
		var convs []attribution.Conversion
		for c := range 30 {
			customer := fmt.Sprintf("c%02d", c)
			base := t0.Add(time.Duration(r.IntN(20*24)) * time.Hour)
			tps = append(tps, randJourney(r, customer, base, keys)...)
			for o := range r.IntN(3) {
				convs = append(convs, randConversion(r, fmt.Sprintf("%s-%d", customer, o), customer, base.Add(time.Duration(o)*36*time.Hour)))
			}
		}
		attribution.SortTouchpoints(tps)
		attribution.SortConversions(convs)
		for _, model := range append(slices.Clone(summing), attribution.AnyClick) {
			cfg := attribution.Config{Model: model}
			res := rollup(t, cfg, attribution.Input{Touchpoints: slices.Values(tps), Conversions: slices.Values(convs)})
			name := fmt.Sprintf("round %d %v", round, model)

			// Expected ad-level conversions and revenue, from Attribute.
			type sums struct {
				credit attribution.Credit
				rev    money.Totals
			}
			want := map[attribution.Key]*sums{}
			var attributed int64
			var all, unattributed money.Totals
			for _, cv := range convs {
				_ = all.Add(cv.Revenue)
				parts, err := cfg.Attribute(cv, journeyOf(tps, cv.Customer))
				if err != nil {
					t.Fatal(err)
				}
				if len(parts) == 0 {
					_ = unattributed.Add(cv.Revenue)
					continue
				}
				attributed++
				for _, p := range parts {
					if want[p.Key] == nil {
						want[p.Key] = &sums{}
					}
					want[p.Key].credit += p.Credit
					_ = want[p.Key].rev.Add(p.Revenue)
				}
			}
			got := map[attribution.Key]*sums{}
			for _, row := range res.Period {
				if row.Level == attribution.AdLevel || (row.Level == attribution.ChannelLevel && row.Key == direct) {
					if row.Conversions != 0 || row.Revenue.Len() > 0 {
						got[row.Key] = &sums{credit: row.Conversions, rev: row.Revenue}
					}
				}
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(sums{})); diff != "" {
				t.Fatalf("%s: rollup and Attribute disagree (-attribute +rollup):\n%s", name, diff)
			}
			if res.Stats.Attributed != attributed || !res.Unattributed.Revenue.Equal(unattributed) {
				t.Fatalf("%s: attributed %d, unattributed %v; want %d, %v", name, res.Stats.Attributed, res.Unattributed.Revenue, attributed, unattributed)
			}
			// The total counts each order once, under any model.
			if len(res.Period) > 0 {
				total := res.Period[0]
				if total.Conversions != attribution.Credit(attributed)*attribution.One {
					t.Fatalf("%s: total credit %v for %d attributed orders", name, total.Conversions, attributed)
				}
				var sum money.Totals
				_ = sum.AddTotals(total.Revenue)
				_ = sum.AddTotals(unattributed)
				if !sum.Equal(all) {
					t.Fatalf("%s: attributed %v + unattributed %v != all revenue %v", name, total.Revenue, unattributed, all)
				}
			}
			if model.Sums() {
				checkChildrenSum(t, name, res.Period)
				checkChildrenSum(t, name, res.Daily)
			}
			checkDaysSum(t, name, res)
		}
	}
}

func journeyOf(tps []attribution.Touchpoint, customer string) []attribution.Touchpoint {
	var out []attribution.Touchpoint
	for _, tp := range tps {
		if tp.Customer == customer {
			out = append(out, tp)
		}
	}
	return out
}

type nodeDay struct {
	level    attribution.Level
	key      attribution.Key
	from, to calendar.Date
}

// checkChildrenSum checks that every parent is the sum of its children
// (keys here have all four tiers, or are the direct channel, so every
// node's children are the rows one level down).
func checkChildrenSum(t *testing.T, name string, rows []attribution.Row) {
	t.Helper()
	parents := map[nodeDay]attribution.Row{}
	kids := map[nodeDay]*attribution.Measures{}
	for _, r := range rows {
		parents[nodeDay{r.Level, r.Key, r.From, r.To}] = r
		if r.Level == attribution.TotalLevel {
			continue
		}
		pk, _ := r.Key.At(r.Level - 1)
		id := nodeDay{r.Level - 1, pk, r.From, r.To}
		if kids[id] == nil {
			kids[id] = &attribution.Measures{}
		}
		add(kids[id], &r.Measures)
	}
	for id, sum := range kids {
		if diff := cmp.Diff(parents[id].Measures, *sum); diff != "" {
			t.Fatalf("%s: %v %v is not the sum of its children (-parent +children):\n%s", name, id.level, id.key, diff)
		}
	}
}

// checkDaysSum checks that every period row is the sum of its daily rows.
func checkDaysSum(t *testing.T, name string, res *attribution.Result) {
	t.Helper()
	type node struct {
		level attribution.Level
		key   attribution.Key
	}
	days := map[node]*attribution.Measures{}
	for _, r := range res.Daily {
		if r.From < res.From || r.To > res.To {
			t.Fatalf("%s: daily row on %v outside %v..%v", name, r.From, res.From, res.To)
		}
		n := node{r.Level, r.Key}
		if days[n] == nil {
			days[n] = &attribution.Measures{}
		}
		add(days[n], &r.Measures)
	}
	if len(days) != len(res.Period) {
		t.Fatalf("%s: %d period rows for %d daily nodes", name, len(res.Period), len(days))
	}
	for _, p := range res.Period {
		if diff := cmp.Diff(p.Measures, *days[node{p.Level, p.Key}]); diff != "" {
			t.Fatalf("%s: period row %v %v is not the sum of its days (-period +days):\n%s", name, p.Level, p.Key, diff)
		}
	}
}

func add(dst, m *attribution.Measures) {
	dst.Impressions += m.Impressions
	dst.Clicks += m.Clicks
	dst.Sends += m.Sends
	dst.Opens += m.Opens
	dst.MessageClicks += m.MessageClicks
	dst.Bounces += m.Bounces
	dst.Unsubscribes += m.Unsubscribes
	dst.Complaints += m.Complaints
	dst.Conversions += m.Conversions
	dst.FirstTime += m.FirstTime
	dst.Returning += m.Returning
	_ = dst.Spend.AddTotals(m.Spend)
	_ = dst.Revenue.AddTotals(m.Revenue)
}

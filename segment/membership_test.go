package segment

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/ratio"
)

// shop is a small store whose figures are worked out by hand in
// TestEvaluate.
func shop() []Customer {
	coffee := item(100, "Coffee", "Roastery")
	coffee2 := item(101, "Coffee", "Roastery")
	tea := item(200, "Tea", "Roastery")
	mug := item(300, "Mug", "Potter")
	return []Customer{
		cust(1, []string{"line", "ecp-first"},
			via(ord(11, ago(10*day), jpy(3000), coffee), "web")),
		cust(2, []string{"ecp-first"},
			via(ord(21, ago(200*day), jpy(5000), coffee, tea), "pos"),
			via(ord(22, ago(30*day), jpy(2000), coffee), "web"),
			ord(23, ago(20*day), jpy(-1000))), // refund entry
		cust(3, []string{"LINE ", "ecp-repeat"},
			via(ord(34, now.Add(day), jpy(9999), coffee), "web"), // after now: ignored
			via(ord(33, ago(5*day), jpy(1000), coffee), "web"),
			via(ord(31, ago(60*day), jpy(1500), tea), "line"),
			via(ord(32, ago(50*day), jpy(2500), mug), "line")),
		cust(4, nil),
		cust(5, []string{"ecp-coffee"},
			via(ord(51, ago(100*day), jpy(4000), coffee, coffee2, coffee), "web")),
	}
}

func shopDefs() []Definition {
	return []Definition{
		{Name: "first", Tag: "ecp-first", Rule: FirstTimeBuyer()},
		{Name: "repeat", Tag: "ecp-repeat", Rule: RepeatBuyer()},
		{Name: "line", Tag: "ecp-line", Rule: HasTag("line")},
		{Name: "coffee", Tag: "ecp-coffee", Rule: ProductFan(ProductMatch{Type: "coffee"}, 2)},
	}
}

func shopOptions() Options {
	return Options{
		Now:          now,
		RepeatWindow: 90 * day,
		Sends: []Send{
			{Segment: "line", At: ago(55 * day), Within: 7 * day},
			{Segment: "first", At: ago(35 * day), Within: 30 * day},
			{Segment: "repeat", At: ago(3 * day), Within: 7 * day, Recipients: cids(3, 4)},
		},
	}
}

func totals(t *testing.T, amounts ...money.Amount) money.Totals {
	t.Helper()
	var tot money.Totals
	for _, a := range amounts {
		if err := tot.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	return tot
}

func byJPY(n int) map[money.Currency]int { return map[money.Currency]int{"JPY": n} }

func TestEvaluate(t *testing.T) {
	w := 90 * day
	want := &Result{
		Now:       now,
		Customers: 5,
		Segments: []Report{{
			Name: "first", Tag: "ecp-first",
			Members:          cids(1, 5),
			Tagged:           []bool{true, false},
			TaggedNonMembers: cids(2),
			Metrics: Metrics{Customers: 2, Buyers: 2, Repeaters: 0, Window: w, WindowBuyers: 1, WindowRepeaters: 0,
				Orders: 2, OrdersByCurrency: byJPY(2), Revenue: totals(t, jpy(7000))},
			FirstPurchase: []ProductCount{{pid(100), 2}, {pid(101), 1}},
			Channels:      []ChannelCount{{"web", 2}},
		}, {
			Name: "repeat", Tag: "ecp-repeat",
			Members: cids(2, 3),
			Tagged:  []bool{false, true},
			Metrics: Metrics{Customers: 2, Buyers: 2, Repeaters: 2, Window: w, WindowBuyers: 2, WindowRepeaters: 1,
				Orders: 5, OrdersByCurrency: byJPY(5), Revenue: totals(t, jpy(11000))},
			FirstPurchase:  []ProductCount{{pid(200), 2}, {pid(100), 1}},
			SecondPurchase: []ProductCount{{pid(100), 1}, {pid(300), 1}},
			Channels:       []ChannelCount{{"line", 1}, {"pos", 1}},
		}, {
			Name: "line", Tag: "ecp-line",
			Members: cids(1, 3),
			Tagged:  []bool{false, false},
			Metrics: Metrics{Customers: 2, Buyers: 2, Repeaters: 1, Window: w, WindowBuyers: 2, WindowRepeaters: 1,
				Orders: 4, OrdersByCurrency: byJPY(4), Revenue: totals(t, jpy(8000))},
			FirstPurchase:  []ProductCount{{pid(100), 1}, {pid(200), 1}},
			SecondPurchase: []ProductCount{{pid(300), 1}},
			Channels:       []ChannelCount{{"line", 1}, {"web", 1}},
		}, {
			Name: "coffee", Tag: "ecp-coffee",
			Members:          cids(2),
			Tagged:           []bool{false},
			TaggedNonMembers: cids(5),
			Metrics: Metrics{Customers: 1, Buyers: 1, Repeaters: 1, Window: w, WindowBuyers: 1, WindowRepeaters: 0,
				Orders: 2, OrdersByCurrency: byJPY(2), Revenue: totals(t, jpy(6000))},
			FirstPurchase:  []ProductCount{{pid(100), 1}, {pid(200), 1}},
			SecondPurchase: []ProductCount{{pid(100), 1}},
			Channels:       []ChannelCount{{"pos", 1}},
		}},
		Sends: []SendReport{
			{Segment: "line", At: ago(55 * day), Within: 7 * day, Audience: 2, Converted: 1, Orders: 1, Revenue: totals(t, jpy(2500))},
			{Segment: "first", At: ago(35 * day), Within: 30 * day, Audience: 2, Converted: 1, Orders: 1, Revenue: totals(t, jpy(1000))},
			{Segment: "repeat", At: ago(3 * day), Within: 7 * day, Audience: 2, Partial: true},
		},
	}
	got, err := Evaluate(slices.Values(shop()), shopDefs(), shopOptions())
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "Result", want, got)

	// The same customers in another order give the same result.
	shuffled := shop()
	slices.Reverse(shuffled)
	shuffled[1], shuffled[3] = shuffled[3], shuffled[1]
	got2, err := Evaluate(slices.Values(shuffled), shopDefs(), shopOptions())
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "Result from unsorted input", want, got2)

	deltas := map[string]Delta{
		"first":  {Joined: cids(5), Left: cids(2), Unchanged: 1},
		"repeat": {Joined: cids(2), Unchanged: 1},
		"line":   {Joined: cids(1, 3)},
		"coffee": {Joined: cids(2), Left: cids(5)},
	}
	for _, r := range got.Segments {
		diff(t, "TagDelta of "+r.Name, deltas[r.Name], r.TagDelta())
	}

	rep, ok := got.Segment("repeat")
	if !ok || rep.Name != "repeat" {
		t.Fatalf("Segment(repeat) = %v, %v", rep, ok)
	}
	if _, ok := got.Segment("nope"); ok {
		t.Error("Segment(nope) found")
	}
}

func TestMetricsDerived(t *testing.T) {
	res, err := Evaluate(slices.Values(shop()), shopDefs(), shopOptions())
	if err != nil {
		t.Fatal(err)
	}
	type derived struct {
		Repeat, WindowRepeat, PerCustomer ratio.Ratio
		LTV, AOV                          []money.Amount
	}
	want := map[string]derived{
		"first":  {ratio.Of(0, 2), ratio.Of(0, 1), ratio.Of(2, 2), []money.Amount{jpy(3500)}, []money.Amount{jpy(3500)}},
		"repeat": {ratio.Of(2, 2), ratio.Of(1, 2), ratio.Of(5, 2), []money.Amount{jpy(5500)}, []money.Amount{jpy(2200)}},
		"line":   {ratio.Of(1, 2), ratio.Of(1, 2), ratio.Of(4, 2), []money.Amount{jpy(4000)}, []money.Amount{jpy(2000)}},
		"coffee": {ratio.Of(1, 1), ratio.Of(0, 1), ratio.Of(2, 1), []money.Amount{jpy(6000)}, []money.Amount{jpy(3000)}},
	}
	got := map[string]derived{}
	for _, s := range res.Segments {
		m := s.Metrics
		got[s.Name] = derived{m.RepeatRate(), m.WindowRepeatRate(), m.OrdersPerCustomer(), m.LTV(), m.AOV()}
	}
	diff(t, "derived metrics", want, got)
	diff(t, "conversion", []ratio.Ratio{{Num: 1, Den: 2}, {Num: 1, Den: 2}, {Num: 0, Den: 2}},
		[]ratio.Ratio{res.Sends[0].Conversion(), res.Sends[1].Conversion(), res.Sends[2].Conversion()})
}

func TestMetricsMoney(t *testing.T) {
	// Two currencies, rounding half to even, and a currency with only a
	// refund entry.
	m := Metrics{
		Customers:        3,
		Orders:           4,
		OrdersByCurrency: map[money.Currency]int{"USD": 4},
		Revenue:          totals(t, usd(1001), jpy(-500), usd(2)), // 10.03 USD over 3 customers, 4 orders
	}
	diff(t, "LTV", []money.Amount{jpy(-167), usd(334)}, m.LTV()) // -166.67, 3.343…
	diff(t, "AOV", []money.Amount{usd(251)}, m.AOV())            // 2.5075 -> 2.51
	half := Metrics{Customers: 2, OrdersByCurrency: byJPY(2), Revenue: totals(t, jpy(5))}
	diff(t, "LTV half to even", []money.Amount{jpy(2)}, half.LTV()) // 2.5 -> 2
	half.Revenue = totals(t, jpy(7))
	diff(t, "AOV half to even", []money.Amount{jpy(4)}, half.AOV()) // 3.5 -> 4
}

func TestEmptySegment(t *testing.T) {
	defs := []Definition{{Name: "none", Tag: "ecp-none", Rule: HasTag("never")}}
	res, err := Evaluate(slices.Values(shop()), defs, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Segments[0]
	want := Report{Name: "none", Tag: "ecp-none", Metrics: Metrics{Window: DefaultRepeatWindow}}
	diff(t, "empty report", want, r)
	for _, rt := range []ratio.Ratio{r.Metrics.RepeatRate(), r.Metrics.WindowRepeatRate(), r.Metrics.OrdersPerCustomer()} {
		if _, ok := rt.Float(); ok || rt.String() != "0/0 (undefined)" {
			t.Errorf("ratio %v defined on an empty segment", rt)
		}
	}
	if r.Metrics.LTV() != nil || r.Metrics.AOV() != nil {
		t.Error("money metrics of an empty segment are not empty")
	}
	// No customers at all.
	res, err = Evaluate(slices.Values([]Customer(nil)), defs, Options{Now: now})
	if err != nil || res.Customers != 0 || len(res.Segments[0].Members) != 0 {
		t.Errorf("empty input: %+v, %v", res, err)
	}
}

func TestEvaluateBadInput(t *testing.T) {
	good := func(n int64) Customer { return cust(n, nil, ord(n*10, ago(day), jpy(100))) }
	withOrders := func(os ...Order) Customer { return cust(9, nil, os...) }
	many := make([]Order, 20)
	for i := range many {
		many[i] = ord(int64(100+i), ago(day), jpy(1))
	}
	many[17].ID = oid(105)

	cases := []struct {
		name  string
		in    []Customer
		check func(error) bool
	}{
		{"order id as customer", []Customer{{ID: oid(1)}}, inputErr(oid(1), "ID")},
		{"zero customer id", []Customer{{}}, inputErr(gid.ID{}, "ID")},
		{"customer id as order", []Customer{withOrders(Order{ID: cid(1), Time: now, Total: jpy(1)})}, inputErr(cid(9), "Orders[0].ID")},
		{"order without time", []Customer{withOrders(Order{ID: oid(1), Total: jpy(1)})}, inputErr(cid(9), "Orders[0].Time")},
		{"unknown currency", []Customer{withOrders(ord(1, now, money.Amount{Minor: 1, Currency: "ABC"}))},
			func(err error) bool {
				var ue *money.UnknownCurrencyError
				return inputErr(cid(9), "Orders[0].Total.Currency")(err) && errors.As(err, &ue) && ue.Code == "ABC"
			}},
		{"missing currency", []Customer{withOrders(ord(1, now, money.Amount{}))}, inputErr(cid(9), "Orders[0].Total.Currency")},
		{"order id as product", []Customer{withOrders(ord(1, now, jpy(1), LineItem{}, LineItem{Product: oid(3)}))}, inputErr(cid(9), "Orders[0].Items[1].Product")},
		{"duplicate order id", []Customer{withOrders(ord(1, now, jpy(1)), ord(2, now, jpy(1)), ord(1, now, jpy(2)))}, inputErr(cid(9), "Orders[2].ID")},
		{"duplicate order id among many", []Customer{withOrders(many...)}, inputErr(cid(9), "Orders[5].ID")},
		{"duplicate customer, ascending", []Customer{good(1), good(2), good(2)}, seqIs("customers", 2, Duplicate)},
		{"duplicate customer, any order", []Customer{good(3), good(1), good(2), good(1)}, seqIs("customers", -1, Duplicate)},
		{"revenue overflow", []Customer{withOrders(ord(1, ago(day), jpy(1<<62)), ord(2, ago(day), jpy(1<<62)))},
			func(err error) bool { return inputErr(cid(9), "Orders")(err) && errors.Is(err, money.ErrOverflow) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Evaluate(slices.Values(tc.in), shopDefs(), Options{Now: now})
			if !tc.check(err) {
				t.Errorf("error = %v", err)
			}
		})
	}
}

func inputErr(c gid.ID, field string) func(error) bool {
	return func(err error) bool {
		var ie *InputError
		return errors.As(err, &ie) && ie.Customer == c && ie.Field == field && ie.Error() != ""
	}
}

func TestEvaluatorStickyError(t *testing.T) {
	e, err := NewEvaluator(shopDefs(), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	bad := Customer{ID: oid(1)}
	first := e.Add(&bad)
	if first == nil {
		t.Fatal("bad customer accepted")
	}
	good := cust(2, nil)
	if err := e.Add(&good); err != first {
		t.Errorf("Add after an error = %v, want the first error", err)
	}
	if _, err := e.Result(); err != first {
		t.Errorf("Result after an error = %v, want the first error", err)
	}
	if err := e.Add(nil); err != first {
		t.Errorf("Add(nil) = %v", err)
	}

	e, _ = NewEvaluator(shopDefs(), Options{Now: now})
	if err := e.Add(nil); !inputErr(gid.ID{}, "customer")(err) {
		t.Errorf("Add(nil) = %v", err)
	}
	e, _ = NewEvaluator(shopDefs(), Options{Now: now})
	r1, err := e.Result()
	if err != nil {
		t.Fatal(err)
	}
	if r2, _ := e.Result(); r2 != r1 {
		t.Error("second Result differs")
	}
	if err := e.Add(&good); err == nil {
		t.Error("Add after Result accepted")
	}
}

func TestEvaluateRuleErrorStops(t *testing.T) {
	defs := []Definition{{Name: "big", Tag: "big", Rule: Loyal(0, usd(100), 0)}}
	_, err := Evaluate(slices.Values(shop()), defs, Options{Now: now})
	var re *RuleError
	if !errors.As(err, &re) || re.Customer != cid(1) {
		t.Fatalf("error = %v, want a *RuleError for customer 1", err)
	}
	defs[0].Rule = FirstTimeBuyer()
	opts := Options{Now: now, Sends: []Send{{Segment: "big", At: ago(day), Within: day}}}
	defs = append(defs, Definition{Name: "x", Tag: "x", Rule: RuleFunc(func(c *Customer, t time.Time) (bool, error) {
		if t.Before(now) {
			return false, errors.New("no history")
		}
		return false, nil
	})})
	opts.Sends[0].Segment = "x"
	if _, err := Evaluate(slices.Values(shop()), defs, opts); err == nil || err.Error() == "" {
		t.Fatal("a send's rule error was swallowed")
	}
}

func TestNewEvaluatorConfigErrors(t *testing.T) {
	ok := Definition{Name: "a", Tag: "a", Rule: RepeatBuyer()}
	cases := []struct {
		name  string
		defs  []Definition
		opts  Options
		field string
	}{
		{"no now", []Definition{ok}, Options{}, "Options.Now"},
		{"negative window", []Definition{ok}, Options{Now: now, RepeatWindow: -1}, "Options.RepeatWindow"},
		{"no definitions", nil, Options{Now: now}, "Definitions"},
		{"empty name", []Definition{{Tag: "a", Rule: RepeatBuyer()}}, Options{Now: now}, "Definitions[0].Name"},
		{"duplicate name", []Definition{ok, {Name: "a", Tag: "b", Rule: RepeatBuyer()}}, Options{Now: now}, "Definitions[1].Name"},
		{"bad tag", []Definition{{Name: "a", Tag: "a,b", Rule: RepeatBuyer()}}, Options{Now: now}, "Definitions[0].Tag"},
		{"duplicate tag", []Definition{ok, {Name: "b", Tag: "A", Rule: RepeatBuyer()}}, Options{Now: now}, "Definitions[1].Tag"},
		{"nil rule", []Definition{{Name: "a", Tag: "a"}}, Options{Now: now}, "Definitions[0].Rule"},
		{"bad rule", []Definition{{Name: "a", Tag: "a", Rule: Lapsed(0)}}, Options{Now: now}, "Definitions[0].Rule"},
		{"send to unknown", []Definition{ok}, Options{Now: now, Sends: []Send{{Segment: "b", At: now, Within: day}}}, "Sends[0].Segment"},
		{"send without time", []Definition{ok}, Options{Now: now, Sends: []Send{{Segment: "a", Within: day}}}, "Sends[0].At"},
		{"send in the future", []Definition{ok}, Options{Now: now, Sends: []Send{{Segment: "a", At: now.Add(1), Within: day}}}, "Sends[0].At"},
		{"send without window", []Definition{ok}, Options{Now: now, Sends: []Send{{Segment: "a", At: now}}}, "Sends[0].Within"},
		{"unsorted recipients", []Definition{ok}, Options{Now: now, Sends: []Send{{Segment: "a", At: now, Within: day, Recipients: cids(2, 1)}}}, "Sends[0].Recipients"},
		{"order recipients", []Definition{ok}, Options{Now: now, Sends: []Send{{Segment: "a", At: now, Within: day, Recipients: []gid.ID{oid(1)}}}}, "Sends[0].Recipients"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewEvaluator(tc.defs, tc.opts)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Errorf("error = %v, want *ConfigError for %s", err, tc.field)
			}
		})
	}
}

// TestEvaluateDoesNotRetain checks a source may reuse its buffers: results
// do not change when the source overwrites them after each customer.
func TestEvaluateDoesNotRetain(t *testing.T) {
	want, err := Evaluate(slices.Values(shop()), shopDefs(), shopOptions())
	if err != nil {
		t.Fatal(err)
	}
	reusing := func(yield func(Customer) bool) {
		var buf Customer
		for _, c := range shop() {
			buf.ID, buf.Created = c.ID, c.Created
			buf.Tags = append(buf.Tags[:0], c.Tags...)
			buf.Orders = append(buf.Orders[:0], c.Orders...)
			if !yield(buf) {
				return
			}
			for i := range buf.Orders {
				buf.Orders[i] = Order{}
			}
			for i := range buf.Tags {
				buf.Tags[i] = "overwritten"
			}
		}
	}
	got, err := Evaluate(reusing, shopDefs(), shopOptions())
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "Result with reused buffers", want, got, cmp.AllowUnexported())
}

// TestPurchaseSequence: orders arrive in any order and are sequenced by
// time, then id; refund entries and orders after now are not purchases.
func TestPurchaseSequence(t *testing.T) {
	at := ago(10 * day)
	c := cust(1, nil,
		via(ord(9, at, jpy(100), item(900, "", "")), "later-id"),
		via(ord(3, now.Add(day), jpy(100), item(300, "", "")), "future"),
		via(ord(7, at, jpy(100), item(700, "", "")), "same-time-lower-id"),
		via(ord(2, ago(20*day), jpy(-50), item(200, "", "")), "refund"),
	)
	res, err := Evaluate(slices.Values([]Customer{c}), []Definition{{Name: "all", Tag: "all", Rule: RepeatBuyer()}}, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Segments[0]
	diff(t, "first purchase", []ProductCount{{pid(700), 1}}, r.FirstPurchase)
	diff(t, "second purchase", []ProductCount{{pid(900), 1}}, r.SecondPurchase)
	diff(t, "channels", []ChannelCount{{"same-time-lower-id", 1}}, r.Channels)
	if r.Metrics.Orders != 2 || !r.Metrics.Revenue.Equal(totals(t, jpy(150))) {
		t.Errorf("metrics %+v", r.Metrics)
	}
}

package segment

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/tagging"
)

func TestBuiltinRules(t *testing.T) {
	none := cust(1, nil)
	one := cust(2, nil, ord(20, ago(10*day), jpy(3000)))
	two := cust(3, nil, ord(30, ago(400*day), jpy(3000)), ord(31, ago(5*day), jpy(4000)))
	// One order and one refund entry: still a first-time buyer.
	oneRefunded := cust(4, nil, ord(40, ago(20*day), jpy(5000)), ord(41, ago(15*day), jpy(-5000)))
	// The second order is placed after now: as of now the customer has one.
	future := cust(5, nil, ord(50, ago(3*day), jpy(1000)), ord(51, now.Add(time.Hour), jpy(1000)))
	big := cust(6, nil, ord(60, ago(30*day), jpy(60000)))
	oldBig := cust(7, nil, ord(70, ago(500*day), jpy(60000)))
	five := cust(8, nil,
		ord(80, ago(300*day), jpy(100)), ord(81, ago(200*day), jpy(100)), ord(82, ago(100*day), jpy(100)),
		ord(83, ago(50*day), jpy(100)), ord(84, ago(1*day), jpy(100)))
	// Spend reaches the threshold only before its refund.
	bigRefunded := cust(9, nil, ord(90, ago(30*day), jpy(60000)), ord(91, ago(29*day), jpy(-20000)))

	coffee := item(100, "Coffee", "Roastery")
	coffee2 := item(101, " coffee ", "Other")
	tea := item(200, "Tea", "Roastery")
	// Three orders with coffee (two with two coffee items), one with tea.
	fan := cust(10, nil,
		ord(1000, ago(90*day), jpy(100), coffee, coffee2),
		ord(1001, ago(60*day), jpy(100), tea),
		ord(1002, ago(30*day), jpy(100), coffee),
		ord(1003, ago(10*day), jpy(100), coffee2, coffee))
	tagged := cust(11, []string{"vip", " LINE "})
	sub := cust(12, []string{"Subscription-123-plan:monthly"})
	notSub := cust(13, []string{"my-subscription-", "subscription-x"})
	mySub := cust(14, []string{"my-7-plan:weekly"})
	mySchema, err := tagging.NewSchema(tagging.WithPrefix("my"))
	if err != nil {
		t.Fatal(err)
	}

	loyal := Loyal(5, jpy(50000), 365*day)
	cases := []struct {
		name string
		rule Rule
		c    Customer
		want bool
	}{
		{"first-time/none", FirstTimeBuyer(), none, false},
		{"first-time/one", FirstTimeBuyer(), one, true},
		{"first-time/two", FirstTimeBuyer(), two, false},
		{"first-time/refund entry is not an order", FirstTimeBuyer(), oneRefunded, true},
		{"first-time/future order ignored", FirstTimeBuyer(), future, true},
		{"repeat/one", RepeatBuyer(), one, false},
		{"repeat/two", RepeatBuyer(), two, true},
		{"repeat/future order ignored", RepeatBuyer(), future, false},
		{"loyal/spent in window", loyal, big, true},
		{"loyal/spent outside window", loyal, oldBig, false},
		{"loyal/five orders", loyal, five, true},
		{"loyal/four orders in a 250-day window", Loyal(5, money.Amount{}, 250*day), five, false},
		{"loyal/all time", Loyal(0, jpy(60000), 0), oldBig, true},
		{"loyal/refund lowers spend", loyal, bigRefunded, false},
		{"loyal/none", loyal, none, false},
		{"fan/type x3 counts orders", ProductFan(ProductMatch{Type: "coffee"}, 3), fan, true},
		{"fan/type x4", ProductFan(ProductMatch{Type: "coffee"}, 4), fan, false},
		{"fan/product x3", ProductFan(ProductMatch{Product: pid(100)}, 3), fan, true},
		{"fan/product 101 x2", ProductFan(ProductMatch{Product: pid(101)}, 2), fan, true},
		{"fan/product 101 x3", ProductFan(ProductMatch{Product: pid(101)}, 3), fan, false},
		{"fan/vendor x4", ProductFan(ProductMatch{Vendor: "roastery"}, 4), fan, true},
		{"fan/type and vendor x3", ProductFan(ProductMatch{Type: "Coffee", Vendor: "Other"}, 3), fan, false},
		{"fan/type and vendor x2", ProductFan(ProductMatch{Type: "Coffee", Vendor: "Other"}, 2), fan, true},
		{"fan/none", ProductFan(ProductMatch{Type: "coffee"}, 1), none, false},
		{"has-tag/trimmed and folded", HasTag("line"), tagged, true},
		{"has-tag/absent", HasTag("line"), one, false},
		{"has-tag/no partial match", HasTag("vi"), tagged, false},
		{"subscriber/default schema", Subscriber(nil), sub, true},
		{"subscriber/not a tag of the schema", Subscriber(nil), notSub, false},
		{"subscriber/custom schema", Subscriber(mySchema), mySub, true},
		{"subscriber/custom schema, default tags", Subscriber(mySchema), sub, false},
		{"lapsed/recent order", Lapsed(90 * day), two, false},
		{"lapsed/old order", Lapsed(90 * day), oldBig, true},
		{"lapsed/never ordered", Lapsed(90 * day), none, false},
		{"lapsed/refund entry is not an order", Lapsed(18 * day), oneRefunded, true},
		{"new/first order recent", NewBuyer(30 * day), one, true},
		{"new/first order old", NewBuyer(30 * day), two, false},
		{"new/never ordered", NewBuyer(30 * day), none, false},
		{"new/boundary excluded", NewBuyer(10 * day), one, false},
		{"and", And(RepeatBuyer(), Lapsed(3*day)), two, true},
		{"and/false", And(RepeatBuyer(), Lapsed(30*day)), two, false},
		{"or", Or(FirstTimeBuyer(), HasTag("line")), tagged, true},
		{"or/false", Or(FirstTimeBuyer(), HasTag("line")), none, false},
		{"not", Not(HasTag("line")), one, true},
		{"func", RuleFunc(func(c *Customer, now time.Time) (bool, error) { return len(c.Tags) == 2, nil }), tagged, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := validateRule(tc.rule); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got, err := tc.rule.Match(&tc.c, now)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tc.want {
				t.Errorf("%v.Match = %v, want %v", tc.rule, got, tc.want)
			}
		})
	}
}

func TestRuleErrors(t *testing.T) {
	c := cust(1, nil, ord(10, ago(day), jpy(100)))
	cases := []struct {
		name       string
		rule       Rule
		field      string
		matchField string // when Match names another field than Validate
	}{
		{"loyal/no threshold", Loyal(0, money.Amount{}, 0), "minOrders", ""},
		{"loyal/negative orders", Loyal(-1, jpy(1), 0), "minOrders", ""},
		{"loyal/negative amount", Loyal(1, jpy(-1), 0), "minSpent", ""},
		{"loyal/unknown currency", Loyal(0, money.Amount{Minor: 5, Currency: "XYZ"}, 0), "minSpent", ""},
		{"loyal/negative window", Loyal(1, money.Amount{}, -day), "window", ""},
		{"fan/empty match", ProductFan(ProductMatch{}, 1), "match", ""},
		{"fan/order id as product", ProductFan(ProductMatch{Product: oid(1)}, 1), "match.Product", ""},
		{"fan/k", ProductFan(ProductMatch{Type: "x"}, 0), "k", ""},
		{"has-tag/empty", HasTag(" "), "tag", ""},
		{"has-tag/comma", HasTag("a,b"), "tag", ""},
		{"subscriber-on-plan/empty", SubscriberOnPlan(nil, " "), "plan", ""},
		{"lapsed/zero", Lapsed(0), "d", ""},
		{"new/negative", NewBuyer(-day), "d", ""},
		{"and/empty", And(), "rules", ""},
		{"or/nil", Or(HasTag("x"), nil), "rules[1]", ""},
		{"not/invalid child", Not(Lapsed(0)), "rules[0]", "d"},
		{"func/nil", RuleFunc(nil), "func", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.matchField == "" {
				tc.matchField = tc.field
			}
			for i, err := range []error{validateRule(tc.rule), matchErr(tc.rule, &c)} {
				var re *RuleError
				if !errors.As(err, &re) {
					t.Fatalf("error = %v, want *RuleError", err)
				}
				if want := []string{tc.field, tc.matchField}[i]; re.Field != want {
					t.Errorf("Field = %q, want %q (%v)", re.Field, want, err)
				}
			}
		})
	}
	if err := validateRule(nil); err == nil {
		t.Error("validateRule(nil) = nil")
	}
}

func matchErr(r Rule, c *Customer) error {
	ok, err := r.Match(c, now)
	if ok {
		return errors.New("matched")
	}
	return err
}

func TestLoyalCurrencyMismatchIsAnError(t *testing.T) {
	c := cust(7, nil, ord(70, ago(day), jpy(100)), ord(71, ago(day), usd(100)))
	ok, err := Loyal(0, jpy(1000), 0).Match(&c, now)
	var re *RuleError
	var me *money.CurrencyMismatchError
	if ok || !errors.As(err, &re) || !errors.As(err, &me) {
		t.Fatalf("Match = %v, %v; want a *RuleError wrapping *money.CurrencyMismatchError", ok, err)
	}
	if re.Customer != cid(7) || re.Field != "Orders[1].Total" {
		t.Errorf("RuleError = %+v, want customer 7, field Orders[1].Total", re)
	}
	// An order-count threshold alone compares no money.
	if ok, err := Loyal(2, money.Amount{}, 0).Match(&c, now); !ok || err != nil {
		t.Errorf("Loyal(2 orders) = %v, %v; want true, nil", ok, err)
	}
}

func TestLogicShortCircuitAndErrors(t *testing.T) {
	c := cust(1, nil)
	boom := errors.New("boom")
	failing := RuleFunc(func(*Customer, time.Time) (bool, error) { return false, boom })
	cases := []struct {
		name    string
		rule    Rule
		want    bool
		wantErr error
	}{
		{"and stops at false", And(HasTag("x"), failing), false, nil},
		{"or stops at true", Or(Not(HasTag("x")), failing), true, nil},
		{"and reaches the error", And(Not(HasTag("x")), failing), false, boom},
		{"not keeps the error", Not(failing), false, boom},
	}
	for _, tc := range cases {
		got, err := tc.rule.Match(&c, now)
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: Match = %v, %v; want %v, %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestRuleStrings(t *testing.T) {
	r := And(Or(FirstTimeBuyer(), RepeatBuyer()), Not(HasTag("line")),
		Loyal(5, jpy(50000), 365*day), ProductFan(ProductMatch{Product: pid(9), Type: "Coffee"}, 3),
		Subscriber(nil), SubscriberOnPlan(nil, "Gold"), Lapsed(90*day), NewBuyer(36*time.Hour))
	want := `and(or(first-time-buyer, repeat-buyer), not(has-tag("line")), loyal(orders>=5 or spent>=50000 JPY within 365d), ` +
		`product-fan(product=9 type="Coffee" x3), subscriber("subscription"), subscriber-on-plan("subscription", "Gold"), lapsed(90d), new-buyer(36h0m0s))`
	if got := r.(interface{ String() string }).String(); got != want {
		t.Errorf("String =\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(And(nil).(interface{ String() string }).String(), "nil") {
		t.Error("String of a nil child does not say nil")
	}
}

// The subscription rules read contracts from tagging's schema: a customer
// whose only contract is cancelled, or who only carries a purchase-count
// rule tag, is not an active subscriber.
func TestSubscriptionRules(t *testing.T) {
	schema, err := tagging.NewSchema(tagging.WithRules(tagging.Rule{At: 3, Tag: "3回目購入"}))
	if err != nil {
		t.Fatal(err)
	}
	active := cust(1, []string{"line", "subscription-1-plan:Gold", "subscription-1-product:Beans"})
	cancelled := cust(2, []string{"subscription-2-plan:Gold", "subscription-2-cancel:2024-01-01"})
	ruleTagOnly := cust(3, []string{"3回目購入"})
	paused := cust(4, []string{"subscription-4-plan:Gold", "subscription-4-pause:2024-01-01"})
	pausedThenCancelled := cust(5, []string{"subscription-5-plan:Gold", "subscription-5-pause:2024-01-01", "subscription-5-cancel:2024-02-01"})
	mixed := cust(6, []string{"subscription-6-plan:Silver", "subscription-6-cancel:2024-01-01", "subscription-7-plan:gold"})
	skipsOnly := cust(7, []string{"subscription-8-skip-count:2"}) // a contract whose plan tag is missing
	none := cust(8, []string{"subscription-x", "VIP"})

	rules := []Rule{Subscriber(schema), SubscriberOnPlan(schema, "Gold"), PausedSubscriber(schema), CancelledSubscriber(schema)}
	for _, tc := range []struct {
		name string
		c    Customer
		want [4]bool // Subscriber, on Gold, paused, cancelled
	}{
		{"active", active, [4]bool{true, true, false, false}},
		{"cancelled", cancelled, [4]bool{false, false, false, true}},
		{"rule tag only", ruleTagOnly, [4]bool{false, false, false, false}},
		{"paused", paused, [4]bool{false, false, true, false}},
		{"paused then cancelled", pausedThenCancelled, [4]bool{false, false, false, true}},
		{"one cancelled, one active", mixed, [4]bool{true, true, false, false}},
		{"skips only", skipsOnly, [4]bool{true, false, false, false}},
		{"no contract", none, [4]bool{false, false, false, false}},
	} {
		for i, r := range rules {
			got, err := r.Match(&tc.c, now)
			if err != nil || got != tc.want[i] {
				t.Errorf("%s: %v = %v, %v; want %v", tc.name, r, got, err, tc.want[i])
			}
		}
	}

	// Through an evaluation, the rules share one reading of the tags.
	res, err := Evaluate(slices.Values([]Customer{active, cancelled, ruleTagOnly, paused, mixed}), []Definition{
		{Name: "subscribers", Tag: "ecp-sub", Rule: rules[0]},
		{Name: "gold", Tag: "ecp-gold", Rule: rules[1]},
		{Name: "paused", Tag: "ecp-paused", Rule: rules[2]},
		{Name: "win-back", Tag: "ecp-winback", Rule: And(rules[3], Not(rules[0]))},
	}, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]gid.ID{}
	for _, s := range res.Segments {
		got[s.Name] = s.Members
	}
	diff(t, "members", map[string][]gid.ID{
		"subscribers": {cid(1), cid(6)},
		"gold":        {cid(1), cid(6)},
		"paused":      {cid(4)},
		"win-back":    {cid(2)},
	}, got)
}

package tagging

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// step applies an event to a customer and checks the change and the tags
// the customer is left with.
type step struct {
	event  Event
	change Change // ID is filled in
	after  []string
}

func runSteps(t *testing.T, s *Schema, start []string, steps []step) {
	t.Helper()
	tags := NewSet(start...)
	for i, st := range steps {
		got, err := s.Apply(cust, tags.Tags(), st.event)
		if err != nil {
			t.Fatalf("step %d %T: %v", i, st.event, err)
		}
		want := st.change
		want.ID = cust
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("step %d %T%+v change mismatch (-want +got):\n%s", i, st.event, st.event, diff)
		}
		tags.Apply(got)
		if diff := cmp.Diff(st.after, tags.Tags()); diff != "" {
			t.Fatalf("step %d %T tags mismatch (-want +got):\n%s", i, st.event, diff)
		}
	}
}

func TestLifecycleOneContract(t *testing.T) {
	foreign := []string{"line", "VIP"}
	runSteps(t, Default(), foreign, []step{
		{
			Created{Contract: "1", Plan: "定期便A", Product: "コーヒー"},
			Change{Add: []string{"subscription-1-plan:定期便A", "subscription-1-product:コーヒー"}},
			[]string{"line", "VIP", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー"},
		},
		{ // applying the same event again changes nothing
			Created{Contract: "1", Plan: "定期便A", Product: "コーヒー"},
			Change{},
			[]string{"line", "VIP", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー"},
		},
		{
			Skipped{Contract: "1"},
			Change{Add: []string{"subscription-1-skip-count:1"}},
			[]string{"line", "VIP", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー", "subscription-1-skip-count:1"},
		},
		{
			Skipped{Contract: "1"},
			Change{Add: []string{"subscription-1-skip-count:2"}, Remove: []string{"subscription-1-skip-count:1"}},
			[]string{"line", "VIP", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー", "subscription-1-skip-count:2"},
		},
		{ // an explicit count makes a replayed skip harmless
			Skipped{Contract: "1", Count: 2},
			Change{},
			[]string{"line", "VIP", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー", "subscription-1-skip-count:2"},
		},
		{
			Paused{Contract: "1", On: d(2024, 6, 1)},
			Change{Add: []string{"subscription-1-pause:2024-06-01"}},
			[]string{"line", "VIP", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー", "subscription-1-skip-count:2", "subscription-1-pause:2024-06-01"},
		},
		{
			Cancelled{Contract: "1", On: d(2024, 7, 1)},
			Change{Add: []string{"subscription-1-cancel:2024-07-01"}},
			[]string{"line", "VIP", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー", "subscription-1-skip-count:2", "subscription-1-pause:2024-06-01", "subscription-1-cancel:2024-07-01"},
		},
		{ // resume after cancel: cancel and pause tags go
			Resumed{Contract: "1"},
			Change{Remove: []string{"subscription-1-pause:2024-06-01", "subscription-1-cancel:2024-07-01"}},
			[]string{"line", "VIP", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー", "subscription-1-skip-count:2"},
		},
		{
			Cancelled{Contract: "1", On: d(2024, 9, 1)},
			Change{Add: []string{"subscription-1-cancel:2024-09-01"}},
			[]string{"line", "VIP", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー", "subscription-1-skip-count:2", "subscription-1-cancel:2024-09-01"},
		},
		{ // a second cancellation replaces the date
			Cancelled{Contract: "1", On: d(2024, 10, 1)},
			Change{Add: []string{"subscription-1-cancel:2024-10-01"}, Remove: []string{"subscription-1-cancel:2024-09-01"}},
			[]string{"line", "VIP", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー", "subscription-1-skip-count:2", "subscription-1-cancel:2024-10-01"},
		},
		{
			Resumed{Contract: "1"},
			Change{Remove: []string{"subscription-1-cancel:2024-10-01"}},
			[]string{"line", "VIP", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー", "subscription-1-skip-count:2"},
		},
		{ // Created naming only a plan replaces the plan and keeps the product
			Created{Contract: "1", Plan: "定期便B"},
			Change{Add: []string{"subscription-1-plan:定期便B"}, Remove: []string{"subscription-1-plan:定期便A"}},
			[]string{"line", "VIP", "subscription-1-product:コーヒー", "subscription-1-skip-count:2", "subscription-1-plan:定期便B"},
		},
		{
			PlanChanged{Contract: "1", Plan: "定期便C"},
			Change{Add: []string{"subscription-1-plan:定期便C"}, Remove: []string{"subscription-1-plan:定期便B"}},
			[]string{"line", "VIP", "subscription-1-product:コーヒー", "subscription-1-skip-count:2", "subscription-1-plan:定期便C"},
		},
		{
			ProductChanged{Contract: "1", Product: "紅茶"},
			Change{Add: []string{"subscription-1-product:紅茶"}, Remove: []string{"subscription-1-product:コーヒー"}},
			[]string{"line", "VIP", "subscription-1-skip-count:2", "subscription-1-plan:定期便C", "subscription-1-product:紅茶"},
		},
		{
			RankChanged{Rank: "シルバー"},
			Change{Add: []string{"subscription-rank:シルバー"}},
			[]string{"line", "VIP", "subscription-1-skip-count:2", "subscription-1-plan:定期便C", "subscription-1-product:紅茶", "subscription-rank:シルバー"},
		},
		{ // old rank replaced
			RankChanged{Rank: "ゴールド"},
			Change{Add: []string{"subscription-rank:ゴールド"}, Remove: []string{"subscription-rank:シルバー"}},
			[]string{"line", "VIP", "subscription-1-skip-count:2", "subscription-1-plan:定期便C", "subscription-1-product:紅茶", "subscription-rank:ゴールド"},
		},
		{
			StatusChanged{Contract: "1", Status: "active"},
			Change{Add: []string{"subscription-1-status:active"}},
			[]string{"line", "VIP", "subscription-1-skip-count:2", "subscription-1-plan:定期便C", "subscription-1-product:紅茶", "subscription-rank:ゴールド", "subscription-1-status:active"},
		},
		{
			StatusChanged{Contract: "1", Status: "paused"},
			Change{Add: []string{"subscription-1-status:paused"}, Remove: []string{"subscription-1-status:active"}},
			[]string{"line", "VIP", "subscription-1-skip-count:2", "subscription-1-plan:定期便C", "subscription-1-product:紅茶", "subscription-rank:ゴールド", "subscription-1-status:paused"},
		},
		{ // empty values remove
			StatusChanged{Contract: "1"},
			Change{Remove: []string{"subscription-1-status:paused"}},
			[]string{"line", "VIP", "subscription-1-skip-count:2", "subscription-1-plan:定期便C", "subscription-1-product:紅茶", "subscription-rank:ゴールド"},
		},
		{
			RankChanged{},
			Change{Remove: []string{"subscription-rank:ゴールド"}},
			[]string{"line", "VIP", "subscription-1-skip-count:2", "subscription-1-plan:定期便C", "subscription-1-product:紅茶"},
		},
		{ // a deleted contract loses all its tags
			Deleted{Contract: "1"},
			Change{Remove: []string{"subscription-1-skip-count:2", "subscription-1-plan:定期便C", "subscription-1-product:紅茶"}},
			[]string{"line", "VIP"},
		},
	})
}

// Two contracts on one customer: every event stays on its own contract.
func TestLifecycleTwoContracts(t *testing.T) {
	runSteps(t, Default(), []string{"line"}, []step{
		{
			Created{Contract: "1", Plan: "A", Product: "X"},
			Change{Add: []string{"subscription-1-plan:A", "subscription-1-product:X"}},
			[]string{"line", "subscription-1-plan:A", "subscription-1-product:X"},
		},
		{ // same plan and product names on another contract are other tags
			Created{Contract: "2", Plan: "A", Product: "X"},
			Change{Add: []string{"subscription-2-plan:A", "subscription-2-product:X"}},
			[]string{"line", "subscription-1-plan:A", "subscription-1-product:X", "subscription-2-plan:A", "subscription-2-product:X"},
		},
		{
			Skipped{Contract: "2"},
			Change{Add: []string{"subscription-2-skip-count:1"}},
			[]string{"line", "subscription-1-plan:A", "subscription-1-product:X", "subscription-2-plan:A", "subscription-2-product:X", "subscription-2-skip-count:1"},
		},
		{
			Skipped{Contract: "1"},
			Change{Add: []string{"subscription-1-skip-count:1"}},
			[]string{"line", "subscription-1-plan:A", "subscription-1-product:X", "subscription-2-plan:A", "subscription-2-product:X", "subscription-2-skip-count:1", "subscription-1-skip-count:1"},
		},
		{
			Skipped{Contract: "2"},
			Change{Add: []string{"subscription-2-skip-count:2"}, Remove: []string{"subscription-2-skip-count:1"}},
			[]string{"line", "subscription-1-plan:A", "subscription-1-product:X", "subscription-2-plan:A", "subscription-2-product:X", "subscription-1-skip-count:1", "subscription-2-skip-count:2"},
		},
		{
			Cancelled{Contract: "1", On: d(2024, 1, 31)},
			Change{Add: []string{"subscription-1-cancel:2024-01-31"}},
			[]string{"line", "subscription-1-plan:A", "subscription-1-product:X", "subscription-2-plan:A", "subscription-2-product:X", "subscription-1-skip-count:1", "subscription-2-skip-count:2", "subscription-1-cancel:2024-01-31"},
		},
		{
			Paused{Contract: "2", On: d(2024, 2, 1)},
			Change{Add: []string{"subscription-2-pause:2024-02-01"}},
			[]string{"line", "subscription-1-plan:A", "subscription-1-product:X", "subscription-2-plan:A", "subscription-2-product:X", "subscription-1-skip-count:1", "subscription-2-skip-count:2", "subscription-1-cancel:2024-01-31", "subscription-2-pause:2024-02-01"},
		},
		{ // resuming contract 2 leaves contract 1 cancelled
			Resumed{Contract: "2"},
			Change{Remove: []string{"subscription-2-pause:2024-02-01"}},
			[]string{"line", "subscription-1-plan:A", "subscription-1-product:X", "subscription-2-plan:A", "subscription-2-product:X", "subscription-1-skip-count:1", "subscription-2-skip-count:2", "subscription-1-cancel:2024-01-31"},
		},
		{
			Created{Contract: "2", Plan: "B", Product: "X"},
			Change{Add: []string{"subscription-2-plan:B"}, Remove: []string{"subscription-2-plan:A"}},
			[]string{"line", "subscription-1-plan:A", "subscription-1-product:X", "subscription-2-product:X", "subscription-1-skip-count:1", "subscription-2-skip-count:2", "subscription-1-cancel:2024-01-31", "subscription-2-plan:B"},
		},
		{ // a contract id that extends another one is another contract
			Skipped{Contract: "12"},
			Change{Add: []string{"subscription-12-skip-count:1"}},
			[]string{"line", "subscription-1-plan:A", "subscription-1-product:X", "subscription-2-product:X", "subscription-1-skip-count:1", "subscription-2-skip-count:2", "subscription-1-cancel:2024-01-31", "subscription-2-plan:B", "subscription-12-skip-count:1"},
		},
	})
}

// Purchase-count rules: tags added as orders come in, and re-planned for
// existing contracts when the rules are added, changed or removed.
func TestLifecycleRules(t *testing.T) {
	none := Default()
	withRule := func(rules ...Rule) *Schema {
		s, err := none.With(WithRules(rules...))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	r3 := Rule{At: 3, Tag: "3回目購入"}
	r5 := Rule{At: 5, Tag: "5回目購入"}
	gold := Rule{At: 2, Tag: "gold-fan", Plan: "Gold"}
	base := []string{"VIP", "subscription-1-plan:Gold", "subscription-2-plan:Silver"}

	t.Run("orders", func(t *testing.T) {
		s := withRule(r3, r5, gold)
		tags := NewSet(base...)
		var added [][]string
		for _, e := range []OrderPlaced{
			{Contract: "1", Count: 1}, {Contract: "1", Count: 2}, {Contract: "2", Count: 1},
			{Contract: "2", Count: 2}, {Contract: "2", Count: 3}, {Contract: "1", Count: 3}, {Contract: "1", Count: 5},
		} {
			c, err := s.Apply(cust, tags.Tags(), e)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Remove) != 0 {
				t.Errorf("order %+v removes %q", e, c.Remove)
			}
			added = append(added, c.Add)
			tags.Apply(c)
		}
		want := [][]string{nil, {"gold-fan"}, nil, nil, {"3回目購入"}, nil, {"5回目購入"}}
		if diff := cmp.Diff(want, added); diff != "" {
			t.Errorf("added tags mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("rule added for existing contracts", func(t *testing.T) {
		c, err := withRule(r3).Apply(cust, base, RulesChanged{Orders: map[string]int{"1": 4, "2": 1}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Change{ID: cust, Add: []string{"3回目購入"}}, c); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("rule changed: new tag added, old tag removed", func(t *testing.T) {
		current := append(base[:3:3], "3回目購入")
		c, err := withRule(Rule{At: 3, Tag: "常連"}).Apply(cust, current, RulesChanged{Previous: []Rule{r3}, Orders: map[string]int{"1": 4, "2": 1}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Change{ID: cust, Add: []string{"常連"}, Remove: []string{"3回目購入"}}, c); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("rule threshold raised", func(t *testing.T) {
		current := append(base[:3:3], "3回目購入")
		c, err := withRule(Rule{At: 5, Tag: "3回目購入"}).Apply(cust, current, RulesChanged{Previous: []Rule{r3}, Orders: map[string]int{"1": 4, "2": 1}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Change{ID: cust, Remove: []string{"3回目購入"}}, c); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("rule removed", func(t *testing.T) {
		current := append(base[:3:3], "3回目購入", "gold-fan")
		c, err := withRule(gold).Apply(cust, current, RulesChanged{Previous: []Rule{r3, gold}, Orders: map[string]int{"1": 4, "2": 1}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Change{ID: cust, Remove: []string{"3回目購入"}}, c); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("tag kept while another contract earns it", func(t *testing.T) {
		current := append(base[:3:3], "3回目購入")
		// Contract 2 still qualifies for the rule even though contract 1 does not.
		c, err := withRule(r3).Apply(cust, current, RulesChanged{Previous: []Rule{r3}, Orders: map[string]int{"1": 1, "2": 3}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Change{ID: cust}, c); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("plan filter", func(t *testing.T) {
		c, err := withRule(gold).Apply(cust, base, RulesChanged{Orders: map[string]int{"1": 1, "2": 9}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Change{ID: cust}, c); diff != "" {
			t.Errorf("Silver contract earned a Gold rule (-want +got):\n%s", diff)
		}
		c, err = withRule(gold).Apply(cust, base, RulesChanged{Orders: map[string]int{"1": 2, "2": 0}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Change{ID: cust, Add: []string{"gold-fan"}}, c); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("missing order count", func(t *testing.T) {
		_, err := withRule(r3).Apply(cust, base, RulesChanged{Orders: map[string]int{"1": 4}})
		var ee *EventError
		if !errors.As(err, &ee) || ee.Contract != "2" || ee.Event != "RulesChanged" {
			t.Errorf("error = %v, want an EventError for contract 2", err)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for _, e := range []RulesChanged{
			{Orders: map[string]int{"x": 1, "1": 1, "2": 1}},
			{Orders: map[string]int{"1": -1, "2": 1}},
			{Previous: []Rule{{At: 1, Tag: "subscription-1-plan:Gold"}}, Orders: map[string]int{"1": 1, "2": 1}},
		} {
			var ee *EventError
			if _, err := withRule(r3).Apply(cust, base, e); !errors.As(err, &ee) {
				t.Errorf("%+v: error = %v, want an EventError", e, err)
			}
		}
	})
}

func TestApplyOrder(t *testing.T) {
	const order = "gid://shopify/Order/9"
	tests := []struct {
		name    string
		current []string
		e       OrderPlaced
		want    Change
	}{
		{
			"new order",
			nil,
			OrderPlaced{Contract: "1", Count: 3, SubscriptionID: "0000000123", Delivery: d(2024, 5, 1), Time: "14:00-16:00"},
			Change{Add: []string{"subscription-count:3", "subscription-id:0000000123", "delivery-1:2024-05-01 14:00-16:00"}},
		},
		{
			"delivery moved, other tags kept",
			[]string{"gift", "subscription-count:3", "subscription-id:0000000123", "delivery-1:2024-05-01 14:00-16:00"},
			OrderPlaced{Contract: "1", Count: 3, SubscriptionID: "0000000123", Delivery: d(2024, 5, 3)},
			Change{Add: []string{"delivery-1:2024-05-03"}, Remove: []string{"delivery-1:2024-05-01 14:00-16:00"}},
		},
		{
			"count only",
			[]string{"subscription-count:2"},
			OrderPlaced{Contract: "1", Count: 2},
			Change{},
		},
	}
	for _, tt := range tests {
		got, err := Default().ApplyOrder(order, tt.current, tt.e)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		want := tt.want
		want.ID = order
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	for _, e := range []OrderPlaced{
		{Contract: "1"},
		{Contract: "1", Count: 1, SubscriptionID: "12"},
		{Contract: "1", Count: 1, Time: "am"},
		{Contract: "x", Count: 1, Delivery: d(2024, 1, 1)},
	} {
		var fe *FormatError
		if _, err := Default().ApplyOrder(order, nil, e); !errors.As(err, &fe) {
			t.Errorf("%+v: error = %v, want a FormatError", e, err)
		}
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		e     Event
		kind  Kind
		field string
	}{
		{Created{Plan: "A"}, KindPlan, "Contract"},
		{Created{Contract: "1a"}, KindPlan, "Contract"},
		{Created{Contract: "1", Plan: "A,B"}, KindPlan, "Value"},
		{OrderPlaced{Contract: "1"}, KindOrderCount, "Count"},
		{OrderPlaced{Count: 1}, KindPlan, "Contract"},
		{Skipped{Contract: "1", Count: -2}, KindSkipCount, "Count"},
		{Skipped{}, KindSkipCount, "Contract"},
		{Paused{Contract: "1"}, KindPause, "Date"},
		{Cancelled{Contract: "1", On: d(10000, 1, 1)}, KindCancel, "Date"},
		{Resumed{}, KindCancel, "Contract"},
		{RankChanged{Rank: " Gold"}, KindRank, "Value"},
		{StatusChanged{Status: "x"}, KindStatus, "Contract"},
	}
	for _, tt := range tests {
		got, err := Default().Apply(cust, nil, tt.e)
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Kind != tt.kind || fe.Field != tt.field {
			t.Errorf("%T%+v: error = %v, want a FormatError on %s %s", tt.e, tt.e, err, tt.kind, tt.field)
		}
		if diff := cmp.Diff(Change{ID: cust}, got); diff != "" {
			t.Errorf("%T: change on error (-want +got):\n%s", tt.e, diff)
		}
	}
	var ee *EventError
	if _, err := Default().Apply(cust, nil, nil); !errors.As(err, &ee) {
		t.Errorf("nil event: error = %v, want an EventError", err)
	}
}

// With a rank template that has {id}, ranks are per contract and do not
// replace each other.
func TestRankPerContract(t *testing.T) {
	s, err := NewSchema(WithTemplate(KindRank, "{prefix}-{id}-rank:{value}"))
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, s, nil, []step{
		{RankChanged{Contract: "1", Rank: "A"}, Change{Add: []string{"subscription-1-rank:A"}}, []string{"subscription-1-rank:A"}},
		{RankChanged{Contract: "2", Rank: "B"}, Change{Add: []string{"subscription-2-rank:B"}}, []string{"subscription-1-rank:A", "subscription-2-rank:B"}},
		{RankChanged{Contract: "1", Rank: "C"}, Change{Add: []string{"subscription-1-rank:C"}, Remove: []string{"subscription-1-rank:A"}}, []string{"subscription-2-rank:B", "subscription-1-rank:C"}},
	})
	if _, err := s.Apply(cust, nil, RankChanged{Rank: "A"}); err == nil {
		t.Error("rank without contract accepted")
	}
}

// A pause template without {date} ignores the event's date.
func TestPauseWithoutDate(t *testing.T) {
	s, err := NewSchema(WithTemplate(KindPause, "{prefix}-{id}-paused"))
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, s, nil, []step{
		{Paused{Contract: "1", On: d(2024, 1, 1)}, Change{Add: []string{"subscription-1-paused"}}, []string{"subscription-1-paused"}},
		{Resumed{Contract: "1"}, Change{Remove: []string{"subscription-1-paused"}}, []string{}},
	})
}

// Every event changes only the tags of its kinds and contract: a plan
// change never takes the product tag, nor anything of contract 2, nor
// another app's tags.
func TestEventsTouchOnlyTheirTags(t *testing.T) {
	current := []string{
		"line", "VIP",
		"subscription-1-plan:A", "subscription-1-product:X", "subscription-1-skip-count:2",
		"subscription-1-pause:2024-06-01", "subscription-1-status:active",
		"subscription-2-plan:A", "subscription-2-product:Y", "subscription-2-cancel:2024-05-01",
		"subscription-rank:Gold",
	}
	tests := []struct {
		e    Event
		want Change
	}{
		{Created{Contract: "1", Plan: "B"}, Change{Add: []string{"subscription-1-plan:B"}, Remove: []string{"subscription-1-plan:A"}}},
		{Created{Contract: "1", Product: "Z"}, Change{Add: []string{"subscription-1-product:Z"}, Remove: []string{"subscription-1-product:X"}}},
		{Created{Contract: "1"}, Change{}},
		{PlanChanged{Contract: "1", Plan: "B"}, Change{Add: []string{"subscription-1-plan:B"}, Remove: []string{"subscription-1-plan:A"}}},
		{PlanChanged{Contract: "1", Plan: "a"}, Change{}}, // tags match without regard to case
		{ProductChanged{Contract: "1", Product: "Z"}, Change{Add: []string{"subscription-1-product:Z"}, Remove: []string{"subscription-1-product:X"}}},
		{Skipped{Contract: "1"}, Change{Add: []string{"subscription-1-skip-count:3"}, Remove: []string{"subscription-1-skip-count:2"}}},
		{Paused{Contract: "1", On: d(2024, 7, 1)}, Change{Add: []string{"subscription-1-pause:2024-07-01"}, Remove: []string{"subscription-1-pause:2024-06-01"}}},
		{Cancelled{Contract: "1", On: d(2024, 8, 1)}, Change{Add: []string{"subscription-1-cancel:2024-08-01"}}},
		{Resumed{Contract: "1"}, Change{Remove: []string{"subscription-1-pause:2024-06-01"}}},
		{Resumed{Contract: "2"}, Change{Remove: []string{"subscription-2-cancel:2024-05-01"}}},
		{StatusChanged{Contract: "1", Status: "paused"}, Change{Add: []string{"subscription-1-status:paused"}, Remove: []string{"subscription-1-status:active"}}},
		{RankChanged{Rank: "Silver"}, Change{Add: []string{"subscription-rank:Silver"}, Remove: []string{"subscription-rank:Gold"}}},
		{Deleted{Contract: "2"}, Change{Remove: []string{"subscription-2-plan:A", "subscription-2-product:Y", "subscription-2-cancel:2024-05-01"}}},
	}
	for _, tt := range tests {
		got, err := Default().Apply(cust, current, tt.e)
		if err != nil {
			t.Errorf("%T%+v: %v", tt.e, tt.e, err)
			continue
		}
		want := tt.want
		want.ID = cust
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%T%+v: change mismatch (-want +got):\n%s", tt.e, tt.e, diff)
		}
	}
	for _, e := range []Event{PlanChanged{Contract: "1"}, ProductChanged{Contract: "1", Product: "a,b"}, PlanChanged{Plan: "B"}, Deleted{}} {
		var fe *FormatError
		if _, err := Default().Apply(cust, current, e); !errors.As(err, &fe) {
			t.Errorf("%T%+v: error = %v, want a FormatError", e, e, err)
		}
	}
}

// A new delivery date replaces the contract's delivery tag on the order and
// nothing else.
func TestDeliveryChanged(t *testing.T) {
	const order = "gid://shopify/Order/9"
	current := []string{"gift", "subscription-count:3", "subscription-id:0000000123", "delivery-1:2024-05-01 14:00-16:00", "delivery-2:2024-05-02"}
	got, err := Default().ApplyOrder(order, current, DeliveryChanged{Contract: "1", Delivery: d(2024, 5, 8), Time: "18:00-20:00"})
	if err != nil {
		t.Fatal(err)
	}
	want := Change{ID: order, Add: []string{"delivery-1:2024-05-08 18:00-20:00"}, Remove: []string{"delivery-1:2024-05-01 14:00-16:00"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("change mismatch (-want +got):\n%s", diff)
	}
	for _, e := range []OrderEvent{DeliveryChanged{Contract: "1"}, DeliveryChanged{Delivery: d(2024, 5, 8)}, DeliveryChanged{Contract: "1", Delivery: d(2024, 5, 8), Time: " x"}} {
		var fe *FormatError
		if _, err := Default().ApplyOrder(order, current, e); !errors.As(err, &fe) {
			t.Errorf("%+v: error = %v, want a FormatError", e, err)
		}
	}
	var ee *EventError
	if _, err := Default().ApplyOrder(order, current, nil); !errors.As(err, &ee) {
		t.Errorf("nil order event: error = %v, want an EventError", err)
	}
}

package tagging_test

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/tagging"
)

func ExampleParse() {
	t, err := tagging.Parse("subscription-1024-plan:定期便 お得コース")
	if err != nil {
		panic(err)
	}
	fmt.Println(t.Kind, t.Contract, t.Value)

	t, _ = tagging.Parse("delivery-1024:2024-05-01 14:00-16:00")
	fmt.Println(t.Kind, t.Contract, t.Date, t.Value)
	// Output:
	// plan 1024 定期便 お得コース
	// delivery 1024 2024-05-01 14:00-16:00
}

func ExampleParseError() {
	_, err := tagging.Parse("subscription-1024-cancel:2024-02-30")
	var pe *tagging.ParseError
	if errors.As(err, &pe) {
		fmt.Println(pe.Kind, pe.Pos, pe.Expected)
	}
	fmt.Println(err)
	// Output:
	// cancel 33 day of the month of a YYYY-MM-DD date
	// tagging: parse "subscription-1024-cancel:2024-02-30" as cancel tag: expected day of the month of a YYYY-MM-DD date at offset 33
}

func ExampleFormat() {
	for _, t := range []tagging.Tag{
		{Kind: tagging.KindSkipCount, Contract: "1024", Count: 2},
		{Kind: tagging.KindCancel, Contract: "1024", Date: calendar.DateOf(time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC))},
		{Kind: tagging.KindSubscriptionID, Value: "0000001024"},
	} {
		tag, err := tagging.Format(t)
		fmt.Println(tag, err)
	}
	_, err := tagging.Format(tagging.Tag{Kind: tagging.KindPlan, Contract: "1024", Value: "Gold, monthly"})
	fmt.Println(err)
	// Output:
	// subscription-1024-skip-count:2 <nil>
	// subscription-1024-cancel:2024-07-01 <nil>
	// subscription-id:0000001024 <nil>
	// tagging: format plan tag: Value "Gold, monthly": expected text without a comma at offset 4
}

func ExampleNewSchema() {
	s, err := tagging.NewSchema(
		tagging.WithPrefix("teiki"),
		tagging.WithTemplate(tagging.KindRank, "会員ランク:{value}"),
		tagging.WithTemplate(tagging.KindPause, "{prefix}-{id}-休止中"),
	)
	if err != nil {
		panic(err)
	}
	rank, _ := s.Format(tagging.Tag{Kind: tagging.KindRank, Value: "ゴールド"})
	pause, _ := s.Format(tagging.Tag{Kind: tagging.KindPause, Contract: "7"})
	plan, _ := s.Format(tagging.Tag{Kind: tagging.KindPlan, Contract: "7", Value: "A"})
	fmt.Println(rank, pause, plan)

	t, _ := s.Parse("会員ランク:シルバー")
	fmt.Println(t.Kind, t.Value)
	// Output:
	// 会員ランク:ゴールド teiki-7-休止中 teiki-7-plan:A
	// rank シルバー
}

func ExampleSchema_Plan() {
	current := []string{"VIP", "line", "subscription-1-plan:Gold", "subscription-1-skip-count:1", "ecp-first"}
	desired := []string{"subscription-1-plan:Gold", "subscription-1-skip-count:2"}
	c, err := tagging.Default().Plan("gid://shopify/Customer/42", current, desired)
	if err != nil {
		panic(err)
	}
	fmt.Printf("add %q\nremove %q\n", c.Add, c.Remove)
	// Output:
	// add ["subscription-1-skip-count:2"]
	// remove ["subscription-1-skip-count:1"]
}

func ExampleSchema_PlanAll() {
	customers := []tagging.Resource{
		{ID: "gid://shopify/Customer/1", Current: []string{"subscription-count:3"}, Desired: []string{"subscription-count:3"}},
		{ID: "gid://shopify/Customer/2", Current: []string{"line"}, Desired: []string{"subscription-2-plan:A"}},
	}
	for c, err := range tagging.Default().PlanAll(slices.Values(customers)) {
		fmt.Println(c.ID, c.Add, c.Remove, err)
	}
	// Output:
	// gid://shopify/Customer/2 [subscription-2-plan:A] [] <nil>
}

func ExampleSchema_Apply() {
	s := tagging.Default()
	const id = "gid://shopify/Customer/42"
	tags := tagging.NewSet("line", "VIP")
	for _, e := range []tagging.Event{
		tagging.Created{Contract: "1", Plan: "定期便A", Product: "コーヒー"},
		tagging.Created{Contract: "2", Plan: "定期便B", Product: "紅茶"},
		tagging.Skipped{Contract: "1"},
		tagging.Skipped{Contract: "1"},
		tagging.PlanChanged{Contract: "1", Plan: "定期便C"},
		tagging.Cancelled{Contract: "2", On: calendar.NewDate(2024, time.July, 1)},
		tagging.Resumed{Contract: "2"},
	} {
		c, err := s.Apply(id, tags.Tags(), e)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%T: add %q remove %q\n", e, c.Add, c.Remove)
		tags.Apply(c)
	}
	fmt.Println(tags)
	// Output:
	// tagging.Created: add ["subscription-1-plan:定期便A" "subscription-1-product:コーヒー"] remove []
	// tagging.Created: add ["subscription-2-plan:定期便B" "subscription-2-product:紅茶"] remove []
	// tagging.Skipped: add ["subscription-1-skip-count:1"] remove []
	// tagging.Skipped: add ["subscription-1-skip-count:2"] remove ["subscription-1-skip-count:1"]
	// tagging.PlanChanged: add ["subscription-1-plan:定期便C"] remove ["subscription-1-plan:定期便A"]
	// tagging.Cancelled: add ["subscription-2-cancel:2024-07-01"] remove []
	// tagging.Resumed: add [] remove ["subscription-2-cancel:2024-07-01"]
	// line, VIP, subscription-1-product:コーヒー, subscription-2-plan:定期便B, subscription-2-product:紅茶, subscription-1-skip-count:2, subscription-1-plan:定期便C
}

func ExampleSchema_Contracts() {
	tags := []string{"line", "subscription-1-plan:定期便A", "subscription-1-product:コーヒー",
		"subscription-1-skip-count:2", "subscription-2-plan:定期便B", "subscription-2-cancel:2024-07-01"}
	s := tagging.Default()
	for _, c := range s.Contracts(tags) {
		fmt.Printf("%s: plan %s, product %q, skips %d, active %v\n", c.ID, c.Plan, c.Product, c.Skips, c.Active())
	}
	fmt.Println(s.ContractTags(tags, "2"))
	// Output:
	// 1: plan 定期便A, product "コーヒー", skips 2, active true
	// 2: plan 定期便B, product "", skips 0, active false
	// [subscription-2-plan:定期便B subscription-2-cancel:2024-07-01]
}

// A merchant replaces the rule "3rd order: 3回目購入" by "5th order: 常連"
// while contracts exist: re-planning each customer swaps the tags where the
// counts say so.
func ExampleRulesChanged() {
	old := []tagging.Rule{{At: 3, Tag: "3回目購入"}}
	s, err := tagging.NewSchema(tagging.WithRules(tagging.Rule{At: 5, Tag: "常連"}))
	if err != nil {
		panic(err)
	}
	current := []string{"line", "subscription-1-plan:A", "subscription-2-plan:B", "3回目購入"}
	c, err := s.Apply("gid://shopify/Customer/42", current, tagging.RulesChanged{
		Previous: old,
		Orders:   map[string]int{"1": 6, "2": 1},
	})
	fmt.Printf("add %q remove %q %v\n", c.Add, c.Remove, err)
	// Output:
	// add ["常連"] remove ["3回目購入"] <nil>
}

func ExampleSchema_ApplyOrder() {
	c, err := tagging.Default().ApplyOrder("gid://shopify/Order/9001", nil, tagging.OrderPlaced{
		Contract:       "1024",
		Count:          3,
		SubscriptionID: "0000001024",
		Delivery:       calendar.NewDate(2024, time.May, 1),
		Time:           "14:00-16:00",
	})
	fmt.Printf("%q %v\n", c.Add, err)
	// Output:
	// ["subscription-count:3" "subscription-id:0000001024" "delivery-1024:2024-05-01 14:00-16:00"] <nil>
}

func ExampleSet() {
	s := tagging.NewSet(" VIP ", "line", "vip", "", "定期便")
	fmt.Println(s.Len(), s.Has("LINE"), s)
	s.Remove("Vip")
	fmt.Println(s.Tags())
	// Output:
	// 3 true VIP, line, 定期便
	// [line 定期便]
}

func ExampleCheck() {
	for _, tag := range []string{"VIP", "a,b", " padded", "a\x01b", "invoice\u202etxt", "\u200b"} {
		err := tagging.Check(tag)
		fmt.Println(errors.Is(err, tagging.ErrComma), err)
	}
	// Output:
	// false <nil>
	// true tagging: tag "a,b": contains a comma
	// false tagging: tag " padded": has surrounding whitespace
	// false tagging: tag "a\x01b": contains a control character
	// false tagging: tag "invoice\u202etxt": contains a bidirectional formatting character
	// false tagging: tag "\u200b": has no visible character
}

package tagging

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/calendar"
)

func d(y int, m time.Month, day int) calendar.Date { return calendar.NewDate(y, m, day) }

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Tag
	}{
		{"subscription-123-plan:Gold", Tag{Kind: KindPlan, Contract: "123", Value: "Gold"}},
		{"subscription-123-plan:定期便 お得コース", Tag{Kind: KindPlan, Contract: "123", Value: "定期便 お得コース"}},
		{"subscription-123-plan:a:b-plan:c", Tag{Kind: KindPlan, Contract: "123", Value: "a:b-plan:c"}},
		{"subscription-0042-product:コーヒー豆 200g", Tag{Kind: KindProduct, Contract: "0042", Value: "コーヒー豆 200g"}},
		{"subscription-7-cancel:2024-02-29", Tag{Kind: KindCancel, Contract: "7", Date: d(2024, 2, 29)}},
		{"subscription-7-skip-count:0", Tag{Kind: KindSkipCount, Contract: "7"}},
		{"subscription-7-skip-count:12", Tag{Kind: KindSkipCount, Contract: "7", Count: 12}},
		{"subscription-7-pause:2024-06-01", Tag{Kind: KindPause, Contract: "7", Date: d(2024, 6, 1)}},
		{"subscription-rank:ゴールド", Tag{Kind: KindRank, Value: "ゴールド"}},
		{"subscription-7-status:active", Tag{Kind: KindStatus, Contract: "7", Value: "active"}},
		{"subscription-count:3", Tag{Kind: KindOrderCount, Count: 3}},
		{"subscription-id:0123456789", Tag{Kind: KindSubscriptionID, Value: "0123456789"}},
		{"delivery-7:2024-05-01 14:00-16:00", Tag{Kind: KindDelivery, Contract: "7", Date: d(2024, 5, 1), Value: "14:00-16:00"}},
		{"delivery-7:2024-05-01 午前中", Tag{Kind: KindDelivery, Contract: "7", Date: d(2024, 5, 1), Value: "午前中"}},
		{"delivery-7:2024-05-01", Tag{Kind: KindDelivery, Contract: "7", Date: d(2024, 5, 1)}},
		// Shopify ignores case, so the literal parts do too; values stay as written.
		{"Subscription-1-PLAN:Gold", Tag{Kind: KindPlan, Contract: "1", Value: "Gold"}},
		{"SUBSCRIPTION-COUNT:9", Tag{Kind: KindOrderCount, Count: 9}},
		{"Delivery-1:2024-05-01 am", Tag{Kind: KindDelivery, Contract: "1", Date: d(2024, 5, 1), Value: "am"}},
		{"subscription-1-Skip-Count:2", Tag{Kind: KindSkipCount, Contract: "1", Count: 2}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want ParseError // Tag is filled in from in
	}{
		{"", ParseError{Pos: 0, Expected: `"subscription-", "delivery-" or "subscription-rank:"`}},
		{"VIP", ParseError{Pos: 0, Expected: `"subscription-", "delivery-" or "subscription-rank:"`}},
		{"subscriptio", ParseError{Pos: 11, Expected: `"n-" or "n-rank:"`}},
		{" subscription-1-plan:x", ParseError{Pos: 0, Expected: `"subscription-", "delivery-" or "subscription-rank:"`}},
		{"subscription-1-plan:", ParseError{Pos: 20, Kind: KindPlan, Expected: "text"}},
		{"subscription-1-plan:Gold ", ParseError{Pos: 24, Kind: KindPlan, Expected: wantNoSpace}},
		{"subscription-1-plan: Gold", ParseError{Pos: 20, Kind: KindPlan, Expected: wantNoSpace}},
		{"subscription-1-plan:a,b", ParseError{Pos: 21, Kind: KindPlan, Expected: wantNoComma}},
		{"subscription-1-plan:a\nb", ParseError{Pos: 21, Kind: KindPlan, Expected: wantNoControl}},
		{"subscription-1-plan:a\xffb", ParseError{Pos: 21, Kind: KindPlan, Expected: wantUTF8}},
		{"subscription-1-plan:a\u202eb", ParseError{Pos: 21, Kind: KindPlan, Expected: wantNoBidi}},
		{"subscription-1-plan:\u200b\u200d", ParseError{Pos: 20, Kind: KindPlan, Expected: wantVisible}},
		{"subscription-1-plan:a\u3000", ParseError{Pos: 21, Kind: KindPlan, Expected: wantNoSpace}},
		{"subscription-1-plam:x", ParseError{Pos: 18, Expected: `"n:"`}},
		{"subscription-1-foo:x", ParseError{Pos: 15, Expected: `"plan:", "product:", "cancel:", "skip-count:", "pause:" or "status:"`}},
		{"subscription-1x-plan:x", ParseError{Pos: 14, Expected: `digit, "-", "-pause:" or "-status:"`}},
		{"subscription-x", ParseError{Pos: 13, Expected: `contract id (digits), "count:", "id:" or "rank:"`}},
		{"subscription-1-cancel:2024-13-01", ParseError{Pos: 27, Kind: KindCancel, Expected: wantMonth}},
		{"subscription-1-cancel:2023-02-29", ParseError{Pos: 30, Kind: KindCancel, Expected: wantDay}},
		{"subscription-1-cancel:0000-01-01", ParseError{Pos: 22, Kind: KindCancel, Expected: wantYear}},
		{"subscription-1-cancel:2024-1-01", ParseError{Pos: 28, Kind: KindCancel, Expected: wantMonth}},
		{"subscription-1-cancel:2024/01/01", ParseError{Pos: 26, Kind: KindCancel, Expected: `"-" in a YYYY-MM-DD date`}},
		{"subscription-1-cancel:2024-01-01x", ParseError{Pos: 32, Kind: KindCancel, Expected: wantEnd}},
		{"subscription-1-cancel:2024-01", ParseError{Pos: 29, Kind: KindCancel, Expected: `"-" in a YYYY-MM-DD date`}},
		{"subscription-1-skip-count:", ParseError{Pos: 26, Kind: KindSkipCount, Expected: wantCount}},
		{"subscription-1-skip-count:-1", ParseError{Pos: 26, Kind: KindSkipCount, Expected: wantCount}},
		{"subscription-1-skip-count:01", ParseError{Pos: 27, Kind: KindSkipCount, Expected: wantNoLeadingZero}},
		{"subscription-1-skip-count:3x", ParseError{Pos: 27, Kind: KindSkipCount, Expected: wantDigitOrEnd}},
		{"subscription-count:99999999999999999999", ParseError{Pos: 37, Kind: KindOrderCount, Expected: wantSmallCount}},
		{"subscription-id:123456789", ParseError{Pos: 25, Kind: KindSubscriptionID, Expected: wantSubscriptionID}},
		{"subscription-id:12345678901", ParseError{Pos: 26, Kind: KindSubscriptionID, Expected: wantEnd}},
		{"subscription-id:12345x7890", ParseError{Pos: 21, Kind: KindSubscriptionID, Expected: wantSubscriptionID}},
		{"delivery-:2024-05-01", ParseError{Pos: 9, Kind: KindDelivery, Expected: wantID}},
		{"delivery-7-2024-05-01", ParseError{Pos: 10, Kind: KindDelivery, Expected: `digit or ":"`}},
		{"delivery-7:2024-05-01 ", ParseError{Pos: 22, Kind: KindDelivery, Expected: wantTime}},
		{"delivery-7:2024-05-01T10:00", ParseError{Pos: 21, Kind: KindDelivery, Expected: wantTimeOrEnd}},
		{"delivery-7:2024-05-01 10:00 ", ParseError{Pos: 27, Kind: KindDelivery, Expected: wantNoSpace}},
		{"subscription-7-pause:2024-06-31", ParseError{Pos: 29, Kind: KindPause, Expected: wantDay}},
		{"subscription-7-pause:", ParseError{Pos: 21, Kind: KindPause, Expected: wantYear}},
		{"subscription-7-status:", ParseError{Pos: 22, Kind: KindStatus, Expected: "text"}},
		{"subscription-rank:", ParseError{Pos: 18, Kind: KindRank, Expected: "text"}},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var got *ParseError
		if !errors.As(err, &got) {
			t.Errorf("Parse(%q) error = %v, want a *ParseError", tt.in, err)
			continue
		}
		want := tt.want
		want.Tag = tt.in
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("Parse(%q) error mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := Parse("subscription-1-cancel:2024-13-01")
	want := `tagging: parse "subscription-1-cancel:2024-13-01" as cancel tag: expected month 01-12 of a YYYY-MM-DD date at offset 27`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// scanDate reads the dates inside tags, reporting where one stops matching.
func TestScanDate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want calendar.Date
		pos  int // -1: no error
	}{
		{"2024-02-29", d(2024, 2, 29), -1},
		{"0001-01-01", d(1, 1, 1), -1},
		{"9999-12-31", d(9999, 12, 31), -1},
		{"2100-02-29", 0, 8},
		{"2000-02-29", d(2000, 2, 29), -1},
		{"2024-04-31", 0, 8},
		{"2024-00-10", 0, 5},
		{"2024-01-00", 0, 8},
		{"0000-01-01", 0, 0},
		{"24-01-01", 0, 2},
		{"", 0, 0},
	} {
		got, pos, want := scanDate(tt.in, 0)
		if tt.pos < 0 {
			if want != "" || got != tt.want {
				t.Errorf("scanDate(%q) = %v, %q; want %v", tt.in, got, want, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("%v.String() = %q, want %q", got, got.String(), tt.in)
			}
			continue
		}
		if want == "" || pos != tt.pos {
			t.Errorf("scanDate(%q) = %d, %q; want an error at %d", tt.in, pos, want, tt.pos)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		in   Tag
		want string
	}{
		{Tag{Kind: KindPlan, Contract: "123", Value: "定期便A"}, "subscription-123-plan:定期便A"},
		{Tag{Kind: KindProduct, Contract: "123", Value: "Coffee 200g"}, "subscription-123-product:Coffee 200g"},
		{Tag{Kind: KindCancel, Contract: "123", Date: d(2024, 3, 9)}, "subscription-123-cancel:2024-03-09"},
		{Tag{Kind: KindSkipCount, Contract: "123", Count: 2}, "subscription-123-skip-count:2"},
		{Tag{Kind: KindSkipCount, Contract: "123"}, "subscription-123-skip-count:0"},
		{Tag{Kind: KindPause, Contract: "123", Date: d(2024, 3, 9)}, "subscription-123-pause:2024-03-09"},
		{Tag{Kind: KindRank, Value: "Gold"}, "subscription-rank:Gold"},
		{Tag{Kind: KindStatus, Contract: "123", Value: "定期購買中"}, "subscription-123-status:定期購買中"},
		{Tag{Kind: KindOrderCount, Count: 12}, "subscription-count:12"},
		{Tag{Kind: KindSubscriptionID, Value: "0000000001"}, "subscription-id:0000000001"},
		{Tag{Kind: KindDelivery, Contract: "123", Date: d(2024, 5, 1), Value: "14:00-16:00"}, "delivery-123:2024-05-01 14:00-16:00"},
		{Tag{Kind: KindDelivery, Contract: "123", Date: d(2024, 5, 1)}, "delivery-123:2024-05-01"},
	}
	for _, tt := range tests {
		got, err := Format(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Format(%+v) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		back, err := Parse(got)
		if err != nil {
			t.Errorf("Parse(Format(%+v)): %v", tt.in, err)
		} else if diff := cmp.Diff(tt.in, back); diff != "" {
			t.Errorf("round trip of %q mismatch (-want +got):\n%s", got, diff)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	tests := []struct {
		in    Tag
		field string
	}{
		{Tag{}, "Kind"},
		{Tag{Kind: numKinds}, "Kind"},
		{Tag{Kind: KindPlan, Value: "Gold"}, "Contract"},
		{Tag{Kind: KindPlan, Contract: "12a", Value: "Gold"}, "Contract"},
		{Tag{Kind: KindPlan, Contract: "1"}, "Value"},
		{Tag{Kind: KindPlan, Contract: "1", Value: "Gold, monthly"}, "Value"},
		{Tag{Kind: KindPlan, Contract: "1", Value: "Gold "}, "Value"},
		{Tag{Kind: KindPlan, Contract: "1", Value: "\u3000Gold"}, "Value"},
		{Tag{Kind: KindPlan, Contract: "1", Value: "a\tb"}, "Value"},
		{Tag{Kind: KindPlan, Contract: "1", Value: "a\xffb"}, "Value"},
		{Tag{Kind: KindPlan, Contract: "1", Value: "Gold", Count: 1}, "Count"},
		{Tag{Kind: KindPlan, Contract: "1", Value: "Gold", Date: d(2024, 1, 1)}, "Date"},
		{Tag{Kind: KindCancel, Contract: "1"}, "Date"},
		{Tag{Kind: KindCancel, Contract: "1", Date: d(10000, 1, 1)}, "Date"},
		{Tag{Kind: KindCancel, Contract: "1"}, "Date"},
		{Tag{Kind: KindCancel, Contract: "1", Date: d(10000, 1, 1)}, "Date"},
		{Tag{Kind: KindSkipCount, Contract: "1", Count: -1}, "Count"},
		{Tag{Kind: KindOrderCount, Contract: "1", Count: 1}, "Contract"},
		{Tag{Kind: KindSubscriptionID, Value: "123"}, "Value"},
		{Tag{Kind: KindSubscriptionID, Value: "12345678901"}, "Value"},
		{Tag{Kind: KindSubscriptionID, Value: "１２３４５６７８９０"}, "Value"},
		{Tag{Kind: KindDelivery, Contract: "1", Value: "am"}, "Date"},
		{Tag{Kind: KindDelivery, Contract: "1", Date: d(2024, 1, 1), Value: " am"}, "Value"},
		{Tag{Kind: KindRank, Contract: "1", Value: "Gold"}, "Contract"},
		{Tag{Kind: KindPause, Contract: "1"}, "Date"},
		{Tag{Kind: KindPause, Contract: "1", Date: d(2024, 1, 1), Value: "x"}, "Value"},
	}
	for _, tt := range tests {
		_, err := Format(tt.in)
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("Format(%+v) error = %v, want a *FormatError", tt.in, err)
			continue
		}
		if fe.Field != tt.field || fe.Kind != tt.in.Kind {
			t.Errorf("Format(%+v) error names %s %s, want %s %s", tt.in, fe.Kind, fe.Field, tt.in.Kind, tt.field)
		}
	}
}

func TestFormatTooLong(t *testing.T) {
	plan := strings.Repeat("定", 255-len("subscription-1-plan:"))
	if _, err := Format(Tag{Kind: KindPlan, Contract: "1", Value: plan}); err != nil {
		t.Errorf("255 characters: %v", err)
	}
	_, err := Format(Tag{Kind: KindPlan, Contract: "1", Value: plan + "x"})
	var te *TagError
	if !errors.As(err, &te) || !errors.Is(err, ErrTooLong) || te.Max != 255 || !strings.HasSuffix(te.Tag, "x") {
		t.Errorf("256 characters: error = %v, want ErrTooLong naming the tag", err)
	}
	s, err := NewSchema(WithMaxLength(20))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Format(Tag{Kind: KindPlan, Contract: "1", Value: "Gold"}); !errors.Is(err, ErrTooLong) {
		t.Errorf("WithMaxLength(20): error = %v, want ErrTooLong", err)
	}
	b, err := s.AppendFormat([]byte("keep"), Tag{Kind: KindPlan, Contract: "1", Value: "Gold"})
	if string(b) != "keep" || err == nil {
		t.Errorf("AppendFormat on error = %q, %v; want dst unchanged and an error", b, err)
	}
}

func TestCustomSchema(t *testing.T) {
	s, err := NewSchema(
		WithPrefix("teiki"),
		WithDeliveryPrefix("haisou"),
		WithTemplate(KindPause, "{prefix}-{id}-休止"),
		WithTemplate(KindRank, "会員ランク:{value}"),
		WithTemplate(KindStatus, "{prefix}-{id}-購買ステータス:{value}"),
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tag  Tag
		want string
	}{
		{Tag{Kind: KindPlan, Contract: "5", Value: "A"}, "teiki-5-plan:A"},
		{Tag{Kind: KindOrderCount, Count: 2}, "teiki-count:2"},
		{Tag{Kind: KindSubscriptionID, Value: "1234567890"}, "teiki-id:1234567890"},
		{Tag{Kind: KindDelivery, Contract: "5", Date: d(2024, 1, 2), Value: "午前"}, "haisou-5:2024-01-02 午前"},
		{Tag{Kind: KindPause, Contract: "5"}, "teiki-5-休止"},
		{Tag{Kind: KindRank, Value: "ゴールド"}, "会員ランク:ゴールド"},
		{Tag{Kind: KindStatus, Contract: "5", Value: "継続中"}, "teiki-5-購買ステータス:継続中"},
	}
	for _, tt := range tests {
		got, err := s.Format(tt.tag)
		if err != nil || got != tt.want {
			t.Errorf("Format(%+v) = %q, %v; want %q", tt.tag, got, err, tt.want)
			continue
		}
		back, err := s.Parse(got)
		if err != nil {
			t.Errorf("Parse(%q): %v", got, err)
		} else if diff := cmp.Diff(tt.tag, back); diff != "" {
			t.Errorf("round trip of %q mismatch (-want +got):\n%s", got, diff)
		}
	}
	// The default prefixes are not this schema's.
	if _, err := s.Parse("subscription-5-plan:A"); err == nil {
		t.Error(`custom schema parsed "subscription-5-plan:A"`)
	}
	for k, want := range map[Kind]string{KindPause: "{prefix}-{id}-休止", KindRank: "会員ランク:{value}", KindPlan: ""} {
		if got := s.Template(k); got != want {
			t.Errorf("Template(%s) = %q, want %q", k, got, want)
		}
	}
	if s.Prefix() != "teiki" || s.DeliveryPrefix() != "haisou" || s.MaxLength() != MaxLength || s.MaxTags() != MaxTags {
		t.Errorf("accessors: %q %q %d %d", s.Prefix(), s.DeliveryPrefix(), s.MaxLength(), s.MaxTags())
	}
}

// A template may make some values ambiguous; Format refuses those rather
// than write a tag that reads back as another kind.
func TestFormatRefusesAmbiguousTemplateValue(t *testing.T) {
	s, err := NewSchema(WithTemplate(KindStatus, "{prefix}-{id}-{value}"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Format(Tag{Kind: KindStatus, Contract: "1", Value: "active"}); err != nil || got != "subscription-1-active" {
		t.Errorf("Format(active) = %q, %v", got, err)
	}
	_, err = s.Format(Tag{Kind: KindStatus, Contract: "1", Value: "plan:Gold"})
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Field != "Value" || !strings.Contains(fe.Reason, "plan tag") {
		t.Errorf("Format(plan:Gold) error = %v, want a FormatError saying it reads as a plan tag", err)
	}
}

func TestSchemaConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		opt    Option
		option string
	}{
		{"empty prefix", WithPrefix(""), "prefix"},
		{"comma prefix", WithPrefix("a,b"), "prefix"},
		{"colon prefix", WithPrefix("a:b"), "prefix"},
		{"space prefix", WithPrefix(" sub"), "prefix"},
		{"empty delivery", WithDeliveryPrefix(""), "delivery prefix"},
		{"fixed kind", WithTemplate(KindPlan, "{prefix}-{id}-p:{value}"), "template"},
		{"unknown placeholder", WithTemplate(KindPause, "{prefix}-{id}-pause:{day}"), "pause template"},
		{"unmatched brace", WithTemplate(KindPause, "{prefix}-{id}-pause:{date"), "pause template"},
		{"stray brace", WithTemplate(KindPause, "{prefix}-{id}}"), "pause template"},
		{"placeholder first", WithTemplate(KindPause, "{id}-pause"), "pause template"},
		{"adjacent", WithTemplate(KindPause, "p-{id}{date}"), "pause template"},
		{"twice", WithTemplate(KindRank, "r-{id}-{id}:{value}"), "rank template"},
		{"value not last", WithTemplate(KindRank, "r:{value}!"), "rank template"},
		{"digit after id", WithTemplate(KindPause, "p-{id}9"), "pause template"},
		{"prefix after value", WithTemplate(KindRank, "r:{value}{prefix}"), "rank template"},
		{"digit prefix after id", func(o *options) { WithPrefix("9sub")(o); WithTemplate(KindPause, "p-{id}{prefix}")(o) }, "pause template"},
		{"pause without id", WithTemplate(KindPause, "paused:{date}"), "pause template"},
		{"pause with value", WithTemplate(KindPause, "p-{id}:{value}"), "pause template"},
		{"rank without value", WithTemplate(KindRank, "rank"), "rank template"},
		{"rank with date", WithTemplate(KindRank, "r-{date}:{value}"), "rank template"},
		{"status without id", WithTemplate(KindStatus, "s:{value}"), "status template"},
		{"comma", WithTemplate(KindRank, "a,b:{value}"), "rank template"},
		{"leading space", WithTemplate(KindRank, " r:{value}"), "rank template"},
		{"trailing space", WithTemplate(KindPause, "p-{id}-x "), "pause template"},
		{"empty", WithTemplate(KindPause, ""), "pause template"},
		{"clash with plan", WithTemplate(KindStatus, "{prefix}-{id}-plan:{value}"), "status template"},
		{"rank shadows status", WithTemplate(KindRank, "{prefix}-{id}-status:{value}"), "status template"},
		{"max length", WithMaxLength(0), "max length"},
		{"max tags", WithMaxTags(-1), "max tags"},
		{"rule at 0", WithRules(Rule{At: 0, Tag: "x"}), "rule"},
		{"rule empty tag", WithRules(Rule{At: 1, Tag: ""}), "rule"},
		{"rule comma", WithRules(Rule{At: 1, Tag: "a,b"}), "rule"},
		{"rule grammar tag", WithRules(Rule{At: 1, Tag: "subscription-count:3"}), "rule"},
		{"rule bad plan", WithRules(Rule{At: 1, Tag: "x", Plan: " Gold"}), "rule"},
	}
	for _, tt := range tests {
		_, err := NewSchema(tt.opt)
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: error = %v, want a *ConfigError", tt.name, err)
			continue
		}
		if ce.Option != tt.option {
			t.Errorf("%s: error %v names option %q, want %q", tt.name, err, ce.Option, tt.option)
		}
	}
}

func TestSchemaWith(t *testing.T) {
	s, err := NewSchema(WithPrefix("teiki"), WithRules(Rule{At: 3, Tag: "3回目"}))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := s.With(WithRules(Rule{At: 5, Tag: "5回目"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Rule{{At: 3, Tag: "3回目"}}, s.Rules()); diff != "" {
		t.Errorf("s.Rules() changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Rule{{At: 5, Tag: "5回目"}}, s2.Rules()); diff != "" {
		t.Errorf("s2.Rules() mismatch (-want +got):\n%s", diff)
	}
	if s2.Prefix() != "teiki" {
		t.Errorf("With lost the prefix: %q", s2.Prefix())
	}
	if Default().Prefix() != DefaultPrefix || len(Default().Rules()) != 0 {
		t.Error("Default() was changed")
	}
}

func TestOwns(t *testing.T) {
	s, err := NewSchema(WithRules(Rule{At: 3, Tag: "3回目購入"}, Rule{At: 5, Tag: "Loyal"}))
	if err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]bool{
		"subscription-1-plan:Gold":   true,
		" subscription-count:1 ":     true,
		"3回目購入":                      true,
		"LOYAL":                      true,
		"line":                       false,
		"ecp-first":                  false,
		"VIP":                        false,
		"subscription-1-plan:a,b":    false, // malformed: not ours to remove
		"subscription-1-cancel:soon": false,
		"":                           false,
	} {
		if got := s.Owns(tag); got != want {
			t.Errorf("Owns(%q) = %v, want %v", tag, got, want)
		}
	}
}

func TestKindString(t *testing.T) {
	var names []string
	for k := KindUnknown; k <= numKinds; k++ {
		names = append(names, k.String())
	}
	want := []string{"unknown", "plan", "product", "cancel", "skip-count", "pause", "rank", "status",
		"subscription-count", "subscription-id", "delivery", "Kind(11)"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("Kind names mismatch (-want +got):\n%s", diff)
	}
	for k := KindPlan; k < numKinds; k++ {
		if got, want := k.Order(), k >= KindOrderCount; got != want {
			t.Errorf("%s.Order() = %v", k, got)
		}
	}
}

func TestCheck(t *testing.T) {
	for tag, want := range map[string]error{
		"VIP":                          nil,
		"定期便":                          nil,
		"a b":                          nil,
		"e\u0301":                      nil,
		"\U0001F600":                   nil,
		"a\u200bb":                     nil, // invisible inside visible text
		"\u200fשלום":                   nil, // a bidi mark, not an override
		"":                             ErrEmpty,
		" VIP":                         ErrSpace,
		"VIP\u3000":                    ErrSpace,
		"a,b":                          ErrComma,
		"a\xff":                        ErrEncoding,
		"a\x01b":                       ErrControl,
		"a\x00b":                       ErrControl,
		"a\nb":                         ErrControl,
		"a\tb":                         ErrControl,
		"a\x7fb":                       ErrControl,
		"a\u0085b":                     ErrControl,
		"a\u009fb":                     ErrControl,
		"abc\u202Etxt.exe":             ErrBidi,
		"\u202Aa":                      ErrBidi,
		"a\u2066b\u2069":               ErrBidi,
		"\u200b":                       ErrInvisible,
		"\u200b\u200c\u200d":           ErrInvisible,
		"\ufeff":                       ErrInvisible,
		"\u2060\u00ad":                 ErrInvisible,
		"\u3164":                       ErrInvisible,
		"\u200b \u200b":                ErrInvisible,
		"\ufe0f":                       ErrInvisible,
		"\U000E0041":                   ErrInvisible,
		strings.Repeat("あ", 255):       nil,
		strings.Repeat("あ", 256):       ErrTooLong,
		strings.Repeat("a", MaxLength): nil,
	} {
		err := Check(tag)
		if !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("Check(%.20q) = %v, want %v", tag, err, want)
		}
		var te *TagError
		if err != nil && (!errors.As(err, &te) || te.Tag != tag) {
			t.Errorf("Check(%.20q) error %v does not name the tag", tag, err)
		}
		// Free text follows the same rules (and needs no length limit).
		if pos, _ := checkText(tag); want != ErrTooLong && (pos < 0) != (want == nil) {
			t.Errorf("checkText(%.20q) = %d, Check says %v", tag, pos, want)
		}
	}
}

// textOK is checkText's fast path: whatever it accepts, checkText accepts,
// and checkText accepts exactly what the rules allow.
func TestTextFastPathAgrees(t *testing.T) {
	for _, s := range []string{
		"", "a", " ", "a b", " a", "a ", "定期便", "定期便\u3000", "\u3000定期便", "a\u00a0", "\u00a0a", "a\u00a0b",
		"a\u0085b", "a\u009fb", "a\u00a0", "\xc2", "a\xc2", "a\xc2b", "\xc2\x80", "a\x7fb", "a\tb", "a,b", "，",
		"\xff", "a\xffb", "\xed\xa0\x80", "\uFFFD", "a\u2028", "\u2028a", "a\u2028b", "\U0001F600", "e\u0301",
		"a\u202eb", "a\u2069", "\u200b", "a\u200b", "\u200ba", "\u3164", "ていきびん", "テイキ", "a\u2014b", "\u2014",
	} {
		pos, _ := checkText(s)
		if textOK(s) && pos >= 0 {
			t.Errorf("textOK(%q) = true, checkText says %d", s, pos)
		}
		// checkText without its fast path
		ok := s != ""
		visible := false
		for i, r := range s {
			switch {
			case r == ',' || unicode.IsControl(r) || isBidiControl(r):
				ok = false
			case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
				ok = false
			case unicode.IsSpace(r) && (i == 0 || i+utf8.RuneLen(r) == len(s)):
				ok = false
			case !isInvisible(r):
				visible = true
			}
		}
		if ok = ok && visible; ok != (pos < 0) {
			t.Errorf("checkText(%q) = %d, the rules say %v", s, pos, ok)
		}
	}
}

package tagging

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const cust = "gid://shopify/Customer/7"

func TestPlan(t *testing.T) {
	s, err := NewSchema(WithRules(Rule{At: 3, Tag: "3回目購入"}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		current, desired []string
		want             Change
	}{
		{
			name:    "nothing to do",
			current: []string{"VIP", "subscription-1-plan:Gold", "line"},
			desired: []string{"subscription-1-plan:Gold"},
			want:    Change{ID: cust},
		},
		{
			name:    "replace owned, keep foreign",
			current: []string{"line", "subscription-1-plan:Gold", "ecp-first", "subscription-1-skip-count:1", "VIP"},
			desired: []string{"subscription-1-plan:Gold", "subscription-1-skip-count:2"},
			want:    Change{ID: cust, Add: []string{"subscription-1-skip-count:2"}, Remove: []string{"subscription-1-skip-count:1"}},
		},
		{
			name:    "empty desired removes every owned tag",
			current: []string{"subscription-1-plan:Gold", "delivery-1:2024-05-01", "3回目購入", "line"},
			want:    Change{ID: cust, Remove: []string{"subscription-1-plan:Gold", "delivery-1:2024-05-01", "3回目購入"}},
		},
		{
			name:    "no current tags",
			desired: []string{"subscription-1-plan:定期便", "subscription-1-product:コーヒー"},
			want:    Change{ID: cust, Add: []string{"subscription-1-plan:定期便", "subscription-1-product:コーヒー"}},
		},
		{
			name:    "case and whitespace are ignored, current spelling kept",
			current: []string{" Subscription-1-Plan:GOLD ", "LINE"},
			desired: []string{"subscription-1-plan:gold", " "},
			want:    Change{ID: cust},
		},
		{
			name:    "removal keeps the current spelling",
			current: []string{"SUBSCRIPTION-1-PLAN:Gold"},
			desired: []string{"subscription-1-plan:Silver"},
			want:    Change{ID: cust, Add: []string{"subscription-1-plan:Silver"}, Remove: []string{"SUBSCRIPTION-1-PLAN:Gold"}},
		},
		{
			name:    "desired duplicates added once",
			desired: []string{"subscription-count:1", "SUBSCRIPTION-COUNT:1", "subscription-count:1"},
			want:    Change{ID: cust, Add: []string{"subscription-count:1"}},
		},
		{
			name:    "a desired spelling the resource has under another desired spelling",
			current: []string{"subscription-1-plan:x"},
			desired: []string{"SUBSCRIPTION-1-PLAN:X", "subscription-1-plan:x"},
			want:    Change{ID: cust},
		},
		{
			name:    "a desired tag matched only by folding",
			current: []string{"Subscription-1-Plan:X"},
			desired: []string{"subscription-1-plan:定期便", "subscription-1-plan:x"},
			want:    Change{ID: cust, Add: []string{"subscription-1-plan:定期便"}},
		},
		{
			name:    "current duplicates removed once",
			current: []string{"subscription-1-plan:a", "SUBSCRIPTION-1-PLAN:A"},
			want:    Change{ID: cust, Remove: []string{"subscription-1-plan:a"}},
		},
		{
			name:    "malformed tags in our namespace are not ours",
			current: []string{"subscription-1-cancel:someday", "subscription-note", "delivery-x:1"},
			want:    Change{ID: cust},
		},
		{
			name:    "other contracts are owned too in a full plan",
			current: []string{"subscription-1-plan:A", "subscription-2-plan:B"},
			desired: []string{"subscription-1-plan:A"},
			want:    Change{ID: cust, Remove: []string{"subscription-2-plan:B"}},
		},
		{
			name:    "rule tags are owned",
			current: []string{"3回目購入"},
			want:    Change{ID: cust, Remove: []string{"3回目購入"}},
		},
	}
	for _, tt := range tests {
		got, err := s.Plan(cust, tt.current, tt.desired)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Plan mismatch (-want +got):\n%s", tt.name, diff)
		}
		if got.Empty() != (len(tt.want.Add)+len(tt.want.Remove) == 0) {
			t.Errorf("%s: Empty() = %v", tt.name, got.Empty())
		}
	}
}

func TestPlanErrors(t *testing.T) {
	s, err := NewSchema(WithMaxTags(4), WithMaxLength(40))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		current, desired []string
		tag              string
		want             error
	}{
		{"foreign desired", nil, []string{"VIP"}, "VIP", ErrForeign},
		{"comma", nil, []string{"subscription-1-plan:a,b"}, "subscription-1-plan:a,b", ErrComma},
		{"too long", nil, []string{"subscription-1-plan:" + strings.Repeat("x", 21)}, "subscription-1-plan:" + strings.Repeat("x", 21), ErrTooLong},
		{
			"too many",
			[]string{"a", "b", "subscription-count:1"},
			[]string{"subscription-count:1", "subscription-id:0000000001", "subscription-1-plan:x"},
			"subscription-1-plan:x", ErrTooMany,
		},
		{
			"too many even when duplicates are counted once",
			[]string{"a", "A", "b", "c", "d"},
			[]string{"subscription-count:1"},
			"subscription-count:1", ErrTooMany,
		},
	}
	for _, tt := range tests {
		got, err := s.Plan(cust, tt.current, tt.desired)
		var te *TagError
		if !errors.As(err, &te) || !errors.Is(err, tt.want) {
			t.Errorf("%s: error = %v, want %v", tt.name, err, tt.want)
			continue
		}
		if te.Tag != tt.tag || te.ID != cust {
			t.Errorf("%s: error names %q on %q, want %q on %q", tt.name, te.Tag, te.ID, tt.tag, cust)
		}
		if diff := cmp.Diff(Change{ID: cust}, got); diff != "" {
			t.Errorf("%s: change on error (-want +got):\n%s", tt.name, diff)
		}
	}
	// At the limit is fine; a resource already over it may still shed tags.
	if _, err := s.Plan(cust, []string{"a", "b", "c"}, []string{"subscription-count:1"}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	got, err := s.Plan(cust, []string{"a", "b", "c", "d", "e", "subscription-count:1"}, nil)
	if err != nil || len(got.Remove) != 1 {
		t.Errorf("over the limit, removing: %+v, %v", got, err)
	}
	if msg := (&TagError{ID: cust, Tag: "x", Err: ErrTooMany, Max: 250}).Error(); msg != `tagging: gid://shopify/Customer/7: tag "x": would make more than 250 tags on the resource` {
		t.Errorf("message: %s", msg)
	}
}

// Plans over many tags match through a map; the result must be the same as
// pairwise matching.
func TestPlanLarge(t *testing.T) {
	var current, desired []string
	for i := range 120 {
		current = append(current, fmt.Sprintf("subscription-%d-plan:P%d", i, i))
		if i%2 == 0 {
			current = append(current, fmt.Sprintf("foreign-%d", i))
		}
		if i%3 != 0 {
			desired = append(desired, fmt.Sprintf("SUBSCRIPTION-%d-PLAN:p%d", i, i))
		}
		if i%5 == 0 {
			desired = append(desired, fmt.Sprintf("subscription-%d-skip-count:%d", i, i))
		}
	}
	got, err := Default().Plan(cust, current, desired)
	if err != nil {
		t.Fatal(err)
	}
	if len(current)*len(desired) <= bigPlan {
		t.Fatal("test does not reach the map path")
	}
	want := Change{ID: cust}
	for i := range 120 {
		if i%3 == 0 {
			want.Remove = append(want.Remove, fmt.Sprintf("subscription-%d-plan:P%d", i, i))
		}
	}
	for i := range 120 {
		if i%5 == 0 {
			want.Add = append(want.Add, fmt.Sprintf("subscription-%d-skip-count:%d", i, i))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Plan mismatch (-want +got):\n%s", diff)
	}
}

// Applying a plan's change to a set gives the desired owned tags plus the
// foreign tags, whatever the current tags were.
func TestPlanReachesDesired(t *testing.T) {
	s := Default()
	tags := []string{"VIP", "line", "subscription-1-plan:A", "subscription-1-product:X", "subscription-2-plan:B",
		"subscription-2-cancel:2024-01-01", "subscription-count:1", "delivery-1:2024-01-01", "ecp-first", "Subscription-1-Plan:a"}
	for mask := 0; mask < 1<<len(tags); mask += 7 {
		var current, desired []string
		for i, tag := range tags {
			if mask&(1<<i) != 0 {
				current = append(current, tag)
			} else if s.Owns(tag) && i%2 == 0 {
				desired = append(desired, tag)
			}
		}
		c, err := s.Plan(cust, current, desired)
		if err != nil {
			t.Fatal(err)
		}
		set := NewSet(current...)
		set.Apply(c)
		want := NewSet(desired...)
		for _, tag := range current {
			if !s.Owns(tag) {
				want.Add(tag)
			}
		}
		if !set.Equal(want) {
			t.Fatalf("current %q, desired %q: change %+v leaves %q, want %q", current, desired, c, set, want)
		}
		for _, tag := range c.Add {
			if NewSet(current...).Has(tag) {
				t.Fatalf("change adds %q which the resource has", tag)
			}
		}
	}
}

func TestPlanAll(t *testing.T) {
	rs := []Resource{
		{ID: "gid://shopify/Customer/1", Current: []string{"subscription-count:1"}, Desired: []string{"subscription-count:1"}},
		{ID: "gid://shopify/Customer/2", Current: []string{"subscription-count:1"}, Desired: []string{"subscription-count:2"}},
		{ID: "gid://shopify/Customer/3", Desired: []string{"VIP"}},
		{ID: "gid://shopify/Customer/4", Current: []string{"subscription-count:1", "line"}},
	}
	type result struct {
		C   Change
		Err string
	}
	var got []result
	for c, err := range Default().PlanAll(slices.Values(rs)) {
		r := result{C: c}
		if err != nil {
			r.Err = err.Error()
		}
		got = append(got, r)
	}
	want := []result{
		{C: Change{ID: "gid://shopify/Customer/2", Add: []string{"subscription-count:2"}, Remove: []string{"subscription-count:1"}}},
		{C: Change{ID: "gid://shopify/Customer/3"}, Err: `tagging: gid://shopify/Customer/3: tag "VIP": is not owned by the schema`},
		{C: Change{ID: "gid://shopify/Customer/4", Remove: []string{"subscription-count:1"}}},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("PlanAll mismatch (-want +got):\n%s", diff)
	}
	n := 0
	for range Default().PlanAll(slices.Values(rs)) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("break did not stop PlanAll")
	}
}

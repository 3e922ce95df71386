package tagging

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

func TestSet(t *testing.T) {
	tests := []struct {
		name   string
		add    []string
		remove []string
		want   []string
	}{
		{"trims and drops empties", []string{" VIP ", "", "  ", "\u3000line"}, nil, []string{"VIP", "line"}},
		{"first spelling wins", []string{"VIP", "vip", "Vip", "line"}, nil, []string{"VIP", "line"}},
		{"unicode folding", []string{"Straße", "STRASSE", "straße", "ΣΊΣΥΦΟΣ", "σίσυφος"}, nil, []string{"Straße", "STRASSE", "ΣΊΣΥΦΟΣ"}},
		{"kelvin sign is k", []string{"kelvin", "\u212Aelvin"}, nil, []string{"kelvin"}},
		{"remove any spelling", []string{"VIP", "line", "ecp-first"}, []string{"LINE", " vip "}, []string{"ecp-first"}},
		{"remove keeps order", []string{"a", "b", "c", "d"}, []string{"b"}, []string{"a", "c", "d"}},
		{"remove missing", []string{"a"}, []string{"b", ""}, []string{"a"}},
		{"japanese", []string{"定期便", "定期便", "ＶＩＰ", "ｖｉｐ"}, nil, []string{"定期便", "ＶＩＰ"}},
	}
	for _, tt := range tests {
		var s Set
		s.Add(tt.add...)
		s.Remove(tt.remove...)
		if diff := cmp.Diff(tt.want, s.Tags()); diff != "" {
			t.Errorf("%s: tags mismatch (-want +got):\n%s", tt.name, diff)
		}
		if s.Len() != len(tt.want) {
			t.Errorf("%s: Len() = %d, want %d", tt.name, s.Len(), len(tt.want))
		}
	}
}

func TestSetLookup(t *testing.T) {
	s := NewSet("VIP", "line")
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"vip", "VIP", true},
		{" LINE", "line", true},
		{"ecp-first", "", false},
		{"", "", false},
	} {
		got, ok := s.Lookup(tt.in)
		if got != tt.want || ok != tt.ok || s.Has(tt.in) != tt.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// Large sets switch to a map of fold keys; they must behave exactly like
// small ones, through adds and removes.
func TestSetLarge(t *testing.T) {
	var s Set
	var want []string
	for i := range 200 {
		tag := fmt.Sprintf("Tag-%d-ß", i)
		s.Add(tag, strings.ToUpper(tag), strings.ToLower(tag))
		want = append(want, tag)
	}
	for i := 0; i < 200; i += 3 {
		s.Remove(strings.ToUpper(fmt.Sprintf("tag-%d-ß", i)))
	}
	want = slices.DeleteFunc(want, func(tag string) bool {
		var i int
		fmt.Sscanf(tag, "Tag-%d", &i)
		return i%3 == 0
	})
	if diff := cmp.Diff(want, s.Tags()); diff != "" {
		t.Fatalf("tags mismatch (-want +got):\n%s", diff)
	}
	for i, tag := range want {
		if got, ok := s.Lookup(strings.ToLower(tag)); !ok || got != tag {
			t.Errorf("Lookup(%q) = %q, %v", tag, got, ok)
		}
		if s.index(tag) != i {
			t.Errorf("index(%q) = %d, want %d", tag, s.index(tag), i)
		}
	}
	if s.Has("Tag-0-ß") {
		t.Error("removed tag still present")
	}
}

func TestSetApplyEqualClone(t *testing.T) {
	s := NewSet("VIP", "subscription-1-skip-count:1", "line")
	c := s.Clone()
	s.Apply(Change{ID: "gid://shopify/Customer/1", Add: []string{"subscription-1-skip-count:2"}, Remove: []string{"SUBSCRIPTION-1-SKIP-COUNT:1"}})
	if diff := cmp.Diff([]string{"VIP", "line", "subscription-1-skip-count:2"}, s.Tags()); diff != "" {
		t.Errorf("Apply mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(NewSet("line", "vip", "subscription-1-skip-count:1"), c); diff != "" {
		t.Errorf("Clone changed or Equal ignores order wrongly (-want +got):\n%s", diff)
	}
	if s.Equal(c) || !s.Equal(s.Clone()) {
		t.Error("Equal is wrong")
	}
	if got := s.String(); got != "VIP, line, subscription-1-skip-count:2" {
		t.Errorf("String() = %q", got)
	}
	var nilSet *Set
	if nilSet.Len() != 0 || nilSet.Has("x") || nilSet.Tags() != nil || nilSet.String() != "" || !nilSet.Equal(&Set{}) {
		t.Error("nil *Set does not read as empty")
	}
	for range nilSet.All() {
		t.Error("nil *Set yields tags")
	}
	if got := slices.Collect(s.All()); len(got) != 3 {
		t.Errorf("All() = %q", got)
	}
}

func TestSplit(t *testing.T) {
	got := Split(" VIP, line,,ecp-first ,  , 定期便")
	if diff := cmp.Diff([]string{"VIP", "line", "ecp-first", "定期便"}, got); diff != "" {
		t.Errorf("Split mismatch (-want +got):\n%s", diff)
	}
	if got := Split(""); got != nil {
		t.Errorf("Split(\"\") = %q", got)
	}
}

// foldKey must agree with strings.EqualFold, which Set, Plan and the rule
// lookup rely on interchangeably.
func TestFoldKeyAgreesWithEqualFold(t *testing.T) {
	var runes []rune
	for r := rune(0); r < 0x3000; r++ {
		if unicode.SimpleFold(r) != r {
			runes = append(runes, r)
		}
	}
	runes = append(runes, 'ｖ', 'Ｖ', utf8RuneError)
	for _, a := range runes {
		for f := unicode.SimpleFold(a); ; f = unicode.SimpleFold(f) {
			x, y := "x"+string(a)+"y", "X"+string(f)+"Y"
			if foldKey(x) != foldKey(y) {
				t.Fatalf("foldKey(%q) = %q, foldKey(%q) = %q; EqualFold says equal", x, foldKey(x), y, foldKey(y))
			}
			if f == a {
				break
			}
		}
	}
	for _, pair := range [][2]string{{"a", "b"}, {"ß", "ss"}, {"\xff", "\xfe"}, {"\xff", "\uFFFD"}, {"k", "\u212A"}, {"", " "}} {
		a, b := pair[0], pair[1]
		if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
			t.Errorf("foldKey(%q) == foldKey(%q) is %v, EqualFold is %v", a, b, got, want)
		}
	}
}

const utf8RuneError = '\uFFFD'

func TestDiff(t *testing.T) {
	got := Diff("gid://shopify/Customer/1", []string{"line", " VIP", "old"}, []string{"vip", "LINE", "new"})
	want := Change{ID: "gid://shopify/Customer/1", Add: []string{"new"}, Remove: []string{"old"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Diff (-want +got):\n%s", d)
	}
	if ch := Diff("x", nil, nil); !ch.Empty() {
		t.Errorf("Diff of nothing = %+v", ch)
	}
}

package tagging

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopcrm/shopcrm/calendar"
)

// fuzzSchemas are the grammars the fuzz targets run against: the default
// one, and one with other prefixes, Japanese templates and a status template
// whose values can clash with other kinds.
func fuzzSchemas(tb testing.TB) []*Schema {
	custom, err := NewSchema(
		WithPrefix("Teiki"),
		WithDeliveryPrefix("配送"),
		WithTemplate(KindPause, "{prefix}-{id}-休止:{date}"),
		WithTemplate(KindRank, "会員ランク:{value}"),
		WithTemplate(KindStatus, "{prefix}-{id}-{value}"),
		WithRules(Rule{At: 3, Tag: "3回目購入"}),
		WithMaxLength(64),
	)
	if err != nil {
		tb.Fatal(err)
	}
	return []*Schema{Default(), custom}
}

// sameUpToASCIICase reports whether a and b differ only in the case of
// ASCII letters, which is all Format may change in a parsed tag.
func sameUpToASCIICase(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && (a[i]|0x20 != b[i]|0x20 || a[i]|0x20 < 'a' || a[i]|0x20 > 'z') {
			return false
		}
	}
	return true
}

func FuzzParse(f *testing.F) {
	f.Add("subscription-123-plan:Gold")
	f.Add("delivery-1:2024-05-01 14:00-16:00")
	schemas := fuzzSchemas(f)
	f.Fuzz(func(t *testing.T, tag string) {
		for _, s := range schemas {
			got, err := s.Parse(tag)
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("Parse(%q) error %v is not a *ParseError", tag, err)
				}
				if pe.Tag != tag || pe.Pos < 0 || pe.Pos > len(tag) || pe.Expected == "" {
					t.Fatalf("Parse(%q) error %#v", tag, pe)
				}
				continue
			}
			if !s.Owns(tag) {
				t.Fatalf("Parse(%q) succeeded but Owns is false", tag)
			}
			out, err := s.Format(got)
			if err != nil {
				if errors.Is(err, ErrTooLong) && utf8.RuneCountInString(tag) > s.MaxLength() {
					continue
				}
				t.Fatalf("Format(Parse(%q) = %+v): %v", tag, got, err)
			}
			if !sameUpToASCIICase(out, tag) {
				t.Fatalf("Format(Parse(%q)) = %q", tag, out)
			}
			if s.Check(out) != nil {
				t.Fatalf("Format wrote %q which Check rejects: %v", out, s.Check(out))
			}
			back, err := s.Parse(out)
			if err != nil || back != got {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", out, back, err, got)
			}
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(KindPlan), "1", "定期便", 0, 0, 0, 0)
	f.Add(uint8(KindDelivery), "7", "14:00-16:00", 2024, 5, 1, 0)
	schemas := fuzzSchemas(f)
	f.Fuzz(func(t *testing.T, kind uint8, contract, value string, year, month, day, count int) {
		date := calendar.Date(int32(year)) // any value, valid or not
		if 1 <= month && month <= 12 && 1 <= day && day <= calendar.DaysIn(year, time.Month(month)) {
			date = calendar.NewDate(year, time.Month(month), day)
		}
		tag := Tag{Kind: Kind(kind), Contract: contract, Value: value, Count: count, Date: date}
		for _, s := range schemas {
			out, err := s.Format(tag)
			if err != nil {
				var fe *FormatError
				var te *TagError
				if !errors.As(err, &fe) && !(errors.As(err, &te) && errors.Is(err, ErrTooLong)) {
					t.Fatalf("Format(%+v) error %v is neither a *FormatError nor ErrTooLong", tag, err)
				}
				continue
			}
			if err := s.Check(out); err != nil {
				t.Fatalf("Format(%+v) = %q which Check rejects: %v", tag, out, err)
			}
			back, err := s.Parse(out)
			if err != nil || back != tag {
				t.Fatalf("Parse(Format(%+v)) = Parse(%q) = %+v, %v", tag, out, back, err)
			}
			if strings.TrimSpace(out) != out || !s.Owns(out) {
				t.Fatalf("Format(%+v) = %q: untrimmed or not owned", tag, out)
			}
		}
	})
}

// FuzzPlan checks what a plan promises on arbitrary tags: applying the
// change leaves exactly the desired tags plus the foreign ones, removes only
// owned tags, adds only missing ones, and the map path used for large
// resources agrees with pairwise matching.
func FuzzPlan(f *testing.F) {
	f.Add("VIP\nsubscription-1-plan:A\nline", "subscription-1-plan:B\nsubscription-count:2")
	f.Add("Subscription-1-Plan:a\n3回目購入\n  ", "subscription-1-plan:A\nSUBSCRIPTION-1-PLAN:a")
	s, err := NewSchema(WithRules(Rule{At: 3, Tag: "3回目購入"}, Rule{At: 5, Tag: "Straße"}), WithMaxTags(1000))
	if err != nil {
		f.Fatal(err)
	}
	// Padding that changes nothing but forces the map path: foreign tags,
	// and owned tags both present and desired.
	var foreign, owned []string
	for i := range 100 {
		foreign = append(foreign, "foreign-"+strconv.Itoa(i))
	}
	for i := range 50 {
		owned = append(owned, "subscription-9000-plan:pad "+strconv.Itoa(i))
	}
	f.Fuzz(func(t *testing.T, cur, des string) {
		current := strings.Split(cur, "\n")
		var desired []string
		for _, d := range strings.Split(des, "\n") {
			if d = strings.TrimSpace(d); d != "" && s.Owns(d) && s.Check(d) == nil {
				desired = append(desired, d)
			}
		}
		c, err := s.Plan(cust, current, desired)
		if err != nil {
			var te *TagError
			if !errors.As(err, &te) || !errors.Is(err, ErrTooMany) {
				t.Fatalf("Plan(%q, %q): %v", current, desired, err)
			}
			return
		}
		before := NewSet(current...)
		after := before.Clone()
		after.Apply(c)
		want := NewSet(desired...)
		for _, tag := range current {
			if !s.Owns(tag) {
				want.Add(tag)
			}
		}
		if !after.Equal(want) {
			t.Fatalf("Plan(%q, %q) = %+v leaves %q, want %q", current, desired, c, after, want)
		}
		for _, tag := range c.Remove {
			if !s.Owns(tag) || !before.Has(tag) {
				t.Fatalf("Plan removes %q: owned %v, present %v", tag, s.Owns(tag), before.Has(tag))
			}
		}
		for _, tag := range c.Add {
			if before.Has(tag) {
				t.Fatalf("Plan adds %q which is present", tag)
			}
		}
		if NewSet(c.Add...).Len() != len(c.Add) || NewSet(c.Remove...).Len() != len(c.Remove) {
			t.Fatalf("Plan repeats a tag: %+v", c)
		}
		bigCurrent := slices.Concat(foreign, current, owned)
		bigDesired := slices.Concat(owned, desired)
		if len(bigCurrent)*len(bigDesired) <= bigPlan {
			t.Fatal("padding does not reach the map path")
		}
		big, err := s.Plan(cust, bigCurrent, bigDesired)
		if err != nil {
			t.Fatalf("padded Plan: %v", err)
		}
		if !slices.Equal(big.Add, c.Add) || !slices.Equal(big.Remove, c.Remove) {
			t.Fatalf("map path: %+v, pairwise path: %+v", big, c)
		}
	})
}

package tagging

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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
		tag := Tag{Kind: Kind(kind), Contract: contract, Value: value, Count: count,
			Date: Date{Year: year, Month: time.Month(month), Day: day}}
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

package money

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1234.50", "-0.01", "1.234", "12.5", "", "NaN", "1e3", "92233720368547758.08", "1200.000"} {
		f.Add(s, "USD")
		f.Add(s, "JPY")
		f.Add(s, "KWD")
	}
	f.Fuzz(func(t *testing.T, s, cur string) {
		a, err := Parse(s, Currency(cur))
		if err != nil {
			var pe *ParseError
			var ue *UnknownCurrencyError
			if !errors.As(err, &pe) && !errors.As(err, &ue) {
				t.Fatalf("Parse(%q, %q) returned untyped error %v", s, cur, err)
			}
			return
		}
		back, err := Parse(a.Decimal(), a.Currency)
		if err != nil || back != a {
			t.Fatalf("round trip of %q: %v → %q → %v, %v", s, a, a.Decimal(), back, err)
		}
	})
}

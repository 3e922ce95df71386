package ratio_test

import (
	"fmt"
	"testing"

	"github.com/shopcrm/shopcrm/ratio"
)

func TestFormats(t *testing.T) {
	for _, tt := range []struct {
		r             ratio.Ratio
		str, dec, pct string
		defined       bool
	}{
		{ratio.Of(3, 4), "3/4 (75.0%)", "0.75", "75.00%", true},
		{ratio.Of(1, 3), "1/3 (33.3%)", "0.3333333333333333", "33.33%", true},
		{ratio.Of(0, 4), "0/4 (0.0%)", "0", "0.00%", true},
		{ratio.Of(5, 2), "5/2 (250.0%)", "2.5", "250.00%", true},
		{ratio.Of(3, 0), "3/0 (undefined)", "undefined", "undefined", false},
		{ratio.Ratio{}, "0/0 (undefined)", "undefined", "undefined", false},
	} {
		if got := tt.r.String(); got != tt.str {
			t.Errorf("%#v.String() = %q, want %q", tt.r, got, tt.str)
		}
		if got := tt.r.Decimal(); got != tt.dec {
			t.Errorf("%#v.Decimal() = %q, want %q", tt.r, got, tt.dec)
		}
		if got := tt.r.Percent(2); got != tt.pct {
			t.Errorf("%#v.Percent(2) = %q, want %q", tt.r, got, tt.pct)
		}
		if _, ok := tt.r.Float(); ok != tt.defined || tt.r.Defined() != tt.defined {
			t.Errorf("%#v defined = %v", tt.r, ok)
		}
	}
}

func ExampleRatio() {
	repeat := ratio.Of(3, 4)
	fmt.Println(repeat, repeat.Decimal(), repeat.Percent(0))
	fmt.Println(ratio.Of(0, 0))
	// Output:
	// 3/4 (75.0%) 0.75 75%
	// 0/0 (undefined)
}

package money

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		cur  Currency
		want int64
	}{
		{"1234.50", "USD", 123450},
		{"1234.5", "USD", 123450},
		{"1234", "USD", 123400},
		{"0.01", "USD", 1},
		{"-5.00", "USD", -500},
		{"1.230", "USD", 123}, // trailing zeros beyond the exponent are exact
		{"1200", "JPY", 1200},
		{"1200.0", "JPY", 1200},
		{"1.005", "KWD", 1005},
		{"0", "KWD", 0},
		{"92233720368547758.07", "USD", math.MaxInt64},
		{"-92233720368547758.08", "USD", math.MinInt64},
		{"9223372036854775807", "JPY", math.MaxInt64},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, tt.cur)
		if err != nil {
			t.Errorf("Parse(%q, %s): %v", tt.in, tt.cur, err)
			continue
		}
		if want := (Amount{Minor: tt.want, Currency: tt.cur}); got != want {
			t.Errorf("Parse(%q, %s) = %v, want %v", tt.in, tt.cur, got, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		in  string
		cur Currency
		pos int
	}{
		{"1.234", "USD", 4},
		{"12.5", "JPY", 3},
		{"", "USD", 0},
		{"NaN", "USD", 0},
		{"Inf", "USD", 0},
		{"1e3", "USD", 1},
		{"1E3", "USD", 1},
		{"+1.00", "USD", 0},
		{" 1.00", "USD", 0},
		{"1.00 ", "USD", 4},
		{"1,000.00", "USD", 1},
		{"1.", "USD", 2},
		{".5", "USD", 0},
		{"-", "USD", 1},
		{"--1", "USD", 1},
		{"0x10", "USD", 1},
		{"92233720368547758.08", "USD", 20},
		{"99999999999999999999", "JPY", 18},
		{"1.0.0", "USD", 3},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in, tt.cur)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q, %s) error = %v, want *ParseError", tt.in, tt.cur, err)
			continue
		}
		if pe.Pos != tt.pos {
			t.Errorf("Parse(%q, %s) pos = %d, want %d (%v)", tt.in, tt.cur, pe.Pos, tt.pos, err)
		}
	}
	var ue *UnknownCurrencyError
	if _, err := Parse("1.00", "XXX"); !errors.As(err, &ue) || ue.Code != "XXX" {
		t.Errorf("Parse with XXX: %v, want *UnknownCurrencyError", err)
	}
	if _, err := Parse("1.00", "usd"); !errors.As(err, &ue) {
		t.Errorf("Parse with lower-case code: %v, want *UnknownCurrencyError", err)
	}
}

func TestDecimalRoundTrip(t *testing.T) {
	tests := []struct {
		a    Amount
		want string
	}{
		{Amount{123450, "USD"}, "1234.50"},
		{Amount{5, "USD"}, "0.05"},
		{Amount{-5, "USD"}, "-0.05"},
		{Amount{0, "USD"}, "0.00"},
		{Amount{1200, "JPY"}, "1200"},
		{Amount{1005, "KWD"}, "1.005"},
		{Amount{math.MinInt64, "USD"}, "-92233720368547758.08"},
		{Amount{12345, "CLF"}, "1.2345"},
	}
	for _, tt := range tests {
		if got := tt.a.Decimal(); got != tt.want {
			t.Errorf("%#v.Decimal() = %q, want %q", tt.a, got, tt.want)
		}
		back, err := Parse(tt.a.Decimal(), tt.a.Currency)
		if err != nil || back != tt.a {
			t.Errorf("round trip of %#v = %v, %v", tt.a, back, err)
		}
	}
	if got := (Amount{123450, "USD"}).String(); got != "1234.50 USD" {
		t.Errorf("String() = %q", got)
	}
}

func TestExponents(t *testing.T) {
	for c, want := range map[Currency]int{"JPY": 0, "KRW": 0, "USD": 2, "EUR": 2, "KWD": 3, "BHD": 3, "CLF": 4} {
		if got, err := c.Exponent(); err != nil || got != want {
			t.Errorf("%s.Exponent() = %d, %v; want %d", c, got, err, want)
		}
	}
	if _, err := ParseCurrency("ZZZ"); err == nil {
		t.Error("ParseCurrency(ZZZ) succeeded")
	}
}

func TestAddSub(t *testing.T) {
	usd := func(m int64) Amount { return Amount{m, "USD"} }
	if got, err := usd(150).Add(usd(250)); err != nil || got != usd(400) {
		t.Errorf("Add = %v, %v", got, err)
	}
	if got, err := usd(150).Sub(usd(250)); err != nil || got != usd(-100) {
		t.Errorf("Sub = %v, %v", got, err)
	}
	if got, err := (Amount{}).Add(usd(7)); err != nil || got != usd(7) {
		t.Errorf("zero value Add = %v, %v", got, err)
	}
	_, err := usd(1).Add(Amount{1, "EUR"})
	var me *CurrencyMismatchError
	if !errors.As(err, &me) || me.Left != "USD" || me.Right != "EUR" || me.Op != "add" {
		t.Errorf("mixed Add error = %v", err)
	}
	if _, err := usd(1).Sub(Amount{1, "EUR"}); !errors.As(err, &me) {
		t.Errorf("mixed Sub error = %v", err)
	}
	if _, err := usd(1).Cmp(Amount{1, "EUR"}); !errors.As(err, &me) {
		t.Errorf("mixed Cmp error = %v", err)
	}
	if _, err := usd(math.MaxInt64).Add(usd(1)); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflowing Add error = %v", err)
	}
	if _, err := usd(math.MinInt64).Sub(usd(1)); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflowing Sub error = %v", err)
	}
	if _, err := usd(math.MinInt64).Neg(); !errors.Is(err, ErrOverflow) {
		t.Errorf("Neg(MinInt64) error = %v", err)
	}
	if c, _ := usd(1).Cmp(usd(2)); c != -1 {
		t.Errorf("Cmp = %d", c)
	}
}

func TestTotals(t *testing.T) {
	var tot Totals
	for _, a := range []Amount{MustParse("10.50", "USD"), MustParse("1000", "JPY"), MustParse("-0.50", "USD")} {
		if err := tot.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	want := []Amount{{1000, "JPY"}, {1000, "USD"}}
	if diff := cmp.Diff(want, tot.Amounts()); diff != "" {
		t.Errorf("Amounts mismatch (-want +got):\n%s", diff)
	}
	if got := tot.String(); got != "1000 JPY + 10.00 USD" {
		t.Errorf("String = %q", got)
	}
	var other Totals
	_ = other.AddTotals(tot)
	if !cmp.Equal(tot, other) {
		t.Error("AddTotals copy not Equal")
	}
	_ = other.Add(Amount{1, "EUR"})
	if cmp.Equal(tot, other) {
		t.Error("Totals with extra currency compare Equal")
	}
	if err := tot.Add(Amount{1, ""}); err == nil {
		t.Error("Add without currency succeeded")
	}
	if err := tot.Add(Amount{math.MaxInt64, "USD"}); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflow: %v", err)
	}
	if got := tot.Get("USD"); got != (Amount{1000, "USD"}) {
		t.Errorf("failed Add changed the total: %v", got)
	}
}

func TestMulDiv(t *testing.T) {
	tests := []struct {
		minor, num, den, want int64
	}{
		{1000, 1, 3, 333},
		{1000, 2, 3, 667},
		{5, 1, 2, 2},   // 2.5 → 2 (even)
		{15, 1, 10, 2}, // 1.5 → 2 (even)
		{25, 1, 10, 2}, // 2.5 → 2
		{-5, 1, 2, -2}, // -2.5 → -2
		{-7, 1, 2, -4}, // -3.5 → -4
		{12345, 1000, 7, 1763571},
		{math.MaxInt64, 2, 2, math.MaxInt64}, // 128-bit intermediate
	}
	for _, tt := range tests {
		got, err := Amount{tt.minor, "USD"}.MulDiv(tt.num, tt.den)
		if err != nil || got.Minor != tt.want {
			t.Errorf("%d×%d÷%d = %v, %v; want %d", tt.minor, tt.num, tt.den, got.Minor, err, tt.want)
		}
	}
	if _, err := (Amount{1, "USD"}).MulDiv(1, 0); err == nil {
		t.Error("MulDiv by zero succeeded")
	}
	if _, err := (Amount{math.MaxInt64, "USD"}).MulDiv(2, 1); !errors.Is(err, ErrOverflow) {
		t.Errorf("MulDiv overflow: %v", err)
	}
}

func TestAllocate(t *testing.T) {
	tests := []struct {
		minor   int64
		weights []float64
		want    []int64
	}{
		{100, []float64{1, 1, 1}, []int64{34, 33, 33}},
		{-100, []float64{1, 1, 1}, []int64{-34, -33, -33}},
		{1000, []float64{0.4, 0.2, 0.4}, []int64{400, 200, 400}},
		{1001, []float64{0.4, 0.2, 0.4}, []int64{401, 200, 400}},
		{5, []float64{0, 1}, []int64{0, 5}},
		{1, []float64{1, 1, 1, 1}, []int64{1, 0, 0, 0}},
		{math.MaxInt64, []float64{1, 1}, []int64{math.MaxInt64/2 + 1, math.MaxInt64 / 2}},
	}
	for _, tt := range tests {
		got, err := Amount{tt.minor, "JPY"}.Allocate(tt.weights)
		if err != nil {
			t.Errorf("Allocate(%d, %v): %v", tt.minor, tt.weights, err)
			continue
		}
		var minors []int64
		var sum int64
		for _, a := range got {
			minors = append(minors, a.Minor)
			sum += a.Minor
		}
		if diff := cmp.Diff(tt.want, minors); diff != "" {
			t.Errorf("Allocate(%d, %v) mismatch (-want +got):\n%s", tt.minor, tt.weights, diff)
		}
		if sum != tt.minor {
			t.Errorf("Allocate(%d, %v) sums to %d", tt.minor, tt.weights, sum)
		}
	}
	for _, w := range [][]float64{nil, {0, 0}, {-1, 2}, {math.NaN()}, {math.Inf(1)}} {
		if _, err := (Amount{1, "USD"}).Allocate(w); err == nil {
			t.Errorf("Allocate(%v) succeeded", w)
		}
	}
}

func TestJSON(t *testing.T) {
	b, err := json.Marshal(MustParse("12.5", "USD"))
	if err != nil || string(b) != `{"amount":"12.50","currencyCode":"USD"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var a Amount
	if err := json.Unmarshal([]byte(`{"amount":"1200.0","currencyCode":"JPY"}`), &a); err != nil || a != (Amount{1200, "JPY"}) {
		t.Errorf("Unmarshal = %v, %v", a, err)
	}
	if err := json.Unmarshal([]byte(`{"amount":"12.5","currencyCode":"JPY"}`), &a); err == nil {
		t.Error("Unmarshal of inexact JPY succeeded")
	}
}

func TestTotalsRefusesUnknownCurrency(t *testing.T) {
	var tot Totals
	for _, c := range []Currency{"", "XXX1", "usd"} {
		var ue *UnknownCurrencyError
		if err := tot.Add(Amount{Minor: 1, Currency: c}); !errors.As(err, &ue) {
			t.Errorf("Add in %q: err = %v", c, err)
		}
	}
	if tot.Len() != 0 {
		t.Errorf("totals kept %d currencies", tot.Len())
	}
}

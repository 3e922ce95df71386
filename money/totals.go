package money

import (
	"slices"
	"strings"
)

// Totals sums amounts per currency. The zero value is an empty total ready
// to use. A Totals is not safe for concurrent use.
type Totals struct {
	m map[Currency]int64
}

// Add adds a to the total of its currency. An amount with no currency is an
// [*UnknownCurrencyError]; overflow is [ErrOverflow] and leaves t unchanged.
func (t *Totals) Add(a Amount) error {
	if !a.Currency.Known() {
		return &UnknownCurrencyError{Code: string(a.Currency)}
	}
	if t.m == nil {
		t.m = make(map[Currency]int64, 1)
	}
	s, err := Amount{Minor: t.m[a.Currency], Currency: a.Currency}.Add(a)
	if err != nil {
		return err
	}
	t.m[a.Currency] = s.Minor
	return nil
}

// AddTotals adds every currency of u to t. On overflow t keeps the
// currencies added before it.
func (t *Totals) AddTotals(u Totals) error {
	for c, v := range u.m {
		if err := t.Add(Amount{Minor: v, Currency: c}); err != nil {
			return err
		}
	}
	return nil
}

// Get returns the total for c (zero when nothing was added in c).
func (t Totals) Get(c Currency) Amount {
	return Amount{Minor: t.m[c], Currency: c}
}

// Len reports the number of currencies seen.
func (t Totals) Len() int { return len(t.m) }

// Currencies returns the currencies seen, sorted.
func (t Totals) Currencies() []Currency {
	cs := make([]Currency, 0, len(t.m))
	for c := range t.m {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

// Amounts returns one amount per currency seen, sorted by currency. A
// currency whose amounts cancel out is still listed, with zero.
func (t Totals) Amounts() []Amount {
	out := make([]Amount, 0, len(t.m))
	for _, c := range t.Currencies() {
		out = append(out, Amount{Minor: t.m[c], Currency: c})
	}
	return out
}

// Equal reports whether t and u hold the same currencies and sums. go-cmp
// uses it, so Totals values can be compared in tests.
func (t Totals) Equal(u Totals) bool {
	if len(t.m) != len(u.m) {
		return false
	}
	for c, v := range t.m {
		w, ok := u.m[c]
		if !ok || w != v {
			return false
		}
	}
	return true
}

// String formats the totals as "12.50 EUR + 3000 JPY", sorted by currency.
func (t Totals) String() string {
	if len(t.m) == 0 {
		return "0"
	}
	parts := make([]string, 0, len(t.m))
	for _, a := range t.Amounts() {
		parts = append(parts, a.String())
	}
	return strings.Join(parts, " + ")
}

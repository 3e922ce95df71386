package money

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Amount is an exact amount of money: Minor units (cents for USD, yen for
// JPY, fils for KWD) of Currency. The zero value has no currency; use [Zero]
// for a typed zero.
//
// The fields are exported so that results compare with == and go-cmp; build
// amounts with [Parse] or [New] to get the currency checked.
type Amount struct {
	Minor    int64
	Currency Currency
}

// New returns an amount of minor units of c after checking c is known.
func New(minor int64, c Currency) (Amount, error) {
	if !c.Known() {
		return Amount{}, &UnknownCurrencyError{Code: string(c)}
	}
	return Amount{Minor: minor, Currency: c}, nil
}

// Zero returns a zero amount of c.
func Zero(c Currency) Amount { return Amount{Currency: c} }

// MustParse is like [Parse] but panics on error. Use it for constants in
// tests and examples only.
func MustParse(decimal string, c Currency) Amount {
	a, err := Parse(decimal, c)
	if err != nil {
		panic(err)
	}
	return a
}

// Parse reads a decimal string such as Shopify's "1234.50" as an amount of c.
//
// Accepted: an optional leading '-', at least one digit, and optionally '.'
// followed by at least one digit. Digits beyond the currency's exponent are
// accepted only when they are zeros ("1200.0" is 1200 JPY, "1.230" is 1.23 USD),
// because Shopify's Decimal scalar sometimes pads; a non-zero digit there
// ("1.234" USD, "12.5" JPY) would lose money and is a [*ParseError]. Signs other
// than a leading '-', exponents, spaces, thousands separators, NaN and Inf
// are rejected. Float64 is never involved.
func Parse(decimal string, c Currency) (Amount, error) {
	exp, err := c.Exponent()
	if err != nil {
		return Amount{}, err
	}
	fail := func(pos int, reason string) (Amount, error) {
		return Amount{}, &ParseError{Input: decimal, Currency: c, Pos: pos, Reason: reason}
	}
	s := decimal
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	var v uint64 // magnitude in minor units
	const limit = uint64(math.MaxInt64) + 1
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if v > (limit-d)/10 {
			return fail(i, "too large")
		}
		v = v*10 + d
		digits++
	}
	if digits == 0 {
		if i < len(s) {
			return fail(i, "expected digit")
		}
		return fail(i, "expected digit, got end of input")
	}
	frac := 0
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			d := uint64(s[i] - '0')
			if frac < exp {
				if v > (limit-d)/10 {
					return fail(i, "too large")
				}
				v = v*10 + d
				frac++
			} else if d != 0 {
				return fail(i, fmt.Sprintf("more than %d decimal places", exp))
			}
		}
		if i == start {
			return fail(i, "expected digit after '.'")
		}
	}
	if i < len(s) {
		return fail(i, fmt.Sprintf("unexpected %q", s[i]))
	}
	for ; frac < exp; frac++ {
		if v > limit/10 {
			return fail(len(s), "too large")
		}
		v *= 10
	}
	if !neg && v > math.MaxInt64 || v > limit {
		return fail(len(s), "too large")
	}
	minor := int64(v) // wraps to MinInt64 only when neg && v == limit
	if neg {
		minor = -minor
	}
	return Amount{Minor: minor, Currency: c}, nil
}

// Decimal formats a as a decimal string with exactly the currency's number of
// decimal places ("1234.50" USD, "1200" JPY, "1.005" KWD), the form Shopify's
// Decimal scalar accepts. An unknown currency formats with exponent 0.
func (a Amount) Decimal() string {
	exp, _ := a.Currency.Exponent()
	return string(a.appendDecimal(make([]byte, 0, 24), exp))
}

func (a Amount) appendDecimal(b []byte, exp int) []byte {
	var mag uint64
	if a.Minor < 0 {
		b = append(b, '-')
		mag = uint64(-(a.Minor + 1)) + 1 // safe for MinInt64
	} else {
		mag = uint64(a.Minor)
	}
	digits := strconv.FormatUint(mag, 10)
	if exp == 0 {
		return append(b, digits...)
	}
	for len(digits) <= exp {
		digits = "0" + digits
	}
	b = append(b, digits[:len(digits)-exp]...)
	b = append(b, '.')
	return append(b, digits[len(digits)-exp:]...)
}

// String formats a as "1234.50 USD".
func (a Amount) String() string {
	if a.Currency == "" {
		return a.Decimal()
	}
	return a.Decimal() + " " + string(a.Currency)
}

// IsZero reports whether a is zero (in any currency).
func (a Amount) IsZero() bool { return a.Minor == 0 }

// Sign returns -1, 0 or +1.
func (a Amount) Sign() int {
	switch {
	case a.Minor < 0:
		return -1
	case a.Minor > 0:
		return 1
	}
	return 0
}

// Neg returns -a. Negating the most negative amount returns [ErrOverflow].
func (a Amount) Neg() (Amount, error) {
	if a.Minor == math.MinInt64 {
		return Amount{}, ErrOverflow
	}
	return Amount{Minor: -a.Minor, Currency: a.Currency}, nil
}

// Add returns a+b. Different currencies give a [*CurrencyMismatchError]; a
// zero value with no currency adopts the other's currency, so a running sum
// can start from Amount{}.
func (a Amount) Add(b Amount) (Amount, error) {
	c, err := sameCurrency("add", a, b)
	if err != nil {
		return Amount{}, err
	}
	s := a.Minor + b.Minor
	if (s > a.Minor) != (b.Minor > 0) {
		return Amount{}, ErrOverflow
	}
	return Amount{Minor: s, Currency: c}, nil
}

// Sub returns a-b, with the same rules as [Amount.Add].
func (a Amount) Sub(b Amount) (Amount, error) {
	c, err := sameCurrency("sub", a, b)
	if err != nil {
		return Amount{}, err
	}
	d := a.Minor - b.Minor
	if (d < a.Minor) != (b.Minor > 0) {
		return Amount{}, ErrOverflow
	}
	return Amount{Minor: d, Currency: c}, nil
}

// Cmp compares a and b: -1, 0 or +1. Different currencies give an error.
func (a Amount) Cmp(b Amount) (int, error) {
	if _, err := sameCurrency("cmp", a, b); err != nil {
		return 0, err
	}
	switch {
	case a.Minor < b.Minor:
		return -1, nil
	case a.Minor > b.Minor:
		return 1, nil
	}
	return 0, nil
}

func sameCurrency(op string, a, b Amount) (Currency, error) {
	switch {
	case a.Currency == b.Currency:
		return a.Currency, nil
	case a.Currency == "" && a.Minor == 0:
		return b.Currency, nil
	case b.Currency == "" && b.Minor == 0:
		return a.Currency, nil
	}
	return "", &CurrencyMismatchError{Op: op, Left: a.Currency, Right: b.Currency}
}

// moneyJSON is Shopify's MoneyV2 shape, also used by Klaviyo-style payloads
// that carry an amount with its code.
type moneyJSON struct {
	Amount       string   `json:"amount"`
	CurrencyCode Currency `json:"currencyCode"`
}

// MarshalJSON encodes a in Shopify's MoneyV2 shape:
// {"amount":"12.50","currencyCode":"USD"}.
func (a Amount) MarshalJSON() ([]byte, error) {
	return json.Marshal(moneyJSON{Amount: a.Decimal(), CurrencyCode: a.Currency})
}

// UnmarshalJSON decodes Shopify's MoneyV2 shape, checking the amount is exact
// in its currency.
func (a *Amount) UnmarshalJSON(b []byte) error {
	var m moneyJSON
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	v, err := Parse(m.Amount, m.CurrencyCode)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Package ratio holds the SDK's one rate type: an exact ratio of two sums,
// such as a segment's repeat rate or a campaign's click-through rate and
// ROAS. It is pure (no I/O, no platform import), shared by packages segment
// and attribution.
package ratio

import "strconv"

// Ratio is Num ÷ Den kept as its two sums, so rates stay exact, add up
// across rows (sum the Nums and the Dens) and an empty denominator stays
// visibly undefined instead of turning into 0 or NaN. Ratios compare with
// == field by field: 1/2 and 2/4 are different values of the same rate.
type Ratio struct {
	Num, Den int64
}

// Of returns num ÷ den.
func Of(num, den int64) Ratio { return Ratio{Num: num, Den: den} }

// Defined reports whether the denominator is not zero.
func (r Ratio) Defined() bool { return r.Den != 0 }

// Float returns Num ÷ Den, and false when Den is zero (the ratio is
// undefined, for example the repeat rate of a segment without buyers).
func (r Ratio) Float() (float64, bool) {
	if r.Den == 0 {
		return 0, false
	}
	return float64(r.Num) / float64(r.Den), true
}

// Decimal formats the ratio as the shortest decimal that reads back to the
// same float64 ("0.25"), or "undefined".
func (r Ratio) Decimal() string {
	v, ok := r.Float()
	if !ok {
		return Undefined
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Percent formats the ratio as a percentage with the given number of
// decimals ("75.0%" for 1), or "undefined".
func (r Ratio) Percent(decimals int) string {
	v, ok := r.Float()
	if !ok {
		return Undefined
	}
	return strconv.FormatFloat(100*v, 'f', decimals, 64) + "%"
}

// String formats r as "3/4 (75.0%)", or "0/0 (undefined)".
func (r Ratio) String() string {
	s := strconv.FormatInt(r.Num, 10) + "/" + strconv.FormatInt(r.Den, 10)
	if r.Den == 0 {
		return s + " (" + Undefined + ")"
	}
	return s + " (" + r.Percent(1) + ")"
}

// Undefined is how a ratio with a zero denominator prints.
const Undefined = "undefined"

package money

import (
	"cmp"
	"errors"
	"math"
	"math/big"
	"math/bits"
	"slices"
)

// MulDiv returns a × num ÷ den rounded half to even in the currency's minor
// unit (1.005 → 1.00, 1.015 → 1.02 when the exact result is at the midpoint).
// It is how per-unit KPIs are computed exactly: CPC = spend.MulDiv(1, clicks),
// CPM = spend.MulDiv(1000, impressions). den must not be zero.
func (a Amount) MulDiv(num, den int64) (Amount, error) {
	if den == 0 {
		return Amount{}, errors.New("money: MulDiv by zero")
	}
	neg := (a.Minor < 0) != (num < 0) != (den < 0)
	hi, lo := bits.Mul64(abs64(a.Minor), abs64(num))
	d := abs64(den)
	var q, r uint64
	if hi < d {
		q, r = bits.Div64(hi, lo, d)
	} else {
		// The quotient needs more than 64 bits: it cannot fit anyway.
		return Amount{}, ErrOverflow
	}
	// Half to even: round up when r > d/2, or r == d/2 exactly and q is odd.
	if r2lo, r2hi := bits.Add64(r, r, 0); r2hi != 0 || r2lo > d || (r2lo == d && q&1 == 1) {
		q++
	}
	if q > math.MaxInt64 && !(neg && q == math.MaxInt64+1) {
		return Amount{}, ErrOverflow
	}
	v := int64(q)
	if neg {
		v = -v
	}
	return Amount{Minor: v, Currency: a.Currency}, nil
}

func abs64(v int64) uint64 {
	if v < 0 {
		return uint64(-(v + 1)) + 1
	}
	return uint64(v)
}

// Allocate splits a into len(weights) parts proportional to weights, in
// whole minor units, with the largest-remainder method: the parts always
// add up to a exactly. Ties in the remainder go to the lower index, so the
// result is deterministic. Weights must be finite and non-negative with a
// positive sum.
func (a Amount) Allocate(weights []float64) ([]Amount, error) {
	out := make([]Amount, len(weights))
	if err := a.AllocateInto(out, weights); err != nil {
		return nil, err
	}
	return out, nil
}

// AllocateInto is [Amount.Allocate] writing into dst, which must have the
// same length as weights; it does not allocate for up to 16 weights.
func (a Amount) AllocateInto(dst []Amount, weights []float64) error {
	if len(dst) != len(weights) {
		return errors.New("money: Allocate: dst and weights differ in length")
	}
	if len(weights) == 0 {
		return errors.New("money: Allocate: no weights")
	}
	var sum float64
	for _, w := range weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return errors.New("money: Allocate: weight is negative or not finite")
		}
		sum += w
	}
	if sum <= 0 || math.IsInf(sum, 0) {
		return errors.New("money: Allocate: weights sum to zero")
	}
	total := abs64(a.Minor)
	neg := a.Minor < 0
	type rem struct {
		frac float64
		i    int
	}
	var buf [16]rem
	rems := buf[:0]
	var given uint64
	exact := total < 1<<53
	for i, w := range weights {
		var part uint64
		var frac float64
		if exact {
			x := float64(total) * (w / sum)
			f := math.Floor(x)
			part, frac = uint64(f), x-f
		} else {
			// Beyond 2^53 float64 loses units; do the share in big.Float.
			x := new(big.Float).SetPrec(200).SetUint64(total)
			x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(w))
			x.Quo(x, new(big.Float).SetPrec(200).SetFloat64(sum))
			part, _ = x.Uint64()
			fr, _ := x.Sub(x, new(big.Float).SetUint64(part)).Float64()
			frac = fr
		}
		if given+part > total { // float error can only overshoot by a unit or so
			part = total - given
		}
		given += part
		dst[i] = Amount{Minor: int64(part), Currency: a.Currency}
		if w > 0 { // a zero weight never receives a remainder unit
			rems = append(rems, rem{frac, i})
		}
	}
	left := total - given
	if left > 0 {
		slices.SortStableFunc(rems, func(x, y rem) int { return cmp.Compare(y.frac, x.frac) })
		for k := 0; left > 0; k = (k + 1) % len(rems) {
			dst[rems[k].i].Minor++
			left--
		}
	}
	if neg {
		for i := range dst {
			dst[i].Minor = -dst[i].Minor
		}
	}
	return nil
}

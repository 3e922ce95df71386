package attribution

import (
	"slices"
	"strings"

	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/ratio"
)

// KPIs are recomputed at every level from the row's sums (ratios of sums,
// never averages of ratios), as in Google Ads' rate metrics.
//
//	CTR             clicks ÷ impressions
//	ConversionRate  conversions ÷ (clicks + message clicks)
//	OpenRate        opens ÷ delivered            (delivered = sends − bounces)
//	ClickRate       message clicks ÷ delivered
//	BounceRate      bounces ÷ sends
//	CPC             spend ÷ clicks
//	CPM             spend × 1000 ÷ impressions
//	CPA             spend ÷ conversions
//	ROAS            revenue ÷ spend, per currency
//
// A zero denominator makes a KPI undefined, never 0 or NaN.
type KPIs struct {
	CTR, ConversionRate, OpenRate, ClickRate, BounceRate ratio.Ratio
	CPC, CPM, CPA                                        Cost
	ROAS                                                 []CurrencyRatio
}

const undefined = ratio.Undefined

// Cost is a money KPI: spend divided by a count, one amount per currency of
// the spend (sorted by currency), each rounded half to even to the
// currency's minor unit. It is undefined when the count is zero. With a
// count but no spend at all it is defined and has no amounts (it is 0).
type Cost struct {
	Amounts []money.Amount
	Defined bool
}

// String formats the cost as "0.42 USD", "0.42 USD + 55 JPY", "0" (no
// spend) or "undefined".
func (c Cost) String() string {
	if !c.Defined {
		return undefined
	}
	if len(c.Amounts) == 0 {
		return "0"
	}
	s := make([]string, len(c.Amounts))
	for i, a := range c.Amounts {
		s[i] = a.String()
	}
	return strings.Join(s, " + ")
}

// CurrencyRatio is a ratio of two amounts of one currency, in minor units.
type CurrencyRatio struct {
	Currency money.Currency
	Ratio    ratio.Ratio
}

// Delivered returns sends minus bounces, or zero if bounces exceed sends
// (which only inconsistent sources produce).
func (m Measures) Delivered() int64 { return max(m.Sends-m.Bounces, 0) }

// CTR is clicks ÷ impressions.
func (m Measures) CTR() ratio.Ratio { return ratio.Of(m.Clicks, m.Impressions) }

// ConversionRate is attributed conversions ÷ all clicks (ad and message).
// Conversions are fractional ([Credit]), so the ratio is kept in the
// smallest whole units that hold them exactly: 3 conversions of 12 clicks
// are 3/12, 2.5 of 12 are 5/24.
func (m Measures) ConversionRate() ratio.Ratio {
	unit := gcd(int64(m.Conversions), int64(One)) // divides One
	return ratio.Of(int64(m.Conversions)/unit, (m.Clicks+m.MessageClicks)*(int64(One)/unit))
}

// gcd returns the greatest common divisor of a and b (b > 0).
func gcd(a, b int64) int64 {
	for a != 0 {
		a, b = b%a, a
	}
	return max(b, -b)
}

// OpenRate is opens ÷ delivered messages.
func (m Measures) OpenRate() ratio.Ratio { return ratio.Of(m.Opens, m.Delivered()) }

// ClickRate is message clicks ÷ delivered messages.
func (m Measures) ClickRate() ratio.Ratio { return ratio.Of(m.MessageClicks, m.Delivered()) }

// BounceRate is bounces ÷ sends.
func (m Measures) BounceRate() ratio.Ratio { return ratio.Of(m.Bounces, m.Sends) }

// CPC is spend ÷ clicks.
func (m Measures) CPC() Cost { return cost(m.Spend, 1, m.Clicks) }

// CPM is spend × 1000 ÷ impressions.
func (m Measures) CPM() Cost { return cost(m.Spend, 1000, m.Impressions) }

// CPA is spend ÷ attributed conversions (fractional conversions count as
// such: 2.5 conversions for 10.00 USD is 4.00 USD).
func (m Measures) CPA() Cost { return cost(m.Spend, int64(One), int64(m.Conversions)) }

// ROAS is attributed revenue ÷ spend, one ratio per currency that appears
// in either, sorted by currency. Currencies are never converted, so revenue
// in a currency with no spend gives an undefined ratio for that currency.
func (m Measures) ROAS() []CurrencyRatio {
	cs := append(m.Spend.Currencies(), m.Revenue.Currencies()...)
	slices.Sort(cs)
	cs = slices.Compact(cs)
	out := make([]CurrencyRatio, len(cs))
	for i, c := range cs {
		out[i] = CurrencyRatio{Currency: c, Ratio: ratio.Of(m.Revenue.Get(c).Minor, m.Spend.Get(c).Minor)}
	}
	return out
}

// KPIs computes every KPI of m.
func (m Measures) KPIs() KPIs {
	return KPIs{
		CTR: m.CTR(), ConversionRate: m.ConversionRate(), OpenRate: m.OpenRate(), ClickRate: m.ClickRate(), BounceRate: m.BounceRate(),
		CPC: m.CPC(), CPM: m.CPM(), CPA: m.CPA(), ROAS: m.ROAS(),
	}
}

// cost divides every currency of spend by den/num with money's half-even
// MulDiv. An amount that would overflow int64 makes the cost undefined.
func cost(spend money.Totals, num, den int64) Cost {
	if den == 0 {
		return Cost{}
	}
	c := Cost{Defined: true}
	for _, a := range spend.Amounts() {
		v, err := a.MulDiv(num, den)
		if err != nil {
			return Cost{}
		}
		c.Amounts = append(c.Amounts, v)
	}
	return c
}

func formatROAS(rs []CurrencyRatio, format func(ratio.Ratio) string) string {
	switch len(rs) {
	case 0:
		return undefined
	case 1:
		return format(rs[0].Ratio)
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r.Currency) + " " + format(r.Ratio)
	}
	return strings.Join(s, "; ")
}

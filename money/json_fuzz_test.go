package money_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/shopcrm/shopcrm/money"
)

// FuzzAmountJSON feeds MoneyV2 objects as the platforms send them (seeds
// in testdata/fuzz/FuzzAmountJSON: Shopify's shopMoney, amounts beyond the
// currency's precision or int64, unknown and lower-case codes). An amount
// that decodes has a known currency, encodes and decodes back to itself,
// and an unknown code fails as *UnknownCurrencyError, as ParseCurrency
// says.
func FuzzAmountJSON(f *testing.F) {
	f.Add([]byte(`{"amount":"19.99","currencyCode":"USD"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a money.Amount
		err := json.Unmarshal(b, &a)
		var w struct {
			Code string `json:"currencyCode"`
		}
		if json.Unmarshal(b, &w) == nil {
			if _, cerr := money.ParseCurrency(w.Code); cerr != nil {
				var ue *money.UnknownCurrencyError
				if err == nil || !errors.As(cerr, &ue) {
					t.Fatalf("%s: decoded %v with unknown currency %q (%v)", b, a, w.Code, cerr)
				}
				return
			}
		}
		if err != nil {
			return
		}
		if _, err := a.Currency.Exponent(); err != nil {
			t.Fatalf("%s decoded to %v: %v", b, a, err)
		}
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("%v does not encode: %v", a, err)
		}
		var back money.Amount
		if err := json.Unmarshal(out, &back); err != nil || back != a {
			t.Fatalf("%s → %v → %s → %v, %v", b, a, out, back, err)
		}
	})
}

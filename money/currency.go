package money

import "fmt"

// Currency is an ISO 4217 alphabetic code such as "USD" or "JPY".
type Currency string

// exponents lists the number of decimal places of each known currency: the
// active ISO 4217 codes plus the legacy codes Shopify's CurrencyCode enum still
// carries (HRK, LTL, LVL, JEP, KID). Codes absent here are unknown; "XXX" (no
// currency) is deliberately absent because it has no exponent.
var exponents = func() map[Currency]int8 {
	m := make(map[Currency]int8, 200)
	for _, c := range []Currency{
		"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
		"UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
	} {
		m[c] = 0
	}
	for _, c := range []Currency{"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"} {
		m[c] = 3
	}
	for _, c := range []Currency{"CLF", "UYW"} {
		m[c] = 4
	}
	for _, c := range []Currency{
		"AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN",
		"BAM", "BBD", "BDT", "BGN", "BMD", "BND", "BOB", "BOV", "BRL", "BSD",
		"BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CNY",
		"COP", "COU", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP",
		"ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD",
		"GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR", "ILS", "INR",
		"IRR", "JEP", "JMD", "KES", "KGS", "KHR", "KID", "KPW", "KYD", "KZT",
		"LAK", "LBP", "LKR", "LRD", "LSL", "LTL", "LVL", "MAD", "MDL", "MGA",
		"MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV",
		"MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN",
		"PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD",
		"SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP",
		"STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD",
		"TWD", "TZS", "UAH", "USD", "USN", "UYU", "UZS", "VED", "VES", "WST",
		"XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
	} {
		m[c] = 2
	}
	return m
}()

// Exponent reports the number of decimal places of c (JPY 0, USD 2, KWD 3).
// It returns an [*UnknownCurrencyError] for a code it does not know.
func (c Currency) Exponent() (int, error) {
	e, ok := exponents[c]
	if !ok {
		return 0, &UnknownCurrencyError{Code: string(c)}
	}
	return int(e), nil
}

// Known reports whether c is a currency code this package can handle.
func (c Currency) Known() bool {
	_, ok := exponents[c]
	return ok
}

// ParseCurrency checks that s is a known ISO 4217 code. Codes are
// case-sensitive upper case, as Shopify, Klaviyo and Omnisend send them.
func ParseCurrency(s string) (Currency, error) {
	c := Currency(s)
	if !c.Known() {
		return "", &UnknownCurrencyError{Code: s}
	}
	return c, nil
}

// UnknownCurrencyError reports a currency code with no known exponent.
type UnknownCurrencyError struct {
	Code string
}

// Error describes the code.
func (e *UnknownCurrencyError) Error() string {
	return fmt.Sprintf("money: unknown currency %q", e.Code)
}

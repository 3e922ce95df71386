// Package money holds exact amounts of money: integer minor units plus an
// ISO 4217 currency code.
//
// Every shopcrm package that touches prices, spend or revenue uses [Amount];
// there is no float64 money anywhere in the SDK. Amounts are parsed from and
// formatted to the decimal strings Shopify uses ("1234.50") with the
// currency's own exponent (JPY 0, USD 2, KWD 3), so no precision is lost in
// either direction.
//
// Arithmetic refuses to mix currencies: [Amount.Add] and [Amount.Sub] return
// a [*CurrencyMismatchError], and overflow of the int64 minor units returns
// [ErrOverflow]. Sums over several currencies go into [Totals].
package money

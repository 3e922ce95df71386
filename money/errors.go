package money

import (
	"errors"
	"fmt"
)

// ErrOverflow is returned when a result does not fit in int64 minor units.
var ErrOverflow = errors.New("money: amount overflows int64 minor units")

// CurrencyMismatchError is returned when an operation combines amounts in
// different currencies.
type CurrencyMismatchError struct {
	Op          string // "add", "sub", "cmp"
	Left, Right Currency
}

// Error describes the operation and the two currencies.
func (e *CurrencyMismatchError) Error() string {
	return fmt.Sprintf("money: cannot %s %s and %s", e.Op, e.Left, e.Right)
}

// ParseError reports a decimal string that is not an exact amount in its
// currency. Pos is the byte offset of the offending character (or the length
// of the input when the problem is what is missing).
type ParseError struct {
	Input    string
	Currency Currency
	Pos      int
	Reason   string
}

// Error describes the input, the reason and the offset.
func (e *ParseError) Error() string {
	return fmt.Sprintf("money: parse %q as %s: %s at offset %d", e.Input, e.Currency, e.Reason, e.Pos)
}

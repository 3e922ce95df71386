package attribution

import (
	"errors"
	"fmt"
)

// Sentinel causes carried by [*InputError]; test for them with errors.Is.
var (
	// ErrMissing: a required field is empty or zero.
	ErrMissing = errors.New("missing")
	// ErrInvalid: a field holds a value outside its domain (an unknown action,
	// an ad group without a campaign, a time outside the supported range).
	ErrInvalid = errors.New("invalid")
	// ErrNegative: a count or amount is below zero.
	ErrNegative = errors.New("negative")
	// ErrOutOfOrder: a streamed input is not sorted the way the package
	// requires (touchpoints and conversions by customer, then time).
	ErrOutOfOrder = errors.New("out of order")
	// ErrDuplicate: two inputs share an identity (order id, or key and day
	// of a spend or message row) but differ in content. Exact duplicates are
	// dropped and counted in [Stats] instead.
	ErrDuplicate = errors.New("conflicting duplicate")
	// ErrOverflow: a sum does not fit in int64, or a count does not fit the
	// GraphQL Int (32 bits) of a Shopify engagement field.
	ErrOverflow = errors.New("overflow")
)

// InputError reports one bad input. Input names the stream ("touchpoint",
// "conversion", "spend", "messages") or "row" for a rollup row handed to
// [Config.Engagements]; Index is the item's position in it, counting from 0;
// Field is the Go field (or, for engagement rows, the Shopify input field)
// at fault. Err is one of the sentinels above or a money error such as
// [*money.UnknownCurrencyError] or [*money.CurrencyMismatchError].
type InputError struct {
	Input  string
	Index  int64
	Field  string
	Detail string
	Err    error
}

// Error formats the error as "attribution: touchpoint 12: Time: out of
// order (details)".
func (e *InputError) Error() string {
	s := fmt.Sprintf("attribution: %s %d: %s: %v", e.Input, e.Index, e.Field, e.Err)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns the cause, so errors.Is(err, ErrOutOfOrder) and
// errors.As(err, &mismatch) work.
func (e *InputError) Unwrap() error { return e.Err }

// ConfigError reports an invalid [Config] field.
type ConfigError struct {
	Field  string
	Reason string
}

// Error formats the error as "attribution: config Field: reason".
func (e *ConfigError) Error() string {
	return fmt.Sprintf("attribution: config %s: %s", e.Field, e.Reason)
}

package tagging

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Reasons a tag cannot be written, carried by [TagError] and matched with
// [errors.Is]. [Check] lists the rules behind them.
var (
	ErrEmpty     = errors.New("tagging: tag is empty")
	ErrSpace     = errors.New("tagging: tag has surrounding whitespace")
	ErrComma     = errors.New("tagging: tag contains a comma")
	ErrEncoding  = errors.New("tagging: tag is not valid UTF-8")
	ErrControl   = errors.New("tagging: tag contains a control character")                  // C0, DEL or C1
	ErrBidi      = errors.New("tagging: tag contains a bidirectional formatting character") // U+202A-U+202E, U+2066-U+2069
	ErrInvisible = errors.New("tagging: tag has no visible character")                      // zero-width, format, blank only
	ErrTooLong   = errors.New("tagging: tag is too long")
	ErrTooMany   = errors.New("tagging: too many tags on the resource")
	ErrForeign   = errors.New("tagging: tag is not owned by the schema")
)

// TagError reports a tag that cannot be written: it breaks one of Shopify's
// limits, or a plan was asked to add a tag its schema does not own. Err is one
// of the Err* values above, or a reason of the package that refused the tag
// (such as segment.ErrQueryQuote).
type TagError struct {
	ID  string // resource GID, when the tag was part of a change
	Tag string
	Err error
	Max int // the limit that was broken, for ErrTooLong and ErrTooMany
}

// Error describes the tag and the limit it breaks.
func (e *TagError) Error() string {
	var b strings.Builder
	b.WriteString("tagging: ")
	if e.ID != "" {
		b.WriteString(e.ID)
		b.WriteString(": ")
	}
	b.WriteString("tag ")
	b.WriteString(strconv.Quote(e.Tag))
	b.WriteString(": ")
	switch e.Err {
	case ErrTooLong:
		fmt.Fprintf(&b, "longer than %d characters", e.Max)
	case ErrTooMany:
		fmt.Fprintf(&b, "would make more than %d tags on the resource", e.Max)
	case nil:
		b.WriteString("invalid")
	default:
		// "tagging: tag is empty" reads "is empty" after the tag; other
		// packages' reasons ("segment: tag contains ...") likewise.
		msg := e.Err.Error()
		if _, rest, ok := strings.Cut(msg, ": tag "); ok {
			msg = rest
		}
		b.WriteString(msg)
	}
	return b.String()
}

// Unwrap returns Err, so errors.Is matches the Err* values.
func (e *TagError) Unwrap() error { return e.Err }

// ParseError reports a string that is not a tag of the schema. Pos is the
// byte offset where the input stopped matching (len(Tag) when something is
// missing at the end). Kind is the tag kind that was being read, or
// [KindUnknown] when the input matched no kind far enough to tell. Expected
// says what would have been accepted at Pos.
type ParseError struct {
	Tag      string
	Pos      int
	Kind     Kind
	Expected string
}

// Error describes the input, the kind, the offset and what was expected.
func (e *ParseError) Error() string {
	what := "tag"
	if e.Kind != KindUnknown {
		what = e.Kind.String() + " tag"
	}
	return fmt.Sprintf("tagging: parse %q as %s: expected %s at offset %d", e.Tag, what, e.Expected, e.Pos)
}

// FormatError reports a [Tag] field that cannot be written as its kind:
// a Value with a comma, an invalid Date, a contract id that is not digits, or
// a field the kind does not use.
type FormatError struct {
	Kind   Kind
	Field  string // "Contract", "Value", "Date" or "Count"
	Value  string // the field's value as text
	Reason string
}

// Error describes the kind, the field and why it cannot be written.
func (e *FormatError) Error() string {
	return fmt.Sprintf("tagging: format %s tag: %s %q: %s", e.Kind, e.Field, e.Value, e.Reason)
}

// ConfigError reports an option [NewSchema] cannot use: a bad prefix, a
// template that does not parse or clashes with another kind, a bad rule or
// limit.
type ConfigError struct {
	Option string // "prefix", "delivery prefix", "pause template", "rule", ...
	Value  string
	Reason string
}

// Error describes the option and why it cannot be used.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("tagging: %s %q: %s", e.Option, e.Value, e.Reason)
}

// EventError reports a lifecycle event that cannot be applied for a reason
// that is not one field's format, such as a contract on the customer without
// an order count when purchase-count rules are re-planned.
type EventError struct {
	Event    string // the event type's name, e.g. "RulesChanged"
	Contract string
	Reason   string
}

// Error describes the event, the contract and the reason.
func (e *EventError) Error() string {
	if e.Contract == "" {
		return fmt.Sprintf("tagging: %s: %s", e.Event, e.Reason)
	}
	return fmt.Sprintf("tagging: %s: contract %s: %s", e.Event, e.Contract, e.Reason)
}

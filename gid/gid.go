// Package gid reads and writes Shopify global ids
// ("gid://shopify/Customer/123"), normalised to a resource type and a
// number.
//
// It is pure (no I/O, no platform import) so that the pure packages and the
// platform clients share one id type: [ID] orders by type, then
// numerically (9 before 10), and formats back to the GID it was read from.
// Parsing does not allocate.
package gid

import "strconv"

// Type is the resource type of a Shopify id: the "Customer" in
// "gid://shopify/Customer/123". The types are the ones the SDK reads and
// writes; parsers reject any other name, so that a typo in a type name is
// an error rather than an id that matches nothing. The zero Type is
// invalid.
type Type uint8

// The resource types, named as in GIDs.
const (
	Customer Type = iota + 1
	Order
	Product
	ProductVariant
	LineItem
	Collection
	DraftOrder
	Article
	Segment
	CustomerSegmentMember
	CustomerVisit
	MarketingActivity
	MarketingEvent
	numTypes
)

var typeNames = [numTypes]string{
	Customer:              "Customer",
	Order:                 "Order",
	Product:               "Product",
	ProductVariant:        "ProductVariant",
	LineItem:              "LineItem",
	Collection:            "Collection",
	DraftOrder:            "DraftOrder",
	Article:               "Article",
	Segment:               "Segment",
	CustomerSegmentMember: "CustomerSegmentMember",
	CustomerVisit:         "CustomerVisit",
	MarketingActivity:     "MarketingActivity",
	MarketingEvent:        "MarketingEvent",
}

// Valid reports whether t is one of the types above.
func (t Type) Valid() bool { return 0 < t && t < numTypes }

// String returns the type's name as GIDs write it ("Customer"), or
// "Type(n)" for a value outside the known set.
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// ParseType returns the type named name ("Customer"), and false for a name
// that is not one of the known types. Names match exactly.
func ParseType(name string) (Type, bool) {
	// A switch keeps the lookup free of allocations and map hashing.
	switch name {
	case "Customer":
		return Customer, true
	case "Order":
		return Order, true
	case "Product":
		return Product, true
	case "ProductVariant":
		return ProductVariant, true
	case "LineItem":
		return LineItem, true
	case "Collection":
		return Collection, true
	case "DraftOrder":
		return DraftOrder, true
	case "Article":
		return Article, true
	case "Segment":
		return Segment, true
	case "CustomerSegmentMember":
		return CustomerSegmentMember, true
	case "CustomerVisit":
		return CustomerVisit, true
	case "MarketingActivity":
		return MarketingActivity, true
	case "MarketingEvent":
		return MarketingEvent, true
	}
	return 0, false
}

// ID is a Shopify resource id normalised to its resource type and number,
// so "gid://shopify/Customer/123" and a plain 123 read as a customer id are
// the same value. IDs are comparable with == and order by [ID.Compare].
//
// The zero ID is not valid; it stands for "no id" (a line item without a
// product, for example).
type ID struct {
	Type Type
	Num  int64
}

// Prefix starts every Shopify GID.
const Prefix = "gid://shopify/"

// New returns the id of type t and number n. It does not validate them;
// see [ID.Valid].
func New(t Type, n int64) ID { return ID{Type: t, Num: n} }

// Parse reads a GID of any well-formed type. The number must be positive,
// without sign, leading zeros or spaces, and fit in int64; nothing may
// follow it (no "?query"). Those rules make parsing exact: [ID.String]
// gives the input back byte for byte. Errors are [*Error].
func Parse(s string) (ID, error) { return parseGID(s, 0) }

// ParseAs reads s as an id of type t: either a GID of that type or a plain
// decimal number ("123"), as databases and CSV exports store them. The
// number follows the rules of [Parse]. Errors are [*Error].
func ParseAs(s string, t Type) (ID, error) {
	if !t.Valid() {
		return ID{}, &Error{Input: s, Want: t, Reason: "invalid resource type"}
	}
	if len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
		n, reason := parseNum(s)
		if reason != "" {
			return ID{}, &Error{Input: s, Want: t, Reason: reason}
		}
		return ID{Type: t, Num: n}, nil
	}
	id, err := parseGID(s, t)
	if err != nil {
		return ID{}, err
	}
	if id.Type != t {
		return ID{}, &Error{Input: s, Want: t, Reason: "GID is a " + id.Type.String()}
	}
	return id, nil
}

func parseGID(s string, want Type) (ID, error) {
	if len(s) < len(Prefix) || s[:len(Prefix)] != Prefix {
		return ID{}, &Error{Input: s, Want: want, Reason: `missing "` + Prefix + `" prefix`}
	}
	// A plain loop: type names are short, and strings.Cut's vectorised
	// search costs more than it saves on them.
	rest := s[len(Prefix):]
	slash := -1
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			slash = i
			break
		}
	}
	if slash < 0 {
		return ID{}, &Error{Input: s, Want: want, Reason: "missing number"}
	}
	name, num := rest[:slash], rest[slash+1:]
	t, ok := ParseType(name)
	if !ok {
		return ID{}, &Error{Input: s, Want: want, Reason: "unknown resource type"}
	}
	n, reason := parseNum(num)
	if reason != "" {
		return ID{}, &Error{Input: s, Want: want, Reason: reason}
	}
	return ID{Type: t, Num: n}, nil
}

// parseNum reads a positive decimal int64 without sign or leading zeros. It
// returns a reason instead of an error so the caller builds one error value
// with the whole input.
func parseNum(s string) (int64, string) {
	if s == "" {
		return 0, "missing number"
	}
	if s[0] == '0' {
		if len(s) == 1 {
			return 0, "number is zero"
		}
		return 0, "number has a leading zero"
	}
	if len(s) > 19 {
		return 0, "number out of range"
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, "number has a non-digit"
		}
		n = n*10 + uint64(c) // 19 digits cannot overflow uint64
	}
	if n > 1<<63-1 {
		return 0, "number out of range"
	}
	return int64(n), ""
}

// Valid reports whether id has a well-formed type and a positive number.
func (id ID) Valid() bool { return id.Num > 0 && id.Type.Valid() }

// Is reports whether id is a valid id of type t.
func (id ID) Is(t Type) bool { return id.Type == t && id.Num > 0 && t.Valid() }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// String returns the GID form, "gid://shopify/Customer/123".
func (id ID) String() string {
	var buf [64]byte
	return string(id.Append(buf[:0]))
}

// Append appends the GID form of id to b, for writing many ids without an
// allocation each.
func (id ID) Append(b []byte) []byte {
	b = append(b, Prefix...)
	b = append(b, id.Type.String()...)
	b = append(b, '/')
	return strconv.AppendInt(b, id.Num, 10)
}

// Compare orders ids by type (in the order of the constants), then
// numerically: -1, 0 or +1.
func (id ID) Compare(o ID) int {
	switch {
	case id.Type < o.Type:
		return -1
	case id.Type > o.Type:
		return 1
	case id.Num < o.Num:
		return -1
	case id.Num > o.Num:
		return 1
	}
	return 0
}

// MarshalText encodes id as its GID, so ids read and write as strings in
// JSON and similar formats. An invalid id is an [*Error].
func (id ID) MarshalText() ([]byte, error) {
	if !id.Valid() {
		return nil, &Error{Input: id.String(), Reason: "invalid id"}
	}
	return id.Append(nil), nil
}

// UnmarshalText decodes a GID of any type, as [Parse].
func (id *ID) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Error reports a string that is not a valid id. Want is the type the
// caller asked for, zero when any type was acceptable.
type Error struct {
	Input  string
	Want   Type
	Reason string
}

// Error describes the input and why it is not an id.
func (e *Error) Error() string {
	if e.Want != 0 {
		return "gid: parse " + e.Want.String() + " id " + strconv.Quote(e.Input) + ": " + e.Reason
	}
	return "gid: parse id " + strconv.Quote(e.Input) + ": " + e.Reason
}

package segment

import (
	"strconv"
)

// Kind is the resource type of a Shopify id: the "Customer" in
// "gid://shopify/Customer/123". The zero Kind is invalid.
type Kind uint8

// The resource types this package reads. Others are rejected by the parsers
// rather than carried along, so that a typo in a type name is an error.
const (
	KindCustomer Kind = iota + 1
	KindOrder
	KindProduct
	KindProductVariant
	KindLineItem
	KindCollection
	KindDraftOrder
)

var kindNames = [...]string{
	KindCustomer:       "Customer",
	KindOrder:          "Order",
	KindProduct:        "Product",
	KindProductVariant: "ProductVariant",
	KindLineItem:       "LineItem",
	KindCollection:     "Collection",
	KindDraftOrder:     "DraftOrder",
}

// String returns the type name used in GIDs ("Customer"), or "Kind(n)" for a
// value outside the known set.
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

func (k Kind) valid() bool { return k > 0 && int(k) < len(kindNames) }

// kindOf maps a GID type name to its Kind; a switch keeps it free of
// allocations and map hashing.
func kindOf(name string) Kind {
	switch name {
	case "Customer":
		return KindCustomer
	case "Order":
		return KindOrder
	case "Product":
		return KindProduct
	case "ProductVariant":
		return KindProductVariant
	case "LineItem":
		return KindLineItem
	case "Collection":
		return KindCollection
	case "DraftOrder":
		return KindDraftOrder
	}
	return 0
}

// ID is a Shopify resource id normalised to its resource type and number,
// so "gid://shopify/Customer/123" and a plain 123 read as a customer id are
// the same value. IDs are comparable with == and order by [ID.Compare]:
// by Kind, then numerically (so 9 sorts before 10).
//
// The zero ID is invalid and is what a line item without a product carries.
type ID struct {
	Kind Kind
	Num  int64
}

const gidPrefix = "gid://shopify/"

// ParseID reads s as an id of kind k: either a GID of that type
// ("gid://shopify/Customer/123") or a plain decimal number ("123"), as
// databases and CSV exports store them.
//
// The number must be positive, without sign, leading zeros or spaces, and
// fit in int64; the GID must name type k and carry nothing after the number.
// Those rules make parsing exact: [ID.GID] gives back a GID input
// byte for byte. Errors are [*IDError]. ParseID does not allocate unless it
// fails.
func ParseID(s string, k Kind) (ID, error) {
	if !k.valid() {
		return ID{}, &IDError{Input: s, Want: k, Reason: "invalid kind"}
	}
	if len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
		n, reason := parseNum(s)
		if reason != "" {
			return ID{}, &IDError{Input: s, Want: k, Reason: reason}
		}
		return ID{Kind: k, Num: n}, nil
	}
	id, err := parseGID(s, k)
	if err != nil {
		return ID{}, err
	}
	if id.Kind != k {
		return ID{}, &IDError{Input: s, Want: k, Reason: "GID is a " + id.Kind.String()}
	}
	return id, nil
}

// ParseGID reads a GID of any known kind. Unlike [ParseID] it does not
// accept plain numbers, which carry no type.
func ParseGID(s string) (ID, error) { return parseGID(s, 0) }

func parseGID(s string, want Kind) (ID, error) {
	if len(s) < len(gidPrefix) || s[:len(gidPrefix)] != gidPrefix {
		return ID{}, &IDError{Input: s, Want: want, Reason: `missing "gid://shopify/" prefix`}
	}
	rest := s[len(gidPrefix):]
	slash := -1
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			slash = i
			break
		}
	}
	if slash < 0 {
		return ID{}, &IDError{Input: s, Want: want, Reason: "missing number"}
	}
	k := kindOf(rest[:slash])
	if k == 0 {
		return ID{}, &IDError{Input: s, Want: want, Reason: "unknown resource type"}
	}
	n, reason := parseNum(rest[slash+1:])
	if reason != "" {
		return ID{}, &IDError{Input: s, Want: want, Reason: reason}
	}
	return ID{Kind: k, Num: n}, nil
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

// GID returns the id as a Shopify GID, "gid://shopify/Customer/123".
func (id ID) GID() string {
	var buf [48]byte
	return string(id.AppendGID(buf[:0]))
}

// AppendGID appends the GID form of id to b, for writing many ids without
// an allocation each.
func (id ID) AppendGID(b []byte) []byte {
	b = append(b, gidPrefix...)
	b = append(b, id.Kind.String()...)
	b = append(b, '/')
	return strconv.AppendInt(b, id.Num, 10)
}

// String returns the GID form.
func (id ID) String() string { return id.GID() }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// Compare orders ids by kind, then numerically: -1, 0 or +1.
func (id ID) Compare(o ID) int {
	switch {
	case id.Kind < o.Kind:
		return -1
	case id.Kind > o.Kind:
		return 1
	case id.Num < o.Num:
		return -1
	case id.Num > o.Num:
		return 1
	}
	return 0
}

// valid reports whether id is of kind k with a positive number.
func (id ID) valid(k Kind) bool { return id.Kind == k && id.Num > 0 }

// MarshalText encodes id as its GID, so ids read and write as strings in
// JSON and similar formats.
func (id ID) MarshalText() ([]byte, error) {
	if !id.Kind.valid() || id.Num <= 0 {
		return nil, &IDError{Input: id.GID(), Reason: "invalid id"}
	}
	return id.AppendGID(nil), nil
}

// UnmarshalText decodes a GID of any known kind, as [ParseGID].
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseGID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

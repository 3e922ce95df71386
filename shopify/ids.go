package shopify

import (
	"strconv"
	"strings"
)

// GID is a Shopify global id split into resource type and number:
// "gid://shopify/Customer/123" is GID{Type: "Customer", ID: 123}.
type GID struct {
	Type string
	ID   int64
}

const gidPrefix = "gid://shopify/"

// ParseGID splits a global id. Query strings ("?...") are not accepted.
func ParseGID(s string) (GID, error) {
	rest, ok := strings.CutPrefix(s, gidPrefix)
	typ, num, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || typ == "" {
		return GID{}, &InputError{Field: "id", Value: s, Reason: "must be a Shopify GID like gid://shopify/Customer/123"}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return GID{}, &InputError{Field: "id", Value: s, Reason: "must end in a positive number"}
	}
	return GID{Type: typ, ID: n}, nil
}

// String returns the GID form.
func (g GID) String() string { return gidPrefix + g.Type + "/" + strconv.FormatInt(g.ID, 10) }

// CustomerGID returns the GID of customer id.
func CustomerGID(id int64) string { return GID{"Customer", id}.String() }

// OrderGID returns the GID of order id.
func OrderGID(id int64) string { return GID{"Order", id}.String() }

// checkID validates a GID argument, optionally of given types.
func checkID(field, id string, types ...string) error {
	g, err := ParseGID(id)
	if err != nil {
		e := err.(*InputError)
		e.Field = field
		return e
	}
	if len(types) == 0 {
		return nil
	}
	for _, t := range types {
		if g.Type == t {
			return nil
		}
	}
	return &InputError{Field: field, Value: id, Reason: "must be a GID of type " + strings.Join(types, " or ")}
}

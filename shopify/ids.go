package shopify

import (
	"strings"

	"github.com/shopcrm/shopcrm/gid"
)

// CustomerGID returns the GID of customer id.
func CustomerGID(id int64) string { return gid.New(gid.Customer, id).String() }

// OrderGID returns the GID of order id.
func OrderGID(id int64) string { return gid.New(gid.Order, id).String() }

// checkID validates a GID argument (see package gid), optionally of given
// types.
func checkID(field, id string, types ...string) error {
	g, err := gid.Parse(id)
	if err != nil {
		return &InputError{Field: field, Value: id, Reason: "must be a Shopify GID like gid://shopify/Customer/123: " + err.(*gid.Error).Reason, Err: err}
	}
	if len(types) == 0 {
		return nil
	}
	for _, t := range types {
		if g.Type.String() == t {
			return nil
		}
	}
	return &InputError{Field: field, Value: id, Reason: "must be a GID of type " + strings.Join(types, " or ")}
}

package shopify

import (
	"context"
	"slices"
	"strings"
)

// Access scopes (their handles) that this package's methods need. A write
// scope grants the matching read scope too.
//
//   - Customers: ScopeReadCustomers; consent updates and customer tags
//     ScopeWriteCustomers.
//   - Orders: ScopeReadOrders; order tags ScopeWriteOrders. Without
//     ScopeReadAllOrders Shopify serves only the last 60 days of orders.
const (
	ScopeReadCustomers  = "read_customers"
	ScopeWriteCustomers = "write_customers"
	ScopeReadOrders     = "read_orders"
	ScopeWriteOrders    = "write_orders"
	ScopeReadAllOrders  = "read_all_orders"
)

// AccessScopes returns the handles of the access scopes the shop granted
// the app (currentAppInstallation.accessScopes), as Shopify lists them.
//
//spec:graphql query currentAppInstallation
func (c *Client) AccessScopes(ctx context.Context) ([]string, *Response, error) {
	var out struct {
		Installation struct {
			AccessScopes []struct {
				Handle string `json:"handle"`
			} `json:"accessScopes"`
		} `json:"currentAppInstallation"`
	}
	q := `query AccessScopes { currentAppInstallation { accessScopes { handle } } }`
	resp, err := c.do(ctx, &call{query: q, cost: 2, retry: idempotent}, &out)
	if err != nil {
		return nil, resp, err
	}
	handles := make([]string, len(out.Installation.AccessScopes))
	for i, s := range out.Installation.AccessScopes {
		handles[i] = s.Handle
	}
	return handles, resp, nil
}

// RequireScopes reads the granted access scopes and returns a
// *MissingScopesError naming those of want the app lacks (a write scope
// stands for its read scope), so that a program can stop before it relies
// on data Shopify would withhold: without ScopeReadAllOrders, for example,
// OrdersService.List quietly returns only the last 60 days.
func (c *Client) RequireScopes(ctx context.Context, want ...string) error {
	granted, _, err := c.AccessScopes(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, w := range want {
		if !hasScope(granted, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return &MissingScopesError{Missing: missing, Granted: granted}
	}
	return nil
}

// hasScope reports whether granted holds scope, or the write scope that
// grants it.
func hasScope(granted []string, scope string) bool {
	if slices.Contains(granted, scope) {
		return true
	}
	res, ok := strings.CutPrefix(scope, "read_")
	return ok && slices.Contains(granted, "write_"+res)
}

// MissingScopesError reports access scopes the app was not granted. It
// matches ErrUnauthorized.
type MissingScopesError struct {
	Missing []string // the scopes asked for and not granted
	Granted []string // what the shop granted
}

// Error describes the error.
func (e *MissingScopesError) Error() string {
	return "shopify: the app lacks the access scopes " + strings.Join(e.Missing, ", ") +
		" (granted: " + strings.Join(e.Granted, ", ") + ")"
}

// Is matches ErrUnauthorized.
func (e *MissingScopesError) Is(target error) bool { return target == ErrUnauthorized }

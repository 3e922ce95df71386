package shopify

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/money"
)

// CustomersService reads customers and updates their marketing consent.
type CustomersService struct{ c *Client }

// Customer is a Shopify customer.
type Customer struct {
	ID             string // GID
	FirstName      string
	LastName       string
	DisplayName    string
	Email          string
	Phone          string
	Tags           []string
	NumberOfOrders int64
	AmountSpent    money.Amount
	State          CustomerState
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// EmailConsent is the customer's email marketing consent; nil when the
	// customer has no email address. Its State may be Redacted or Invalid,
	// which Shopify sets.
	EmailConsent *EmailConsent
	// SMSConsent is nil when the customer has no phone number.
	SMSConsent *SMSConsent
}

// CustomerState is the state of a customer's account (CustomerState).
type CustomerState string

// Customer account states.
const (
	CustomerEnabled  CustomerState = "ENABLED"
	CustomerDisabled CustomerState = "DISABLED"
	CustomerInvited  CustomerState = "INVITED"
	CustomerDeclined CustomerState = "DECLINED"
)

// SMSConsent is a customer's SMS marketing consent.
type SMSConsent struct {
	State      MarketingState
	OptInLevel OptInLevel
	UpdatedAt  time.Time
}

// customerFields is the selection for a Customer: cost 4 (the customer,
// amountSpent, emailMarketingConsent, smsMarketingConsent). 2025-01
// deprecates Customer.emailMarketingConsent for defaultEmailAddress, which
// it does not have yet.
const customerFields = `id firstName lastName displayName email phone tags numberOfOrders
amountSpent { amount currencyCode } state createdAt updatedAt
emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
smsMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }`

const customerCost = 4

// wireConsent is a CustomerEmailMarketingConsentState or
// CustomerSmsMarketingConsentState.
type wireConsent struct {
	MarketingState      MarketingState `json:"marketingState"`
	MarketingOptInLevel *OptInLevel    `json:"marketingOptInLevel"`
	ConsentUpdatedAt    *time.Time     `json:"consentUpdatedAt"`
}

func (w *wireConsent) consent() (MarketingState, OptInLevel, time.Time) {
	var level OptInLevel
	if w.MarketingOptInLevel != nil {
		level = *w.MarketingOptInLevel
	}
	var at time.Time
	if w.ConsentUpdatedAt != nil {
		at = *w.ConsentUpdatedAt
	}
	return w.MarketingState, level, at
}

type wireCustomer struct {
	ID                    string        `json:"id"`
	FirstName             *string       `json:"firstName"`
	LastName              *string       `json:"lastName"`
	DisplayName           string        `json:"displayName"`
	Email                 *string       `json:"email"`
	Phone                 *string       `json:"phone"`
	Tags                  []string      `json:"tags"`
	NumberOfOrders        string        `json:"numberOfOrders"`
	AmountSpent           money.Amount  `json:"amountSpent"`
	State                 CustomerState `json:"state"`
	CreatedAt             time.Time     `json:"createdAt"`
	UpdatedAt             time.Time     `json:"updatedAt"`
	EmailMarketingConsent *wireConsent  `json:"emailMarketingConsent"`
	SmsMarketingConsent   *wireConsent  `json:"smsMarketingConsent"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (w *wireCustomer) customer() *Customer {
	n, _ := strconv.ParseInt(w.NumberOfOrders, 10, 64)
	c := &Customer{
		ID: w.ID, FirstName: str(w.FirstName), LastName: str(w.LastName), DisplayName: w.DisplayName,
		Email: str(w.Email), Phone: str(w.Phone), Tags: w.Tags, NumberOfOrders: n, AmountSpent: w.AmountSpent,
		State: w.State, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if e := w.EmailMarketingConsent; e != nil {
		c.EmailConsent = &EmailConsent{}
		c.EmailConsent.State, c.EmailConsent.OptInLevel, c.EmailConsent.UpdatedAt = e.consent()
	}
	if s := w.SmsMarketingConsent; s != nil {
		c.SMSConsent = &SMSConsent{}
		c.SMSConsent.State, c.SMSConsent.OptInLevel, c.SMSConsent.UpdatedAt = s.consent()
	}
	return c
}

// NotFoundError reports a resource the API returned null for. It matches
// ErrNotFound.
type NotFoundError struct{ ID string }

// Error describes the error.
func (e *NotFoundError) Error() string { return "shopify: " + e.ID + " not found" }

// Is matches ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Get reads one customer by GID. A customer that does not exist is a
// *NotFoundError.
//
//spec:graphql query customer
func (s *CustomersService) Get(ctx context.Context, id string) (*Customer, *Response, error) {
	if err := checkID("id", id, "Customer"); err != nil {
		return nil, nil, err
	}
	// A map, to tell null (no such customer) from an answer without the
	// field, which Shopify never sends.
	var out map[string]*wireCustomer
	q := `query Customer($id: ID!) { customer(id: $id) { ` + customerFields + ` } }`
	resp, err := s.c.do(ctx, &call{query: q, vars: map[string]any{"id": id}, cost: customerCost, retry: idempotent}, &out)
	if err != nil {
		return nil, resp, err
	}
	cu, ok := out["customer"]
	switch {
	case !ok:
		return nil, resp, &shopcrm.ResponseError{Op: "customer", Reason: "no customer field in the data"}
	case cu == nil:
		return nil, resp, &NotFoundError{ID: id}
	}
	return cu.customer(), resp, nil
}

// ListOptions selects and pages a list of customers or orders.
type ListOptions struct {
	// Query is Shopify's search syntax, e.g. "updated_at:>=2025-01-01" or
	// for orders "created_at:>=2025-01-01 tag:vip".
	Query string
	// PageSize is the number per request; 0 picks a default. At most 250,
	// and at most what keeps one page under the query cost limit.
	PageSize int
	// SortKey is a CustomerSortKeys or OrderSortKeys value; empty: the API's
	// default.
	SortKey string
	Reverse bool
	// LineItems, for orders only, is how many line items each order brings
	// along: 0 means DefaultLineItems, a negative number none (pages of
	// orders are then larger), at most MaxLineItems. An order with more
	// says so (Order.MoreLineItems); OrdersService.LineItems reads them all.
	LineItems int
}

// pageSize is opts' page size: def when unset, at most 250 and what keeps
// a page of nodes costing nodeCost each under the query cost limit.
func (o *ListOptions) pageSize(def, nodeCost int) (int, error) {
	limit := min(250, (MaxQueryCost-2)/nodeCost)
	if o == nil || o.PageSize == 0 {
		return min(def, limit), nil
	}
	if o.PageSize < 0 || o.PageSize > limit {
		return 0, &InputError{Field: "PageSize", Value: strconv.Itoa(o.PageSize), Reason: fmt.Sprintf("must be between 1 and %d", limit)}
	}
	return o.PageSize, nil
}

func listVars(o *ListOptions, first int, after string) map[string]any {
	v := map[string]any{"first": first}
	if after != "" {
		v["after"] = after
	}
	if o != nil {
		if o.Query != "" {
			v["query"] = o.Query
		}
		if o.Reverse {
			v["reverse"] = true
		}
	}
	return v
}

// List returns every customer matching opts (nil: all), page by page.
// Note that in 2025-01 the customers query filters only on email, id, phone
// and updated_at; select by tag through segment members.
//
//spec:graphql query customers
func (s *CustomersService) List(ctx context.Context, opts *ListOptions) iter.Seq2[*Customer, error] {
	first, err := opts.pageSize(250, customerCost)
	sortKey := ""
	if opts != nil {
		sortKey = opts.SortKey
	}
	if err == nil {
		err = checkSortKey(sortKey, "CREATED_AT", "ID", "LOCATION", "NAME", "RELEVANCE", "UPDATED_AT")
	}
	if err == nil && opts != nil && opts.LineItems != 0 {
		err = &InputError{Field: "LineItems", Value: strconv.Itoa(opts.LineItems), Reason: "customers have no line items"}
	}
	return paginate(ctx, func(ctx context.Context, after string) ([]*Customer, pageInfo, error) {
		if err != nil {
			return nil, pageInfo{}, err
		}
		q := `query Customers($first: Int!, $after: String, $query: String, $reverse: Boolean) {
  customers(first: $first, after: $after, query: $query, reverse: $reverse` + sortArg(sortKey) + `) {
    pageInfo { hasNextPage endCursor }
    nodes { ` + customerFields + ` }
  }
}`
		var out struct {
			Customers struct {
				PageInfo pageInfo       `json:"pageInfo"`
				Nodes    []wireCustomer `json:"nodes"`
			} `json:"customers"`
		}
		if _, err := s.c.do(ctx, &call{query: q, vars: listVars(opts, first, after), cost: 2 + first*customerCost, retry: idempotent}, &out); err != nil {
			return nil, pageInfo{}, err
		}
		res := make([]*Customer, len(out.Customers.Nodes))
		for i := range out.Customers.Nodes {
			res[i] = out.Customers.Nodes[i].customer()
		}
		return res, out.Customers.PageInfo, nil
	})
}

func sortArg(key string) string {
	if key == "" {
		return ""
	}
	return ", sortKey: " + key
}

func checkSortKey(key string, allowed ...string) error {
	if key == "" {
		return nil
	}
	for _, a := range allowed {
		if key == a {
			return nil
		}
	}
	return &InputError{Field: "SortKey", Value: key, Reason: "unknown sort key"}
}

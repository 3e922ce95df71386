package shopify

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
)

// SegmentsService manages customer segments and reads their members.
type SegmentsService struct{ c *Client }

// Segment is a saved customer segment.
type Segment struct {
	ID           string
	Name         string
	Query        string // e.g. "customer_tags CONTAINS 'vip'"
	CreationDate time.Time
	LastEditDate time.Time
}

const segmentFields = `id name query creationDate lastEditDate`

type segmentPayload struct {
	Segment    *Segment    `json:"segment"`
	UserErrors []UserError `json:"userErrors"`
}

// Create saves a new segment. Names are unique per shop; a duplicate is a
// *UserErrors.
//
//spec:graphql mutation segmentCreate
func (s *SegmentsService) Create(ctx context.Context, name, query string) (*Segment, *Response, error) {
	if strings.TrimSpace(name) == "" {
		return nil, nil, &InputError{Field: "name", Reason: "must not be empty"}
	}
	if strings.TrimSpace(query) == "" {
		return nil, nil, &InputError{Field: "query", Reason: "must not be empty"}
	}
	q := `mutation segmentCreate($name: String!, $query: String!) { segmentCreate(name: $name, query: $query) { segment { ` + segmentFields + ` } userErrors { field message } } }`
	var out struct {
		P segmentPayload `json:"segmentCreate"`
	}
	resp, err := s.c.do(ctx, &call{query: q, vars: map[string]any{"name": name, "query": query}, cost: mutationCost, retry: ifRefused}, &out)
	if err != nil {
		return nil, resp, err
	}
	if err := userErrors("segmentCreate", out.P.UserErrors); err != nil {
		return nil, resp, err
	}
	return out.P.Segment, resp, nil
}

// Update changes a segment's name and/or query; an empty string leaves that
// part as it is.
//
//spec:graphql mutation segmentUpdate
func (s *SegmentsService) Update(ctx context.Context, id, name, query string) (*Segment, *Response, error) {
	if err := checkID("id", id, "Segment"); err != nil {
		return nil, nil, err
	}
	if name == "" && query == "" {
		return nil, nil, &InputError{Field: "name", Reason: "name or query must be given"}
	}
	vars := map[string]any{"id": id}
	if name != "" {
		vars["name"] = name
	}
	if query != "" {
		vars["query"] = query
	}
	q := `mutation segmentUpdate($id: ID!, $name: String, $query: String) { segmentUpdate(id: $id, name: $name, query: $query) { segment { ` + segmentFields + ` } userErrors { field message } } }`
	var out struct {
		P segmentPayload `json:"segmentUpdate"`
	}
	resp, err := s.c.do(ctx, &call{query: q, vars: vars, cost: mutationCost, retry: idempotent}, &out)
	if err != nil {
		return nil, resp, err
	}
	if err := userErrors("segmentUpdate", out.P.UserErrors); err != nil {
		return nil, resp, err
	}
	return out.P.Segment, resp, nil
}

// Delete deletes a segment.
//
//spec:graphql mutation segmentDelete
func (s *SegmentsService) Delete(ctx context.Context, id string) (*Response, error) {
	if err := checkID("id", id, "Segment"); err != nil {
		return nil, err
	}
	q := `mutation segmentDelete($id: ID!) { segmentDelete(id: $id) { deletedSegmentId userErrors { field message } } }`
	var out struct {
		P struct {
			UserErrors []UserError `json:"userErrors"`
		} `json:"segmentDelete"`
	}
	resp, err := s.c.do(ctx, &call{query: q, vars: map[string]any{"id": id}, cost: mutationCost, retry: ifRefused}, &out)
	if err != nil {
		return resp, err
	}
	return resp, userErrors("segmentDelete", out.P.UserErrors)
}

// Get reads one segment; one that does not exist is a *NotFoundError.
//
//spec:graphql query segment
func (s *SegmentsService) Get(ctx context.Context, id string) (*Segment, *Response, error) {
	if err := checkID("id", id, "Segment"); err != nil {
		return nil, nil, err
	}
	var out struct {
		Segment *Segment `json:"segment"`
	}
	q := `query Segment($id: ID!) { segment(id: $id) { ` + segmentFields + ` } }`
	resp, err := s.c.do(ctx, &call{query: q, vars: map[string]any{"id": id}, cost: 1, retry: idempotent}, &out)
	if err != nil {
		return nil, resp, err
	}
	if out.Segment == nil {
		return nil, resp, &NotFoundError{ID: id}
	}
	return out.Segment, resp, nil
}

// List returns every segment of the shop, 250 per request.
//
//spec:graphql query segments
func (s *SegmentsService) List(ctx context.Context) iter.Seq2[*Segment, error] {
	const first = 250
	return paginate(ctx, func(ctx context.Context, after string) ([]*Segment, pageInfo, error) {
		q := `query Segments($first: Int!, $after: String) { segments(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { ` + segmentFields + ` } } }`
		var out struct {
			Segments struct {
				PageInfo pageInfo   `json:"pageInfo"`
				Nodes    []*Segment `json:"nodes"`
			} `json:"segments"`
		}
		vars := map[string]any{"first": first}
		if after != "" {
			vars["after"] = after
		}
		if _, err := s.c.do(ctx, &call{query: q, vars: vars, cost: 2 + first, retry: idempotent}, &out); err != nil {
			return nil, pageInfo{}, err
		}
		return out.Segments.Nodes, out.Segments.PageInfo, nil
	})
}

// FindByName returns the segment named name (compared exactly), or a
// *NotFoundError.
func (s *SegmentsService) FindByName(ctx context.Context, name string) (*Segment, error) {
	if name == "" {
		return nil, &InputError{Field: "name", Reason: "must not be empty"}
	}
	for seg, err := range s.List(ctx) {
		if err != nil {
			return nil, err
		}
		if seg.Name == name {
			return seg, nil
		}
	}
	return nil, &NotFoundError{ID: "segment " + strconv.Quote(name)}
}

// Member is a customer in a segment, as customerSegmentMembers returns it.
type Member struct {
	// ID is the customer's GID (gid://shopify/Customer/N).
	ID             string
	FirstName      string
	LastName       string
	DisplayName    string
	Email          string
	EmailState     string // CustomerEmailAddressMarketingState; empty without email
	Phone          string
	SMSState       string // CustomerSmsMarketingState; empty without phone
	AmountSpent    *money.Amount
	NumberOfOrders int64
}

// MembersOptions selects segment members: by SegmentID or by Query (one of
// the two).
type MembersOptions struct {
	SegmentID string
	Query     string // segment query language, e.g. segment.Query("vip")
	// PageSize is the number per request; 0 picks the largest that keeps a
	// page under the query cost limit. Shopify allows up to 1000.
	PageSize int
}

const memberFields = `id firstName lastName displayName
defaultEmailAddress { emailAddress marketingState }
defaultPhoneNumber { phoneNumber marketingState }
amountSpent { amount currencyCode } numberOfOrders`

const memberCost = 4

// Members returns the members of a segment, or of a segment query, page by
// page.
//
//spec:graphql query customerSegmentMembers
func (s *SegmentsService) Members(ctx context.Context, opts MembersOptions) iter.Seq2[*Member, error] {
	var err error
	switch {
	case (opts.SegmentID == "") == (opts.Query == ""):
		err = &InputError{Field: "SegmentID", Reason: "exactly one of SegmentID and Query must be set"}
	case opts.SegmentID != "":
		err = checkID("SegmentID", opts.SegmentID, "Segment")
	}
	limit := min(1000, (MaxQueryCost-2)/memberCost)
	first := opts.PageSize
	if first == 0 {
		first = limit
	} else if first < 0 || first > limit {
		err = &InputError{Field: "PageSize", Value: strconv.Itoa(first), Reason: fmt.Sprintf("must be between 1 and %d", limit)}
	}
	return paginate(ctx, func(ctx context.Context, after string) ([]*Member, pageInfo, error) {
		if err != nil {
			return nil, pageInfo{}, err
		}
		q := `query Members($first: Int!, $after: String, $segmentId: ID, $query: String) {
  customerSegmentMembers(first: $first, after: $after, segmentId: $segmentId, query: $query) {
    pageInfo { hasNextPage endCursor }
    edges { node { ` + memberFields + ` } }
  }
}`
		vars := map[string]any{"first": first}
		if after != "" {
			vars["after"] = after
		}
		if opts.SegmentID != "" {
			vars["segmentId"] = opts.SegmentID
		} else {
			vars["query"] = opts.Query
		}
		var out struct {
			M struct {
				PageInfo pageInfo `json:"pageInfo"`
				Edges    []struct {
					Node struct {
						ID                  string  `json:"id"`
						FirstName           *string `json:"firstName"`
						LastName            *string `json:"lastName"`
						DisplayName         string  `json:"displayName"`
						DefaultEmailAddress *struct {
							EmailAddress   string `json:"emailAddress"`
							MarketingState string `json:"marketingState"`
						} `json:"defaultEmailAddress"`
						DefaultPhoneNumber *struct {
							PhoneNumber    string `json:"phoneNumber"`
							MarketingState string `json:"marketingState"`
						} `json:"defaultPhoneNumber"`
						AmountSpent    *money.Amount `json:"amountSpent"`
						NumberOfOrders *string       `json:"numberOfOrders"`
					} `json:"node"`
				} `json:"edges"`
			} `json:"customerSegmentMembers"`
		}
		if _, err := s.c.do(ctx, &call{query: q, vars: vars, cost: 2 + first*memberCost, retry: idempotent}, &out); err != nil {
			return nil, pageInfo{}, err
		}
		res := make([]*Member, len(out.M.Edges))
		for i, e := range out.M.Edges {
			n := e.Node
			m := &Member{ID: memberCustomerID(n.ID), FirstName: str(n.FirstName), LastName: str(n.LastName), DisplayName: n.DisplayName, AmountSpent: n.AmountSpent}
			if d := n.DefaultEmailAddress; d != nil {
				m.Email, m.EmailState = d.EmailAddress, d.MarketingState
			}
			if d := n.DefaultPhoneNumber; d != nil {
				m.Phone, m.SMSState = d.PhoneNumber, d.MarketingState
			}
			if n.NumberOfOrders != nil {
				m.NumberOfOrders, _ = strconv.ParseInt(*n.NumberOfOrders, 10, 64)
			}
			res[i] = m
		}
		return res, out.M.PageInfo, nil
	})
}

// memberCustomerID maps a CustomerSegmentMember GID to the customer's GID
// (same number).
func memberCustomerID(id string) string {
	g, err := gid.Parse(id)
	if err != nil || g.Type != gid.CustomerSegmentMember {
		return id
	}
	return gid.New(gid.Customer, g.Num).String()
}

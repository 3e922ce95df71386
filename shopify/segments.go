package shopify

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/internal/transport"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/segment"
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
	Segment    *Segment      `json:"segment"`
	UserErrors userErrorList `json:"userErrors"`
}

// Create saves a new segment. Names are unique per shop; a duplicate is a
// *UserErrors.
//
// When an answer leaves the outcome unknown (a dropped connection, a lost
// answer, a 5xx, a body cut off), Create looks the name up: a segment of
// that name with the same query is the one it created, and is returned;
// otherwise the create is sent again, within the client's retry policy.
// Names being unique, a second create never makes a second segment: at
// worst it is refused as a duplicate.
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
	var resp *Response
	seg, err := transport.Recover(ctx, s.c.tr, transport.Recovery[*Segment]{
		Op: "segmentCreate",
		Send: func(ctx context.Context) (*Segment, error) {
			var out struct {
				P segmentPayload `json:"segmentCreate"`
			}
			var err error
			resp, err = s.c.do(ctx, &call{query: q, vars: map[string]any{"name": name, "query": query}, cost: mutationCost, retry: ifRefused}, &out)
			if err == nil {
				err = s.c.mutationErrors("segmentCreate", out.P.UserErrors)
			}
			return out.P.Segment, err
		},
		Unknown: maybeApplied,
		Find: func(ctx context.Context) (*Segment, bool, error) {
			seg, err := s.FindByName(ctx, name)
			var nf *NotFoundError
			if errors.As(err, &nf) {
				return nil, false, nil
			}
			return seg, err == nil && seg.Query == query, err
		},
	})
	if err != nil {
		return nil, resp, err
	}
	return seg, resp, nil
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
	if err := s.c.mutationErrors("segmentUpdate", out.P.UserErrors); err != nil {
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
			UserErrors userErrorList `json:"userErrors"`
		} `json:"segmentDelete"`
	}
	resp, err := s.c.do(ctx, &call{query: q, vars: map[string]any{"id": id}, cost: mutationCost, retry: ifRefused}, &out)
	if err != nil {
		return resp, err
	}
	return resp, s.c.mutationErrors("segmentDelete", out.P.UserErrors)
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
		if err := nonNil("segments", out.Segments.Nodes); err != nil {
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

// maxMemberPage is the most members Shopify returns per page.
const maxMemberPage = 1000

// firstMemberPage is the size of a listing's first page of members.
const firstMemberPage = 100

type wireMember struct {
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
}

func (n *wireMember) member() (*Member, error) {
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
	return m, nil
}

// Members returns the members of a segment, or of a segment query, page by
// page. A segment larger than Shopify's pagination reaches
// ([MaxPaginatedObjects]) is a [*PaginationLimitError], never a shorter
// list.
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
	limit := min(maxMemberPage, (MaxQueryCost-2)/memberCost)
	first := opts.PageSize
	if first == 0 {
		first = limit
	} else if first < 0 || first > limit {
		err = &InputError{Field: "PageSize", Value: strconv.Itoa(first), Reason: fmt.Sprintf("must be between 1 and %d", limit)}
	}
	return members(ctx, s.c, memberRead{segmentID: opts.SegmentID, query: opts.Query, first: first, fields: memberFields, nodeCost: memberCost, err: err}, (*wireMember).member)
}

// TaggedCustomers returns the ids of the customers who carry tag in
// Shopify: the members of the segment query [segment.Query] builds
// (customer_tags CONTAINS 'tag'; the 2025-01 customers search has no tag
// filter), 998 per request, in Shopify's order (ascending by its default
// sort key, which it does not name: [segment.Reconcile] takes any order).
// They are what [segment.Report.Reconcile] compares a segment's members
// with.
//
// A tag [segment.Query] refuses is an [*InputError] before any request.
// When more customers carry the tag than Shopify's pagination reaches
// ([MaxPaginatedObjects]), the sequence ends with a [*PaginationLimitError]
// instead of a shorter list: a reconciliation must see every carrier.
//
//spec:graphql query customerSegmentMembers
func (s *SegmentsService) TaggedCustomers(ctx context.Context, tag string) iter.Seq2[gid.ID, error] {
	q, err := segment.Query(tag)
	if err != nil {
		err = &InputError{Field: "tag", Value: short(tag), Reason: tagReason(err), Err: err}
	}
	const idCost = 1 // a member object with only its id
	read := memberRead{query: q, first: min(maxMemberPage, (MaxQueryCost-2)/idCost), fields: "id", nodeCost: idCost, err: err}
	return members(ctx, s.c, read, func(n *struct {
		ID string `json:"id"`
	}) (gid.ID, error) {
		id, err := gid.Parse(n.ID)
		if err == nil && id.Type != gid.CustomerSegmentMember && id.Type != gid.Customer {
			err = &gid.Error{Input: n.ID, Reason: "not a customer segment member"}
		}
		return gid.ID{Type: gid.Customer, Num: id.Num}, err
	})
}

// memberRead is one listing of customerSegmentMembers.
type memberRead struct {
	segmentID, query string
	first            int    // page size
	fields           string // selection of a member
	nodeCost         int    // what a member costs
	err              error  // bad input: the listing fails at once
}

// members lists customerSegmentMembers with the connection's totalCount,
// converting each node with conv, and fails with a *PaginationLimitError
// rather than end short: when the count is beyond MaxPaginatedObjects, before
// a request past it, and when the last page leaves the count unread.
func members[N, T any](ctx context.Context, c *Client, r memberRead, conv func(*N) (T, error)) iter.Seq2[T, error] {
	const op = "customerSegmentMembers"
	q := `query Members($first: Int!, $after: String, $segmentId: ID, $query: String) {
  customerSegmentMembers(first: $first, after: $after, segmentId: $segmentId, query: $query) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ` + r.fields + ` } }
  }
}`
	return func(yield func(T, error) bool) {
		read, count := 0, 0 // per listing: each range starts again
		pages := paginate(ctx, func(ctx context.Context, after string) ([]T, pageInfo, error) {
			if r.err != nil {
				return nil, pageInfo{}, r.err
			}
			if read >= MaxPaginatedObjects {
				return nil, pageInfo{}, &PaginationLimitError{Field: op, Read: read, Count: count}
			}
			// The first page is small: a query costs its page size up
			// front, and most segments' carriers fit on one small page;
			// a segment that fills it gets full pages from then on.
			vars := map[string]any{"first": min(r.first, firstMemberPage)}
			if after != "" {
				vars["after"], vars["first"] = after, r.first
			}
			if r.segmentID != "" {
				vars["segmentId"] = r.segmentID
			} else {
				vars["query"] = r.query
			}
			var out struct {
				M struct {
					TotalCount int      `json:"totalCount"`
					PageInfo   pageInfo `json:"pageInfo"`
					Edges      []struct {
						Node N `json:"node"`
					} `json:"edges"`
				} `json:"customerSegmentMembers"`
			}
			if _, err := c.do(ctx, &call{query: q, vars: vars, cost: 2 + vars["first"].(int)*r.nodeCost, retry: idempotent}, &out); err != nil {
				return nil, pageInfo{}, err
			}
			count = out.M.TotalCount
			if after == "" && count > MaxPaginatedObjects {
				return nil, pageInfo{}, &PaginationLimitError{Field: op, Read: read, Count: count}
			}
			read += len(out.M.Edges)
			pi := out.M.PageInfo
			if (!pi.HasNextPage || pi.EndCursor == "") && read < count {
				return nil, pageInfo{}, &PaginationLimitError{Field: op, Read: read, Count: count}
			}
			res := make([]T, len(out.M.Edges))
			for i := range out.M.Edges {
				v, err := conv(&out.M.Edges[i].Node)
				if err != nil {
					return nil, pageInfo{}, err
				}
				res[i] = v
			}
			return res, pi, nil
		})
		for v, err := range pages {
			if !yield(v, err) {
				return
			}
		}
	}
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

// MaxPaginatedObjects is how many objects of one connection Shopify's
// pagination reaches (https://shopify.dev/api/usage/limits): paging stops
// there, and counts stop at MaxPaginatedObjects+1, meaning "more".
const MaxPaginatedObjects = 25000

// ErrPaginationLimit matches a [*PaginationLimitError].
var ErrPaginationLimit = errors.New("shopify: beyond the pagination limit")

// PaginationLimitError ends a listing that Shopify's pagination cannot read
// whole: the connection counts more objects than paging reaches
// ([MaxPaginatedObjects] in Shopify; the fake's limit can be set lower). The
// items already yielded are correct but not all of them: treat the list as
// unread. Reading such a set takes a bulk operation export, which this
// package does not offer yet. It matches [ErrPaginationLimit].
type PaginationLimitError struct {
	Field string // the connection, e.g. "customerSegmentMembers"
	Read  int    // objects read when the listing stopped
	Count int    // the connection's count (Shopify's stops at MaxPaginatedObjects+1)
}

// Error names the connection, what was read, the limit and the way out.
func (e *PaginationLimitError) Error() string {
	of := strconv.Itoa(e.Count)
	if e.Count <= e.Read {
		of = "more than " + strconv.Itoa(e.Read)
	}
	return fmt.Sprintf("shopify: %s: %d of %s objects read: Shopify's pagination stops at %d objects of a connection; read a set this large with a bulk operation export",
		e.Field, e.Read, of, MaxPaginatedObjects)
}

// Is matches ErrPaginationLimit.
func (e *PaginationLimitError) Is(target error) bool { return target == ErrPaginationLimit }

package klaviyo

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/shopcrm/shopcrm/internal/bulk"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// ListsService creates lists and manages their members.
type ListsService struct{ c *Client }

// OptInProcess is how a list confirms new email subscribers.
type OptInProcess string

// The opt-in processes of a list.
const (
	SingleOptIn OptInProcess = "single_opt_in"
	DoubleOptIn OptInProcess = "double_opt_in"
)

// List is a Klaviyo list.
type List struct {
	ID           string
	Name         string
	OptInProcess OptInProcess
	Created      time.Time
	Updated      time.Time
}

type listWire struct {
	Name         string       `json:"name"`
	OptInProcess OptInProcess `json:"opt_in_process"`
	Created      jtime        `json:"created"`
	Updated      jtime        `json:"updated"`
}

func toList(r resource[listWire]) List {
	a := r.Attributes
	return List{ID: r.ID, Name: a.Name, OptInProcess: a.OptInProcess, Created: a.Created.Time, Updated: a.Updated.Time}
}

// MaxListMembersPerRequest is how many profiles one add or remove request
// carries at most.
const MaxListMembersPerRequest = 1000

// Create creates a list (at most 150 a day per account). optIn may be
// empty for the account's default.
//
// Klaviyo takes no key that would make the create idempotent, and list
// names need not be unique, so Create never resends blindly: it first
// reads the lists of that name, and when an answer leaves the outcome
// unknown (a lost answer, a dropped connection, a 5xx, a body cut off) it
// reads them again. A list of that name that was not there before is the
// one it created, and is returned; when there is none, the create did not
// happen and is sent again, within the client's retry policy. (A list of
// the same name created at that moment by another program would be taken
// for this one.)
func (s *ListsService) Create(ctx context.Context, name string, optIn OptInProcess) (*List, *Response, error) {
	if name == "" {
		return nil, nil, invalid("name", "", "empty")
	}
	attrs := map[string]any{"name": name}
	switch optIn {
	case "":
	case SingleOptIn, DoubleOptIn:
		attrs["opt_in_process"] = optIn
	default:
		return nil, nil, invalid("optIn", string(optIn), "must be single_opt_in or double_opt_in")
	}
	before, err := s.named(ctx, name, nil)
	if err != nil {
		return nil, nil, err
	}
	type created struct {
		l *List
		r *Response
	}
	out, err := transport.Recover(ctx, s.c.tr, transport.Recovery[created]{
		Op: string(EndpointCreateList),
		Send: func(ctx context.Context) (created, error) {
			var doc document[resource[listWire]]
			r, err := s.c.do(ctx, &call{ep: EndpointCreateList, method: http.MethodPost, path: "/api/lists",
				body:  document[resource[map[string]any]]{resource[map[string]any]{Type: "list", Attributes: attrs}},
				retry: transport.RetryIfRefused, out: &doc})
			if err != nil {
				return created{r: r}, err
			}
			l := toList(doc.Data)
			return created{&l, r}, nil
		},
		Unknown: maybeApplied,
		Find: func(ctx context.Context) (created, bool, error) {
			l, err := s.named(ctx, name, before)
			if err != nil || len(l) == 0 {
				return created{}, false, err
			}
			return created{l: &l[0]}, true, nil
		},
	})
	return out.l, out.r, err
}

// named returns the lists called name whose ids are not in skip.
func (s *ListsService) named(ctx context.Context, name string, skip []List) ([]List, error) {
	var out []List
	for l, err := range s.All(ctx, Filter{Equals("name", name)}) {
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(skip, func(o List) bool { return o.ID == l.ID }) {
			out = append(out, l)
		}
	}
	return out, nil
}

// Get reads one list.
func (s *ListsService) Get(ctx context.Context, id string) (*List, *Response, error) {
	if err := checkID("id", id); err != nil {
		return nil, nil, err
	}
	var doc document[resource[listWire]]
	r, err := s.c.do(ctx, &call{ep: EndpointGetList, method: http.MethodGet, path: "/api/lists/" + url.PathEscape(id),
		retry: transport.RetryIdempotent, out: &doc})
	if err != nil {
		return nil, r, err
	}
	l := toList(doc.Data)
	return &l, r, nil
}

// All returns every list matching f (name and id: equals, any; created and
// updated: greater-than), ten per request as Klaviyo allows.
func (s *ListsService) All(ctx context.Context, f Filter) iter.Seq2[List, error] {
	q := url.Values{}
	if err := listRules.apply(q, f); err != nil {
		return failSeq[List](err)
	}
	return pages(s.c, ctx, EndpointGetLists, "/api/lists", q, toList)
}

// MemberOptions select and shape a listing of list or segment members.
type MemberOptions struct {
	// Filter on email, phone_number, push_token (equals, any), _kx
	// (equals) and joined_group_at (comparisons); segments also take
	// profile_id (equals, any).
	Filter Filter
	// PageSize is profiles per request, 1 to 100 (0: Klaviyo's 20).
	PageSize int
	// Sort is "joined_group_at" or "-joined_group_at".
	Sort string
	// Subscriptions asks for each member's consent and suppressions.
	Subscriptions bool
}

func (o MemberOptions) query(rules filterRules) (url.Values, error) {
	q := url.Values{}
	if err := rules.apply(q, o.Filter); err != nil {
		return nil, err
	}
	if err := pageSize(q, o.PageSize, 100); err != nil {
		return nil, err
	}
	if err := checkSort(o.Sort, []string{"joined_group_at"}); err != nil {
		return nil, err
	}
	if o.Sort != "" {
		q.Set("sort", o.Sort)
	}
	if o.Subscriptions {
		q.Set("additional-fields[profile]", "subscriptions")
	}
	return q, nil
}

// Members returns every profile in the list, each with JoinedGroupAt.
func (s *ListsService) Members(ctx context.Context, listID string, opts MemberOptions) iter.Seq2[Profile, error] {
	if err := checkID("listID", listID); err != nil {
		return failSeq[Profile](err)
	}
	q, err := opts.query(memberRules)
	if err != nil {
		return failSeq[Profile](err)
	}
	return pages(s.c, ctx, EndpointGetListProfiles, "/api/lists/"+url.PathEscape(listID)+"/profiles", q, toProfile)
}

// AddProfiles adds profiles to a list by id, 1,000 per request, without
// changing their consent (use Subscriptions.Subscribe to subscribe them).
// Adding a member again changes nothing, so requests are retried. It
// returns one result per id, in input order.
func (s *ListsService) AddProfiles(ctx context.Context, listID string, profileIDs []string) ([]ItemResult, error) {
	return s.members(ctx, EndpointAddToList, http.MethodPost, listID, profileIDs)
}

// RemoveProfiles removes profiles from a list by id, 1,000 per request,
// without changing their consent.
func (s *ListsService) RemoveProfiles(ctx context.Context, listID string, profileIDs []string) ([]ItemResult, error) {
	return s.members(ctx, EndpointRemoveFromList, http.MethodDelete, listID, profileIDs)
}

type indexed[T any] struct {
	idx int
	v   T
}

func (s *ListsService) members(ctx context.Context, ep Endpoint, method, listID string, ids []string) ([]ItemResult, error) {
	if err := checkID("listID", listID); err != nil {
		return nil, err
	}
	out := make([]ItemResult, len(ids))
	var ready []indexed[string]
	for i, id := range ids {
		out[i] = ItemResult{Index: i}
		if err := checkID(fmt.Sprintf("profileIDs[%d]", i), id); err != nil {
			out[i].Outcome, out[i].Err = Failed, err
			continue
		}
		ready = append(ready, indexed[string]{i, id})
	}
	path := "/api/lists/" + url.PathEscape(listID) + "/relationships/profiles"
	w := bulk.Writer[indexed[string]]{
		Max:      bulk.Limits{Items: MaxListMembersPerRequest},
		InFlight: s.c.inFlight,
		Send: func(ctx context.Context, ch *bulk.Chunk[indexed[string]]) error {
			refs := make([]ref, len(ch.Items))
			for i, it := range ch.Items {
				refs[i] = ref{"profile", it.v}
			}
			_, err := s.c.do(ctx, &call{ep: ep, method: method, path: path, body: document[[]ref]{refs}, retry: transport.RetryIdempotent})
			return err
		},
	}
	return runItems(ctx, &w, ready, func(x indexed[string]) int { return x.idx }, out)
}

// SegmentsService reads segments and their members.
type SegmentsService struct{ c *Client }

// Segment is a Klaviyo segment.
type Segment struct {
	ID      string
	Name    string
	Active  bool
	Created time.Time
	Updated time.Time
}

type segmentWire struct {
	Name     string `json:"name"`
	IsActive bool   `json:"is_active"`
	Created  jtime  `json:"created"`
	Updated  jtime  `json:"updated"`
}

var segmentRules = filterRules{"name": eqAny, "id": eqAny, "created": gtOnly, "updated": gtOnly,
	"is_active": eqAny, "is_starred": onlyEq}

// All returns every segment matching f, ten per request.
func (s *SegmentsService) All(ctx context.Context, f Filter) iter.Seq2[Segment, error] {
	q := url.Values{}
	if err := segmentRules.apply(q, f); err != nil {
		return failSeq[Segment](err)
	}
	return pages(s.c, ctx, EndpointGetSegments, "/api/segments", q, func(r resource[segmentWire]) Segment {
		a := r.Attributes
		return Segment{ID: r.ID, Name: a.Name, Active: a.IsActive, Created: a.Created.Time, Updated: a.Updated.Time}
	})
}

// Members returns every profile in the segment, each with JoinedGroupAt.
func (s *SegmentsService) Members(ctx context.Context, segmentID string, opts MemberOptions) iter.Seq2[Profile, error] {
	if err := checkID("segmentID", segmentID); err != nil {
		return failSeq[Profile](err)
	}
	q, err := opts.query(segmentMemberRules)
	if err != nil {
		return failSeq[Profile](err)
	}
	return pages(s.c, ctx, EndpointGetSegmentProfiles, "/api/segments/"+url.PathEscape(segmentID)+"/profiles", q, toProfile)
}

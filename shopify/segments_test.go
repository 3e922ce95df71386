package shopify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func TestTaggedCustomers(t *testing.T) {
	srv, c := setup(t)
	a := srv.AddCustomer(shopifytest.Customer{Tags: []string{"ecp-first", "line"}})
	srv.AddCustomer(shopifytest.Customer{Tags: []string{"line"}})
	b := srv.AddCustomer(shopifytest.Customer{Tags: []string{"ECP-First"}}) // tags match without regard to case
	srv.AddCustomer(shopifytest.Customer{Tags: []string{"ecp-first-x"}})
	got, err := collectIDs(c.Segments.TaggedCustomers(context.Background(), "ecp-first"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []gid.ID{gid.New(gid.Customer, a), gid.New(gid.Customer, b)}; !slices.Equal(got, want) {
		t.Errorf("TaggedCustomers = %v, want %v", got, want)
	}

	before := srv.Stats().Requests
	for _, tag := range []string{"", "a,b", "it's"} {
		_, err := collectIDs(c.Segments.TaggedCustomers(context.Background(), tag))
		var ie *shopify.InputError
		if !errors.As(err, &ie) || ie.Field != "tag" {
			t.Errorf("tag %q: error = %v, want *InputError on tag", tag, err)
		}
	}
	if n := srv.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests sent for bad tags", n)
	}
}

func collectIDs(seq iter.Seq2[gid.ID, error]) ([]gid.ID, error) {
	var out []gid.ID
	for id, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, id)
	}
	return out, nil
}

// TestMembersPaginationLimit: with more members than pagination reaches,
// reading them fails with ErrPaginationLimit instead of returning the part
// Shopify paged through.
func TestMembersPaginationLimit(t *testing.T) {
	const limit = 30
	for _, n := range []int{limit, limit + 1, limit + 7} {
		t.Run(fmt.Sprint(n, " carriers"), func(t *testing.T) {
			srv, c := setup(t, shopifytest.WithPaginationLimit(limit))
			for range n {
				srv.AddCustomer(shopifytest.Customer{Tags: []string{"vip"}})
			}
			ctx := context.Background()
			ids, idsErr := collectIDs(c.Segments.TaggedCustomers(ctx, "vip"))
			var members int
			var membersErr error
			for _, err := range c.Segments.Members(ctx, shopify.MembersOptions{Query: mustQuery("vip"), PageSize: 7}) {
				if err != nil {
					membersErr = err
					break
				}
				members++
			}
			if n <= limit {
				if idsErr != nil || membersErr != nil || len(ids) != n || members != n {
					t.Fatalf("within the limit: %d ids, %v; %d members, %v", len(ids), idsErr, members, membersErr)
				}
				return
			}
			for what, err := range map[string]error{"TaggedCustomers": idsErr, "Members": membersErr} {
				var pe *shopify.PaginationLimitError
				if !errors.Is(err, shopify.ErrPaginationLimit) || !errors.As(err, &pe) {
					t.Fatalf("%s: error = %v, want a *PaginationLimitError", what, err)
				}
				// The fake counts one past its limit, as Shopify does.
				want := shopify.PaginationLimitError{Field: "customerSegmentMembers", Read: limit, Count: limit + 1}
				if *pe != want {
					t.Errorf("%s: %+v, want %+v", what, *pe, want)
				}
				for _, s := range []string{"30 of 31", "25000", "bulk operation"} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("%s: %q does not say %q", what, err, s)
					}
				}
			}
			if len(ids) != 0 {
				t.Errorf("TaggedCustomers yielded %d ids before the error; one page holds them all, so none should be", len(ids))
			}
		})
	}
}

// TestMembersBeyondShopifyLimit: a count past Shopify's 25,000 fails on
// the first page, before anything is yielded or another page is asked for.
func TestMembersBeyondShopifyLimit(t *testing.T) {
	srv, c := setup(t, shopifytest.WithPaginationLimit(shopify.MaxPaginatedObjects+10))
	for range shopify.MaxPaginatedObjects + 1 {
		srv.AddCustomer(shopifytest.Customer{Tags: []string{"vip"}})
	}
	ids, err := collectIDs(c.Segments.TaggedCustomers(context.Background(), "vip"))
	var pe *shopify.PaginationLimitError
	if !errors.As(err, &pe) || pe.Read != 0 || pe.Count != shopify.MaxPaginatedObjects+1 || len(ids) != 0 {
		t.Fatalf("got %d ids, error %v", len(ids), err)
	}
	if n := srv.OpCount("customerSegmentMembers"); n != 1 {
		t.Errorf("%d pages requested, want 1", n)
	}
}

// TestMembersNeverAskPastLimit: a server that offers more pages than its
// count says still gets no request past Shopify's limit.
func TestMembersNeverAskPastLimit(t *testing.T) {
	var pages atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := int(pages.Add(1))
		edges := make([]map[string]any, 998)
		for i := range edges {
			edges[i] = map[string]any{"node": map[string]any{"id": gid.New(gid.CustomerSegmentMember, int64(p*1000+i)).String()}}
		}
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"customerSegmentMembers": map[string]any{
			"totalCount": 10, // wrong, and never more than what was read
			"pageInfo":   map[string]any{"hasNextPage": true, "endCursor": fmt.Sprint("c", p)},
			"edges":      edges,
		}}})
	}))
	defer hs.Close()
	c, err := shopify.New("shop.myshopify.com", shopify.StaticToken("t"), shopify.WithBaseURL(hs.URL),
		shopify.WithRateLimit(shopcrm.RateLimit{PerSecond: 1e9, Burst: 1 << 30}))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err = range c.Segments.TaggedCustomers(context.Background(), "vip") {
		if err != nil {
			break
		}
		n++
	}
	var pe *shopify.PaginationLimitError
	if !errors.As(err, &pe) || pe.Read != n || n < shopify.MaxPaginatedObjects || n >= shopify.MaxPaginatedObjects+998 {
		t.Fatalf("read %d, error %v", n, err)
	}
	if want := (shopify.MaxPaginatedObjects + 997) / 998; int(pages.Load()) != want {
		t.Errorf("%d pages requested, want %d", pages.Load(), want)
	}
}

// syncDay runs one day of segment sync against the shop the way a program
// would: plan (by reconciliation or from the snapshot), apply, commit.
func syncDay(t *testing.T, c *shopify.Client, rep *segment.Report, store segment.Store, reconcile bool) *segment.Plan {
	t.Helper()
	ctx := context.Background()
	var plan *segment.Plan
	var err error
	if reconcile {
		plan, err = rep.Reconcile(ctx, store, c.Segments.TaggedCustomers(ctx, rep.Tag))
	} else {
		plan, err = rep.FromSnapshot(ctx, store)
	}
	if err != nil {
		t.Fatal(err)
	}
	changes := plan.Changes()
	results, err := c.Tags.Apply(ctx, changes, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Applied changes advance the snapshot; unknown ones are sent again
	// next time; failed ones are left out and come back by themselves.
	outcomes := make([]shopcrm.Outcome, len(results))
	for i, r := range results {
		outcomes[i] = r.Outcome
	}
	if err := plan.CommitOutcomes(ctx, changes, outcomes); err != nil {
		t.Fatal(err)
	}
	return plan
}

// carriers lists the customers carrying tag in the fake, ascending.
func carriers(srv *shopifytest.Server, tag string) []gid.ID {
	var out []gid.ID
	for _, cu := range srv.Customers() {
		if slices.ContainsFunc(cu.Tags, func(s string) bool { return strings.EqualFold(s, tag) }) {
			out = append(out, gid.New(gid.Customer, cu.ID))
		}
	}
	return out
}

// TestSyncRemovesStrays is the regression test for tags no checkpoint
// knows of. The snapshot says yesterday's members were 1 and 2; customer 3
// was tagged by hand, customer 4 by a run whose snapshot was lost. A diff
// against the snapshot would add the tag to 5 and leave 3 and 4 tagged for
// good; reconciling against the shop's carriers makes it a mirror.
func TestSyncRemovesStrays(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	tags := map[int64][]string{1: {"ecp-first", "line"}, 2: {"ecp-first"}, 3: {"vip", "Ecp-First"}, 4: {"ecp-first", "line"}, 5: {"vip"}}
	for id, tt := range tags {
		srv.AddCustomer(shopifytest.Customer{ID: id, Tags: tt})
	}
	store := &segment.MemoryStore{}
	if err := store.Save(ctx, "first", segment.Snapshot{Tag: "ecp-first", Members: []gid.ID{gid.New(gid.Customer, 1), gid.New(gid.Customer, 2)}}); err != nil {
		t.Fatal(err)
	}
	members := []gid.ID{gid.New(gid.Customer, 1), gid.New(gid.Customer, 2), gid.New(gid.Customer, 5)}
	rep := &segment.Report{Name: "first", Tag: "ecp-first", Members: members}

	plan := syncDay(t, c, rep, store, true)
	if s := plan.Summary(); s.Joined != 1 || s.Left != 2 {
		t.Errorf("plan %v", s)
	}
	if got := carriers(srv, "ecp-first"); !slices.Equal(got, members) {
		t.Fatalf("customers carrying the tag: %v, want the members %v", got, members)
	}
	want := map[int64][]string{1: {"line"}, 2: nil, 3: {"vip"}, 4: {"line"}, 5: {"vip"}}
	for id, tt := range want {
		rest := slices.DeleteFunc(srv.CustomerTags(id), func(s string) bool { return strings.EqualFold(s, "ecp-first") })
		if !slices.Equal(rest, tt) {
			t.Errorf("customer %d: other tags %v, want %v", id, rest, tt)
		}
	}

	// The next daily diff starts from the truth and has nothing to do.
	next := syncDay(t, c, rep, store, false)
	if s := next.Summary(); s.Joined+s.Left != 0 || s.Unchanged != 3 {
		t.Errorf("next day: %v", s)
	}
}

// TestSyncPropertyOnFake: random shops in the fake, a reconciliation
// applied through the client: the carriers end up exactly the members,
// and no other tag changes.
func TestSyncPropertyOnFake(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	const tag = "ecp-repeat"
	spellings := []string{tag, "ECP-Repeat"}
	others := []string{"line", "vip", "ecp-first", "ecp-repeat-2024"}
	for n := range 40 {
		srv, c := setup(t)
		before := map[int64][]string{}
		var members []gid.ID
		for id := int64(1); id <= int64(r.IntN(25)); id++ {
			var tt, rest []string
			for _, o := range others {
				if r.IntN(3) == 0 {
					tt, rest = append(tt, o), append(rest, o)
				}
			}
			if r.IntN(2) == 0 {
				tt = slices.Insert(tt, r.IntN(len(tt)+1), spellings[r.IntN(len(spellings))])
			}
			srv.AddCustomer(shopifytest.Customer{ID: id, Tags: tt})
			slices.Sort(rest)
			before[id] = rest
			if r.IntN(2) == 0 {
				members = append(members, gid.New(gid.Customer, id))
			}
		}
		rep := &segment.Report{Name: "repeat", Tag: tag, Members: members}
		syncDay(t, c, rep, nil, true)
		if got := carriers(srv, tag); !slices.Equal(got, members) {
			t.Fatalf("case %d: carriers %v, want %v", n, got, members)
		}
		for id, rest := range before {
			got := slices.DeleteFunc(srv.CustomerTags(id), func(s string) bool { return strings.EqualFold(s, tag) })
			if !slices.Equal(got, rest) {
				t.Fatalf("case %d: customer %d: other tags %v, want %v", n, id, got, rest)
			}
		}
	}
}

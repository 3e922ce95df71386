package omnisend_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

var fast = omnisend.RetryPolicy{MaxRetries: 8, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxWait: 5 * time.Second}

func setup(t *testing.T, opts ...omnisendtest.Option) (*omnisendtest.Server, *omnisend.Client) {
	t.Helper()
	srv := omnisendtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv, srv.Client(omnisend.WithRetryPolicy(fast))
}

func email(i int) string { return fmt.Sprintf("c%04d@example.com", i) }

func TestUpsertCreatesThenUpdates(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	in := &omnisend.ContactInput{
		Identifiers: []omnisend.Identifier{omnisend.Email("Jane@Example.com", omnisend.Subscribed), omnisend.Phone("+15551234567", omnisend.NonSubscribed)},
		FirstName:   "Jane", Tags: []string{"source: shopify"}, CustomProperties: map[string]any{"points": 10},
	}
	got, created, r, err := c.Contacts.Upsert(ctx, in)
	if err != nil || !created || r.Status != 201 {
		t.Fatalf("create: created=%v status=%v err=%v", created, r, err)
	}
	if got.Email != "Jane@Example.com" || got.Status != omnisend.Subscribed || !slices.Equal(got.Phone, []string{"+15551234567"}) {
		t.Errorf("created contact = %+v", got)
	}
	again, created, r, err := c.Contacts.Upsert(ctx, &omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("jane@example.com", "")}, LastName: "Doe"})
	if err != nil || created || r.Status != 200 || again.ID != got.ID || again.FirstName != "Jane" || again.LastName != "Doe" {
		t.Fatalf("update by email: %+v created=%v err=%v", again, created, err)
	}
	// A new contact whose phone belongs to Jane keeps its email only.
	other, created, _, err := c.Contacts.Upsert(ctx, &omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("john@example.com", ""), omnisend.Phone("+15551234567", "")}})
	if err != nil || !created || len(other.Phone) != 0 {
		t.Fatalf("conflicting phone: %+v err=%v", other, err)
	}
	// One whose only identifier conflicts is not created.
	_, _, _, err = c.Contacts.Upsert(ctx, &omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Phone("+15551234567", "")}})
	var ae *omnisend.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || len(ae.Errors) == 0 || ae.Errors[0].Field != "identifiers" {
		t.Fatalf("only identifier conflicting: %v", err)
	}
	if n := len(srv.Contacts()); n != 2 {
		t.Errorf("%d contacts, want 2", n)
	}
	read, _, err := c.Contacts.Get(ctx, got.ID)
	if err != nil || read.CustomProperties["points"] != float64(10) || !slices.Equal(read.Tags, []string{"source: shopify"}) {
		t.Errorf("get: %+v err=%v", read, err)
	}
	if _, _, err := c.Contacts.Get(ctx, "nope"); !errors.Is(err, omnisend.ErrNotFound) {
		t.Errorf("get unknown: %v", err)
	}
}

func TestUpdateIdentifierConflict(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	a := srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("a@example.com", "")}})
	srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("b@example.com", "")}})
	_, _, err := c.Contacts.Update(ctx, a, &omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("b@example.com", "")}})
	if !errors.Is(err, omnisend.ErrIdentifierConflict) || !errors.Is(err, omnisend.ErrConflict) {
		t.Fatalf("err = %v, want an identifier conflict", err)
	}
	got, _, err := c.Contacts.UpdateByEmail(ctx, "b@example.com", &omnisend.ContactInput{City: "Vilnius", Gender: omnisend.Female})
	if err != nil || got.City != "Vilnius" || got.Gender != omnisend.Female {
		t.Fatalf("update by email: %+v %v", got, err)
	}
	if _, _, err := c.Contacts.UpdateByEmail(ctx, "z@example.com", &omnisend.ContactInput{City: "x"}); !errors.Is(err, omnisend.ErrNotFound) {
		t.Errorf("unknown email: %v", err)
	}
}

func TestListPagesToTheEnd(t *testing.T) {
	srv, c := setup(t)
	for i := range 601 {
		tags := []string{"all"}
		if i%3 == 0 {
			tags = append(tags, "third")
		}
		srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email(email(i), omnisend.Subscribed)}, Tags: tags})
	}
	ctx := context.Background()
	before := srv.Stats().Requests
	seen := map[string]bool{}
	for ct, err := range c.Contacts.List(ctx, omnisend.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[ct.ID] {
			t.Fatalf("%s twice", ct.ID)
		}
		seen[ct.ID] = true
	}
	if len(seen) != 601 || srv.Stats().Requests-before != 3 {
		t.Errorf("%d contacts in %d requests, want 601 in 3", len(seen), srv.Stats().Requests-before)
	}
	n := 0
	for _, err := range c.Contacts.List(ctx, omnisend.ListOptions{Tag: "third", PageSize: 50, Sort: omnisend.SortUpdatedAt, Ascending: true}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 201 {
		t.Errorf("tag filter: %d, want 201", n)
	}
}

func TestBadInputSendsNothing(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	tooMany := make([]string, 251)
	for i := range tooMany {
		tooMany[i] = email(i)
	}
	calls := map[string]func() error{
		"no identifier": func() error {
			_, _, _, err := c.Contacts.Upsert(ctx, &omnisend.ContactInput{FirstName: "x"})
			return err
		},
		"bad email": func() error {
			_, _, _, err := c.Contacts.Upsert(ctx, &omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("nope", "")}})
			return err
		},
		"bad phone": func() error {
			_, _, _, err := c.Contacts.Upsert(ctx, &omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Phone("5551234", "")}})
			return err
		},
		"bad status": func() error {
			_, _, _, err := c.Contacts.Upsert(ctx, &omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("a@b.c", "active")}})
			return err
		},
		"tag with status": func() error {
			for _, err := range c.Contacts.List(ctx, omnisend.ListOptions{Tag: "x", Status: omnisend.Subscribed}) {
				return err
			}
			return nil
		},
		"updated since with email": func() error {
			for _, err := range c.Contacts.List(ctx, omnisend.ListOptions{Email: "a@b.c", UpdatedSince: time.Now()}) {
				return err
			}
			return nil
		},
		"251 emails":  func() error { _, err := c.Tags.Add(ctx, omnisend.Selector{Emails: tooMany}, []string{"x"}); return err },
		"no tags":     func() error { _, err := c.Tags.Add(ctx, omnisend.Selector{Emails: tooMany[:1]}, nil); return err },
		"no selector": func() error { _, err := c.Tags.Remove(ctx, omnisend.Selector{}, []string{"x"}); return err },
		"event no name": func() error {
			_, err := c.Events.Send(ctx, &omnisend.Event{Contact: omnisend.EventContact{Email: "a@b.c"}})
			return err
		},
		"event bad id": func() error {
			_, err := c.Events.Send(ctx, &omnisend.Event{Name: "x", ID: "1", Contact: omnisend.EventContact{Email: "a@b.c"}})
			return err
		},
		"historical no t": func() error {
			_, err := c.Events.Send(ctx, &omnisend.Event{Name: "x", ID: omnisend.EventID("a"), Historical: true, Contact: omnisend.EventContact{Email: "a@b.c"}})
			return err
		},
		"mirror unowned": func() error {
			_, err := c.Tags.Mirror(ctx, map[string][]string{"a@b.c": {"vip"}}, omnisend.OwnedPrefix("shopify:"))
			return err
		},
		"batch of 101": func() error {
			items := make([]json.RawMessage, 101)
			for i := range items {
				items[i] = json.RawMessage(`{}`)
			}
			_, _, err := c.Batches.Create(ctx, &omnisend.BatchRequest{Method: "POST", Endpoint: "contacts", Items: items})
			return err
		},
	}
	for name, call := range calls {
		var ie *omnisend.InputError
		if err := call(); !errors.As(err, &ie) || ie.Field == "" || !errors.Is(err, omnisend.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want an InputError", name, err)
		}
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("the server received %d requests", n)
	}
}

func TestTagChunksAtTheLimits(t *testing.T) {
	srv, c := setup(t)
	var changes []omnisend.TagChange
	tags := make([]string, 150)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%03d", i)
	}
	for i := range 600 {
		srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email(email(i), "")}, Tags: []string{"keep"}})
		changes = append(changes, omnisend.TagChange{Email: email(i), Add: tags})
	}
	changes = append(changes, omnisend.TagChange{Email: email(0), Remove: []string{"keep"}})
	if _, err := c.Tags.Apply(context.Background(), changes); err == nil {
		t.Fatal("two changes for one contact accepted")
	}
	changes = changes[:600]
	changes[0].Remove = []string{"keep"}
	res, err := c.Tags.Apply(context.Background(), changes)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != shopcrm.Applied {
			t.Fatalf("%+v", r)
		}
	}
	st := srv.Stats()
	// The 600 contacts share one add set: 3 calls of ≤250 contacts × 2
	// of ≤100 tags; the first contact adds one removal.
	if add, rm := st.Ops["addTags"].Accepted, st.Ops["removeTags"].Accepted; add != 3*2 || rm != 1 {
		t.Errorf("%d add and %d remove calls, want 6 and 1", add, rm)
	}
	ct, _ := srv.Contact(email(0))
	if len(ct.Tags) != 150 || slices.Contains(ct.Tags, "keep") {
		t.Errorf("contact 0 has %d tags (keep: %v)", len(ct.Tags), slices.Contains(ct.Tags, "keep"))
	}
	ct, _ = srv.Contact(email(599))
	if len(ct.Tags) != 151 {
		t.Errorf("contact 599 has %d tags", len(ct.Tags))
	}
}

func TestMirrorLeavesForeignTags(t *testing.T) {
	srv, c := setup(t)
	srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("a@example.com", "")}, Tags: []string{"shopify:vip", "line", "shopify:old"}})
	srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("b@example.com", "")}, Tags: []string{"ecp-first"}})
	srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("c@example.com", "")}, Tags: []string{"shopify:vip"}})
	srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("other@example.com", "")}, Tags: []string{"shopify:old"}})
	rep, err := c.Tags.Mirror(context.Background(), map[string][]string{
		"A@example.com":       {"shopify:vip", "shopify:new"},
		"b@example.com":       {"shopify:new"},
		"c@example.com":       {"shopify:vip"},
		"missing@example.com": {"shopify:vip"},
	}, omnisend.OwnedPrefix("shopify:"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unchanged != 1 || !slices.Equal(rep.Missing, []string{"missing@example.com"}) || len(rep.Results) != 2 {
		t.Errorf("report = %+v", rep)
	}
	want := map[string][]string{
		"a@example.com":     {"line", "shopify:new", "shopify:vip"},
		"b@example.com":     {"ecp-first", "shopify:new"},
		"c@example.com":     {"shopify:vip"},
		"other@example.com": {"shopify:old"},
	}
	got := map[string][]string{}
	for _, ct := range srv.Contacts() {
		got[ct.Email] = slices.Sorted(slices.Values(ct.Tags))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}

func TestRateLimitBodyRetryAfter(t *testing.T) {
	srv := omnisendtest.NewServer(omnisendtest.WithRateLimit(omnisend.EndpointDefault, 2, 1500*time.Millisecond))
	defer srv.Close()
	var slept []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return ctx.Err() }
	c := srv.Client(omnisend.WithEndpointLimit(omnisend.EndpointDefault, 0, 0), omnisend.WithSleep(sleep),
		omnisend.WithRetryPolicy(omnisend.RetryPolicy{MaxRetries: 1, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxWait: 10 * time.Second}))
	ctx := context.Background()
	for range 2 {
		if _, _, err := c.Contacts.Get(ctx, "x"); !errors.Is(err, omnisend.ErrNotFound) {
			t.Fatal(err)
		}
	}
	_, _, err := c.Contacts.Get(ctx, "x")
	var rl *omnisend.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter < 2*time.Second {
		t.Fatalf("err = %v, want a RateLimitError with the body's 2 s", err)
	}
	if len(slept) != 1 || slept[0] < 2*time.Second {
		t.Errorf("slept %v, want the body's retryAfter as a floor", slept)
	}
	if st := srv.Stats(); st.Throttled != 2 {
		t.Errorf("throttled %d", st.Throttled)
	}
	// The client's own gate keeps it under the limit.
	srv2 := omnisendtest.NewServer(omnisendtest.WithRateLimit(omnisend.EndpointDefault, 5, 300*time.Millisecond))
	defer srv2.Close()
	c2 := srv2.Client(omnisend.WithEndpointLimit(omnisend.EndpointDefault, 5, 300*time.Millisecond))
	start := time.Now()
	for range 12 {
		if _, _, err := c2.Contacts.Get(ctx, "x"); !errors.Is(err, omnisend.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 600*time.Millisecond || srv2.Stats().Throttled != 0 {
		t.Errorf("12 calls at 5 per 300ms took %v with %d throttled", el, srv2.Stats().Throttled)
	}
}

func TestVersionAndAuth(t *testing.T) {
	srv, _ := setup(t)
	c, _ := omnisend.New(omnisend.APIKey("wrong"), omnisend.WithBaseURL(srv.URL()))
	if _, _, err := c.Contacts.Get(context.Background(), "x"); !errors.Is(err, omnisend.ErrUnauthorized) {
		t.Errorf("wrong key: %v", err)
	}
	c = srv.Client(omnisend.WithVersion("2025-01-01"))
	if _, _, err := c.Contacts.Get(context.Background(), "x"); !errors.Is(err, omnisend.ErrVersionRetired) {
		t.Errorf("old version: %v", err)
	}
	srv2 := omnisendtest.NewServer(omnisendtest.WithOAuthToken("tok"))
	defer srv2.Close()
	c, _ = omnisend.New(omnisend.OAuth(shopcrm.StaticToken("tok")), omnisend.WithBaseURL(srv2.URL()))
	if _, _, err := c.Contacts.Get(context.Background(), "x"); !errors.Is(err, omnisend.ErrNotFound) {
		t.Errorf("oauth: %v", err)
	}
	if _, err := omnisend.New(omnisend.APIKey(" key\n")); !errors.Is(err, omnisend.ErrInvalidInput) {
		t.Errorf("key with a newline: %v", err)
	}
}

func TestBatchLifecycle(t *testing.T) {
	srv, c := setup(t, omnisendtest.WithBatchPolls(2))
	ctx := context.Background()
	var items []json.RawMessage
	for i := range 5 {
		items = append(items, json.RawMessage(fmt.Sprintf(`{"identifiers":[{"type":"email","id":%q}],"tags":["b"]}`, email(i))))
	}
	items = append(items, json.RawMessage(`{"identifiers":[{"type":"email","id":"bad"}]}`))
	b, _, err := c.Batches.Create(ctx, &omnisend.BatchRequest{Method: "POST", Endpoint: "contacts", Items: items})
	if err != nil || b.TotalCount != 6 {
		t.Fatalf("%+v %v", b, err)
	}
	var statuses []omnisend.BatchStatus
	for {
		g, _, err := c.Batches.Get(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, g.Status)
		if g.Status.Done() {
			break
		}
	}
	if diff := cmp.Diff([]omnisend.BatchStatus{"pending", "inProgress", "inProgress", "finished"}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	done, err := c.Batches.Wait(ctx, b.ID, time.Millisecond)
	if err != nil || len(done.Responses) != 5 || len(done.Errors) != 1 || done.ErrorsCount != 1 || done.Errors[0].ResponseCode != 400 {
		t.Fatalf("%+v %v", done, err)
	}
	if len(srv.Contacts()) != 5 {
		t.Errorf("%d contacts", len(srv.Contacts()))
	}
	n := 0
	for bt, err := range c.Batches.List(ctx, omnisend.BatchListOptions{Endpoint: "contacts", PageSize: 1}) {
		if err != nil || bt.ID != b.ID {
			t.Fatal(bt, err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("listed %d batches", n)
	}
}

func TestBatchRun(t *testing.T) {
	srv, c := setup(t, omnisendtest.WithBatchPolls(1))
	var items []json.RawMessage
	for i := range 250 {
		items = append(items, json.RawMessage(fmt.Sprintf(`{"identifiers":[{"type":"email","id":%q}]}`, email(i))))
	}
	items[7] = json.RawMessage(`{"identifiers":[{"type":"email","id":"not-an-email"}]}`)
	res, err := c.Batches.Run(context.Background(), "POST", "contacts", items, omnisend.BatchRunOptions{PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	batches := map[string]bool{}
	for i, r := range res {
		batches[r.BatchID] = true
		var ie *omnisend.BatchItemError
		switch {
		case i == 7 && (r.Outcome != shopcrm.Failed || !errors.As(r.Err, &ie) || ie.ResponseCode != 400):
			t.Errorf("bad item: %+v", r)
		case i != 7 && (r.Outcome != shopcrm.Applied || r.ResponseCode != 201):
			t.Errorf("item %d: %+v", i, r)
		}
	}
	if len(batches) != 3 || len(srv.Contacts()) != 249 {
		t.Errorf("%d batches, %d contacts", len(batches), len(srv.Contacts()))
	}
	// A larger batch size is refused by the server as Omnisend would.
	res, err = c.Batches.Run(context.Background(), "POST", "contacts", items, omnisend.BatchRunOptions{BatchSize: 200, PollInterval: time.Millisecond})
	if err != nil || res[0].Outcome != shopcrm.Failed || !errors.Is(res[0].Err, omnisend.ErrInvalidInput) && res[0].Err == nil {
		t.Fatalf("batch of 200 against a limit of 100: %v %+v", err, res[0])
	}
	srv2, c2 := setup(t, omnisendtest.WithMaxBatchItems(200), omnisendtest.WithBatchPolls(0))
	res, err = c2.Batches.Run(context.Background(), "POST", "contacts", items, omnisend.BatchRunOptions{BatchSize: 200})
	if err != nil || res[0].Outcome != shopcrm.Applied || srv2.Stats().Ops["createBatch"].Accepted != 2 {
		t.Errorf("batches of 200: %v %+v", err, srv2.Stats().Ops)
	}
}

func TestOptionsAndRaw(t *testing.T) {
	srv, c := setup(t)
	if got := c.EndpointLimit(omnisend.EndpointContactTags); got != (omnisend.Limit{Requests: 60, Per: time.Minute}) {
		t.Errorf("default tag limit %+v", got)
	}
	for name, o := range map[string]omnisend.Option{
		"unknown class": omnisend.WithEndpointLimit("segments", 1, time.Second),
		"negative":      omnisend.WithEndpointLimit(omnisend.EndpointDefault, -1, time.Second),
		"base URL":      omnisend.WithBaseURL("ftp://x"),
		"version":       omnisend.WithVersion(""),
		"in flight":     omnisend.WithMaxInFlight(0),
	} {
		if _, err := omnisend.New(omnisend.APIKey("k"), o); !errors.Is(err, omnisend.ErrInvalidInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := omnisend.New(omnisend.Credentials{}); !errors.Is(err, omnisend.ErrInvalidInput) {
		t.Errorf("no credentials: %v", err)
	}
	var out struct {
		Contacts []json.RawMessage `json:"contacts"`
	}
	srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("a@example.com", "")}})
	if _, err := c.Do(context.Background(), &omnisend.RawRequest{Method: "GET", Path: "/contacts"}, &out); err != nil || len(out.Contacts) != 1 {
		t.Errorf("raw list: %v %d", err, len(out.Contacts))
	}
	if _, err := c.Do(context.Background(), &omnisend.RawRequest{Method: "GET", Path: "/contacts?x=1"}, nil); !errors.Is(err, omnisend.ErrInvalidInput) {
		t.Errorf("raw path with a query: %v", err)
	}
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, omnisendtest.DefaultAPIKey) {
		t.Errorf("the key printed: %s", s)
	}
}

// A 401 stops a bulk write: nothing is sent after it and the rest is
// reported not sent.
func TestBulkStopsOnUnauthorized(t *testing.T) {
	srv, _ := setup(t)
	c, _ := omnisend.New(omnisend.APIKey("revoked"), omnisend.WithBaseURL(srv.URL()), omnisend.WithMaxInFlight(1))
	var changes []omnisend.TagChange
	for i := range 3 {
		changes = append(changes, omnisend.TagChange{Email: email(i), Add: []string{fmt.Sprint("t", i)}})
	}
	res, err := c.Tags.Apply(context.Background(), changes)
	if !errors.Is(err, omnisend.ErrUnauthorized) {
		t.Fatalf("err = %v", err)
	}
	var outcomes []shopcrm.Outcome
	for _, r := range res {
		outcomes = append(outcomes, r.Outcome)
	}
	if diff := cmp.Diff([]shopcrm.Outcome{shopcrm.Failed, shopcrm.NotSent, shopcrm.NotSent}, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	evs := []*omnisend.Event{{Name: "a", Contact: omnisend.EventContact{Email: "a@example.com"}}, {Name: "b", Contact: omnisend.EventContact{Email: "b@example.com"}}}
	eres, err := c.Events.SendAll(context.Background(), evs)
	if !errors.Is(err, omnisend.ErrUnauthorized) || eres[0].Outcome != shopcrm.Failed || eres[1].Outcome != shopcrm.NotSent {
		t.Errorf("events: %v %+v", err, eres)
	}
	if n := srv.Stats().Requests; n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// A real-time event whose request times out (the HTTP client's Timeout)
// is in doubt, never resent, and the events after it are still sent: only
// the caller's context ending stops SendAll.
func TestSendAllGoesOnAfterATimeout(t *testing.T) {
	srv, _ := setup(t, omnisendtest.WithFaults(shopcrmtest.Fault{Op: "sendEvent", Kind: shopcrmtest.FaultTimeout}))
	c, err := omnisend.New(omnisend.APIKey(omnisendtest.DefaultAPIKey), omnisend.WithBaseURL(srv.URL()), omnisend.WithMaxInFlight(1),
		omnisend.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	var evs []*omnisend.Event
	for i := range 3 {
		evs = append(evs, &omnisend.Event{Name: "joined", Contact: omnisend.EventContact{Email: email(i)}})
	}
	res, err := c.Events.SendAll(context.Background(), evs)
	if err != nil {
		t.Fatalf("SendAll: %v", err)
	}
	var outcomes []shopcrm.Outcome
	for _, r := range res {
		outcomes = append(outcomes, r.Outcome)
	}
	if diff := cmp.Diff([]shopcrm.Outcome{shopcrm.Unknown, shopcrm.Applied, shopcrm.Applied}, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	var ue *omnisend.UnknownEventError
	if !errors.As(res[0].Err, &ue) {
		t.Errorf("the event in doubt: %v, want an *UnknownEventError", res[0].Err)
	}
	if n := len(srv.Events()); n != 2 {
		t.Errorf("%d events recorded, want 2: the one timed out is not resent", n)
	}
}

// The longest of the problem's retryAfter, Retry-After and
// X-Rate-Limit-Reset is the floor.
func TestRetryAfterSources(t *testing.T) {
	cases := []struct {
		header map[string]string
		body   string
		want   time.Duration
	}{
		{map[string]string{"X-Rate-Limit-Reset": "7"}, `{"status":429}`, 7 * time.Second},
		{map[string]string{"Retry-After": "3", "X-Rate-Limit-Reset": "2"}, `{"status":429,"retryAfter":5}`, 5 * time.Second},
		{map[string]string{"Retry-After": "9"}, `{"status":429,"retryAfter":5}`, 9 * time.Second},
	}
	for _, tc := range cases {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for k, v := range tc.header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, tc.body)
		}))
		c, _ := omnisend.New(omnisend.APIKey("k"), omnisend.WithBaseURL(hs.URL),
			omnisend.WithRetryPolicy(omnisend.RetryPolicy{MaxRetries: 3, MaxWait: time.Second}))
		_, _, err := c.Contacts.Get(context.Background(), "x")
		var rl *omnisend.RateLimitError
		var ae *omnisend.APIError
		if !errors.As(err, &rl) || rl.RetryAfter != tc.want || !errors.As(err, &ae) || ae.RetryAfter != tc.want {
			t.Errorf("%v %s: err = %v, want a wait of %v", tc.header, tc.body, err, tc.want)
		}
		hs.Close()
	}
}

package klaviyo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

var fast = klaviyo.RetryPolicy{MaxRetries: 5, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxWait: 5 * time.Second}

// setup starts a fake without rate limits and a client for it that polls
// jobs often.
func setup(t *testing.T, opts ...klaviyotest.Option) (*klaviyotest.Server, *klaviyo.Client) {
	t.Helper()
	srv := klaviyotest.NewServer(append([]klaviyotest.Option{klaviyotest.WithoutRateLimits(), klaviyotest.WithJobDuration(20 * time.Millisecond)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv, srv.Client(klaviyo.WithRetryPolicy(fast), klaviyo.WithPollInterval(5*time.Millisecond))
}

func allApplied(t *testing.T, what string, res []klaviyo.ItemResult, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, r := range res {
		if r.Outcome != klaviyo.Applied {
			t.Fatalf("%s: item %d %v: %v", what, r.Index, r.Outcome, r.Err)
		}
	}
}

func requests(srv *klaviyotest.Server, ep klaviyo.Endpoint) int {
	return srv.Stats().Ops[string(ep)].Requests
}

func TestNewRefusesBadInput(t *testing.T) {
	for name, c := range map[string]struct {
		creds klaviyo.Credentials
		opt   klaviyo.Option
		field string
	}{
		"empty key":      {klaviyo.PrivateKey(""), nil, "credentials"},
		"key with space": {klaviyo.PrivateKey("pk_x\n"), nil, "credentials"},
		"bad revision":   {klaviyo.PrivateKey("pk_x"), klaviyo.WithRevision("july"), "WithRevision"},
		"bad base":       {klaviyo.PrivateKey("pk_x"), klaviyo.WithBaseURL("ftp://x"), "WithBaseURL"},
		"unknown limit":  {klaviyo.PrivateKey("pk_x"), klaviyo.WithEndpointLimit("nope", klaviyo.TierM), "WithEndpointLimit"},
		"poll":           {klaviyo.PrivateKey("pk_x"), klaviyo.WithPollInterval(0), "WithPollInterval"},
	} {
		_, err := klaviyo.New(c.creds, c.opt)
		var ie *klaviyo.InputError
		if !errors.As(err, &ie) || ie.Field != c.field {
			t.Errorf("%s: err = %v, want an InputError on %s", name, err, c.field)
		}
	}
}

func TestHeadersOnEveryRequest(t *testing.T) {
	var got []http.Header
	hs := newRecorder(t, &got)
	c, err := klaviyo.New(klaviyo.PrivateKey("pk_test"), klaviyo.WithBaseURL(hs), klaviyo.WithRevision("2026-07-15.pre"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, _ = c.Profiles.Get(context.Background(), "P1", false)
	if len(got) != 1 {
		t.Fatalf("%d requests", len(got))
	}
	h := got[0]
	if h.Get("Authorization") != "Klaviyo-API-Key pk_test" || h.Get("revision") != "2026-07-15.pre" || h.Get("Accept") != "application/vnd.api+json" {
		t.Errorf("headers: %v", h)
	}
	oc, _ := klaviyo.New(klaviyo.OAuth(shopcrm.StaticToken("tok")), klaviyo.WithBaseURL(hs))
	_, _, _ = oc.Profiles.Get(context.Background(), "P1", false)
	if got[1].Get("Authorization") != "Bearer tok" || got[1].Get("revision") != klaviyo.DefaultRevision {
		t.Errorf("OAuth headers: %v", got[1])
	}
}

func TestProfilesCRUDAndDuplicate(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	p, _, err := c.Profiles.Create(ctx, klaviyo.ProfileInput{Email: "a@example.com", FirstName: "Aiko", Title: "CEO",
		Properties: map[string]any{"skus": []any{"A"}, "old": 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Profiles.Create(ctx, klaviyo.ProfileInput{Email: "a@example.com"})
	var ae *klaviyo.APIError
	if !errors.As(err, &ae) || ae.Status != 409 || !errors.Is(err, klaviyo.ErrDuplicateProfile) || !errors.Is(err, klaviyo.ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	if id, ok := ae.DuplicateProfileID(); !ok || id != p.ID {
		t.Errorf("DuplicateProfileID = %q, %v; want %s", id, ok, p.ID)
	}
	up, _, err := c.Profiles.Update(ctx, klaviyo.ProfileInput{ID: p.ID, LastName: "Sato", Clear: []klaviyo.ProfileField{klaviyo.FieldTitle},
		Patch: &klaviyo.PatchProperties{Append: map[string]any{"skus": "B"}, Unset: []string{"old"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"skus": []any{"A", "B"}}
	if up.Title != "" || up.LastName != "Sato" || up.FirstName != "Aiko" || !cmp.Equal(up.Properties, want) {
		t.Errorf("after update: %+v", up)
	}
	q, created, _, err := c.Profiles.Upsert(ctx, klaviyo.ProfileInput{Email: "a@example.com", Locale: "ja-JP"})
	if err != nil || created || q.ID != p.ID || q.Locale != "ja-JP" {
		t.Errorf("upsert existing: %+v created=%v err=%v", q, created, err)
	}
	q, created, _, err = c.Profiles.Upsert(ctx, klaviyo.ProfileInput{ExternalID: "c-9"})
	if err != nil || !created || q.ID == p.ID {
		t.Errorf("upsert new: %+v created=%v err=%v", q, created, err)
	}
	if _, _, err := c.Profiles.Create(ctx, klaviyo.ProfileInput{FirstName: "nobody"}); !errors.Is(err, klaviyo.ErrInvalidInput) {
		t.Errorf("create without identifier: %v", err)
	}
	if _, _, err := c.Profiles.Update(ctx, klaviyo.ProfileInput{ID: p.ID, Title: "x", Clear: []klaviyo.ProfileField{klaviyo.FieldTitle}}); !errors.Is(err, klaviyo.ErrInvalidInput) {
		t.Errorf("set and clear: %v", err)
	}
	if n := srv.Stats().Requests; n != 5 {
		t.Errorf("the fake saw %d requests, want 5 (refused input sends nothing)", n)
	}
}

func TestListPaginatesToTheEnd(t *testing.T) {
	srv, c := setup(t)
	var want []string
	for i := range 250 {
		want = append(want, srv.AddProfile(klaviyo.ProfileInput{Email: fmt.Sprintf("p%03d@example.com", i)}))
	}
	var got []string
	for p, err := range c.Profiles.List(context.Background(), klaviyo.ProfileListOptions{PageSize: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if n := requests(srv, klaviyo.EndpointGetProfiles); n != 3 {
		t.Errorf("%d pages, want 3", n)
	}
	// Breaking out of the loop fetches nothing more.
	for range c.Profiles.List(context.Background(), klaviyo.ProfileListOptions{PageSize: 10}) {
		break
	}
	if n := requests(srv, klaviyo.EndpointGetProfiles); n != 4 {
		t.Errorf("after a break: %d requests, want 4", n)
	}
}

func TestFilterBuilder(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := klaviyo.Filter{klaviyo.Equals("email", `o"neil@example.com`), klaviyo.Any("id", "a", "b"), klaviyo.GreaterThan("updated", at)}
	want := `equals(email,'o"neil@example.com'),any(id,["a","b"]),greater-than(updated,2026-01-02T03:04:05Z)`
	if f.String() != want {
		t.Errorf("String = %s\nwant     %s", f, want)
	}
	srv, c := setup(t)
	ctx := context.Background()
	for name, f := range map[string]klaviyo.Filter{
		"field not allowed":    {klaviyo.Equals("first_name", "A")},
		"operator not allowed": {klaviyo.GreaterThan("email", "a")},
		"any on _kx":           {klaviyo.Any("_kx", "x")},
		"both quotes":          {klaviyo.Equals("email", `a'"b`)},
		"any without values":   {klaviyo.Any[string]("email")},
	} {
		for _, err := range c.Profiles.List(ctx, klaviyo.ProfileListOptions{Filter: f}) {
			var ie *klaviyo.InputError
			if !errors.As(err, &ie) || !strings.HasPrefix(ie.Field, "Filter[") {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("refused filters sent %d requests", n)
	}
	id := srv.AddProfile(klaviyo.ProfileInput{Email: "match@example.com"})
	srv.AddProfile(klaviyo.ProfileInput{Email: "other@example.com"})
	var got []string
	for p, err := range c.Profiles.List(ctx, klaviyo.ProfileListOptions{Filter: klaviyo.Filter{klaviyo.Any("email", "match@example.com", "none@example.com"),
		klaviyo.GreaterThan("created", time.Now().Add(-time.Hour))}}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.ID)
	}
	if !slices.Equal(got, []string{id}) {
		t.Errorf("filtered: %v", got)
	}
}

func TestEventsDedupeByUniqueID(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	e := klaviyo.Event{Metric: "Placed Order", Profile: klaviyo.ProfileInput{Email: "a@example.com"}, Properties: map[string]any{"n": 1}, Time: at}
	for range 3 {
		if _, err := c.Events.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// The same second without the client's unique_id: Klaviyo keeps one.
	other := e
	other.Properties = map[string]any{"n": 2}
	if _, err := c.Events.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Events()); got != 2 {
		t.Errorf("%d events, want 2 (one per distinct event)", got)
	}
	if ev := srv.Events(); ev[0].UniqueID != klaviyo.DefaultUniqueID(e) {
		t.Errorf("unique_id %q, want %q", ev[0].UniqueID, klaviyo.DefaultUniqueID(e))
	}
	// A lost response is retried with the same unique_id: one event.
	srv.AddFaults(klaviyotest.Fault{Op: "create_event", Kind: shopcrmtest.FaultLostResponse})
	e.Properties = map[string]any{"n": 3}
	if _, err := c.Events.Create(ctx, e); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Events()); got != 3 {
		t.Errorf("after a lost response: %d events, want 3", got)
	}
}

func TestBulkEventsChunkAtExactLimits(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	at := time.Now().Add(-time.Hour)
	mk := func(n, from int) []klaviyo.Event {
		out := make([]klaviyo.Event, n)
		for i := range out {
			out[i] = klaviyo.Event{Metric: "Viewed", Profile: klaviyo.ProfileInput{Email: fmt.Sprintf("u%d@example.com", (from+i)%50)},
				Properties: map[string]any{"i": from + i}, Time: at}
		}
		return out
	}
	res, err := c.Events.BulkCreate(ctx, mk(1000, 0))
	allApplied(t, "1000", res, err)
	if n := requests(srv, klaviyo.EndpointBulkCreateEvents); n != 1 {
		t.Errorf("1,000 events: %d requests, want 1", n)
	}
	res, err = c.Events.BulkCreate(ctx, mk(1001, 1000))
	allApplied(t, "1001", res, err)
	if n := requests(srv, klaviyo.EndpointBulkCreateEvents); n != 3 {
		t.Errorf("then 1,001 events: %d requests in all, want 3", n)
	}
	if n := len(srv.Events()); n != 2001 {
		t.Errorf("%d events stored, want 2001", n)
	}
	bad := mk(3, 0)
	bad[1].Metric = ""
	res, err = c.Events.BulkCreate(ctx, bad)
	if err != nil || res[1].Outcome != klaviyo.Failed || !errors.Is(res[1].Err, klaviyo.ErrInvalidInput) || res[0].Outcome != klaviyo.Applied {
		t.Errorf("a bad event: %+v %v", res, err)
	}
}

func TestListMembersChunkedAndJoined(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	list := srv.AddList("Repeat", klaviyo.SingleOptIn)
	var ids []string
	for i := range 2001 {
		ids = append(ids, srv.AddProfile(klaviyo.ProfileInput{ExternalID: fmt.Sprint(i)}))
	}
	res, err := c.Lists.AddProfiles(ctx, list, ids[:1000])
	allApplied(t, "add 1000", res, err)
	if n := requests(srv, klaviyo.EndpointAddToList); n != 1 {
		t.Errorf("1,000 members: %d requests", n)
	}
	res, err = c.Lists.AddProfiles(ctx, list, ids[1000:])
	allApplied(t, "add 1001", res, err)
	if n := requests(srv, klaviyo.EndpointAddToList); n != 3 {
		t.Errorf("then 1,001: %d requests in all, want 3", n)
	}
	res, err = c.Lists.RemoveProfiles(ctx, list, ids[:1])
	allApplied(t, "remove", res, err)
	n := 0
	for p, err := range c.Lists.Members(ctx, list, klaviyo.MemberOptions{PageSize: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		if p.JoinedGroupAt.IsZero() {
			t.Fatalf("member %s without joined_group_at", p.ID)
		}
		n++
	}
	if n != 2000 {
		t.Errorf("%d members, want 2000", n)
	}
	if _, err := c.Lists.AddProfiles(ctx, "", ids[:1]); !errors.Is(err, klaviyo.ErrInvalidInput) {
		t.Errorf("empty list id: %v", err)
	}
}

func TestUnsubscribeFromListIsNotGlobal(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	list := srv.AddList("News", klaviyo.SingleOptIn)
	subs := []klaviyo.Subscriber{{Email: "a@example.com", Channels: klaviyo.Channels{Email: true}}, {Email: "b@example.com", Channels: klaviyo.Channels{Email: true}}}
	res, err := c.Subscriptions.Subscribe(ctx, klaviyo.SubscribeRequest{ListID: list, Profiles: subs})
	allApplied(t, "subscribe", res, err)
	res, err = c.Subscriptions.UnsubscribeFromList(ctx, list, []klaviyo.Unsubscriber{{Email: "a@example.com", Channels: klaviyo.Channels{Email: true}}})
	allApplied(t, "unsubscribe from list", res, err)
	a, _ := srv.ProfileIDByEmail("a@example.com")
	pa, _ := srv.Profile(a)
	if pa.Subscriptions.Email.Consent != klaviyo.ConsentSubscribed || len(pa.Subscriptions.Email.ListSuppressions) != 1 {
		t.Errorf("after a list unsubscribe: %+v", pa.Subscriptions.Email)
	}
	if members, _ := srv.ListMembers(list); slices.Contains(members, a) {
		t.Error("still a member")
	}
	// A profile not in the list is not sent: Klaviyo would unsubscribe it
	// globally.
	srv.AddProfile(klaviyo.ProfileInput{Email: "outsider@example.com"})
	res, err = c.Subscriptions.UnsubscribeFromList(ctx, list, []klaviyo.Unsubscriber{{Email: "outsider@example.com", Channels: klaviyo.Channels{Email: true}}})
	if err != nil || res[0].Outcome != klaviyo.Failed || !errors.Is(res[0].Err, klaviyo.ErrNotListMember) {
		t.Errorf("outsider: %+v %v", res, err)
	}
	o, _ := srv.ProfileIDByEmail("outsider@example.com")
	if po, _ := srv.Profile(o); po.Subscriptions.Email.Consent != klaviyo.ConsentNeverSubscribed {
		t.Errorf("outsider consent %v", po.Subscriptions.Email.Consent)
	}
	if _, err := c.Subscriptions.UnsubscribeFromList(ctx, "", nil); !errors.Is(err, klaviyo.ErrInvalidInput) {
		t.Errorf("no list id: %v", err)
	}
	res, err = c.Subscriptions.UnsubscribeGlobally(ctx, []klaviyo.Unsubscriber{{Email: "b@example.com", Channels: klaviyo.Channels{Email: true}}})
	allApplied(t, "unsubscribe globally", res, err)
	b, _ := srv.ProfileIDByEmail("b@example.com")
	pb, _ := srv.Profile(b)
	if pb.Subscriptions.Email.Consent != klaviyo.ConsentUnsubscribed || !pb.Subscriptions.Email.Suppressed(klaviyo.SuppressionUnsubscribe) {
		t.Errorf("after a global unsubscribe: %+v", pb.Subscriptions.Email)
	}
	// Suppress and unsuppress touch only USER_SUPPRESSED.
	srv.SuppressProfile(a, klaviyo.SuppressionHardBounce)
	applied(t, "suppress")(c.Subscriptions.Suppress(ctx, []string{"a@example.com"}))
	applied(t, "unsuppress")(c.Subscriptions.Unsuppress(ctx, []string{"a@example.com"}))
	pa, _ = srv.Profile(a)
	if !pa.Subscriptions.Email.Suppressed(klaviyo.SuppressionHardBounce) || pa.Subscriptions.Email.Suppressed(klaviyo.SuppressionUserSuppressed) {
		t.Errorf("suppressions: %+v", pa.Subscriptions.Email.Suppressions)
	}
	// Subscribe caps: 1,001 subscribers in two requests.
	var many []klaviyo.Subscriber
	for i := range 1001 {
		many = append(many, klaviyo.Subscriber{Email: fmt.Sprintf("s%d@example.com", i), Channels: klaviyo.Channels{Email: true}})
	}
	applied(t, "subscribe 1001")(c.Subscriptions.Subscribe(ctx, klaviyo.SubscribeRequest{Profiles: many}))
	if n := requests(srv, klaviyo.EndpointSubscribe); n != 3 {
		t.Errorf("subscribe requests %d, want 3", n)
	}
	var unsub []klaviyo.Unsubscriber
	for i := range 101 {
		unsub = append(unsub, klaviyo.Unsubscriber{Email: fmt.Sprintf("s%d@example.com", i), Channels: klaviyo.Channels{Email: true}})
	}
	applied(t, "unsubscribe 101")(c.Subscriptions.UnsubscribeGlobally(ctx, unsub))
	if n := requests(srv, klaviyo.EndpointUnsubscribe); n != 4 {
		t.Errorf("unsubscribe requests %d, want 4", n)
	}
}

// applied returns a check that every item of a bulk write applied.
func applied(t *testing.T, what string) func([]klaviyo.ItemResult, error) {
	return func(res []klaviyo.ItemResult, err error) {
		t.Helper()
		allApplied(t, what, res, err)
	}
}

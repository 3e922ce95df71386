package omnisend_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// GET /batches takes dateFrom and dateTo as yyyy-mm-dd (SPEC batches);
// the listing holds exactly the batches created within From and To.
func TestBatchListDates(t *testing.T) {
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	srv, c := setup(t, omnisendtest.WithNow(day.Add(9*time.Hour)))
	ctx := context.Background()
	var ids []string
	for _, at := range []time.Duration{9 * time.Hour, 15 * time.Hour, 33 * time.Hour} { // day 1 09:00, 15:00, day 2 09:00
		srv.SetNow(day.Add(at))
		b, _, err := c.Batches.Create(ctx, &omnisend.BatchRequest{Method: "POST", Endpoint: "contacts",
			Items: []json.RawMessage{json.RawMessage(`{"identifiers":[{"type":"email","id":"a@example.com"}]}`)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	list := func(o omnisend.BatchListOptions) []string {
		t.Helper()
		o.Endpoint = "contacts"
		var got []string
		for b, err := range c.Batches.List(ctx, o) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, b.ID)
		}
		return got
	}
	if got := list(omnisend.BatchListOptions{From: day.Add(12 * time.Hour)}); len(got) != 2 || got[0] != ids[2] || got[1] != ids[1] {
		t.Errorf("from day 1 12:00: %v, want %v", got, []string{ids[2], ids[1]})
	}
	if got := list(omnisend.BatchListOptions{To: day.Add(12 * time.Hour)}); len(got) != 1 || got[0] != ids[0] {
		t.Errorf("to day 1 12:00: %v, want %v", got, ids[:1])
	}
	if got := list(omnisend.BatchListOptions{From: day, To: day.Add(24*time.Hour - time.Second)}); len(got) != 2 {
		t.Errorf("day 1: %v", got)
	}
}

// The request carries the dates in the spec's format.
func TestBatchListDateFormat(t *testing.T) {
	var q url.Values
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q = r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"batches":[],"paging":{}}`))
	}))
	defer ts.Close()
	c, err := omnisend.New(omnisend.APIKey("k"), omnisend.WithBaseURL(ts.URL), omnisend.WithRetryPolicy(fast))
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 6, 1, 23, 30, 0, 0, time.FixedZone("", -2*3600)) // 2026-06-02 01:30 UTC
	for _, err := range c.Batches.List(context.Background(), omnisend.BatchListOptions{Endpoint: "events", From: from, To: from.Add(time.Hour)}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if q.Get("dateFrom") != "2026-06-02" || q.Get("dateTo") != "2026-06-03" {
		t.Errorf("dateFrom %q dateTo %q", q.Get("dateFrom"), q.Get("dateTo"))
	}
}

// A status the spec does not list is refused before anything is sent.
func TestBatchListStatus(t *testing.T) {
	srv, c := setup(t)
	var got error
	for _, err := range c.Batches.List(context.Background(), omnisend.BatchListOptions{Endpoint: "contacts", Status: "done"}) {
		got = err
	}
	var ie *omnisend.InputError
	if !errors.As(got, &ie) || ie.Field != "BatchListOptions.Status" {
		t.Errorf("got %v", got)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// Omnisend deduplicates historical events only. An event marked
// Historical whose time is recent is a real-time event to Omnisend: the
// retry the mark allows could record it twice while Send reports
// success. It is refused before sending, at the client's historical age
// (DefaultHistoricalAge, WithHistoricalAge).
func TestRecentHistoricalEventRefused(t *testing.T) {
	ctx := context.Background()
	recent := &omnisend.Event{Name: "x", ID: omnisend.EventID("a"), Time: time.Now().Add(-time.Minute), Historical: true,
		Contact: omnisend.EventContact{Email: "a@example.com"}}
	srv, c := setup(t)
	srv.AddFaults(omnisendtest.Fault{Op: "sendEvent", Kind: shopcrmtest.FaultLostResponse})
	_, err := c.Events.Send(ctx, recent)
	var ie *omnisend.InputError
	if !errors.As(err, &ie) || ie.Field != "event.Time" {
		t.Errorf("recent historical event: %v", err)
	}
	if _, err := c.Events.SendAll(ctx, []*omnisend.Event{recent}); !errors.As(err, &ie) || ie.Field != "events[0].Time" {
		t.Errorf("SendAll: %v", err)
	}
	if n := len(srv.Events()); n != 0 {
		t.Errorf("%d events recorded", n)
	}
	// Old enough, it is sent and retried; recorded once.
	old := *recent
	old.Time = time.Now().Add(-omnisend.DefaultHistoricalAge - time.Minute)
	if _, err := c.Events.Send(ctx, &old); err != nil || len(srv.Events()) != 1 {
		t.Errorf("old historical event: %v, %d recorded", err, len(srv.Events()))
	}
	// A caller who knows better lowers the age.
	c2 := srv.Client(omnisend.WithHistoricalAge(30*time.Second), omnisend.WithRetryPolicy(fast))
	if _, err := c2.Events.Send(ctx, recent); err != nil {
		t.Errorf("with a 30 s historical age: %v", err)
	}
	if _, err := omnisend.New(omnisend.APIKey("k"), omnisend.WithHistoricalAge(-time.Second)); !errors.As(err, &ie) {
		t.Errorf("negative age: %v", err)
	}
}

// A contact can hold several email identifiers; Mirror finds it by any of
// them, rather than reporting the email Missing (as if no contact held
// it) and leaving the contact's tags as they were.
func TestMirrorBySecondaryEmail(t *testing.T) {
	srv, c := setup(t)
	srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("home@example.com", ""), omnisend.Email("work@example.com", "")},
		Tags: []string{"shopify:old"}})
	rep, err := c.Tags.Mirror(context.Background(), map[string][]string{"Work@example.com": {"shopify:vip"}}, omnisend.OwnedPrefix("shopify:"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Missing) != 0 || len(rep.Results) != 1 || rep.Results[0].Outcome != shopcrm.Applied {
		t.Fatalf("report = %+v", rep)
	}
	ct, _ := srv.Contact("home@example.com")
	if got := slices.Sorted(slices.Values(ct.Tags)); !slices.Equal(got, []string{"shopify:vip"}) {
		t.Errorf("tags %v", got)
	}
	// Two desired sets for one contact contradict each other: refused
	// before any tag call.
	before := srv.Stats().Requests
	_, err = c.Tags.Mirror(context.Background(), map[string][]string{"home@example.com": {"shopify:a"}, "work@example.com": {"shopify:b"}}, omnisend.OwnedPrefix("shopify:"))
	var ie *omnisend.InputError
	if !errors.As(err, &ie) || ie.Field != "desired[work@example.com]" {
		t.Errorf("two emails of one contact: %v", err)
	}
	if n := srv.Stats().Requests - before; n != 1 { // the listing only
		t.Errorf("%d requests, want the listing only", n)
	}
}

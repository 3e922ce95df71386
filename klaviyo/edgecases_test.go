package klaviyo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/shopcrmtest"

	"github.com/shopcrm/shopcrm/klaviyo"
)

// GET /api/segments filters on is_active (any, equals) and is_starred
// (equals) too (SPEC filter description); the fake answers them.
func TestSegmentFilters(t *testing.T) {
	srv, c := setup(t)
	id := srv.AddSegment("VIP")
	ctx := context.Background()
	for _, tc := range []struct {
		f    klaviyo.Filter
		want int
	}{
		{klaviyo.Filter{klaviyo.Equals("is_active", true)}, 1},
		{klaviyo.Filter{klaviyo.Any("is_active", false)}, 0},
		{klaviyo.Filter{klaviyo.Equals("is_starred", false), klaviyo.Equals("name", "VIP")}, 1},
		{klaviyo.Filter{klaviyo.Equals("is_starred", true)}, 0},
	} {
		n := 0
		for s, err := range c.Segments.All(ctx, tc.f) {
			if err != nil {
				t.Fatalf("%s: %v", tc.f, err)
			}
			if s.ID != id {
				t.Errorf("%s: segment %s", tc.f, s.ID)
			}
			n++
		}
		if n != tc.want {
			t.Errorf("%s: %d segments, want %d", tc.f, n, tc.want)
		}
	}
}

// A job Klaviyo cancelled after it imported some profiles did not fail
// all of them: the profiles it names no error for may have been imported,
// so they are Unknown, not Failed. A job cancelled before it processed any
// profile failed them all.
func TestImportCancelledJob(t *testing.T) {
	for _, done := range []int{0, 2} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			fmt.Fprintf(w, `{"data":{"type":"profile-bulk-import-job","id":"J1","attributes":{"status":"cancelled","total_count":3,"completed_count":%d,"failed_count":0}}}`, done)
		}))
		c, err := klaviyo.New(klaviyo.PrivateKey("pk_test"), klaviyo.WithBaseURL(hs.URL), klaviyo.WithRetryPolicy(fast),
			klaviyo.WithPollInterval(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Profiles.Import(context.Background(), []klaviyo.ProfileInput{{Email: "a@example.com"}, {Email: "b@example.com"}, {Email: "c@example.com"}}, klaviyo.ImportOptions{})
		hs.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := klaviyo.Failed
		if done > 0 {
			want = klaviyo.Unknown
		}
		for _, r := range res {
			if r.Outcome != want || r.Err == nil {
				t.Errorf("%d processed: profile %d: %v %v, want %v", done, r.Index, r.Outcome, r.Err, want)
			}
			if !errors.Is(r.Err, klaviyo.ErrImportCancelled) {
				t.Errorf("profile %d: %v does not match ErrImportCancelled", r.Index, r.Err)
			}
		}
	}
}

// An event whose profile patch appends to an array property is not
// resent blindly: the unique_id keeps the event once, but the profile
// update it carries would append again (as Update and Upsert, which
// send such patches once). A lost answer leaves it Unknown instead.
func TestEventWithAppendIsSentOnce(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		srv, c := setup(t)
		ctx := context.Background()
		id := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com", Properties: map[string]any{"skus": []any{"A"}}})
		op := "create_event"
		if bulk {
			op = string(klaviyo.EndpointBulkCreateEvents)
		}
		srv.AddFaults(klaviyotest.Fault{Op: op, Kind: shopcrmtest.FaultLostResponse})
		e := klaviyo.Event{Metric: "Ordered", Time: time.Now().Add(-time.Minute),
			Profile: klaviyo.ProfileInput{Email: "a@example.com", Patch: &klaviyo.PatchProperties{Append: map[string]any{"skus": "B"}}}}
		var err error
		if bulk {
			var res []klaviyo.ItemResult
			res, err = c.Events.BulkCreate(ctx, []klaviyo.Event{e})
			if err == nil && res[0].Outcome != klaviyo.Unknown {
				t.Errorf("bulk: outcome %v, want Unknown", res[0].Outcome)
			}
		} else if _, err = c.Events.Create(ctx, e); err == nil {
			t.Errorf("a lost answer was reported as success")
		}
		p, _ := srv.Profile(id)
		if diff := cmp.Diff(map[string]any{"skus": []any{"A", "B"}}, p.Properties); diff != "" {
			t.Errorf("bulk %v: properties (-want +got):\n%s", bulk, diff)
		}
	}
}

// Webhooks.All asks for the topics (include=webhook-topics): a server that
// leaves a to-many relationship's data out unless it is included would
// otherwise give webhooks without topics.
func TestWebhooksAllIncludesTopics(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json")
		rel := `{"links":{"self":"x","related":"y"}}`
		if r.URL.Query().Get("include") == "webhook-topics" {
			rel = `{"data":[{"type":"webhook-topic","id":"event:klaviyo.clicked_email"}],"links":{"self":"x","related":"y"}}`
		}
		fmt.Fprintf(w, `{"data":[{"type":"webhook","id":"W1","attributes":{"name":"n","endpoint_url":"https://example.com","enabled":true},"relationships":{"webhook-topics":%s},"links":{"self":"x"}}],"links":{"self":"x"}}`, rel)
	}))
	defer hs.Close()
	c, err := klaviyo.New(klaviyo.PrivateKey("pk_test"), klaviyo.WithBaseURL(hs.URL), klaviyo.WithRetryPolicy(fast))
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := c.Webhooks.All(context.Background())
	if err != nil || len(all) != 1 || len(all[0].Topics) != 1 {
		t.Fatalf("%+v %v", all, err)
	}
}

// Once Klaviyo accepted an import job (202), the profiles may be imported
// whatever happens next: an answer without a job id, or a poll that
// fails (here a 404), leaves them Unknown, never Failed, and no error
// blames the caller's input.
func TestImportAcceptedThenLost(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"no job id": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
		},
		"poll refused": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			if r.Method == http.MethodPost {
				w.WriteHeader(http.StatusAccepted)
				fmt.Fprint(w, `{"data":{"type":"profile-bulk-import-job","id":"J1","attributes":{"status":"queued","total_count":2,"completed_count":0,"failed_count":0}}}`)
				return
			}
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"id":"e","status":404,"code":"not_found","title":"Not found.","detail":"Not found."}]}`)
		},
	} {
		hs := httptest.NewServer(h)
		c, err := klaviyo.New(klaviyo.PrivateKey("pk_test"), klaviyo.WithBaseURL(hs.URL), klaviyo.WithRetryPolicy(fast),
			klaviyo.WithPollInterval(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Profiles.Import(context.Background(), []klaviyo.ProfileInput{{Email: "a@example.com"}, {Email: "b@example.com"}}, klaviyo.ImportOptions{})
		hs.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, r := range res {
			if r.Outcome != klaviyo.Unknown || errors.Is(r.Err, klaviyo.ErrInvalidInput) {
				t.Errorf("%s: profile %d: %v %v, want Unknown", name, r.Index, r.Outcome, r.Err)
			}
		}
	}
}

// Klaviyo validates a bulk job all or nothing: one malformed email would
// fail the other 99 of its request. Suppress refuses it alone, before
// sending, and the others apply.
func TestSuppressRefusesAMalformedEmailAlone(t *testing.T) {
	_, c := setup(t)
	res, err := c.Subscriptions.Suppress(context.Background(), []string{"good@example.com", "not-an-email", "also@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := []klaviyo.Outcome{klaviyo.Applied, klaviyo.Failed, klaviyo.Applied}
	for i, r := range res {
		if r.Outcome != want[i] {
			t.Errorf("email %d: %v %v, want %v", i, r.Outcome, r.Err, want[i])
		}
	}
	var ie *klaviyo.InputError
	if !errors.As(res[1].Err, &ie) || ie.Field != "emails[1]" {
		t.Errorf("malformed email: %v", res[1].Err)
	}
}

// A bulk request Klaviyo refused with a 400 did not act: its items are
// Failed, not Unknown (which would tell the caller they may have been
// written).
func TestBulkRefusalIsFailed(t *testing.T) {
	srv, c := setup(t)
	lid := srv.AddList("L", klaviyo.SingleOptIn)
	known := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	res, err := c.Lists.AddProfiles(context.Background(), lid, []string{known, "01NOSUCHPROFILE"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		var ae *klaviyo.APIError
		if r.Outcome != klaviyo.Failed || !errors.As(r.Err, &ae) || ae.Status != 400 {
			t.Errorf("profile %d: %v %v, want Failed with the 400", r.Index, r.Outcome, r.Err)
		}
	}
	if m, _ := srv.ListMembers(lid); len(m) != 0 {
		t.Errorf("members %v", m)
	}
}

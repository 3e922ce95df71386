package klaviyotest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
)

func TestRefusesWhatItDoesNotModel(t *testing.T) {
	srv := klaviyotest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	for name, r := range map[string]*klaviyo.RawRequest{
		"unknown parameter":  {Method: "GET", Path: "/api/profiles", Query: url.Values{"include": {"lists"}}},
		"predictive":         {Method: "GET", Path: "/api/profiles", Query: url.Values{"additional-fields[profile]": {"predictive_analytics"}}},
		"filter field":       {Method: "GET", Path: "/api/profiles", Query: url.Values{"filter": {`equals(first_name,"A")`}}},
		"invented attribute": {Method: "POST", Path: "/api/profiles", Body: map[string]any{"data": map[string]any{"type": "profile", "attributes": map[string]any{"email": "a@example.com", "tier": "gold"}}}},
		"unknown list":       {Method: "POST", Path: "/api/lists/x/relationships/profiles", Body: map[string]any{"data": []any{}}},
	} {
		_, err := c.Do(ctx, r, nil)
		var ae *klaviyo.APIError
		if !errors.As(err, &ae) || (ae.Status != 400 && ae.Status != 404) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.Do(ctx, &klaviyo.RawRequest{Method: "GET", Path: "/api/campaigns"}, nil); !errors.Is(err, klaviyo.ErrNotFound) {
		t.Errorf("unrouted path: %v", err)
	}
}

func TestAuthenticationAndRevision(t *testing.T) {
	srv := klaviyotest.NewServer()
	defer srv.Close()
	do := func(h http.Header) int {
		req, _ := http.NewRequest("GET", srv.URL()+"/api/profiles", nil)
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	key := "Klaviyo-API-Key " + srv.APIKey()
	for name, c := range map[string]struct {
		h    http.Header
		want int
	}{
		"no key":        {http.Header{"Revision": {"2026-07-15"}}, 401},
		"wrong key":     {http.Header{"Authorization": {"Klaviyo-API-Key pk_nope"}, "Revision": {"2026-07-15"}}, 401},
		"no revision":   {http.Header{"Authorization": {key}}, 400},
		"old revision":  {http.Header{"Authorization": {key}, "Revision": {"2024-10-15"}}, 404},
		"beta revision": {http.Header{"Authorization": {key}, "Revision": {"2026-07-15.pre"}}, 200},
	} {
		if got := do(c.h); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
}

// TestUnsubscribeWithListModelsKlaviyo: a job naming a list unsubscribes a
// member from that list only, but a profile outside the list globally.
func TestUnsubscribeWithListModelsKlaviyo(t *testing.T) {
	srv := klaviyotest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	list := srv.AddList("News", "")
	member := srv.AddProfile(klaviyo.ProfileInput{Email: "m@example.com"})
	outsider := srv.AddProfile(klaviyo.ProfileInput{Email: "o@example.com"})
	if _, err := c.Lists.AddProfiles(ctx, list, []string{member}); err != nil {
		t.Fatal(err)
	}
	unsub := func(email string) map[string]any {
		return map[string]any{"type": "profile", "attributes": map[string]any{"email": email,
			"subscriptions": map[string]any{"email": map[string]any{"marketing": map[string]any{"consent": "UNSUBSCRIBED"}}}}}
	}
	_, err := c.Do(ctx, &klaviyo.RawRequest{Method: "POST", Path: "/api/profile-subscription-bulk-delete-jobs", Body: map[string]any{
		"data": map[string]any{"type": "profile-subscription-bulk-delete-job",
			"attributes":    map[string]any{"profiles": map[string]any{"data": []any{unsub("m@example.com"), unsub("o@example.com")}}},
			"relationships": map[string]any{"list": map[string]any{"data": map[string]any{"type": "list", "id": list}}}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := srv.Profile(member)
	po, _ := srv.Profile(outsider)
	if pm.Subscriptions.Email.Suppressed(klaviyo.SuppressionUnsubscribe) || len(pm.Subscriptions.Email.ListSuppressions) != 1 {
		t.Errorf("member: %+v", pm.Subscriptions.Email)
	}
	if po.Subscriptions.Email.Consent != klaviyo.ConsentUnsubscribed || !po.Subscriptions.Email.Suppressed(klaviyo.SuppressionUnsubscribe) {
		t.Errorf("outsider: %+v", po.Subscriptions.Email)
	}
}

// TestImportJobMovesThroughStates reads a job on the server's clock:
// queued, processing with a growing count, then complete and applied.
func TestImportJobMovesThroughStates(t *testing.T) {
	srv := klaviyotest.NewServer(klaviyotest.WithJobDuration(time.Hour))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	var doc struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	body := map[string]any{"data": map[string]any{"type": "profile-bulk-import-job", "attributes": map[string]any{"profiles": map[string]any{
		"data": []any{map[string]any{"type": "profile", "attributes": map[string]any{"email": "new@example.com"}}}}}}}
	if _, err := c.Do(ctx, &klaviyo.RawRequest{Method: "POST", Path: "/api/profile-bulk-import-jobs", Body: body}, &doc); err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, step := range []time.Duration{0, 30 * time.Minute, 31 * time.Minute} {
		srv.Advance(step)
		job, _, err := c.Profiles.ImportJob(ctx, doc.Data.ID)
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, job.Status)
	}
	if strings.Join(states, ",") != "queued,processing,complete" {
		t.Errorf("states %v", states)
	}
	if _, ok := srv.ProfileIDByEmail("new@example.com"); !ok {
		t.Error("not imported")
	}
}

package klaviyotest_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
)

// Operations that take no query parameter the fake models refuse one
// (400 naming it) instead of ignoring it: a sparse fieldset, an include
// or additional-fields would otherwise come back as if honoured.
func TestRefusesQueryParametersEverywhere(t *testing.T) {
	srv := klaviyotest.NewServer(klaviyotest.WithoutRateLimits())
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	pid := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	lid := srv.AddList("L", klaviyo.SingleOptIn)
	profile := map[string]any{"data": map[string]any{"type": "profile", "id": pid, "attributes": map[string]any{"first_name": "A"}}}
	for name, r := range map[string]*klaviyo.RawRequest{
		"get list include":    {Method: "GET", Path: "/api/lists/" + lid, Query: url.Values{"include": {"tags"}}},
		"update additional":   {Method: "PATCH", Path: "/api/profiles/" + pid, Query: url.Values{"additional-fields[profile]": {"subscriptions"}}, Body: profile},
		"create event fields": {Method: "POST", Path: "/api/events", Query: url.Values{"fields[event]": {"time"}}, Body: map[string]any{}},
		"webhook topics":      {Method: "GET", Path: "/api/webhook-topics", Query: url.Values{"page[size]": {"5"}}},
	} {
		_, err := c.Do(ctx, r, nil)
		var ae *klaviyo.APIError
		if !errors.As(err, &ae) || ae.Status != 400 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if p, _ := srv.Profile(pid); p.FirstName != "" {
		t.Errorf("a refused update acted: %+v", p)
	}
	if _, err := c.Do(ctx, &klaviyo.RawRequest{Method: "GET", Path: "/api/lists/" + lid}, nil); err != nil {
		t.Errorf("get list: %v", err)
	}
}

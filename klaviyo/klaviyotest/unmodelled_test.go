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
	refused(t, c, map[string]*klaviyo.RawRequest{
		"get list include":    {Method: "GET", Path: "/api/lists/" + lid, Query: url.Values{"include": {"tags"}}},
		"update additional":   {Method: "PATCH", Path: "/api/profiles/" + pid, Query: url.Values{"additional-fields[profile]": {"subscriptions"}}, Body: profile},
		"create event fields": {Method: "POST", Path: "/api/events", Query: url.Values{"fields[event]": {"time"}}, Body: map[string]any{}},
		"webhook topics":      {Method: "GET", Path: "/api/webhook-topics", Query: url.Values{"page[size]": {"5"}}},
	})
	if p, _ := srv.Profile(pid); p.FirstName != "" {
		t.Errorf("a refused update acted: %+v", p)
	}
	if _, err := c.Do(ctx, &klaviyo.RawRequest{Method: "GET", Path: "/api/lists/" + lid}, nil); err != nil {
		t.Errorf("get list: %v", err)
	}
}

// A consent job with a channel, a profile field or a job attribute the
// fake does not model is refused (400), not accepted with the part
// dropped.
func TestConsentJobRefusesWhatItDoesNotModel(t *testing.T) {
	srv := klaviyotest.NewServer(klaviyotest.WithoutRateLimits())
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	job := func(typ string, attrs map[string]any, subs map[string]any) *klaviyo.RawRequest {
		a := map[string]any{"profiles": map[string]any{"data": []any{map[string]any{"type": "profile",
			"attributes": map[string]any{"email": "a@example.com", "phone_number": "+15005550006", "subscriptions": subs}}}}}
		for k, v := range attrs {
			a[k] = v
		}
		return &klaviyo.RawRequest{Method: "POST", Path: "/api/" + typ + "s", Body: map[string]any{"data": map[string]any{"type": typ, "attributes": a}}}
	}
	sub := map[string]any{"consent": "SUBSCRIBED"}
	unsub := map[string]any{"consent": "UNSUBSCRIBED"}
	refused(t, c, map[string]*klaviyo.RawRequest{
		"whatsapp":         job("profile-subscription-bulk-create-job", nil, map[string]any{"whatsapp": map[string]any{"marketing": sub}}),
		"open tracking":    job("profile-subscription-bulk-create-job", nil, map[string]any{"email": map[string]any{"open_tracking": sub}}),
		"misspelt flag":    job("profile-subscription-bulk-create-job", map[string]any{"historical_imports": true}, map[string]any{"email": map[string]any{"marketing": sub}}),
		"push unsubscribe": job("profile-subscription-bulk-delete-job", nil, map[string]any{"push": map[string]any{"marketing": unsub}}),
		"source on delete": job("profile-subscription-bulk-delete-job", map[string]any{"custom_source": "x"}, map[string]any{"email": map[string]any{"marketing": unsub}}),
	})
	if n := len(srv.Profiles()); n != 0 {
		t.Errorf("%d profiles: a refused job acted", n)
	}
	ok := job("profile-subscription-bulk-create-job", map[string]any{"custom_source": "x", "historical_import": false},
		map[string]any{"email": map[string]any{"marketing": sub}, "sms": map[string]any{"marketing": sub, "transactional": sub}})
	if _, err := c.Do(ctx, ok, nil); err != nil {
		t.Errorf("a job the fake models: %v", err)
	}
}

// Profile writes with a location field or a meta part outside the spec's
// ProfileLocation and ProfileMeta, or that the fake does not model
// (patch_identifiers), are refused, not stored or dropped.
func TestProfileWriteRefusesUnknownParts(t *testing.T) {
	srv := klaviyotest.NewServer(klaviyotest.WithoutRateLimits())
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	pid := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	res := func(attrs, meta map[string]any) map[string]any {
		r := map[string]any{"type": "profile", "id": pid, "attributes": attrs}
		if meta != nil {
			r["meta"] = meta
		}
		return map[string]any{"data": r}
	}
	refused(t, c, map[string]*klaviyo.RawRequest{
		"location typo":     {Method: "PATCH", Path: "/api/profiles/" + pid, Body: res(map[string]any{"location": map[string]any{"zip_code": "1"}}, nil)},
		"patch identifiers": {Method: "PATCH", Path: "/api/profiles/" + pid, Body: res(map[string]any{}, map[string]any{"patch_identifiers": map[string]any{}})},
		"patch typo":        {Method: "POST", Path: "/api/profile-import", Body: res(map[string]any{"email": "a@example.com"}, map[string]any{"patch_properties": map[string]any{"apend": map[string]any{"k": "v"}}})},
		"patch not object":  {Method: "PATCH", Path: "/api/profiles/" + pid, Body: res(map[string]any{}, map[string]any{"patch_properties": map[string]any{"append": "k"}})},
	})
	ok := res(map[string]any{"location": map[string]any{"zip": "1", "city": "Osaka"}}, map[string]any{"patch_properties": map[string]any{"append": map[string]any{"k": "v"}}})
	if _, err := c.Do(ctx, &klaviyo.RawRequest{Method: "PATCH", Path: "/api/profiles/" + pid, Body: ok}, nil); err != nil {
		t.Errorf("a write the fake models: %v", err)
	}
}

// refused sends each request and wants a 400 for it.
func refused(t *testing.T, c *klaviyo.Client, reqs map[string]*klaviyo.RawRequest) {
	t.Helper()
	for name, r := range reqs {
		_, err := c.Do(context.Background(), r, nil)
		var ae *klaviyo.APIError
		if !errors.As(err, &ae) || ae.Status != 400 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

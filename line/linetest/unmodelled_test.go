package linetest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
)

// TestNarrowcastDemographicFilterRefused: followers here have no age,
// gender or area, so a narrowcast narrowed by them cannot be answered as
// LINE would; the fake refuses it, naming the property, instead of sending
// to every follower.
func TestNarrowcastDemographicFilterRefused(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	srv.AddFollowers(linetest.UserID(1), linetest.UserID(2))
	c := srv.Client(line.WithRetryPolicy(noRetry()),
		line.WithEndpointLimit(line.EndpointNarrowcast, line.RateLimit{PerSecond: 0}))
	_, _, err := c.Messages.Narrowcast(context.Background(), &line.NarrowcastRequest{
		Messages: []line.Message{line.TextMessage{Text: "hi"}},
		Filter:   line.GenderFilter("female"),
	})
	var ae *line.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || len(ae.Details) != 1 || ae.Details[0].Property != "filter.demographic" {
		t.Fatalf("narrowcast with a demographic filter: %v, want a 400 naming filter.demographic", err)
	}
	if got := srv.Recipients(); len(got) != 0 {
		t.Errorf("recipients = %v, want none", got)
	}
	// Without a filter the same narrowcast goes to every follower.
	res, _, err := c.Messages.Narrowcast(context.Background(), &line.NarrowcastRequest{Messages: []line.Message{line.TextMessage{Text: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Wait(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := srv.Recipients(); len(got) != 2 {
		t.Errorf("recipients = %v, want both followers", got)
	}
}

// TestAudienceListQueryChecked: the list's filters the fake does not
// evaluate (includesExternalPublicGroups, createRoute) and a status that is
// not one of LINE's are answered 400, not with every group; the client
// refuses an unknown status before sending.
func TestAudienceListQueryChecked(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	tok := srv.Token()
	for _, q := range []string{"page=1&createRoute=OA_MANAGER", "page=1&includesExternalPublicGroups=false", "page=1&status=DONE"} {
		a := do(t, srv, "GET", "/v2/bot/audienceGroup/list?"+q, tok, nil, nil)
		if a.Status != http.StatusBadRequest {
			t.Errorf("list?%s = %d %v, want 400", q, a.Status, a.Body)
		}
	}
	if a := do(t, srv, "GET", "/v2/bot/audienceGroup/list?page=1&status=READY&description=x&size=40", tok, nil, nil); a.Status != http.StatusOK {
		t.Errorf("list with LINE's filters = %d %v, want 200", a.Status, a.Body)
	}

	c := srv.Client(line.WithRetryPolicy(noRetry()))
	before := len(srv.Requests())
	for _, err := range c.Audiences.List(context.Background(), line.AudienceFilter{Status: "DONE"}) {
		var ie *line.InputError
		if !errors.As(err, &ie) || ie.Field != "Status" {
			t.Errorf("list with status DONE: %v, want an *InputError on Status", err)
		}
		break
	}
	if n := len(srv.Requests()) - before; n != 0 {
		t.Errorf("%d requests sent for a bad status", n)
	}
}

// TestSendBodiesCheckedAsSpecified: what messaging-api.yml forbids is
// answered 400 with the property: forbidPartialDelivery without
// upToRemainingQuota, a multicast aggregation unit off its pattern.
func TestSendBodiesCheckedAsSpecified(t *testing.T) {
	srv := linetest.NewServer(linetest.WithRateLimit(line.EndpointNarrowcast, line.RateLimit{}))
	defer srv.Close()
	srv.AddFollowers(linetest.UserID(1))
	tok := srv.Token()
	msg := `"messages":[{"type":"text","text":"hi"}]`
	for _, tc := range []struct{ path, body, prop string }{
		{"/v2/bot/message/narrowcast", `{` + msg + `,"limit":{"forbidPartialDelivery":true}}`, "limit.forbidPartialDelivery"},
		{"/v2/bot/message/multicast", `{"to":["` + linetest.UserID(1) + `"],` + msg + `,"customAggregationUnits":["spring sale"]}`, "customAggregationUnits[0]"},
	} {
		a := do(t, srv, "POST", tc.path, tok, nil, strings.NewReader(tc.body))
		details, _ := a.Body["details"].([]any)
		if a.Status != http.StatusBadRequest || len(details) != 1 || details[0].(map[string]any)["property"] != tc.prop {
			t.Errorf("%s %s = %d %v, want 400 naming %s", tc.path, tc.body, a.Status, a.Body, tc.prop)
		}
	}
	if got := srv.Recipients(); len(got) != 0 {
		t.Errorf("recipients = %v, want none", got)
	}
	for _, body := range []string{
		`{` + msg + `,"limit":{"upToRemainingQuota":true,"forbidPartialDelivery":true}}`,
	} {
		if a := do(t, srv, "POST", "/v2/bot/message/narrowcast", tok, nil, strings.NewReader(body)); a.Status != http.StatusAccepted {
			t.Errorf("narrowcast %s = %d %v, want 202", body, a.Status, a.Body)
		}
	}
	if a := do(t, srv, "POST", "/v2/bot/message/multicast", tok, nil, strings.NewReader(`{"to":["`+linetest.UserID(1)+`"],`+msg+`,"customAggregationUnits":["spring_sale"]}`)); a.Status != http.StatusOK {
		t.Errorf("multicast with a good unit = %d %v", a.Status, a.Body)
	}
}

// TestRenameToTakenDescription: names are compared case-insensitively on
// renaming as on creating (manage-audience.yml says so of both), so a
// rename onto another group's name is refused; a group may change the case
// of its own name.
func TestRenameToTakenDescription(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	c := srv.Client(line.WithRetryPolicy(noRetry()),
		line.WithEndpointLimit(line.EndpointAudience, line.RateLimit{}))
	ctx := context.Background()
	if _, _, err := c.Audiences.Create(ctx, "vip", nil); err != nil {
		t.Fatal(err)
	}
	g, _, err := c.Audiences.Create(ctx, "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	var ae *line.APIError
	if _, err := c.Audiences.Rename(ctx, g.AudienceGroupID, "VIP"); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("rename onto a taken name: %v, want 400", err)
	}
	if _, err := c.Audiences.Rename(ctx, g.AudienceGroupID, "Other"); err != nil {
		t.Errorf("rename to its own name in other case: %v", err)
	}
}

// TestMessageCommonLimits: the limits messaging-api.yml sets on what any
// message may carry (quick reply items, sender name and icon) are checked,
// in sends and in validation alike.
func TestMessageCommonLimits(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	tok := srv.Token()
	items := strings.Repeat(`{"type":"action","action":{"type":"message","label":"a","text":"a"}},`, 14)
	for _, tc := range []struct{ msg, prop string }{
		{`{"type":"text","text":"hi","quickReply":{"items":[` + strings.TrimSuffix(items, ",") + `]}}`, "messages[0].quickReply.items"},
		{`{"type":"text","text":"hi","sender":{"name":"` + strings.Repeat("n", 21) + `"}}`, "messages[0].sender.name"},
		{`{"type":"text","text":"hi","sender":{"iconUrl":"https://example.com/` + strings.Repeat("i", 2000) + `"}}`, "messages[0].sender.iconUrl"},
	} {
		for _, path := range []string{"/v2/bot/message/push", "/v2/bot/message/validate/push"} {
			a := do(t, srv, "POST", path, tok, nil, strings.NewReader(`{"to":"`+linetest.UserID(1)+`","messages":[`+tc.msg+`]}`))
			details, _ := a.Body["details"].([]any)
			if a.Status != http.StatusBadRequest || len(details) != 1 || details[0].(map[string]any)["property"] != tc.prop {
				t.Errorf("%s with %s: %d %v, want 400 naming %s", path, tc.prop, a.Status, a.Body, tc.prop)
			}
		}
	}
	ok := `{"type":"text","text":"hi","quickReply":{"items":[` + strings.Repeat(`{"type":"action","action":{"type":"message","label":"a","text":"a"}},`, 12) +
		`{"type":"action","action":{"type":"message","label":"a","text":"a"}}]},"sender":{"name":"` + strings.Repeat("n", 20) + `"}}`
	if a := do(t, srv, "POST", "/v2/bot/message/push", tok, nil, strings.NewReader(`{"to":"`+linetest.UserID(1)+`","messages":[`+ok+`]}`)); a.Status != http.StatusOK {
		t.Errorf("push at the limits: %d %v", a.Status, a.Body)
	}
}

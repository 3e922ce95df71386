package omnisendtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
)

func do(t *testing.T, srv *omnisendtest.Server, method, path, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Omnisend-API-Key "+omnisendtest.DefaultAPIKey)
	req.Header.Set("Omnisend-Version", omnisendtest.Version)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestSlidingWindowAnswersRateLimitProblems(t *testing.T) {
	srv := omnisendtest.NewServer(omnisendtest.WithRateLimit(omnisend.EndpointDefault, 3, 2*time.Second))
	defer srv.Close()
	for i := range 3 {
		if st, _ := do(t, srv, "GET", "/contacts", ""); st != 200 {
			t.Fatalf("request %d: %d", i, st)
		}
	}
	st, body := do(t, srv, "GET", "/contacts", "")
	if st != 429 || body["type"] != "https://problems.omnisend.com/rate-limit-exceeded" || body["retryAfter"] != float64(2) {
		t.Errorf("4th request: %d %v", st, body)
	}
	// Tag calls have their own window.
	if st, _ := do(t, srv, "POST", "/contacts/tags", `{"emails":["a@example.com"],"tags":["x"]}`); st != 202 {
		t.Errorf("tags: %d", st)
	}
	if s := srv.Stats(); s.Throttled != 1 || s.Ops["listContacts"].Throttled != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestRefusesWhatItDoesNotModel(t *testing.T) {
	srv := omnisendtest.NewServer()
	defer srv.Close()
	cases := []struct {
		method, path, body string
		hdr                []string
		status             int
	}{
		{"POST", "/contacts", `{"identifiers":[{"type":"email","id":"a@example.com"}],"nickname":"x"}`, nil, 400},
		{"GET", "/contacts?segmentID=1", "", nil, 400},
		{"GET", "/contacts?before=abc", "", nil, 400},
		{"GET", "/contacts?tag=a&status=subscribed", "", nil, 400},
		{"GET", "/contacts?updatedAtFrom=2026-01-01T00:00:00Z&email=a@example.com", "", nil, 400},
		{"POST", "/contacts/tags", `{"segmentID":"s","tags":["x"]}`, nil, 400},
		{"POST", "/batches", `{"method":"PUT","endpoint":"products","items":[{}]}`, nil, 400},
		{"GET", "/products", "", nil, 404},
		{"GET", "/contacts", "", []string{"Omnisend-Version", ""}, 400},
		{"GET", "/contacts", "", []string{"Omnisend-Version", "2025-01-01"}, 410},
		{"GET", "/contacts", "", []string{"Authorization", "Bearer nope"}, 401},
		{"POST", "/contacts", `{"identifiers":[{"type":"email","id":"a@example.com","channels":{"sms":{"status":"subscribed"}}}]}`, nil, 400},
	}
	for _, c := range cases {
		st, body := do(t, srv, c.method, c.path, c.body, c.hdr...)
		if st != c.status || body["title"] == nil || body["instance"] == nil {
			t.Errorf("%s %s %s: %d %v, want %d with a problem body", c.method, c.path, c.body, st, body, c.status)
		}
	}
	if n := len(srv.Contacts()); n != 0 {
		t.Errorf("%d contacts created", n)
	}
}

func TestHistoricalAge(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	srv := omnisendtest.NewServer(omnisendtest.WithNow(now), omnisendtest.WithHistoricalAge(24*time.Hour))
	defer srv.Close()
	send := func(at time.Time) {
		body := `{"eventName":"x","origin":"api","eventID":"9afca57b-d157-478b-adde-b9506322b16f","eventTime":"` + at.Format(time.RFC3339) + `","contact":{"email":"a@example.com"}}`
		if st, b := do(t, srv, "POST", "/events", body); st != 202 {
			t.Fatalf("%d %v", st, b)
		}
	}
	send(now.Add(-48 * time.Hour))
	send(now.Add(-48 * time.Hour))
	send(now.Add(-time.Hour))
	send(now.Add(-time.Hour))
	evs := srv.Events()
	if len(evs) != 3 || !evs[0].Historical || evs[1].Historical {
		t.Errorf("events: %+v", evs)
	}
	if _, ok := srv.Contact("A@example.com"); !ok {
		t.Error("the event's contact was not created")
	}
}

func TestUnknownFaultOpPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	omnisendtest.NewServer(omnisendtest.WithFaults(omnisendtest.Fault{Op: "sendSMS", Kind: 1}))
}

func TestTagDelay(t *testing.T) {
	srv := omnisendtest.NewServer(omnisendtest.WithTagDelay(time.Hour))
	defer srv.Close()
	srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("a@example.com", "")}})
	tags := func() []string { c, _ := srv.Contact("a@example.com"); return c.Tags }
	if st, _ := do(t, srv, "POST", "/contacts/tags", `{"emails":["a@example.com"],"tags":["x"]}`); st != 202 {
		t.Fatal(st)
	}
	if got := tags(); len(got) != 0 {
		t.Errorf("tags visible at once: %v", got)
	}
	srv.Advance(time.Hour)
	if _, body := do(t, srv, "GET", "/contacts?tag=x", ""); len(body["contacts"].([]any)) != 1 {
		t.Errorf("tag not in effect an hour later: %v", body)
	}
	do(t, srv, "DELETE", "/contacts/tags", `{"emails":["a@example.com"],"tags":["x"]}`)
	if got := tags(); len(got) != 1 {
		t.Errorf("removal in effect at once: %v", got)
	}
	srv.Advance(time.Hour)
	if got := tags(); len(got) != 0 {
		t.Errorf("removal not in effect: %v", got)
	}
}

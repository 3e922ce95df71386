package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
)

// omnisendSpec picks the OpenAPI file describing an exchange's path.
func omnisendSpec(rawURL string) string {
	u, _ := url.Parse(rawURL)
	switch {
	case strings.HasPrefix(u.Path, "/api/events"):
		return "specs/omnisend/omnisend-events-api-2026-03-15.json"
	case strings.HasPrefix(u.Path, "/api/batches"):
		return "specs/omnisend/omnisend-batches-api-2026-03-15.json"
	}
	return "specs/omnisend/omnisend-contacts-api-2026-03-15.json"
}

// TestOmnisendClientAgainstSpecs drives the Omnisend client through the
// fake, over the recorder, and validates every request and every response
// (errors included) against Omnisend's OpenAPI files. Request bodies must
// also hold no property the schema does not declare, which the files'
// open schemas would otherwise let through.
func TestOmnisendClientAgainstSpecs(t *testing.T) {
	for _, spec := range []string{"specs/omnisend/omnisend-contacts-api-2026-03-15.json",
		"specs/omnisend/omnisend-events-api-2026-03-15.json", "specs/omnisend/omnisend-batches-api-2026-03-15.json"} {
		OpenAPI(t, spec)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	srv := omnisendtest.NewServer(omnisendtest.WithNow(now), omnisendtest.WithRateLimit(omnisend.EndpointContactTags, 3, time.Hour))
	defer srv.Close()
	rec := NewRecorder(nil)
	hc := &http.Client{Transport: rec, Timeout: 10 * time.Second}
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	c, err := omnisend.New(omnisend.APIKey(omnisendtest.DefaultAPIKey), omnisend.WithBaseURL(srv.URL()), omnisend.WithHTTPClient(hc),
		omnisend.WithSleep(noSleep), omnisend.WithEndpointLimit(omnisend.EndpointContactTags, 0, 0),
		omnisend.WithRetryPolicy(shopcrm.RetryPolicy{MaxRetries: 1, MaxWait: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	yes := true
	jane, _, _, err := c.Contacts.Upsert(ctx, &omnisend.ContactInput{
		Identifiers: []omnisend.Identifier{
			{Type: omnisend.EmailID, ID: "jane@example.com", Status: omnisend.Subscribed, StatusChangedAt: now,
				Consent: &omnisend.Consent{CreatedAt: now, IP: "192.0.2.1", Source: "api", UserAgent: "Mozilla/5.0"}, SendWelcomeMessage: &yes, Source: "api"},
			omnisend.Phone("+15551234567", omnisend.NonSubscribed),
		},
		FirstName: "Jane", LastName: "Doe", Address: "1 Main St", City: "Vilnius", State: "Vilnius", PostalCode: "01100",
		Country: "Lithuania", CountryCode: "LT", Birthdate: "1990-01-02", Gender: omnisend.Female, CreatedAt: now.Add(-time.Hour),
		Tags: []string{"source: shopify", "shopify:vip"}, CustomProperties: map[string]any{"points": 10, "pets": []string{"cat"}},
	})
	must("create", err)
	_, _, _, err = c.Contacts.Upsert(ctx, &omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("jane@example.com", "")}, City: "Kaunas"})
	must("update by upsert", err)
	john, _, _, err := c.Contacts.Upsert(ctx, &omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("john@example.com", omnisend.Unsubscribed)}})
	must("create john", err)
	_, _, _, err = c.Contacts.Upsert(ctx, &omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Phone("+15551234567", "")}})
	if !errors.Is(err, omnisend.ErrInvalidInput) && err == nil {
		t.Error("a contact whose only identifier conflicts was created")
	}
	_, _, err = c.Contacts.Get(ctx, jane.ID)
	must("get", err)
	_, _, err = c.Contacts.Get(ctx, "000000000000000000000000")
	if !errors.Is(err, omnisend.ErrNotFound) {
		t.Errorf("get unknown: %v", err)
	}
	_, _, err = c.Contacts.Update(ctx, jane.ID, &omnisend.ContactInput{FirstName: "Janet", Tags: []string{"shopify:repeat"}})
	must("update", err)
	_, _, err = c.Contacts.Update(ctx, john.ID, &omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("jane@example.com", "")}})
	if !errors.Is(err, omnisend.ErrIdentifierConflict) {
		t.Errorf("conflict: %v", err)
	}
	_, _, err = c.Contacts.UpdateByEmail(ctx, "john@example.com", &omnisend.ContactInput{LastName: "Roe"})
	must("update by email", err)
	_, _, err = c.Contacts.UpdateByEmail(ctx, "nobody@example.com", &omnisend.ContactInput{LastName: "Roe"})
	if !errors.Is(err, omnisend.ErrNotFound) {
		t.Errorf("update unknown email: %v", err)
	}
	for _, o := range []omnisend.ListOptions{{PageSize: 1}, {Tag: "shopify:vip", Sort: omnisend.SortUpdatedAt, Ascending: true},
		{Status: omnisend.Subscribed, Email: "jane@example.com", Phone: "+15551234567"}, {UpdatedSince: now.Add(-time.Hour)}} {
		for _, err := range c.Contacts.List(ctx, o) {
			must("list", err)
		}
	}
	_, err = c.Tags.Add(ctx, omnisend.Selector{ContactIDs: []string{jane.ID}, Emails: []string{"john@example.com"}, Phones: []string{"+15551234567"}}, []string{"a", "b"})
	must("add tags", err)
	_, err = c.Tags.Remove(ctx, omnisend.Selector{Emails: []string{"john@example.com"}}, []string{"a"})
	must("remove tags", err)
	// Three tag calls an hour: one of the mirror's two is refused with a
	// 429 problem.
	rep, err := c.Tags.Mirror(ctx, map[string][]string{"jane@example.com": {"shopify:new"}}, omnisend.OwnedPrefix("shopify:"))
	must("mirror", err)
	if len(rep.Results) != 1 || !errors.Is(rep.Results[0].Err, omnisend.ErrRateLimited) {
		t.Errorf("mirror over the limit: %+v", rep.Results)
	}
	_, err = c.Events.Send(ctx, &omnisend.Event{Name: "points earned", Origin: "api", ID: omnisend.EventID("points", "1"), Time: now.Add(-48 * time.Hour),
		Historical: true, Contact: omnisend.EventContact{Email: "jane@example.com", FirstName: "Jane", Tags: []string{"loyal"}, CustomProperties: map[string]any{"tier": "gold"}},
		Properties: map[string]any{"points": 10, "order": map[string]any{"id": "1001"}}})
	must("event", err)
	_, err = c.Events.Send(ctx, &omnisend.Event{Name: "placed order", Version: "v2", Contact: omnisend.EventContact{Phone: "+15551234567"}})
	must("recommended event", err)
	items := []json.RawMessage{json.RawMessage(`{"identifiers":[{"type":"email","id":"b1@example.com","channels":{"email":{"status":"subscribed"}}}],"tags":["b"]}`),
		json.RawMessage(`{"identifiers":[{"type":"email","id":"broken"}]}`)}
	b, _, err := c.Batches.Create(ctx, &omnisend.BatchRequest{Method: "POST", Endpoint: "contacts", Origin: "api", Items: items})
	must("batch", err)
	_, err = c.Batches.Wait(ctx, b.ID, time.Millisecond)
	must("wait batch", err)
	for _, err := range c.Batches.List(ctx, omnisend.BatchListOptions{Endpoint: "contacts", Status: omnisend.BatchFinished, From: now.Add(-time.Hour)}) {
		must("list batches", err)
	}
	_, _, err = c.Batches.Get(ctx, "nope")
	if !errors.Is(err, omnisend.ErrNotFound) {
		t.Errorf("unknown batch: %v", err)
	}

	seen := map[string]bool{}
	for _, ex := range rec.Exchanges() {
		spec := omnisendSpec(ex.URL)
		u, _ := url.Parse(ex.URL)
		seen[ex.Method+" "+u.Path+" "+fmt.Sprint(ex.Status)] = true
		seen[u.Path+" "+fmt.Sprint(ex.Status)] = true
		doc := OpenAPI(t, spec)
		err := ValidateExchange(doc, ex)
		if err == nil {
			err = undeclared(doc, ex)
		}
		if err != nil {
			t.Errorf("%s %s → %d (%s):\n%v\nrequest: %s\nresponse: %s", ex.Method, u.Path, ex.Status, spec, err,
				truncate(ex.RequestBody), truncate(ex.ResponseBody))
		}
	}
	for _, want := range []string{"POST /api/contacts 201", "POST /api/contacts 200", "POST /api/contacts 400", "PATCH /api/contacts 404",
		"GET /api/contacts/000000000000000000000000 404", "POST /api/contacts/tags 202", "DELETE /api/contacts/tags 202",
		"/api/contacts/tags 429", "POST /api/events 202", "POST /api/batches 201", "GET /api/batches 200"} {
		if !seen[want] {
			t.Errorf("no exchange %s", want)
		}
	}
}

// undeclared fails a request body holding a property its schema does not
// declare (the files leave additionalProperties open), and checks PATCH
// bodies, which the contacts file does not attach to its operations,
// against its ContactRequest body.
func undeclared(doc *openapi3.T, ex Exchange) error {
	route, _, err := FindRoute(doc, ex.Method, ex.URL)
	if err != nil || len(ex.RequestBody) == 0 {
		return err
	}
	var schema *openapi3.Schema
	if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil {
		schema = rb.Value.Content.Get("application/json").Schema.Value
	} else if ex.Method == http.MethodPatch {
		schema = doc.Components.RequestBodies["ContactRequest"].Value.Content.Get("application/json").Schema.Value
	}
	if schema == nil {
		return fmt.Errorf("a body was sent to an operation that takes none")
	}
	var v any
	if err := json.Unmarshal(ex.RequestBody, &v); err != nil {
		return err
	}
	if err := schema.VisitJSON(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return errors.Join(Undeclared(schema, v, "body", nil)...)
}

func TestOmnisendStrictCheck(t *testing.T) {
	doc := OpenAPI(t, "specs/omnisend/omnisend-contacts-api-2026-03-15.json")
	ex := Exchange{Method: "POST", URL: "http://127.0.0.1:9/api/contacts/tags",
		RequestHeader: jsonHeader("Omnisend-Version", "2026-03-15", "Authorization", "Omnisend-API-Key k"),
		RequestBody:   []byte(`{"emails":["a@example.com"],"tags":["x"],"tag":"y"}`)}
	if err := undeclared(doc, ex); err == nil || !strings.Contains(err.Error(), `"tag"`) {
		t.Errorf("an undeclared property passed: %v", err)
	}
	ex.Method, ex.URL = "PATCH", "http://127.0.0.1:9/api/contacts/1"
	ex.RequestBody = []byte(`{"gender":"x"}`)
	if err := undeclared(doc, ex); err == nil || !strings.Contains(err.Error(), "gender") {
		t.Errorf("a bad PATCH body passed: %v", err)
	}
}

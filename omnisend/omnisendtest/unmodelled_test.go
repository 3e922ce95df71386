package omnisendtest_test

import (
	"net/http"
	"testing"

	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
)

// Query values outside the spec's enums and formats are refused, not
// read as a filter that matches nothing.
func TestListQueryValues(t *testing.T) {
	srv := omnisendtest.NewServer()
	defer srv.Close()
	for _, c := range []struct {
		path string
		want int
	}{
		{"/contacts?status=subscribed", http.StatusOK},
		{"/contacts?status=Subscribed", http.StatusBadRequest},
		{"/contacts?status=active", http.StatusBadRequest},
		{"/batches?endpoint=contacts&status=finished&dateFrom=2026-06-01&dateTo=2026-06-02", http.StatusOK},
		{"/batches?endpoint=contacts&status=done", http.StatusBadRequest},
		{"/batches?endpoint=contacts&dateFrom=2026-06-01T00:00:00Z", http.StatusBadRequest},
	} {
		if got, body := do(t, srv, "GET", c.path, ""); got != c.want {
			t.Errorf("GET %s: %d %v, want %d", c.path, got, body, c.want)
		}
	}
}

// A query parameter on an operation that takes none (or another one) is
// refused, naming it, never ignored.
func TestUnknownQueryParameters(t *testing.T) {
	srv := omnisendtest.NewServer()
	defer srv.Close()
	id := srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("a@example.com", "")}})
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/contacts/" + id, "", http.StatusOK},
		{"GET", "/contacts/" + id + "?fields=email", "", http.StatusBadRequest},
		{"PATCH", "/contacts?email=a@example.com", `{"firstName":"A"}`, http.StatusOK},
		{"PATCH", "/contacts?email=a@example.com&phone=%2B15551234567", `{"firstName":"A"}`, http.StatusBadRequest},
		{"POST", "/contacts?upsert=false", `{"identifiers":[{"type":"email","id":"b@example.com"}]}`, http.StatusBadRequest},
		{"POST", "/events?async=false", `{"eventName":"x","origin":"api","contact":{"email":"a@example.com"}}`, http.StatusBadRequest},
		{"GET", "/batches/nope?x=1", "", http.StatusBadRequest},
	} {
		got, body := do(t, srv, c.method, c.path, c.body)
		if got != c.want {
			t.Errorf("%s %s: %d %v, want %d", c.method, c.path, got, body, c.want)
		}
	}
	if n := len(srv.Contacts()); n != 1 {
		t.Errorf("%d contacts: a refused request acted", n)
	}
}

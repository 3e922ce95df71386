package omnisendtest_test

import (
	"net/http"
	"testing"

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

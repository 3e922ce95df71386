package klaviyo_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// newRecorder starts a server that keeps each request's headers and
// answers a minimal profile document; it returns its URL.
func newRecorder(t *testing.T, got *[]http.Header) string {
	t.Helper()
	var mu sync.Mutex
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*got = append(*got, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/vnd.api+json")
		_, _ = w.Write([]byte(`{"data":{"type":"profile","id":"P1","attributes":{},"links":{"self":"x"}}}`))
	}))
	t.Cleanup(hs.Close)
	return hs.URL
}

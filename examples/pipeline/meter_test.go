package pipeline_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/examples/pipeline"
)

// A Meter counts requests by platform, and its clients' idle connections
// close on request: a process that keeps clients per shop releases a
// shop's connections when it lets the shop go.
func TestMeterCountsAndClosesIdleConnections(t *testing.T) {
	var mu sync.Mutex
	closed := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			mu.Lock()
			closed++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()

	var m pipeline.Meter
	a, b := m.Client("a"), m.Client("b")
	for _, c := range []*http.Client{a, a, b} {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if d := cmp.Diff(map[string]int{"a": 2, "b": 1}, m.Counts()); d != "" {
		t.Errorf("counts (-want +got):\n%s", d)
	}

	a.CloseIdleConnections()
	b.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := closed
		mu.Unlock()
		if n == 2 { // one kept-alive connection per client
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections closed, want 2", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

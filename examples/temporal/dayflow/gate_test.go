package dayflow_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/examples/temporal/internal/fleet"
)

// gate stands between a worker and the fakes: while shut, it holds every
// request, so a test knows for certain that activities are mid-request
// when it kills their worker, however loaded the machine is.
type gate struct {
	mu   sync.Mutex
	held int
	open chan struct{}
	once sync.Once
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

// proxy serves target behind the gate until the test ends.
func (g *gate) proxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-g.open:
		default:
			g.mu.Lock()
			g.held++
			g.mu.Unlock()
			select {
			case <-g.open:
			case <-r.Context().Done():
				return // the worker is gone
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// manifest is m with every fake behind the gate.
func (g *gate) manifest(t *testing.T, m fleet.Manifest) fleet.Manifest {
	t.Helper()
	for i := range m.Shops {
		e := &m.Shops[i]
		e.Shopify, e.LINE, e.Omnisend, e.Klaviyo = g.proxy(t, e.Shopify), g.proxy(t, e.LINE), g.proxy(t, e.Omnisend), g.proxy(t, e.Klaviyo)
	}
	return m
}

// wait waits until at least min requests are held, and returns how many are.
func (g *gate) wait(t *testing.T, min int, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		n := g.held
		g.mu.Unlock()
		if n >= min {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d requests held after %s", min, timeout)
	return 0
}

// release lets every request through from now on.
func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

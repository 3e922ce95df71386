package transport_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// TestTimeoutStartsAfterTheGate: time queued at the gate does not count
// against the per-attempt timeout (a long job's later requests would
// otherwise time out before being sent), while a server slower than the
// timeout still times the attempt out.
func TestTimeoutStartsAfterTheGate(t *testing.T) {
	slow := time.Duration(0)
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		d := slow
		mu.Unlock()
		time.Sleep(d)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	// One request every 150 ms, attempts timing out after 100 ms.
	c := transport.New(transport.Config{Platform: "test", Retry: transport.RetryPolicy{},
		HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}, Gate: transport.NewGate(1/0.15, 1)})
	get := func() error {
		resp, err := c.Do(context.Background(), &transport.Request{Method: "GET", URL: srv.URL, Retry: transport.RetryIdempotent})
		if err == nil {
			_, err = transport.ReadBody(resp)
		}
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = get() }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d, queued up to 450 ms at the gate: %v", i, err)
		}
	}
	mu.Lock()
	slow = 300 * time.Millisecond
	mu.Unlock()
	start := time.Now()
	err := get()
	var ne interface{ Timeout() bool }
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("a 300 ms answer with a 100 ms timeout: %v", err)
	}
	if d := time.Since(start); d > 250*time.Millisecond+150*time.Millisecond {
		t.Errorf("the attempt took %s", d)
	}
}

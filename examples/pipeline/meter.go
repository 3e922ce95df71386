package pipeline

import (
	"maps"
	"net/http"
	"sync"
	"time"
)

// Meter counts the HTTP requests each platform's client makes, so a step
// can report what it cost. Give each client the http.Client from
// [Meter.Client].
type Meter struct {
	mu     sync.Mutex
	counts map[string]int
}

// Client returns an HTTP client counting its requests under platform:
// 60 s per attempt and 16 idle connections per host, as the SDK's clients
// default to. Its CloseIdleConnections closes its transport's idle
// connections.
func (m *Meter) Client(platform string) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Timeout: 60 * time.Second, Transport: meterTransport{m: m, platform: platform, next: t}}
}

// Counts returns the requests so far, by platform.
func (m *Meter) Counts() map[string]int {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.counts)
}

type meterTransport struct {
	m        *Meter
	platform string
	next     http.RoundTripper
}

func (t meterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.m.mu.Lock()
	if t.m.counts == nil {
		t.m.counts = map[string]int{}
	}
	t.m.counts[t.platform]++
	t.m.mu.Unlock()
	return t.next.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the transport
// beneath, so that http.Client.CloseIdleConnections reaches it.
func (t meterTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

package conformance

import (
	"bytes"
	"io"
	"net/http"
	"sync"
)

// Exchange is one recorded request and its response.
type Exchange struct {
	Method         string
	URL            string
	RequestHeader  http.Header
	RequestBody    []byte
	Status         int
	ResponseHeader http.Header
	ResponseBody   []byte
}

// Recorder is an http.RoundTripper that keeps a copy of every exchange it
// carries. It is safe for concurrent use.
type Recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	ex   []Exchange
}

// NewRecorder records the exchanges sent through next (nil:
// http.DefaultTransport).
func NewRecorder(next http.RoundTripper) *Recorder {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Recorder{next: next}
}

// RoundTrip sends req through the wrapped transport and records both sides.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	r.mu.Lock()
	r.ex = append(r.ex, Exchange{
		Method:         req.Method,
		URL:            req.URL.String(),
		RequestHeader:  req.Header.Clone(),
		RequestBody:    reqBody,
		Status:         resp.StatusCode,
		ResponseHeader: resp.Header.Clone(),
		ResponseBody:   respBody,
	})
	r.mu.Unlock()
	return resp, nil
}

// Exchanges returns a copy of what was recorded so far, in order.
func (r *Recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Exchange(nil), r.ex...)
}

// Reset forgets what was recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.ex = nil
	r.mu.Unlock()
}

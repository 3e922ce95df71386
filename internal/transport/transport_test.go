package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sleeps records the waits a client asked for instead of sleeping them.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func newTestClient(t *testing.T, s *sleeps, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Platform:        "test",
		Retry:           RetryPolicy{MaxRetries: 3, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, MaxWait: 30 * time.Second},
		RequestIDHeader: "X-Request-Id",
	}
	if s != nil {
		cfg.Sleep = s.sleep
	}
	for _, m := range mod {
		m(&cfg)
	}
	return New(cfg)
}

// script answers each request with the next handler, repeating the last.
func script(t *testing.T, steps ...http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		steps[min(i, len(steps)-1)](w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("X-Request-Id", "req-1")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"status":%d}`, code)
	}
}

func ok(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) }

func get(t *testing.T, c *Client, url string, retry bool) (*http.Response, error) {
	t.Helper()
	class := RetryNever
	if retry {
		class = RetryIdempotent
	}
	resp, err := c.Do(context.Background(), &Request{Method: "POST", URL: url, Body: []byte(`{}`), Retry: class})
	if resp != nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

func TestRetryAfterForms(t *testing.T) {
	date := time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name  string
		value string
		min   time.Duration
		max   time.Duration
	}{
		{"integer", "3", 3 * time.Second, 3*time.Second + 300*time.Millisecond},
		{"fractional", "2.0", 2 * time.Second, 2*time.Second + 200*time.Millisecond},
		{"sub-second", "0.5", 500 * time.Millisecond, 550 * time.Millisecond},
		// An HTTP-date has second resolution, so the floor is a little under 5s.
		{"http-date", date, 3 * time.Second, 5*time.Second + 500*time.Millisecond},
		{"garbage falls back to backoff", "soon", 50 * time.Millisecond, 100 * time.Millisecond},
		{"negative falls back to backoff", "-1", 50 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sleeps
			srv, n := script(t, status(429, "Retry-After", tt.value), ok)
			resp, err := get(t, newTestClient(t, &s), srv.URL, true)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("Do = %v, %v", resp, err)
			}
			got := s.all()
			if n.Load() != 2 || len(got) != 1 {
				t.Fatalf("attempts %d, sleeps %v", n.Load(), got)
			}
			if got[0] < tt.min || got[0] > tt.max {
				t.Errorf("wait %v, want in [%v, %v]", got[0], tt.min, tt.max)
			}
		})
	}
}

func TestRetryAfterBeyondCap(t *testing.T) {
	var s sleeps
	srv, n := script(t, status(429, "Retry-After", "3600"))
	_, err := get(t, newTestClient(t, &s), srv.URL, true)
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Hour {
		t.Fatalf("err = %v, want *RateLimitError with 1h", err)
	}
	if !errors.Is(err, ErrRateLimited) {
		t.Error("not ErrRateLimited")
	}
	var api *APIError
	if !errors.As(err, &api) || api.Status != 429 || api.RequestID != "req-1" || !strings.Contains(string(api.Body), "429") {
		t.Errorf("cause = %#v", api)
	}
	if n.Load() != 1 || len(s.all()) != 0 {
		t.Errorf("attempts %d, sleeps %v: want one attempt and no sleep", n.Load(), s.all())
	}
}

func TestRetryAfterBeyondDeadline(t *testing.T) {
	srv, n := script(t, status(503, "Retry-After", "20"))
	c := newTestClient(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, &Request{Method: "GET", URL: srv.URL, Retry: RetryIdempotent})
	if !errors.Is(err, ErrRateLimited) || time.Since(start) > time.Second || n.Load() != 1 {
		t.Errorf("err = %v after %v and %d attempts; want an immediate rate-limit error", err, time.Since(start), n.Load())
	}
}

func TestRetryStatuses(t *testing.T) {
	for _, code := range []int{500, 502, 503, 504, 429} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			var s sleeps
			srv, n := script(t, status(code), status(code), ok)
			resp, err := get(t, newTestClient(t, &s), srv.URL, true)
			if err != nil || resp.StatusCode != 200 || n.Load() != 3 {
				t.Fatalf("Do = %v, %v after %d attempts", resp, err, n.Load())
			}
			got := s.all()
			// Exponential backoff with equal jitter: [50ms,100ms] then [100ms,200ms].
			if len(got) != 2 || got[0] < 50*time.Millisecond || got[0] > 100*time.Millisecond ||
				got[1] < 100*time.Millisecond || got[1] > 200*time.Millisecond {
				t.Errorf("waits %v", got)
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	var s sleeps
	srv, n := script(t, status(503))
	_, err := get(t, newTestClient(t, &s), srv.URL, true)
	var api *APIError
	if !errors.As(err, &api) || api.Status != 503 || string(api.Body) != `{"status":503}` {
		t.Fatalf("err = %v", err)
	}
	if n.Load() != 4 {
		t.Errorf("attempts = %d, want 4", n.Load())
	}
}

func TestNoRetryOfUnflaggedWrite(t *testing.T) {
	for _, code := range []int{500, 503, 429} {
		var s sleeps
		srv, n := script(t, status(code), ok)
		_, err := get(t, newTestClient(t, &s), srv.URL, false)
		var api *APIError
		if !errors.As(err, &api) || api.Status != code || n.Load() != 1 {
			t.Errorf("%d: err = %v after %d attempts; want the error after one", code, err, n.Load())
		}
	}
}

func TestNoRetryOfClientErrors(t *testing.T) {
	srv, n := script(t, status(400), ok)
	_, err := get(t, newTestClient(t, &sleeps{}), srv.URL, true)
	if err == nil || n.Load() != 1 {
		t.Errorf("err = %v after %d attempts", err, n.Load())
	}
}

func TestSentinels(t *testing.T) {
	for code, want := range map[int]error{401: ErrUnauthorized, 403: ErrUnauthorized, 404: ErrNotFound, 409: ErrConflict, 429: ErrRateLimited} {
		srv, _ := script(t, status(code))
		_, err := get(t, newTestClient(t, &sleeps{}), srv.URL, false)
		if !errors.Is(err, want) {
			t.Errorf("%d: %v is not %v", code, err, want)
		}
	}
}

func TestConnectionReset(t *testing.T) {
	var s sleeps
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(*net.TCPConn).SetLinger(0) // RST instead of FIN
			conn.Close()
			return
		}
		ok(w, r)
	}))
	defer srv.Close()
	resp, err := get(t, newTestClient(t, &s), srv.URL, true)
	if err != nil || resp.StatusCode != 200 || n.Load() != 2 {
		t.Fatalf("Do = %v, %v after %d attempts", resp, err, n.Load())
	}
	// Unflagged: the reset is returned, not retried.
	n.Store(0)
	if _, err := get(t, newTestClient(t, &s), srv.URL, false); err == nil || n.Load() != 1 {
		t.Errorf("unflagged: err = %v after %d attempts", err, n.Load())
	}
}

func TestTimeout(t *testing.T) {
	var s sleeps
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		ok(w, r)
	}))
	defer srv.Close()
	c := newTestClient(t, &s, func(cfg *Config) { cfg.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond} })
	resp, err := get(t, c, srv.URL, true)
	if err != nil || resp.StatusCode != 200 || n.Load() != 2 {
		t.Fatalf("Do = %v, %v after %d attempts", resp, err, n.Load())
	}
}

func TestCancelMidWait(t *testing.T) {
	srv, _ := script(t, status(503, "Retry-After", "10"))
	c := newTestClient(t, nil) // real sleep
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Do(ctx, &Request{Method: "GET", URL: srv.URL, Retry: RetryIdempotent})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("returned after %v; the backoff was 10s", el)
	}
}

func TestBodyReplay(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if n.Add(1) < 3 {
			w.WriteHeader(502)
			return
		}
		ok(w, r)
	}))
	defer srv.Close()
	c := newTestClient(t, &sleeps{})
	if _, err := c.Do(context.Background(), &Request{Method: "POST", URL: srv.URL, Body: []byte(`{"q":1}`), Retry: RetryIdempotent}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{`{"q":1}`, `{"q":1}`, `{"q":1}`}, bodies); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
}

type throttled struct{ after time.Duration }

func (e throttled) Error() string             { return "throttled" }
func (e throttled) RetryAfter() time.Duration { return e.after }

func TestHandlerRetry(t *testing.T) {
	var s sleeps
	srv, n := script(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "THROTTLED") }, ok)
	c := newTestClient(t, &s)
	handle := func(resp *http.Response) error {
		b, err := ReadBody(resp)
		if err != nil {
			return err
		}
		if string(b) == "THROTTLED" {
			return throttled{after: 300 * time.Millisecond}
		}
		return nil
	}
	resp, err := c.Do(context.Background(), &Request{Method: "POST", URL: srv.URL, Retry: RetryIdempotent, Handle: handle})
	if err != nil || n.Load() != 2 {
		t.Fatalf("Do = %v after %d attempts", err, n.Load())
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != `{"ok":true}` {
		t.Errorf("body = %q", b)
	}
	if w := s.all(); len(w) != 1 || w[0] < 300*time.Millisecond || w[0] > 330*time.Millisecond {
		t.Errorf("waits = %v", w)
	}

	// A plain handler error ends the call and comes back as is.
	bad := errors.New("graphql: boom")
	srv2, n2 := script(t, ok)
	_, err = c.Do(context.Background(), &Request{Method: "POST", URL: srv2.URL, Retry: RetryIdempotent, Handle: func(*http.Response) error { return bad }})
	if !errors.Is(err, bad) || n2.Load() != 1 {
		t.Errorf("err = %v after %d attempts", err, n2.Load())
	}
}

func TestGateAppliesToRetries(t *testing.T) {
	srv, n := script(t, status(503), status(503), ok)
	g := NewGate(0.001, 100)
	c := newTestClient(t, &sleeps{}, func(cfg *Config) { cfg.Gate = g })
	before := g.Tokens()
	if _, err := c.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Retry: RetryIdempotent, Cost: 3}); err != nil {
		t.Fatal(err)
	}
	// Three attempts of cost 3 took 9 tokens.
	if used := before - g.Tokens(); n.Load() != 3 || used < 8 || used > 9 {
		t.Errorf("attempts %d used %.2f tokens, want 3 attempts and 9 tokens", n.Load(), used)
	}
}

// TestRefusedAttemptsRefunded: attempts the server refused with a 429 give
// their gate tokens back; one it may have run (503) keeps them.
func TestRefusedAttemptsRefunded(t *testing.T) {
	tests := []struct {
		name  string
		steps []http.HandlerFunc
		want  float64 // tokens used
	}{
		{"429", []http.HandlerFunc{status(429, "Retry-After", "0"), status(429, "Retry-After", "0"), status(429, "Retry-After", "0"), ok}, 10},
		{"503 may have run", []http.HandlerFunc{status(503), ok}, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := script(t, tt.steps...)
			g := NewGate(0.001, 100)
			c := newTestClient(t, &sleeps{}, func(cfg *Config) { cfg.Gate = g })
			resp, err := c.Do(context.Background(), &Request{Method: "POST", URL: srv.URL, Retry: RetryIdempotent, Cost: 10})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if used := 100 - g.Tokens(); int(n.Load()) != len(tt.steps) || used < tt.want-0.5 || used > tt.want+0.5 {
				t.Errorf("%d attempts used %.2f tokens, want %d attempts and %v tokens", n.Load(), used, len(tt.steps), tt.want)
			}
		})
	}
	// A refused request that is never retried is refunded too.
	srv, _ := script(t, status(429))
	g := NewGate(0.001, 100)
	c := newTestClient(t, &sleeps{}, func(cfg *Config) { cfg.Gate = g })
	if _, err := c.Do(context.Background(), &Request{Method: "POST", URL: srv.URL, Retry: RetryNever, Cost: 10}); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v", err)
	}
	if tok := g.Tokens(); tok < 99.5 {
		t.Errorf("after a refused unretried request: %.2f tokens, want 100", tok)
	}
}

// TestGateRefund: refunds are spent before the limiter's tokens, never lift
// the gate above its burst, and are debited first by Reconcile.
func TestGateRefund(t *testing.T) {
	ctx := context.Background()
	g := NewGate(0.001, 100)
	if err := g.Wait(ctx, 60); err != nil {
		t.Fatal(err)
	}
	g.Refund(60)
	if tok := g.Tokens(); tok < 99.5 || tok > 100 {
		t.Errorf("after refund: %.2f tokens, want 100", tok)
	}
	g.Refund(50)
	if tok := g.Tokens(); tok > 100 {
		t.Errorf("refund beyond the burst: %.2f tokens", tok)
	}
	// A wait spends the credit without waiting, then the limiter's tokens.
	for range 2 {
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		err := g.Wait(wctx, 50)
		cancel()
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
	}
	if tok := g.Tokens(); tok > 0.5 {
		t.Errorf("after spending 100: %.2f tokens", tok)
	}
	// Reconcile debits the credit first.
	g2 := NewGate(0.001, 100)
	_ = g2.Wait(ctx, 100)
	g2.Refund(100)
	g2.Reconcile(40)
	if tok := g2.Tokens(); tok < 39.5 || tok > 40.5 {
		t.Errorf("after Reconcile(40): %.2f tokens", tok)
	}
	// A cancelled wait gives its credit back.
	g3 := NewGate(0.001, 100)
	_ = g3.Wait(ctx, 100)
	g3.Refund(20)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := g3.Wait(cctx, 50); err == nil {
		t.Fatal("wait for 50 with 20 available succeeded")
	}
	if tok := g3.Tokens(); tok < 19.5 || tok > 20.5 {
		t.Errorf("after a cancelled wait: %.2f tokens, want 20", tok)
	}
}

func TestGateClampAndRetune(t *testing.T) {
	g := NewGate(100, 50)
	ctx := context.Background()
	// A cost above the burst is clamped instead of failing.
	if err := g.Wait(ctx, 1000); err != nil {
		t.Fatalf("Wait(1000) with burst 50: %v", err)
	}
	if tok := g.Tokens(); tok > 1 {
		t.Errorf("tokens after clamped wait = %.2f, want ~0", tok)
	}
	g.SetBurst(200)
	g.SetLimit(1e6)
	if g.Burst() != 200 || g.Limit() != 1e6 {
		t.Errorf("retune: burst %d limit %v", g.Burst(), g.Limit())
	}
	time.Sleep(5 * time.Millisecond)
	if err := g.Wait(ctx, 150); err != nil {
		t.Fatal(err)
	}

	// Reconcile debits down to what the server reports, never credits.
	g2 := NewGate(0.001, 1000)
	g2.Reconcile(400)
	if tok := g2.Tokens(); tok < 399 || tok > 401 {
		t.Errorf("after Reconcile(400): %.2f tokens", tok)
	}
	g2.Reconcile(900)
	if tok := g2.Tokens(); tok > 401 {
		t.Errorf("Reconcile credited: %.2f tokens", tok)
	}
}

func TestGateContext(t *testing.T) {
	g := NewGate(1, 1)
	_ = g.Wait(context.Background(), 1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := g.Wait(ctx, 1)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 20*time.Millisecond {
		t.Errorf("deadline wait: %v after %v", err, time.Since(start))
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel2)
	if err := g.Wait(ctx2, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}

func TestStreamNeverRetries(t *testing.T) {
	srv, n := script(t, status(503), ok)
	c := newTestClient(t, &sleeps{})
	_, err := c.DoStream(context.Background(), &StreamRequest{Method: "POST", URL: srv.URL, Body: strings.NewReader("a\nb\n")})
	var api *APIError
	if !errors.As(err, &api) || api.Status != 503 || n.Load() != 1 {
		t.Errorf("err = %v after %d attempts", err, n.Load())
	}
}

func TestUserAgent(t *testing.T) {
	var ua string
	srv, _ := script(t, func(w http.ResponseWriter, r *http.Request) { ua = r.UserAgent() })
	c := newTestClient(t, nil, func(cfg *Config) { cfg.Platform = "line"; cfg.UserAgentSuffix = "myapp/2" })
	if _, err := get(t, c, srv.URL, false); err != nil {
		t.Fatal(err)
	}
	if want := "shopcrm/" + Version + " (line) myapp/2"; ua != want {
		t.Errorf("User-Agent = %q, want %q", ua, want)
	}
}

func TestRedaction(t *testing.T) {
	const token = "shpat_0123456789abcdef"
	sec := NewSecret(token)
	type holder struct {
		name  string
		token Secret
		Pub   Secret
	}
	h := holder{"x", sec, sec}
	for _, s := range []string{
		fmt.Sprint(sec), fmt.Sprintf("%v %+v %#v %s %q %x", sec, sec, sec, sec, sec, sec), sec.String(), sec.GoString(),
		fmt.Sprintf("%v", h), fmt.Sprintf("%+v", h), fmt.Sprintf("%#v", h), fmt.Sprintf("%+v", &h),
	} {
		if strings.Contains(s, token) {
			t.Errorf("secret leaked: %s", s)
		}
	}

	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log.Info("token", "t", sec)
	red := NewRedactor()
	red.AddSecret(sec)
	ll := NewLeveledLogger(log, red)
	hdr := http.Header{"Authorization": {"Bearer abc.def"}, "X-Shopify-Access-Token": {token}, "X-Api-Key": {"key-123456"}}
	ll.Debug("request", "url", "https://x/cb?code=oauthcode1&state=ok&client_secret=cs_999", "header", hdr,
		"text", "Authorization: Bearer zzz-long-token", "err", errors.New("failed with "+token))
	ll.Error("request failed", "msg", "X-API-KEY: apikey-777 and access_token=at_1")
	out := buf.String()
	for _, leak := range []string{token, "abc.def", "key-123456", "oauthcode1", "cs_999", "zzz-long-token", "apikey-777", "at_1"} {
		if strings.Contains(out, leak) {
			t.Errorf("log leaked %q:\n%s", leak, out)
		}
	}
	if !strings.Contains(out, "state=ok") {
		t.Errorf("redaction removed a harmless parameter:\n%s", out)
	}

	// err.Error() of a transport failure carries the URL: redacted.
	c := newTestClient(t, &sleeps{}, func(cfg *Config) { cfg.Redactor = red })
	_, err := c.Do(context.Background(), &Request{Method: "GET", URL: "http://127.0.0.1:1/x?access_token=" + token})
	if err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("transport error leaks: %v", err)
	}
	// An API error body echoing a secret is redacted too.
	srv, _ := script(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"bad token `+token+`"}`)
	})
	_, err = get(t, c, srv.URL+"?code=abcdefgh", false)
	var api *APIError
	if !errors.As(err, &api) || strings.Contains(string(api.Body), token) || strings.Contains(err.Error(), "abcdefgh") {
		t.Errorf("API error leaks: %v %s", err, api.Body)
	}
}

func TestConcurrentUse(t *testing.T) {
	srv, _ := script(t, ok)
	c := newTestClient(t, &sleeps{}, func(cfg *Config) { cfg.Gate = NewGate(1e5, 100) })
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 10 {
				resp, err := c.Do(context.Background(), &Request{Method: "GET", URL: srv.URL, Retry: RetryIdempotent})
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
}

func TestRedactorBounded(t *testing.T) {
	r := NewRedactor()
	for i := range maxSecrets + 10 {
		r.Add(fmt.Sprintf("token-%06d", i))
	}
	if got := r.String("token-000000 token-001033"); got != "token-000000 "+Redacted {
		t.Errorf("after overflow: %q", got)
	}
	r.Remove("token-001033")
	if got := r.String("token-001033"); got != "token-001033" {
		t.Errorf("after Remove: %q", got)
	}
}

// TestDefaultHTTPClientBounded: the client every platform gets by default
// has a timeout and keeps as many idle connections per host as requests in
// flight, and a caller's client loses its redirects.
func TestDefaultHTTPClientBounded(t *testing.T) {
	hc := NewHTTPClient(32)
	if hc.Timeout != DefaultTimeout || hc.Transport.(*http.Transport).MaxIdleConnsPerHost != 32 {
		t.Errorf("timeout %v, idle per host %d", hc.Timeout, hc.Transport.(*http.Transport).MaxIdleConnsPerHost)
	}
	c := New(Config{Platform: "test", HTTPClient: &http.Client{}})
	if c.hc.CheckRedirect == nil {
		t.Error("a caller's client follows redirects")
	}
}

// TestGateRetuneQueuedWaits: waits queued at a low rate go as soon as a
// retune shows the tokens are there (SetLimit, SetBurst), keep their order,
// and one given up gives its reservation back.
func TestGateRetuneQueuedWaits(t *testing.T) {
	ctx := context.Background()
	g := NewGate(1, 100)
	if err := g.Wait(ctx, 100); err != nil { // empties the bucket
		t.Fatal(err)
	}
	done := make(chan int, 3)
	for i := range 3 {
		go func() {
			if err := g.Wait(ctx, 50); err != nil {
				t.Error(err)
			}
			done <- i
		}()
		time.Sleep(5 * time.Millisecond) // book in order
	}
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	g.SetLimit(100) // 150 tokens owed: 1.5 s at the new rate, 150 s at the old
	for range 3 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("queued waits kept the old rate")
		}
	}
	if d := time.Since(start); d < time.Second || d > 3*time.Second {
		t.Errorf("queued waits took %v after SetLimit(100), want ~1.5s", d)
	}

	// A larger burst is room the server had all along.
	g = NewGate(1, 100)
	if err := g.Wait(ctx, 100); err != nil {
		t.Fatal(err)
	}
	go func() { done <- 0; _ = g.Wait(ctx, 100); done <- 1 }()
	<-done
	time.Sleep(20 * time.Millisecond)
	g.SetBurst(1000)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("SetBurst(1000) left the queued wait at the old bucket")
	}
	if tok := g.Tokens(); tok < 799 || tok > 802 {
		t.Errorf("tokens after growing the burst by 900 and waiting 100: %.2f, want ~800", tok)
	}

	// A wait given up returns its tokens to those queued behind it.
	g = NewGate(10, 100)
	if err := g.Wait(ctx, 100); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { done <- 0; _ = g.Wait(cctx, 100); done <- 1 }()
	<-done
	time.Sleep(20 * time.Millisecond)
	go func() { done <- 0; _ = g.Wait(ctx, 10); done <- 2 }()
	<-done
	time.Sleep(20 * time.Millisecond)
	start = time.Now()
	cancel()
	<-done
	if got := <-done; got != 2 || time.Since(start) > 2*time.Second {
		t.Errorf("the wait behind a cancelled one took %v", time.Since(start))
	}
}

// Package webhooksec runs the same attacks against every platform's
// webhook verifier and handler, so that they refuse forged, truncated,
// replayed and oversized deliveries alike: with the same typed errors
// (shopcrm.WebhookError and its sentinels) and the same HTTP statuses.
// Platform tests describe their package with a Platform and call Run.
package webhooksec

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/shopcrm/shopcrm"
)

// Platform describes one package's webhooks to Run.
type Platform struct {
	// Name is the package, as in shopcrm.WebhookError.Platform.
	Name string
	// Delivery returns a valid delivery of one event, whose dedupe key
	// is id, signed with secret: the headers and the raw body.
	Delivery func(id string, secret shopcrm.Secret) (http.Header, []byte)
	// SigHeader carries the signature; Hex says it is hex (base64
	// otherwise).
	SigHeader string
	Hex       bool
	// Verify runs the package's verifier on a delivery.
	Verify func(h http.Header, body []byte, secrets ...shopcrm.Secret) error
	// Handler returns the package's WebhookHandler configured with c.
	Handler func(c HandlerConfig) http.Handler
	// DefaultMaxBody is the package's DefaultMaxWebhookBody.
	DefaultMaxBody int64
}

// HandlerConfig is what Run configures a handler with.
type HandlerConfig struct {
	Secrets []shopcrm.Secret
	MaxBody int64 // 0: the package's default
	OnError func(*http.Request, error)
	// Handled must be called once per event the handler's Handle gets.
	Handled func(key string)
}

// Leaks collects secret texts as a test makes them, and fails the test
// when an error string, a log or an answer holds one.
type Leaks struct {
	mu   sync.Mutex
	vals []string
}

// NewSecret returns a fresh random secret and remembers its text.
func (l *Leaks) NewSecret(prefix string) shopcrm.Secret {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return shopcrm.NewSecret(l.Add(prefix + hex.EncodeToString(b)))
}

// Add remembers text (a secret, a signature, a token) and returns it.
// Empty text is ignored.
func (l *Leaks) Add(text string) string {
	if text != "" {
		l.mu.Lock()
		l.vals = append(l.vals, text)
		l.mu.Unlock()
	}
	return text
}

// Check fails t when s holds a remembered text.
func (l *Leaks) Check(t testing.TB, what, s string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range l.vals {
		if strings.Contains(s, v) {
			t.Errorf("%s leaks a secret or signature: %q", what, s)
		}
	}
}

// CheckErr fails t when err's text holds a remembered text.
func (l *Leaks) CheckErr(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		l.Check(t, what, err.Error())
	}
}

// AssertRefused fails t unless err is a *shopcrm.WebhookError of platform
// matching want, with status.
func AssertRefused(t testing.TB, what string, err error, platform string, want error, status int) {
	t.Helper()
	var we *shopcrm.WebhookError
	switch {
	case !errors.Is(err, want):
		t.Errorf("%s: err = %v, want one matching %v", what, err, want)
	case !errors.As(err, &we):
		t.Errorf("%s: err = %T %v, want a *shopcrm.WebhookError", what, err, err)
	case we.Platform != platform || we.Status != status:
		t.Errorf("%s: WebhookError{Platform: %q, Status: %d}, want %q, %d", what, we.Platform, we.Status, platform, status)
	}
}

// recorder serves deliveries to a handler and keeps what it saw.
type recorder struct {
	h       http.Handler
	mu      sync.Mutex
	errs    []error
	handled map[string]int
}

func newRecorder(p Platform, secrets []shopcrm.Secret, maxBody int64) *recorder {
	r := &recorder{handled: map[string]int{}}
	r.h = p.Handler(HandlerConfig{Secrets: secrets, MaxBody: maxBody,
		OnError: func(_ *http.Request, err error) {
			r.mu.Lock()
			r.errs = append(r.errs, err)
			r.mu.Unlock()
		},
		Handled: func(key string) {
			r.mu.Lock()
			r.handled[key]++
			r.mu.Unlock()
		}})
	return r
}

// serve posts a delivery whose body reads from body and returns the
// status and the error the handler reported (nil when none).
func (r *recorder) serve(method string, h http.Header, body io.Reader, contentLength int64) (int, string, error) {
	req := httptest.NewRequestWithContext(context.Background(), method, "/webhooks", body)
	req.Header = h.Clone()
	req.ContentLength = contentLength
	w := httptest.NewRecorder()
	r.mu.Lock()
	n := len(r.errs)
	r.mu.Unlock()
	r.h.ServeHTTP(w, req)
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	if len(r.errs) > n {
		err = r.errs[len(r.errs)-1]
	}
	return w.Code, w.Body.String(), err
}

func (r *recorder) post(h http.Header, body []byte) (int, string, error) {
	return r.serve(http.MethodPost, h, bytes.NewReader(body), int64(len(body)))
}

func (r *recorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handled[key]
}

// reencode returns the signature header value decoded, changed by f and
// encoded again, in the platform's encoding unless other.
func reencode(p Platform, v string, other bool, f func([]byte)) string {
	var raw []byte
	if p.Hex {
		raw, _ = hex.DecodeString(v)
	} else {
		raw, _ = base64.StdEncoding.DecodeString(v)
	}
	if f != nil {
		f(raw)
	}
	if p.Hex != other {
		return hex.EncodeToString(raw)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// Run attacks p's verifier and handler: forged signatures, truncated,
// cut-short and oversized bodies, replays, missing secrets; and checks
// that no error, log or answer holds a secret or a signature.
func Run(t *testing.T, p Platform) {
	var leaks Leaks
	current, previous, wrong := leaks.NewSecret("current-"), leaks.NewSecret("previous-"), leaks.NewSecret("wrong-")
	secrets := []shopcrm.Secret{current, previous}
	h, body := p.Delivery("evt-1", current)
	leaks.Add(h.Get(p.SigHeader))
	if err := p.Verify(h, body, secrets...); err != nil {
		t.Fatalf("a valid delivery: %v", err)
	}
	_, otherBody := p.Delivery("evt-2", current)
	hOld, bodyOld := p.Delivery("evt-old", previous)
	leaks.Add(hOld.Get(p.SigHeader))
	if err := p.Verify(hOld, bodyOld, secrets...); err != nil {
		t.Errorf("signed with the previous secret during a rotation: %v", err)
	}
	hWrong, bodyWrong := p.Delivery("evt-1", wrong)
	leaks.Add(hWrong.Get(p.SigHeader))
	var errs []error // every error met, for the leak check

	type forged struct {
		h    http.Header
		body []byte
	}
	with := func(k, v string) http.Header {
		x := h.Clone()
		if v == "" {
			x.Del(k)
		} else {
			x.Set(k, v)
		}
		return x
	}
	sig := h.Get(p.SigHeader)
	attacks := map[string]forged{
		"wrong secret":               {hWrong, bodyWrong},
		"flipped body byte":          {h, flip(body, len(body)/2)},
		"flipped last body byte":     {h, flip(body, len(body)-1)},
		"flipped signature byte":     {with(p.SigHeader, reencode(p, sig, false, func(b []byte) { b[0] ^= 1 })), body},
		"signature of another body":  {h, otherBody},
		"missing signature header":   {with(p.SigHeader, ""), body},
		"empty signature header":     {with(p.SigHeader, " "), body},
		"other encoding (hex/b64)":   {with(p.SigHeader, reencode(p, sig, true, nil)), body},
		"signature as text":          {with(p.SigHeader, strings.Repeat("z", len(sig))), body},
		"truncated body (one byte)":  {h, body[:len(body)-1]},
		"truncated body (half)":      {h, body[:len(body)/2]},
		"empty body":                 {h, nil},
		"body with a trailing space": {h, append(append([]byte(nil), body...), ' ')},
	}
	rec := newRecorder(p, secrets, 0)
	for name, a := range attacks {
		err := p.Verify(a.h, a.body, secrets...)
		AssertRefused(t, name+": Verify", err, p.Name, shopcrm.ErrInvalidSignature, http.StatusUnauthorized)
		st, ans, herr := rec.post(a.h, a.body)
		if st != http.StatusUnauthorized {
			t.Errorf("%s: handler answered %d, want 401", name, st)
		}
		AssertRefused(t, name+": handler OnError", herr, p.Name, shopcrm.ErrInvalidSignature, http.StatusUnauthorized)
		leaks.Check(t, name+": answer", ans)
		errs = append(errs, err, herr)
	}

	// No usable secret is the server's fault: an *InputError, and 500 so
	// that the platform retries once it is fixed.
	for name, ss := range map[string][]shopcrm.Secret{"no secret": nil, "empty secret": {{}}, "empty secrets": {shopcrm.NewSecret(""), {}}} {
		err := p.Verify(h, body, ss...)
		if !errors.Is(err, shopcrm.ErrInvalidInput) {
			t.Errorf("%s: Verify = %v, want an *InputError", name, err)
		}
		st, _, herr := newRecorder(p, ss, 0).post(h, body)
		if st != http.StatusInternalServerError || !errors.Is(herr, shopcrm.ErrInvalidInput) {
			t.Errorf("%s: handler answered %d, OnError %v; want 500 and an *InputError", name, st, herr)
		}
		errs = append(errs, err, herr)
	}

	// The valid delivery is handled once, however often it comes: a
	// replay (or the platform's retry) is acknowledged, not handled again.
	for i := range 3 {
		if st, _, err := rec.post(h, body); st != http.StatusOK || err != nil {
			t.Errorf("delivery %d: %d %v", i+1, st, err)
		}
	}
	if n := rec.count("evt-1"); n != 1 {
		t.Errorf("a delivery posted 3 times was handled %d times, want 1", n)
	}
	if st, _, err := rec.post(hOld, bodyOld); st != http.StatusOK || err != nil || rec.count("evt-old") != 1 {
		t.Errorf("signed with the previous secret: %d %v", st, err)
	}

	// Oversized: refused at the cap, read no further, 413.
	const small = 1 << 10
	caps := newRecorder(p, secrets, small)
	// The cap comes before the signature: the headers of the real body
	// are as good as any.
	big := bytes.Repeat([]byte(" "), small+1)
	for name, cl := range map[string]int64{"with Content-Length": int64(len(big)), "chunked": -1} {
		st, _, err := caps.serve(http.MethodPost, h, bytes.NewReader(big), cl)
		checkTooLarge(t, p, name, st, err, small)
		errs = append(errs, err)
	}
	endless := &countingReader{}
	st, _, err := caps.serve(http.MethodPost, h, endless, -1)
	checkTooLarge(t, p, "endless body", st, err, small)
	if endless.n > small+1+32<<10 {
		t.Errorf("endless body: read %d bytes with a cap of %d", endless.n, small)
	}
	endless = &countingReader{}
	st, _, err = caps.serve(http.MethodPost, h, endless, 1<<40)
	checkTooLarge(t, p, "Content-Length over the cap", st, err, small)
	if endless.n != 0 {
		t.Errorf("Content-Length over the cap: read %d bytes, want none", endless.n)
	}
	// The default cap holds too.
	endless = &countingReader{}
	st, _, err = rec.serve(http.MethodPost, h, endless, -1)
	checkTooLarge(t, p, "default cap", st, err, p.DefaultMaxBody)
	errs = append(errs, err)
	// A body of exactly the cap is read.
	if st, _, err := newRecorder(p, secrets, int64(len(body))).post(h, body); st != http.StatusOK {
		t.Errorf("a body of exactly MaxBody: %d %v", st, err)
	}

	// A body cut short by the connection, and another method than POST.
	cut := io.MultiReader(bytes.NewReader(body[:len(body)/2]), errReader{io.ErrUnexpectedEOF})
	st, _, err = rec.serve(http.MethodPost, h, cut, int64(len(body)))
	if st != http.StatusBadRequest {
		t.Errorf("body cut short: %d, want 400", st)
	}
	AssertRefused(t, "body cut short", err, p.Name, shopcrm.ErrMalformedWebhook, http.StatusBadRequest)
	st, _, err = rec.serve(http.MethodGet, h, nil, 0)
	if st != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", st)
	}
	AssertRefused(t, "GET", err, p.Name, shopcrm.ErrMalformedWebhook, http.StatusMethodNotAllowed)
	errs = append(errs, err)

	for _, e := range errs {
		leaks.CheckErr(t, "error", e)
	}
	for _, e := range rec.errs {
		leaks.CheckErr(t, "OnError", e)
	}
}

func checkTooLarge(t *testing.T, p Platform, name string, st int, err error, limit int64) {
	t.Helper()
	if st != http.StatusRequestEntityTooLarge {
		t.Errorf("%s: handler answered %d, want 413", name, st)
	}
	AssertRefused(t, name, err, p.Name, shopcrm.ErrBodyTooLarge, http.StatusRequestEntityTooLarge)
	var bt *shopcrm.BodyTooLargeError
	if !errors.As(err, &bt) || bt.Limit != limit {
		t.Errorf("%s: %v, want a *BodyTooLargeError with Limit %d", name, err, limit)
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x01
	return c
}

// countingReader is an endless body of spaces that counts what is read.
type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	r.n += len(p)
	return len(p), nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

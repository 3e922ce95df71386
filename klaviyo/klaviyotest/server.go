package klaviyotest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm/internal/fake"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// DefaultAPIKey is the private API key a new Server accepts.
const DefaultAPIKey = "pk_klaviyotest_0123456789abcdef"

// Fault is a scripted failure; see [shopcrmtest.Fault]. Its Op is an
// operationId ("create_event", "bulk_import_profiles", the values of
// klaviyo.Endpoint) or a request path ("/api/events").
type Fault = shopcrmtest.Fault

// FaultKind says how a request fails; the kinds are shopcrmtest's.
type FaultKind = shopcrmtest.FaultKind

// Stats counts what the server did; see [shopcrmtest.Stats]. Its ops are
// operationIds; 429s of the enforced limits count as throttled.
type Stats = shopcrmtest.Stats

// OpStats counts what the server did for one operation.
type OpStats = shopcrmtest.OpStats

// DefaultJobDuration is how long, on the server's clock, a bulk profile
// import job takes from queued to complete, and a data-privacy deletion
// job from accepted to done, unless [WithJobDuration] says otherwise. An
// import job is queued for the first fifth, then processing.
const DefaultJobDuration = time.Second

// MaxBody is the largest request body the server reads (Klaviyo's 5 MB
// payload cap); a larger one is answered 413.
const MaxBody = 5 << 20

type config struct {
	fake.Config
	apiKey      string
	limits      map[klaviyo.Endpoint]klaviyo.Limit
	jobDuration time.Duration
	hookSkew    time.Duration
	noRetryHdr  bool
	revisions   []string
	oauth       OAuthApp
}

// Option configures a Server.
type Option func(*config)

// WithAPIKey sets the private API key the server accepts.
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithRateLimit sets the enforced limits of one operation (default: the
// client's [klaviyo.DefaultLimits], Klaviyo's own); a zero Limit turns
// them off. Limits are counted per operation over any 1 s and any 60 s of
// the server's clock.
func WithRateLimit(e klaviyo.Endpoint, l klaviyo.Limit) Option {
	return func(c *config) { c.limits[e] = l }
}

// WithoutRateLimits turns every enforced limit off.
func WithoutRateLimits() Option {
	return func(c *config) {
		for e := range c.limits {
			c.limits[e] = klaviyo.Limit{}
		}
	}
}

// WithJobDuration sets how long a bulk profile import job or a
// data-privacy deletion job takes on the server's clock (default
// [DefaultJobDuration]); 0 completes it at once.
func WithJobDuration(d time.Duration) Option { return func(c *config) { c.jobDuration = max(d, 0) } }

// WithLatency delays every request by d before it is handled.
func WithLatency(d time.Duration) Option { return func(c *config) { c.Latency = d } }

// WithFaults scripts faults, consumed in order by the requests they match
// (after authentication and the rate limits). NewServer panics on a fault
// it cannot carry out.
func WithFaults(f ...Fault) Option { return func(c *config) { c.Faults = append(c.Faults, f...) } }

// WithChaos makes each request that no scripted fault matched fail with
// probability rate, with a kind drawn from kinds (default: 503, dropped
// connection, lost response, malformed body), deterministically from seed.
func WithChaos(seed uint64, rate float64, kinds ...FaultKind) Option {
	return func(c *config) { c.Chaos = fake.Chaos{Seed: seed, Rate: rate, Kinds: kinds} }
}

// WithChaosFaults makes each request that no scripted fault matched fail
// as c says: with probability c.Rate, with a fault drawn from c.Faults
// (statuses and Retry-After headers included; see shopcrmtest.EveryFault),
// and c.OnFault told of each one. It replaces WithChaos.
func WithChaosFaults(c shopcrmtest.Chaos) Option {
	return func(cfg *config) { cfg.Chaos = fake.FromChaos(c) }
}

// WithWebhookTimestampSkew shifts the clock of the Klaviyo-Timestamp
// header of the server's deliveries by d; meta.timestamp in the body keeps
// the server's clock. Deliveries have been reported to carry local time
// labelled GMT in that header: a receiver that checks a delivery's age
// against it refuses them all, which this option shows offline.
func WithWebhookTimestampSkew(d time.Duration) Option { return func(c *config) { c.hookSkew = d } }

// WithoutRetryAfter answers throttled requests without the Retry-After
// header, the wait only in the error's detail ("Expected available in 2
// seconds."), as a throttled answer recorded from Klaviyo did, though
// Klaviyo documents the header.
func WithoutRetryAfter() Option { return func(c *config) { c.noRetryHdr = true } }

// WithNow starts the server's clock at t (it then runs at real speed).
func WithNow(t time.Time) Option { return func(c *config) { c.Now = t } }

// Request is a request the server received.
type Request struct {
	Method string
	Path   string
	Op     string    // the operationId; "" when the server routes no such path
	Status int       // 0 when no answer was sent (dropped, timed out, lost)
	Fault  FaultKind // the injected fault, FaultNone when none
	At     time.Time // the server's clock on arrival
}

// Server is a fake Klaviyo API.
type Server struct {
	srv  *httptest.Server
	cfg  config
	base *fake.Base

	rateMu   sync.Mutex // guards burst and steady
	mu       sync.Mutex // guards the rest
	st       *state
	requests []Request
	burst    map[klaviyo.Endpoint]*fixed
	steady   map[klaviyo.Endpoint]*fixed
	oauth    *oauthState
}

// NewServer starts a server. Close it when done. It panics on options it
// cannot carry out.
func NewServer(opts ...Option) *Server {
	cfg := config{apiKey: DefaultAPIKey, limits: klaviyo.DefaultLimits(), jobDuration: DefaultJobDuration,
		oauth: DefaultOAuthApp()}
	for _, o := range opts {
		o(&cfg)
	}
	base, err := fake.New(cfg.Config, fake.Platform{MaxBody: MaxBody, ErrorBody: errorBody, ValidOp: validOp})
	if err != nil {
		panic("klaviyotest: " + err.Error())
	}
	s := &Server{cfg: cfg, base: base, st: newState(), burst: map[klaviyo.Endpoint]*fixed{},
		steady: map[klaviyo.Endpoint]*fixed{}, oauth: newOAuthState()}
	for e, l := range cfg.limits {
		if l.Burst > 0 {
			s.burst[e] = &fixed{n: l.Burst, per: time.Second}
		}
		if l.Steady > 0 {
			s.steady[e] = &fixed{n: l.Steady, per: time.Minute}
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// APIKey returns the private API key the server accepts.
func (s *Server) APIKey() string { return s.cfg.apiKey }

// Client returns a client pointed at the server, authenticated with its
// private key; opts are applied after the server's own.
func (s *Server) Client(opts ...klaviyo.Option) *klaviyo.Client {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	all := append([]klaviyo.Option{klaviyo.WithBaseURL(s.URL()), klaviyo.WithHTTPClient(hc)}, opts...)
	c, err := klaviyo.New(klaviyo.PrivateKey(s.cfg.apiKey), all...)
	if err != nil {
		panic("klaviyotest: " + err.Error())
	}
	return c
}

// Now is the server's clock.
func (s *Server) Now() time.Time { return s.base.Now() }

// Advance moves the server's clock forward by d.
func (s *Server) Advance(d time.Duration) { s.base.Advance(d) }

// SetNow sets the server's clock to t.
func (s *Server) SetNow(t time.Time) { s.base.SetNow(t) }

// AddFaults appends scripted faults, as WithFaults does at the start. It
// panics on a fault it cannot carry out.
func (s *Server) AddFaults(f ...Fault) {
	if err := s.base.AddFaults(f...); err != nil {
		panic("klaviyotest: " + err.Error())
	}
}

// Stats returns the counters.
func (s *Server) Stats() Stats { return s.base.Stats() }

// Requests returns every request received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func validOp(op string) error {
	if strings.HasPrefix(op, "/api/") || op == "/oauth/token" {
		return nil
	}
	if _, ok := klaviyo.DefaultLimits()[klaviyo.Endpoint(op)]; ok && op != string(klaviyo.EndpointRaw) {
		return nil
	}
	return fmt.Errorf("op %q is neither an operationId nor a path the fake serves", op)
}

// serve wraps every request: routing and rate limits on arrival, body and
// latency, then the handler under the lock into a recorder, then the answer
// through the fault.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rt := route(r.Method, r.URL.Path)
	wait := time.Duration(0)
	if rt.op != "" && rt.op != opToken {
		wait = s.admitRate(rt.op)
	}
	body, _, ok := s.base.Receive(w, r)
	if !ok {
		return
	}
	s.preparse(&rt, body)
	rec := httptest.NewRecorder()
	s.mu.Lock()
	fault := s.handle(rec, r, body, rt, wait)
	s.mu.Unlock()
	fake.Deliver(w, r, rec, fault)
}

// admitRate counts an arrival against its operation's windows and returns
// how long until it would have been admitted (0: admitted).
func (s *Server) admitRate(op klaviyo.Endpoint) time.Duration {
	var wait time.Duration
	now := s.base.Now() // on arrival, before any lock
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	for _, w := range []*fixed{s.burst[op], s.steady[op]} {
		if w != nil {
			wait = max(wait, w.allow(now))
		}
	}
	return wait
}

// fixed counts arrivals in fixed windows of the clock (each second, each
// minute), as Klaviyo does. Refused arrivals are not counted.
type fixed struct {
	n     int
	per   time.Duration
	start time.Time // the current window
	count int
}

// allow admits an arrival at now, or returns how long until the window
// ends. An arrival timed just before the window began (arrivals are timed
// before the lock) counts in the current one.
func (w *fixed) allow(now time.Time) time.Duration {
	if at := now.Truncate(w.per); at.After(w.start) {
		w.start, w.count = at, 0
	}
	if w.count >= w.n {
		return max(w.start.Add(w.per).Sub(now), time.Millisecond)
	}
	w.count++
	return 0
}

func (s *Server) handle(w *httptest.ResponseRecorder, r *http.Request, body []byte, rt routed, wait time.Duration) Fault {
	rq := Request{Method: r.Method, Path: r.URL.Path, Op: string(rt.op), At: s.base.Now()}
	s.base.Seen(string(rt.op))
	fault := s.dispatch(w, r, body, rt, wait)
	rq.Fault = fault.Kind
	if fake.Answers(fault.Kind) {
		rq.Status = w.Code
	}
	if fake.Acts(fault.Kind) && w.Code >= 200 && w.Code < 300 {
		s.base.Accepted(string(rt.op))
	}
	s.requests = append(s.requests, rq)
	return fault
}

func (s *Server) dispatch(w *httptest.ResponseRecorder, r *http.Request, body []byte, rt routed, wait time.Duration) Fault {
	if rt.op == "" {
		writeError(w, http.StatusNotFound, apiErr{Code: "not_found", Title: "Not found.", Detail: "No route for " + r.Method + " " + r.URL.Path})
		return Fault{}
	}
	if rt.op == opToken {
		fault := s.base.Pick([]string{string(rt.op)}, r.URL.Path)
		s.base.Respond(w, fault, func() { s.tokenEndpoint(w, r, body) })
		return fault
	}
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, apiErr{Code: "not_authenticated", Title: "Authentication credentials were not provided.",
			Detail: "Missing or invalid private key or access token."})
		return Fault{}
	}
	if rev := r.Header.Get("revision"); rev == "" {
		writeError(w, http.StatusBadRequest, apiErr{Code: "invalid", Title: "Invalid input.", Detail: "The revision header is required.",
			Parameter: "revision"})
		return Fault{}
	} else if !validRevision(rev) {
		writeError(w, http.StatusNotFound, apiErr{Code: "not_found", Title: "Not found.", Detail: "No valid revisions found for method"})
		return Fault{}
	}
	if wait > 0 {
		s.base.Throttled(string(rt.op))
		if !s.cfg.noRetryHdr {
			w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
		}
		secs := int(math.Ceil(wait.Seconds()))
		unit := "seconds"
		if secs == 1 {
			unit = "second"
		}
		writeError(w, http.StatusTooManyRequests, apiErr{Code: "throttled", Title: "Request was throttled.",
			Detail: fmt.Sprintf("Request was throttled. Expected available in %d %s.", secs, unit)})
		return Fault{}
	}
	fault := s.base.Pick([]string{string(rt.op)}, r.URL.Path)
	s.base.Respond(w, fault, func() {
		s.setRateHeaders(w, rt.op)
		s.act(w, r, body, rt)
	})
	return fault
}

// setRateHeaders reports the steady window as Klaviyo does on answers that
// were not throttled.
func (s *Server) setRateHeaders(w http.ResponseWriter, op klaviyo.Endpoint) {
	l := s.cfg.limits[op]
	if l.Steady <= 0 {
		return
	}
	w.Header().Set("RateLimit-Limit", fmt.Sprint(l.Steady))
	w.Header().Set("RateLimit-Remaining", fmt.Sprint(max(l.Steady-1, 0)))
	w.Header().Set("RateLimit-Reset", "60")
}

// validRevision accepts the revisions of the spec the fake models:
// 2026-07-15 and anything later (a later date resolves to it), with an
// optional suffix.
func validRevision(rev string) bool {
	date, _, _ := strings.Cut(rev, ".")
	t, err := time.Parse("2006-01-02", date)
	return err == nil && !t.Before(time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC))
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if key, ok := strings.CutPrefix(h, "Klaviyo-API-Key "); ok {
		return key == s.cfg.apiKey
	}
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		return s.oauth.valid(tok, s.base.Now())
	}
	return false
}

// apiErr is one JSON:API error the fake answers.
type apiErr struct {
	Code, Title, Detail string
	Pointer, Parameter  string
	Meta                map[string]any
}

func (e apiErr) object(status int) map[string]any {
	o := map[string]any{"id": newUUID(), "status": status, "code": e.Code, "title": e.Title, "detail": e.Detail}
	switch {
	case e.Pointer != "":
		o["source"] = map[string]any{"pointer": e.Pointer}
	case e.Parameter != "":
		o["source"] = map[string]any{"parameter": e.Parameter}
	}
	if e.Meta != nil {
		o["meta"] = e.Meta
	} else {
		o["meta"] = map[string]any{}
	}
	return o
}

func writeError(w http.ResponseWriter, status int, errs ...apiErr) {
	objs := make([]map[string]any, len(errs))
	for i, e := range errs {
		objs[i] = e.object(status)
	}
	writeJSON(w, status, map[string]any{"errors": objs})
}

func invalidAt(w http.ResponseWriter, pointer, format string, args ...any) {
	writeError(w, http.StatusBadRequest, apiErr{Code: "invalid", Title: "Invalid input.", Detail: fmt.Sprintf(format, args...), Pointer: pointer})
}

func invalidParam(w http.ResponseWriter, param, format string, args ...any) {
	writeError(w, http.StatusBadRequest, apiErr{Code: "invalid", Title: "Invalid input.", Detail: fmt.Sprintf(format, args...), Parameter: param})
}

func notFound(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotFound, apiErr{Code: "not_found", Title: "Not found.", Detail: what + " not found."})
}

// errorBody is Klaviyo's body for an injected status.
func errorBody(status int) any {
	code := "error"
	switch status {
	case http.StatusTooManyRequests:
		code = "throttled"
	case http.StatusUnauthorized:
		code = "not_authenticated"
	case http.StatusForbidden:
		code = "permission_denied"
	case http.StatusNotFound:
		code = "not_found"
	}
	return map[string]any{"errors": []any{apiErr{Code: code, Title: http.StatusText(status), Detail: http.StatusText(status)}.object(status)}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/vnd.api+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

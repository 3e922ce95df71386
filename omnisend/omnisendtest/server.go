package omnisendtest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm/internal/fake"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// Defaults of a new Server.
const (
	DefaultAPIKey = "omnisendtest-api-key"
	// Version is the only API version the server serves; a request for
	// another answers 410, as for a retired version.
	Version = "2026-03-15"
	// DefaultHistoricalAge: an event whose eventTime lies at least this
	// long before the server's clock is historical, and deduplicated by
	// eventID and eventTime. Omnisend does not say where real time ends;
	// this is the fake's model (see WithHistoricalAge).
	DefaultHistoricalAge = time.Hour
	// DefaultMaxBatchItems is the most items a batch may hold.
	DefaultMaxBatchItems = 100
)

// Fault is a scripted failure; see [shopcrmtest.Fault]. Its Op is an
// operation name ("upsertContact", "listContacts", "getContact",
// "updateContact", "updateContactByEmail", "addTags", "removeTags",
// "sendEvent", "createBatch", "listBatches", "getBatch",
// "getBatchItems") or a request path below the base ("/contacts/tags").
type Fault = shopcrmtest.Fault

// FaultKind says how a request fails; the kinds are shopcrmtest's.
type FaultKind = shopcrmtest.FaultKind

// Stats counts what the server did; see [shopcrmtest.Stats]. Its ops are
// the operation names; 429s of the enforced limits count as throttled.
type Stats = shopcrmtest.Stats

var ops = []string{"upsertContact", "listContacts", "getContact", "updateContact", "updateContactByEmail",
	"addTags", "removeTags", "sendEvent", "createBatch", "listBatches", "getBatch", "getBatchItems"}

type config struct {
	fake.Config
	keys          []string
	tokens        []string
	limits        map[omnisend.Endpoint]omnisend.Limit
	polls         int
	historicalAge time.Duration
	maxBatch      int
	tagDelay      time.Duration
}

// Option configures a Server.
type Option func(*config)

// WithAPIKey adds an API key the server accepts (besides DefaultAPIKey).
func WithAPIKey(key string) Option { return func(c *config) { c.keys = append(c.keys, key) } }

// WithOAuthToken adds an OAuth access token the server accepts as Bearer.
func WithOAuthToken(tok string) Option { return func(c *config) { c.tokens = append(c.tokens, tok) } }

// WithRateLimit sets the enforced limit of an endpoint class: at most n
// requests arriving in any span of per (omnisend.DefaultLimits by
// default). n ≤ 0 turns it off. Throughput tests shrink per to run fast.
func WithRateLimit(e omnisend.Endpoint, n int, per time.Duration) Option {
	return func(c *config) { c.limits[e] = omnisend.Limit{Requests: n, Per: per} }
}

// WithLatency delays every request by d before it is handled.
func WithLatency(d time.Duration) Option { return func(c *config) { c.Latency = d } }

// WithFaults scripts faults, consumed in order by the requests they match
// (after authentication and the rate limit). NewServer panics on a fault
// it cannot carry out.
func WithFaults(f ...Fault) Option { return func(c *config) { c.Faults = append(c.Faults, f...) } }

// WithChaos makes each request no scripted fault matched fail with
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

// WithNow starts the server's clock at t.
func WithNow(t time.Time) Option { return func(c *config) { c.Now = t } }

// WithBatchPolls sets how many reads of a batch it spends pending and then
// in progress before it finishes (default 1); 0 processes a batch as it is
// created.
func WithBatchPolls(n int) Option { return func(c *config) { c.polls = max(n, 0) } }

// WithHistoricalAge sets the age from which an event is historical (see
// DefaultHistoricalAge).
func WithHistoricalAge(d time.Duration) Option { return func(c *config) { c.historicalAge = d } }

// WithTagDelay makes accepted tag calls take effect d later on the
// server's clock (default 0: before the 202), as Omnisend tags
// asynchronously; reads before then do not show them. Calls take effect
// in the order they were accepted.
func WithTagDelay(d time.Duration) Option { return func(c *config) { c.tagDelay = d } }

// WithMaxBatchItems sets the most items a batch may hold (default 100).
func WithMaxBatchItems(n int) Option { return func(c *config) { c.maxBatch = n } }

// Request is a request the server received.
type Request struct {
	Method string
	Path   string // below the base, e.g. "/contacts"
	Op     string
	Status int       // 0 when no answer was sent
	Fault  FaultKind // the injected fault, FaultNone when none
	At     time.Time // the server's clock on arrival
}

// Server is a fake Omnisend API (version 2026-03-15).
type Server struct {
	srv  *httptest.Server
	cfg  config
	base *fake.Base

	mu       sync.Mutex
	limits   map[omnisend.Endpoint]*slider
	requests []Request
	seq      int
	contacts map[string]*contact // by id
	created  []*contact          // by creation, rebuilt when contacts are added
	byKey    map[string]string   // "email:<lower>" or "phone:<number>" → id
	events   []Event
	seen     map[string]bool // historical eventID|eventTime
	batches  map[string]*batch
	order    []string // batch ids, oldest first
	tagJobs  []tagJob // accepted tag calls not yet in effect, in order
	post     func()   // encodes the answer of the request being handled once s.mu is released
}

// writeLater answers v once s.mu is released, so that encoding a large
// answer does not hold up other requests. v must not be changed
// afterwards: handlers pass snapshots. Runs under s.mu.
func (s *Server) writeLater(w http.ResponseWriter, status int, v any) {
	s.post = func() { fake.WriteJSON(w, status, v) }
}

// NewServer starts a server. Close it when done. It panics on options it
// cannot carry out.
func NewServer(opts ...Option) *Server {
	cfg := config{keys: []string{DefaultAPIKey}, limits: omnisend.DefaultLimits(), polls: 1,
		historicalAge: DefaultHistoricalAge, maxBatch: DefaultMaxBatchItems}
	for _, o := range opts {
		o(&cfg)
	}
	base, err := fake.New(cfg.Config, fake.Platform{MaxBody: 4 << 20, ErrorBody: errorBody, ValidOp: validOp})
	if err != nil {
		panic("omnisendtest: " + err.Error())
	}
	s := &Server{cfg: cfg, base: base, limits: map[omnisend.Endpoint]*slider{},
		contacts: map[string]*contact{}, byKey: map[string]string{}, seen: map[string]bool{}, batches: map[string]*batch{}}
	for e, l := range cfg.limits {
		if l.Requests > 0 && l.Per > 0 {
			s.limits[e] = &slider{n: l.Requests, per: l.Per}
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the API base URL ("http://127.0.0.1:port/api").
func (s *Server) URL() string { return s.srv.URL + "/api" }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Client returns a client pointed at the server with DefaultAPIKey; opts
// are applied after the server's own.
func (s *Server) Client(opts ...omnisend.Option) *omnisend.Client {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	all := append([]omnisend.Option{omnisend.WithBaseURL(s.URL()), omnisend.WithHTTPClient(hc)}, opts...)
	c, err := omnisend.New(omnisend.APIKey(DefaultAPIKey), all...)
	if err != nil {
		panic("omnisendtest: " + err.Error())
	}
	return c
}

// Now is the server's clock.
func (s *Server) Now() time.Time { return s.base.Now() }

// Advance moves the server's clock forward by d.
func (s *Server) Advance(d time.Duration) { s.base.Advance(d) }

// SetNow sets the server's clock to t.
func (s *Server) SetNow(t time.Time) { s.base.SetNow(t) }

// AddFaults appends scripted faults. It panics on a fault it cannot carry
// out.
func (s *Server) AddFaults(f ...Fault) {
	if err := s.base.AddFaults(f...); err != nil {
		panic("omnisendtest: " + err.Error())
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

// route maps a request to its operation and endpoint class.
func route(method, path string) (op string, class omnisend.Endpoint) {
	switch {
	case path == "/contacts/tags" && method == http.MethodPost:
		return "addTags", omnisend.EndpointContactTags
	case path == "/contacts/tags" && method == http.MethodDelete:
		return "removeTags", omnisend.EndpointContactTags
	case path == "/contacts" && method == http.MethodPost:
		return "upsertContact", omnisend.EndpointDefault
	case path == "/contacts" && method == http.MethodGet:
		return "listContacts", omnisend.EndpointDefault
	case path == "/contacts" && method == http.MethodPatch:
		return "updateContactByEmail", omnisend.EndpointDefault
	case strings.HasPrefix(path, "/contacts/") && !strings.Contains(path[len("/contacts/"):], "/"):
		switch method {
		case http.MethodGet:
			return "getContact", omnisend.EndpointDefault
		case http.MethodPatch:
			return "updateContact", omnisend.EndpointDefault
		}
	case path == "/events" && method == http.MethodPost:
		return "sendEvent", omnisend.EndpointDefault
	case path == "/batches" && method == http.MethodPost:
		return "createBatch", omnisend.EndpointDefault
	case path == "/batches" && method == http.MethodGet:
		return "listBatches", omnisend.EndpointDefault
	case strings.HasPrefix(path, "/batches/") && method == http.MethodGet:
		if strings.HasSuffix(path, "/items") {
			return "getBatchItems", omnisend.EndpointDefault
		}
		return "getBatch", omnisend.EndpointDefault
	}
	return "", omnisend.EndpointDefault
}

func validOp(op string) error {
	for _, o := range ops {
		if o == op {
			return nil
		}
	}
	if strings.HasPrefix(op, "/contacts") || strings.HasPrefix(op, "/events") || strings.HasPrefix(op, "/batches") {
		return nil
	}
	return fmt.Errorf("op %q is neither an operation nor a path the fake serves", op)
}

// serve wraps every request: the rate limit counted on arrival, body and
// latency, then the handler under the lock into a recorder, then the
// answer through the fault.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path, _ := strings.CutPrefix(r.URL.Path, "/api")
	op, class := route(r.Method, path)
	now := s.Now()
	var wait time.Duration
	limited := false
	if l := s.limits[class]; l != nil {
		var ok bool
		ok, wait = l.allow(now)
		limited = !ok
	}
	body, _, ok := s.base.Receive(w, r)
	if !ok {
		return
	}
	rec := httptest.NewRecorder()
	s.mu.Lock()
	rq := Request{Method: r.Method, Path: path, Op: op, At: now}
	fault := s.dispatch(rec, r, path, op, body, limited, wait)
	rq.Fault = fault.Kind
	if fake.Answers(fault.Kind) {
		rq.Status = rec.Code
	}
	if op != "" && fake.Acts(fault.Kind) && rec.Code >= 200 && rec.Code < 300 {
		s.base.Accepted(op)
	}
	s.requests = append(s.requests, rq)
	post := s.post
	s.post = nil
	s.mu.Unlock()
	if post != nil {
		post()
	}
	fake.Deliver(w, r, rec, fault)
}

// dispatch runs under s.mu.
func (s *Server) dispatch(w *httptest.ResponseRecorder, r *http.Request, path, op string, body []byte, limited bool, wait time.Duration) Fault {
	if op != "" {
		s.base.Seen(op)
	}
	s.settle()
	if !s.authorized(r) {
		problem(w, http.StatusUnauthorized, "Authentication is missing or invalid")
		return Fault{}
	}
	if v := r.Header.Get("Omnisend-Version"); v != Version {
		if v == "" {
			validation(w, "Omnisend-Version header is required", fieldError{"Omnisend-Version", "required", "is required"})
		} else {
			problem(w, http.StatusGone, "API version "+v+" is not served")
		}
		return Fault{}
	}
	if op == "" {
		problem(w, http.StatusNotFound, "No route for "+r.Method+" "+path)
		return Fault{}
	}
	if limited {
		s.base.Throttled(op)
		secs := int(math.Ceil(wait.Seconds()))
		fake.WriteJSON(w, http.StatusTooManyRequests, map[string]any{
			"type": "https://problems.omnisend.com/rate-limit-exceeded", "title": "Rate limit exceeded",
			"status": 429, "detail": "Too many requests for this brand", "instance": instance(), "retryAfter": max(secs, 1)})
		return Fault{}
	}
	fault := s.base.Pick([]string{op}, path)
	s.base.Respond(w, fault, func() { s.act(w, r, path, op, body) })
	return fault
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if k, ok := strings.CutPrefix(h, "Omnisend-API-Key "); ok {
		for _, key := range s.cfg.keys {
			if k == key {
				return true
			}
		}
	}
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		for _, tok := range s.cfg.tokens {
			if t == tok {
				return true
			}
		}
	}
	return false
}

// queryParams are the query parameters of the operations that take some
// besides the listings, which check their own.
var queryParams = map[string][]string{"updateContactByEmail": {"email"}}

func (s *Server) act(w *httptest.ResponseRecorder, r *http.Request, path, op string, body []byte) {
	if op != "listContacts" && op != "listBatches" {
		for k := range r.URL.Query() {
			if !slices.Contains(queryParams[op], k) {
				validation(w, "Unknown parameter "+k, fieldError{k, "unknown", "unknown parameter"})
				return
			}
		}
	}
	switch op {
	case "upsertContact":
		s.upsertContact(w, body)
	case "listContacts":
		s.listContacts(w, r)
	case "getContact":
		s.getContact(w, strings.TrimPrefix(path, "/contacts/"))
	case "updateContact":
		s.updateContact(w, r, strings.TrimPrefix(path, "/contacts/"), "", body)
	case "updateContactByEmail":
		s.updateContact(w, r, "", r.URL.Query().Get("email"), body)
	case "addTags", "removeTags":
		s.tags(w, op == "removeTags", body)
	case "sendEvent":
		s.sendEvent(w, body)
	case "createBatch":
		s.createBatch(w, body)
	case "listBatches":
		s.listBatches(w, r)
	case "getBatch", "getBatchItems":
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/batches/"), "/items")
		s.getBatch(w, id, op == "getBatchItems")
	}
}

type fieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// instance is a request trace id in Omnisend's form.
func instance() string { return "urn:omnisend:request:" + newUUID() }

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// slider is a sliding-window limit counting arrivals: at most n in any
// span of per. It says how long a refused request should wait.
type slider struct {
	mu    sync.Mutex
	n     int
	per   time.Duration
	times []time.Time // admitted arrivals, ascending
}

func (l *slider) allow(now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := 0
	for i < len(l.times) && !l.times[i].After(now.Add(-l.per)) {
		i++
	}
	l.times = l.times[i:]
	if len(l.times) < l.n {
		l.times = append(l.times, now)
		return true, 0
	}
	return false, l.times[0].Add(l.per).Sub(now)
}

// errorBody is Omnisend's problem body for a status.
func errorBody(status int) any {
	return map[string]any{"type": "https://problems.omnisend.com/problem", "title": http.StatusText(status),
		"status": status, "detail": http.StatusText(status), "instance": instance()}
}

func problem(w http.ResponseWriter, status int, detail string) {
	b := errorBody(status).(map[string]any)
	b["detail"] = detail
	fake.WriteJSON(w, status, b)
}

func validation(w http.ResponseWriter, detail string, errs ...fieldError) {
	fake.WriteJSON(w, http.StatusBadRequest, map[string]any{"type": "https://problems.omnisend.com/validation-error",
		"title": "Validation failed", "status": 400, "detail": detail, "instance": instance(), "errors": errs})
}

// decode reads a JSON body strictly: a field the fake does not model is
// refused, never ignored.
func decode(w http.ResponseWriter, body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		validation(w, "The request body is not valid: "+err.Error(), fieldError{"body", "invalid_format", err.Error()})
		return false
	}
	return true
}

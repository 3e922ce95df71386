package shopifytest

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/shopcrm/shopcrm/shopify"
)

//go:embed schema.graphql
var schemaSDL string

// SchemaSDL returns the SDL of the schema subset the fake serves.
func SchemaSDL() string { return schemaSDL }

var loadSchema = sync.OnceValues(func() (*ast.Schema, error) {
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: schemaSDL})
	if err != nil {
		return nil, err
	}
	return s, nil
})

// Shop is the shop domain the fake pretends to be.
const Shop = "shopcrm-test.myshopify.com"

// DefaultToken is the access token the fake accepts unless WithToken says
// otherwise.
const DefaultToken = "shpat_fake_0123456789abcdef"

// Server is a fake Shopify Admin GraphQL API. It is safe for concurrent use.
type Server struct {
	hs     *httptest.Server
	schema *ast.Schema
	cfg    config

	mu        sync.Mutex
	offset    time.Duration // clock offset from real time
	bucket    bucket
	rnd       *rand.Rand
	faults    []Fault
	customers map[int64]*Customer
	orders    map[int64]*Order
	segments  map[int64]*segment
	nextID    int64
	docs      []string
	ops       map[string]int
	requests  int
	throttled int
	faulted   int
	cost      int
}

type config struct {
	token     string
	latency   time.Duration
	size      float64
	rate      float64
	faults    []Fault
	chaosSeed uint64
	chaosRate float64
	version   string
	now       time.Time
}

// Option configures a Server.
type Option func(*config)

// WithToken sets the access token the server accepts.
func WithToken(tok string) Option { return func(c *config) { c.token = tok } }

// WithLatency delays every request by d before it is handled, like a
// round trip to Shopify.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithBucket sets the cost bucket: size points, restoring restoreRate points
// per second. The default is 1000 and 100.
func WithBucket(size, restoreRate float64) Option {
	return func(c *config) { c.size, c.rate = size, restoreRate }
}

// WithFaults injects faults, consumed in order by the requests they match.
func WithFaults(f ...Fault) Option { return func(c *config) { c.faults = append(c.faults, f...) } }

// WithChaos makes each request fail with probability rate, drawing the kind
// of fault (503, dropped connection, lost response, malformed body) from a
// generator seeded with seed.
func WithChaos(seed uint64, rate float64) Option {
	return func(c *config) { c.chaosSeed, c.chaosRate = seed, rate }
}

// WithServedVersion makes responses report version v in
// X-Shopify-API-Version instead of the version requested, as Shopify does
// when it falls forward.
func WithServedVersion(v string) Option { return func(c *config) { c.version = v } }

// WithNow starts the server's clock at t (it then runs at real speed).
func WithNow(t time.Time) Option { return func(c *config) { c.now = t } }

// FaultKind says how a request fails.
type FaultKind int

// Fault kinds.
const (
	// FaultStatus answers Status (default 503) without acting.
	FaultStatus FaultKind = iota
	// FaultDrop closes the connection without acting.
	FaultDrop
	// FaultLostResponse acts, then closes the connection: the client sees
	// a network error although the change was made.
	FaultLostResponse
	// FaultMalformed acts, then sends a truncated JSON body.
	FaultMalformed
)

// Fault is one injected failure.
type Fault struct {
	// Op limits the fault to documents with this top-level field
	// ("tagsAdd", "customers"); empty matches every request.
	Op   string
	Kind FaultKind
	// Status for FaultStatus; 0 means 503.
	Status int
	// RetryAfter is sent as Retry-After with FaultStatus, e.g. "0.5".
	RetryAfter string
	// Times is how many requests it hits; 0 means 1.
	Times int
}

// NewServer starts a fake Admin API. Close it when done.
func NewServer(opts ...Option) *Server {
	cfg := config{token: DefaultToken, size: 1000, rate: 100}
	for _, o := range opts {
		o(&cfg)
	}
	schema, err := loadSchema()
	if err != nil {
		panic("shopifytest: bad embedded schema: " + err.Error())
	}
	s := &Server{
		schema:    schema,
		cfg:       cfg,
		customers: map[int64]*Customer{},
		orders:    map[int64]*Order{},
		segments:  map[int64]*segment{},
		nextID:    1000,
		ops:       map[string]int{},
		faults:    append([]Fault(nil), cfg.faults...),
		rnd:       rand.New(rand.NewPCG(cfg.chaosSeed, cfg.chaosSeed^0x9e3779b97f4a7c15)),
	}
	if !cfg.now.IsZero() {
		s.offset = time.Until(cfg.now)
	}
	s.bucket = bucket{max: cfg.size, rate: cfg.rate, avail: cfg.size, last: s.nowLocked()}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL returns the base URL to give the client (shopify.WithBaseURL).
func (s *Server) URL() string { return s.hs.URL }

// Close shuts the server down.
func (s *Server) Close() { s.hs.Close() }

// Client returns a real client pointed at the server, with the server's
// token and bucket as its first guess, and fast retries.
func (s *Server) Client(opts ...shopify.Option) *shopify.Client {
	base := []shopify.Option{
		shopify.WithBaseURL(s.URL()),
		shopify.WithRateLimit(shopify.RateLimit{PerSecond: s.cfg.rate, Burst: int(s.cfg.size)}),
	}
	c, err := shopify.New(Shop, shopify.StaticToken(s.cfg.token), append(base, opts...)...)
	if err != nil {
		panic("shopifytest: " + err.Error())
	}
	return c
}

// Now returns the server's clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return time.Now().Add(s.offset) }

// Advance moves the server's clock forward by d (the bucket refills).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// SetNow sets the server's clock to t.
func (s *Server) SetNow(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset = time.Until(t)
}

// bucket is Shopify's leaky bucket of cost points.
type bucket struct {
	max, rate, avail float64
	last             time.Time
}

func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.avail = math.Min(b.max, b.avail+d.Seconds()*b.rate)
	}
	b.last = now
}

// Stats counts what the server did.
type Stats struct {
	Requests  int // HTTP requests received
	Throttled int // answered THROTTLED
	Faults    int // failed on purpose
	// Cost is the total actual cost of the documents executed.
	Cost int
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Requests: s.requests, Throttled: s.throttled, Faults: s.faulted, Cost: s.cost}
}

// Documents returns every document the server received that validated
// against its schema, in order of arrival.
func (s *Server) Documents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.docs...)
}

// OpCount returns how many times a top-level field ("tagsAdd", "customers")
// was executed, aliases counted one by one.
func (s *Server) OpCount(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ops[op]
}

// Bucket reports the bucket's points available now, its size and its
// restore rate.
func (s *Server) Bucket() (available, size, restoreRate float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket.refill(s.nowLocked())
	return s.bucket.avail, s.bucket.max, s.bucket.rate
}

type request struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// Read the body first: the server notices a client hanging up only once
	// the body is consumed.
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return
	}
	if s.cfg.latency > 0 {
		t := time.NewTimer(s.cfg.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	s.mu.Lock()
	s.requests++
	reqID := "fake-" + strconv.Itoa(s.requests)
	s.mu.Unlock()
	w.Header().Set("X-Request-Id", reqID)

	version, ok := strings.CutPrefix(r.URL.Path, "/admin/api/")
	version, ok2 := strings.CutSuffix(version, "/graphql.json")
	if !ok || !ok2 || version == "" {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
		return
	}
	if s.cfg.version != "" {
		version = s.cfg.version
	}
	w.Header().Set("X-Shopify-API-Version", version)
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"errors": "Method Not Allowed"})
		return
	}
	if r.Header.Get("X-Shopify-Access-Token") != s.cfg.token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
		return
	}
	var req request
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil || req.Query == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "Bad Request: body must be JSON with a query"})
		return
	}
	doc, gerrs := gqlparser.LoadQuery(s.schema, req.Query)
	if len(gerrs) > 0 {
		writeJSON(w, http.StatusOK, map[string]any{"errors": toGQLErrs(gerrs)})
		return
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []gqlErr{{Message: "An operation name is required"}}})
		return
	}
	vars, verr := validator.VariableValues(s.schema, op, normalizeNumbers(req.Variables))
	if verr != nil {
		var ge *gqlerror.Error
		if !errors.As(verr, &ge) {
			ge = gqlerror.Errorf("%s", verr.Error())
		}
		writeJSON(w, http.StatusOK, map[string]any{"errors": toGQLErrs(gqlerror.List{ge})})
		return
	}
	s.mu.Lock()
	s.docs = append(s.docs, req.Query)
	fault := s.pickFault(op)
	s.mu.Unlock()

	if fault != nil && (fault.Kind == FaultStatus || fault.Kind == FaultDrop) {
		s.fail(w, fault)
		return
	}
	status, resp := s.execute(op, vars)
	if fault != nil {
		s.fail(w, fault)
		return
	}
	writeJSON(w, status, resp)
}

func (s *Server) fail(w http.ResponseWriter, f *Fault) {
	switch f.Kind {
	case FaultStatus:
		st := f.Status
		if st == 0 {
			st = http.StatusServiceUnavailable
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeJSON(w, st, map[string]any{"errors": http.StatusText(st)})
	case FaultDrop, FaultLostResponse:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
	case FaultMalformed:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"data":{"tagsAdd":{"userErr`)
	}
}

// pickFault returns the fault for this request, if any (s.mu held).
func (s *Server) pickFault(op *ast.OperationDefinition) *Fault {
	names := map[string]bool{}
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			names[f.Name] = true
		}
	}
	for i := range s.faults {
		f := &s.faults[i]
		if f.Times < 0 || (f.Op != "" && !names[f.Op]) {
			continue
		}
		got := *f
		if f.Times <= 1 {
			f.Times = -1
		} else {
			f.Times--
		}
		s.faulted++
		return &got
	}
	if s.cfg.chaosRate > 0 && s.rnd.Float64() < s.cfg.chaosRate {
		s.faulted++
		return &Fault{Kind: FaultKind(s.rnd.IntN(4))}
	}
	return nil
}

func toGQLErrs(list gqlerror.List) []gqlErr {
	out := make([]gqlErr, 0, len(list))
	for _, e := range list {
		g := gqlErr{Message: e.Message}
		for _, l := range e.Locations {
			g.Locations = append(g.Locations, loc{l.Line, l.Column})
		}
		code := "GRAPHQL_VALIDATION_FAILED"
		if e.Rule != "" {
			code = e.Rule
		}
		g.Extensions = map[string]any{"code": code}
		out = append(out, g)
	}
	return out
}

// normalizeNumbers turns json.Number into int64 or float64 as the
// validator expects.
func normalizeNumbers(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		out[k] = normNum(x)
	}
	return out
}

func normNum(x any) any {
	switch t := x.(type) {
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		return normalizeNumbers(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normNum(e)
		}
		return out
	}
	return x
}

// execute charges the bucket and runs the operation.
func (s *Server) execute(op *ast.OperationDefinition, vars map[string]any) (int, map[string]any) {
	requested, err := cost(s.schema, op, vars)
	if err != nil {
		return http.StatusOK, map[string]any{"errors": []gqlErr{{Message: err.Error(), Extensions: map[string]any{"code": "BAD_REQUEST"}}}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	s.bucket.refill(now)
	costExt := func(actual any) map[string]any {
		return map[string]any{"cost": map[string]any{
			"requestedQueryCost": requested,
			"actualQueryCost":    actual,
			"throttleStatus": map[string]any{
				"maximumAvailable":   s.bucket.max,
				"currentlyAvailable": math.Floor(s.bucket.avail),
				"restoreRate":        s.bucket.rate,
			},
		}}
	}
	if requested > 1000 {
		return http.StatusOK, map[string]any{
			"errors": []gqlErr{{
				Message:    fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (1000).", requested),
				Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": 1000, "documentation": "https://shopify.dev/api/usage/rate-limits"},
			}},
			"extensions": costExt(nil),
		}
	}
	if float64(requested) > s.bucket.avail {
		s.throttled++
		return http.StatusOK, map[string]any{
			"errors": []gqlErr{{
				Message:    "Throttled",
				Extensions: map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
			}},
			"extensions": costExt(nil),
		}
	}
	s.bucket.avail -= float64(requested)
	s.cost += requested
	e := &executor{vars: vars}
	var root *obj
	if op.Operation == ast.Mutation {
		root = s.mutationRoot(now)
	} else {
		root = s.queryRoot()
	}
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			s.ops[f.Name]++
		}
	}
	data := e.selection(op.SelectionSet, root, nil)
	actual := min(actualCost(s.schema, op, vars, data, requested), requested)
	s.bucket.avail = math.Min(s.bucket.max, s.bucket.avail+float64(requested-actual))
	s.cost += actual - requested
	resp := map[string]any{"data": data, "extensions": costExt(actual)}
	if len(e.errors) > 0 {
		resp["errors"] = e.errors
	}
	return http.StatusOK, resp
}

// Drain empties the cost bucket, as if another app had used it.
func (s *Server) Drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket.refill(s.nowLocked())
	s.bucket.avail = 0
}

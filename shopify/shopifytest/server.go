package shopifytest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/fake"
	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
)

//go:embed schema.graphql
var schemaSDL string

// SchemaSDL returns the SDL of the schema subset the fake serves.
func SchemaSDL() string {
	return schemaSDL + "\n" + marketingSDL + "\n" + webhookSubsSDL + "\n" + bulkSDL
}

var loadSchema = sync.OnceValues(func() (*ast.Schema, error) {
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: SchemaSDL()})
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
	base   *fake.Base

	mu        sync.Mutex
	bucket    bucket
	customers map[int64]*Customer
	orders    map[int64]*Order
	// byCustomer indexes orders by customer for bulk queries; nil when
	// stale (see customerOrders).
	byCustomer map[int64][]*Order
	totals     map[int64]*orderTotals // per customer id
	segments   map[int64]*segment
	mkt        marketingState
	whsubs     map[int64]*WebhookSubscription
	nextID     int64
	docs       []string
	ops        map[string]int
	cost       int
	oauth      oauthState
	hooks      *emitter
	bulk       *bulkState
}

type config struct {
	fake.Config
	token     string
	limit     shopcrm.RateLimit
	version   string
	pageLimit int
	scopes    []string
	oauth     oauthConfig

	hookClient  *http.Client
	hookRetries *int
	hookBackoff time.Duration
	bulk        bulkConfig
}

// Option configures a Server.
type Option func(*config)

// Fault is a scripted failure; see [shopcrmtest.Fault]. Its Op is the name
// of a top-level field of the document ("tagsAdd", "customers"); a
// document with several fields is matched by each of them.
type Fault = shopcrmtest.Fault

// FaultKind says how a request fails; the kinds are shopcrmtest's
// ([shopcrmtest.FaultStatus], [shopcrmtest.FaultDrop], ...).
type FaultKind = shopcrmtest.FaultKind

// Stats counts what the server did; see [shopcrmtest.Stats]. Its ops are
// the top-level fields of the documents, and THROTTLED answers count as
// throttled.
type Stats = shopcrmtest.Stats

// OpStats counts what the server did for one top-level field.
type OpStats = shopcrmtest.OpStats

// WithToken sets the access token the server accepts.
func WithToken(tok string) Option { return func(c *config) { c.token = tok } }

// Shopify's plans as cost buckets, for [WithRateLimit]. The restore rates
// are shopify.dev's (points per second: Standard 100, Advanced 200, Plus
// 1000, Commerce Components 2000). The docs give no bucket size; the sizes
// here, 20 times the restore rate, are the maximumAvailable that real
// responses report.
var (
	PlanStandard   = shopcrm.RateLimit{PerSecond: 100, Burst: 2000}
	PlanAdvanced   = shopcrm.RateLimit{PerSecond: 200, Burst: 4000}
	PlanPlus       = shopcrm.RateLimit{PerSecond: 1000, Burst: 20000}
	PlanEnterprise = shopcrm.RateLimit{PerSecond: 2000, Burst: 40000}
)

// WithRateLimit sets the cost bucket: Burst points at most, restoring
// PerSecond points per second. The default is [PlanStandard]; the Plan
// variables hold Shopify's other plans. Both must be positive: Shopify
// always has a bucket (give a large PerSecond to keep out of its way). A
// single document still costs at most 1000 points, whatever the bucket.
func WithRateLimit(l shopcrm.RateLimit) Option { return func(c *config) { c.limit = l } }

// DefaultPaginationLimit is how many objects of one connection the fake
// pages through unless [WithPaginationLimit] says otherwise: Shopify's
// limit, [shopify.MaxPaginatedObjects].
const DefaultPaginationLimit = shopify.MaxPaginatedObjects

// WithPaginationLimit sets how many objects of one connection pagination
// reaches (default [DefaultPaginationLimit]), so that a test can cross it
// with a few customers. n must be positive.
func WithPaginationLimit(n int) Option { return func(c *config) { c.pageLimit = n } }

// DefaultAccessScopes returns the access scopes the fake grants unless
// WithAccessScopes says otherwise: all that package shopify needs,
// read_all_orders included, listed as Shopify lists them (a write scope and
// its read scope both).
func DefaultAccessScopes() []string {
	return []string{shopify.ScopeReadCustomers, shopify.ScopeWriteCustomers, shopify.ScopeReadOrders, shopify.ScopeWriteOrders, shopify.ScopeReadAllOrders}
}

// WithAccessScopes sets the access scopes the shop granted the app, which
// currentAppInstallation.accessScopes reports. The fake models the absence
// of read_all_orders: orders created more than 60 days before its clock
// are then left out of orders and read as null by order (Shopify's
// documentation says "the last 60 days' worth of orders"; that it counts
// from the creation time is an assumption). It does not model the absence
// of the other scopes package shopify needs, so NewServer panics when one
// is missing (a write scope stands for its read scope).
func WithAccessScopes(handles ...string) Option {
	return func(c *config) { c.scopes = slices.Clone(handles) }
}

// WithLatency delays every request by d before it is handled, like a
// round trip to Shopify. A client hanging up during the wait is noticed.
func WithLatency(d time.Duration) Option { return func(c *config) { c.Latency = d } }

// WithFaults scripts faults, consumed in order by the requests they match
// (after authentication and document validation). NewServer panics on a
// fault it cannot carry out, such as an Op that is no top-level field of
// its schema.
func WithFaults(f ...Fault) Option { return func(c *config) { c.Faults = append(c.Faults, f...) } }

// WithServedVersion makes responses report version v in
// X-Shopify-API-Version instead of the version requested, as Shopify does
// when it falls forward.
func WithServedVersion(v string) Option { return func(c *config) { c.version = v } }

// WithChaos makes each valid document that no scripted fault matched fail
// with probability rate, with a kind drawn from kinds (default: 503,
// dropped connection, lost response, malformed body), deterministically
// from seed.
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

// WithNow starts the server's clock at t (it then runs at real speed).
func WithNow(t time.Time) Option { return func(c *config) { c.Now = t } }

// NewServer starts a fake Admin API. Close it when done. It panics on
// options it cannot carry out.
func NewServer(opts ...Option) *Server {
	cfg := config{token: DefaultToken, limit: PlanStandard, scopes: DefaultAccessScopes(), pageLimit: DefaultPaginationLimit}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.pageLimit <= 0 {
		panic(fmt.Sprintf("shopifytest: WithPaginationLimit(%d): must be positive", cfg.pageLimit))
	}
	for _, need := range []string{shopify.ScopeWriteCustomers, shopify.ScopeWriteOrders} {
		if !slices.Contains(cfg.scopes, need) {
			panic(fmt.Sprintf("shopifytest: WithAccessScopes%q: the fake does not model an app without %s", cfg.scopes, need))
		}
	}
	if !(cfg.limit.PerSecond > 0) || cfg.limit.Burst <= 0 {
		panic(fmt.Sprintf("shopifytest: WithRateLimit(%+v): PerSecond and Burst must be positive", cfg.limit))
	}
	schema, err := loadSchema()
	if err != nil {
		panic("shopifytest: bad embedded schema: " + err.Error())
	}
	base, err := fake.New(cfg.Config, fake.Platform{MaxBody: 8 << 20, ErrorBody: errorBody, ValidOp: validOp(schema)})
	if err != nil {
		panic("shopifytest: " + err.Error())
	}
	s := &Server{
		schema:    schema,
		cfg:       cfg,
		base:      base,
		customers: map[int64]*Customer{},
		orders:    map[int64]*Order{},
		totals:    map[int64]*orderTotals{},
		segments:  map[int64]*segment{},
		nextID:    1000,
		ops:       map[string]int{},
	}
	size := float64(cfg.limit.Burst)
	s.bucket = bucket{max: size, rate: cfg.limit.PerSecond, avail: size, last: s.base.Now()}
	s.hooks = newEmitter(cfg)
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.bulk = s.newBulkState()
	return s
}

// validOp accepts the top-level fields of the schema's query and mutation
// roots.
func validOp(schema *ast.Schema) func(string) error {
	return func(op string) error {
		for _, root := range []*ast.Definition{schema.Query, schema.Mutation} {
			if root != nil && root.Fields.ForName(op) != nil {
				return nil
			}
		}
		return fmt.Errorf("op %q is not a top-level field of the fake's schema", op)
	}
}

// errorBody is Shopify's body for an HTTP error status.
func errorBody(status int) any {
	msg := http.StatusText(status)
	if status == http.StatusUnauthorized {
		msg = "[API] Invalid API key or access token (unrecognized login or wrong password)"
	}
	return map[string]any{"errors": msg}
}

// URL returns the base URL to give the client (shopify.WithBaseURL).
func (s *Server) URL() string { return s.hs.URL }

// Close shuts the server down; emitted webhooks not yet delivered are
// dropped.
func (s *Server) Close() {
	s.hooks.close()
	s.hs.Close()
	s.closeBulk()
}

// Client returns a real client pointed at the server, with the server's
// token and bucket as its first guess.
func (s *Server) Client(opts ...shopify.Option) *shopify.Client {
	base := []shopify.Option{
		shopify.WithBaseURL(s.URL()),
		shopify.WithRateLimit(s.cfg.limit),
	}
	c, err := shopify.New(Shop, shopify.StaticToken(s.cfg.token), append(base, opts...)...)
	if err != nil {
		panic("shopifytest: " + err.Error())
	}
	return c
}

// AddFaults appends scripted faults, as WithFaults does at the start. It
// panics on a fault it cannot carry out.
func (s *Server) AddFaults(f ...Fault) {
	if err := s.base.AddFaults(f...); err != nil {
		panic("shopifytest: " + err.Error())
	}
}

// Now returns the server's clock.
func (s *Server) Now() time.Time { return s.base.Now() }

// Advance moves the server's clock forward by d (the bucket refills).
func (s *Server) Advance(d time.Duration) { s.base.Advance(d) }

// SetNow sets the server's clock to t.
func (s *Server) SetNow(t time.Time) { s.base.SetNow(t) }

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

// Stats returns the counters.
func (s *Server) Stats() Stats { return s.base.Stats() }

// Cost returns the total actual cost of the documents executed.
func (s *Server) Cost() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cost
}

// Documents returns every document the server received that validated
// against its schema, in order of arrival, with the query or mutation of
// each bulk operation started.
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
	s.bucket.refill(s.base.Now())
	return s.bucket.avail, s.bucket.max, s.bucket.rate
}

type request struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, n, ok := s.base.Receive(w, r)
	if !ok {
		return
	}
	w.Header().Set("X-Request-Id", "fake-"+strconv.Itoa(n))
	if r.URL.Path == shopify.AccessTokenPath {
		s.serveOAuth(w, r, body)
		return
	}

	version, ok := strings.CutPrefix(r.URL.Path, "/admin/api/")
	version, ok2 := strings.CutSuffix(version, "/graphql.json")
	if !ok || !ok2 || version == "" {
		fake.WriteJSON(w, http.StatusNotFound, errorBody(http.StatusNotFound))
		return
	}
	if s.cfg.version != "" {
		version = s.cfg.version
	}
	w.Header().Set("X-Shopify-API-Version", version)
	if r.Method != http.MethodPost {
		fake.WriteJSON(w, http.StatusMethodNotAllowed, errorBody(http.StatusMethodNotAllowed))
		return
	}
	if r.Header.Get("X-Shopify-Access-Token") != s.cfg.token {
		fake.WriteJSON(w, http.StatusUnauthorized, errorBody(http.StatusUnauthorized))
		return
	}
	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil || req.Query == "" {
		fake.WriteJSON(w, http.StatusBadRequest, map[string]any{"errors": "Bad Request: body must be JSON with a query"})
		return
	}
	doc, gerrs := gqlparser.LoadQuery(s.schema, req.Query)
	if len(gerrs) > 0 {
		fake.WriteJSON(w, http.StatusOK, map[string]any{"errors": toGQLErrs(gerrs)})
		return
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil {
		fake.WriteJSON(w, http.StatusOK, map[string]any{"errors": []gqlErr{{Message: "An operation name is required"}}})
		return
	}
	vars, verr := validator.VariableValues(s.schema, op, normalizeNumbers(req.Variables))
	if verr != nil {
		var ge *gqlerror.Error
		if !errors.As(verr, &ge) {
			ge = gqlerror.Errorf("%s", verr.Error())
		}
		fake.WriteJSON(w, http.StatusOK, map[string]any{"errors": toGQLErrs(gqlerror.List{ge})})
		return
	}
	ops := topLevelFields(op)
	s.base.Seen(ops...)
	s.mu.Lock()
	s.docs = append(s.docs, req.Query)
	s.mu.Unlock()

	fault := s.base.Pick(ops)
	rec := httptest.NewRecorder()
	s.base.Respond(rec, fault, func() {
		status, resp := s.execute(op, vars, ops, version)
		fake.WriteJSON(rec, status, resp)
	})
	fake.Deliver(w, r, rec, fault)
}

// topLevelFields returns the names of an operation's top-level fields,
// each once: the ops faults and counters refer to.
func topLevelFields(op *ast.OperationDefinition) []string {
	var names []string
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok && !slices.Contains(names, f.Name) {
			names = append(names, f.Name)
		}
	}
	return names
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

// execute charges the bucket and runs the operation; ops are its
// top-level fields, for the counters.
func (s *Server) execute(op *ast.OperationDefinition, vars map[string]any, ops []string, version string) (int, map[string]any) {
	requested, err := cost(s.schema, op, vars)
	if err != nil {
		return http.StatusOK, map[string]any{"errors": []gqlErr{{Message: err.Error(), Extensions: map[string]any{"code": "BAD_REQUEST"}}}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.base.Now()
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
		s.base.Throttled(ops...)
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
		root = s.withMarketing(s.mutationRoot(now), now)
	} else {
		root = s.queryRoot()
	}
	root = s.withWebhookSubs(op.Operation, root, now)
	root = s.withBulk(op.Operation, root, now, version)
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
	} else {
		s.base.Accepted(ops...)
	}
	return http.StatusOK, resp
}

// Drain empties the cost bucket, as if another app had used it.
func (s *Server) Drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket.refill(s.base.Now())
	s.bucket.avail = 0
}

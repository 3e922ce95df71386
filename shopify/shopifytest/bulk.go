package shopifytest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopcrm/shopcrm/shopify"
)

//go:embed schema_bulk.graphql
var bulkSDL string

// Bulk operations as the fake runs them. A bulk query runs against the
// fake's state when it is started (so an invalid one is refused at once)
// and its JSONL result is served from the storage host; a bulk mutation
// runs its staged lines when it completes. An operation completes
// [WithBulkDuration] after it started, in real time; reads before that
// see RUNNING.
type bulkConfig struct {
	duration time.Duration
	finish   string // bulk_operations/finish webhook URL
}

// DefaultBulkDuration is how long a fake bulk operation runs unless
// [WithBulkDuration] says otherwise.
const DefaultBulkDuration = 20 * time.Millisecond

// WithBulkDuration sets how long, in real time, a bulk operation runs
// before it completes (default [DefaultBulkDuration]); d must be positive.
func WithBulkDuration(d time.Duration) Option { return func(c *config) { c.bulk.duration = d } }

// WithBulkFinishWebhook makes the server send the bulk_operations/finish
// webhook to url (with [Server.SendWebhook]) whenever a bulk operation
// completes, fails or is cancelled. Shopify sends it to the app's
// subscriptions to BULK_OPERATIONS_FINISH; the fake's subscriptions take
// https callbacks only, hence this option for a local receiver.
func WithBulkFinishWebhook(url string) Option { return func(c *config) { c.bulk.finish = url } }

// BulkFailure makes the next bulk operation started fail; see
// [Server.FailNextBulk].
type BulkFailure struct {
	// ErrorCode is a BulkOperationErrorCode: ACCESS_DENIED,
	// INTERNAL_SERVER_ERROR or TIMEOUT.
	ErrorCode string
	// PartialLines is how many lines of the result the operation wrote
	// before failing, served at partialDataUrl; 0: no partial data.
	PartialLines int
}

// Bulk operation limits the fake enforces. Shopify's storage refuses a
// staged file over MaxStagedUploadSize with EntityTooLarge.
const (
	MaxStagedUploadSize = 20 * 1024 * 1024 // 20,971,520 bytes
	maxBulkConnections  = 5
	maxBulkNesting      = 2
)

// bulkTimeLimit is how long, on the server's clock, an operation may run
// before it fails with TIMEOUT: 10 days for a query, 24 hours for a
// mutation (Shopify's limits). [Server.Advance] during a run crosses them.
var bulkTimeLimit = map[string]time.Duration{"QUERY": 10 * 24 * time.Hour, "MUTATION": 24 * time.Hour}

// BulkOperation is a bulk operation as the fake holds it.
type BulkOperation struct {
	ID          int64
	Type        string // QUERY or MUTATION
	Status      string // a BulkOperationStatus
	ErrorCode   string
	Query       string
	Version     string // the API version that started it
	CreatedAt   time.Time
	CompletedAt time.Time
	// Lines is the result file's line count.
	Lines int
}

// GID returns the operation's global id.
func (b BulkOperation) GID() string { return bulkPrefix + strconv.FormatInt(b.ID, 10) }

const bulkPrefix = "gid://shopify/BulkOperation/"

type bulkOp struct {
	BulkOperation
	result  []byte // the JSONL result of a query
	partial []byte
	objects int64
	roots   int64
	fail    *BulkFailure
	staged  string // a mutation's staged upload key
	mutDoc  *ast.QueryDocument
	timer   *time.Timer
	seen    bool // read at least once: RUNNING rather than CREATED
}

type bulkState struct {
	ops      map[int64]*bulkOp
	uploads  map[string][]byte // staged files by key
	targets  map[string]string // staged upload key -> signature
	files    map[string][]byte // storage objects by path
	failNext []BulkFailure
	storage  *httptest.Server
	storeLog []StorageRequest
	wg       sync.WaitGroup
	closed   bool
}

func (s *Server) newBulkState() *bulkState {
	if s.cfg.bulk.duration == 0 {
		s.cfg.bulk.duration = DefaultBulkDuration
	}
	if s.cfg.bulk.duration < 0 {
		panic(fmt.Sprintf("shopifytest: WithBulkDuration(%s): must be positive", s.cfg.bulk.duration))
	}
	b := &bulkState{ops: map[int64]*bulkOp{}, uploads: map[string][]byte{}, targets: map[string]string{}, files: map[string][]byte{}}
	b.storage = httptest.NewServer(s.storageHandler())
	return b
}

func (s *Server) closeBulk() {
	s.mu.Lock()
	s.bulk.closed = true
	for _, op := range s.bulk.ops {
		if op.timer != nil && op.timer.Stop() {
			s.bulk.wg.Done() // it will never run
		}
	}
	s.mu.Unlock()
	s.bulk.wg.Wait()
	s.bulk.storage.Close()
}

// StorageURL returns the base URL of the fake's storage host: the second
// host that serves bulk results and takes staged uploads, as Google Cloud
// Storage does for Shopify.
func (s *Server) StorageURL() string { return s.bulk.storage.URL }

// FailNextBulk makes the next bulk operation started (query or mutation)
// end FAILED with f's error code, optionally with partial data.
func (s *Server) FailNextBulk(f BulkFailure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bulk.failNext = append(s.bulk.failNext, f)
}

// BulkOperations returns the bulk operations started, oldest first.
func (s *Server) BulkOperations() []BulkOperation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]BulkOperation, 0, len(s.bulk.ops))
	for _, op := range sortedValues(s.bulk.ops) {
		out = append(out, op.BulkOperation)
	}
	return out
}

// withBulk serves the bulk operation queries and mutations on top of
// root. The caller holds s.mu.
func (s *Server) withBulk(kind ast.Operation, root *obj, now time.Time, version string) *obj {
	var m map[string]resolver
	if kind == ast.Mutation {
		m = map[string]resolver{
			"bulkOperationRunQuery": func(a map[string]any) (any, error) {
				return s.bulkRunQuery(str(a["query"]), now, version), nil
			},
			"bulkOperationRunMutation": func(a map[string]any) (any, error) {
				return s.bulkRunMutation(str(a["mutation"]), str(a["stagedUploadPath"]), now, version), nil
			},
			"bulkOperationCancel": func(a map[string]any) (any, error) { return s.bulkCancel(str(a["id"])), nil },
			"stagedUploadsCreate": func(a map[string]any) (any, error) { return s.stagedUploadsCreate(a["input"]) },
		}
	} else {
		m = map[string]resolver{
			"currentBulkOperation": func(a map[string]any) (any, error) {
				typ := cmpOr(str(a["type"]), "QUERY")
				var last *bulkOp
				for _, op := range sortedValues(s.bulk.ops) {
					if op.Type == typ {
						last = op
					}
				}
				if last == nil {
					return nil, nil
				}
				return s.bulkObj(last), nil
			},
			"node": func(a map[string]any) (any, error) {
				id := str(a["id"])
				n, ok := strings.CutPrefix(id, bulkPrefix)
				if !ok {
					return nil, fmt.Errorf("node(id: %q): the fake serves node for bulk operations only", id)
				}
				num, _ := strconv.ParseInt(n, 10, 64)
				if op := s.bulk.ops[num]; op != nil {
					return s.bulkObj(op), nil
				}
				return nil, nil
			},
		}
	}
	return &obj{typ: root.typ, get: func(f string, args map[string]any) (any, error) {
		if r, ok := m[f]; ok {
			return r(args)
		}
		return root.get(f, args)
	}}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) bulkObj(op *bulkOp) *obj {
	if op.Status == "CREATED" && op.seen {
		op.Status = "RUNNING"
	}
	op.seen = true
	var url, partial, size any
	if op.Status == "COMPLETED" && op.result != nil {
		url = s.storageObject("results/"+strconv.FormatInt(op.ID, 10)+".jsonl", op.result)
		size = strconv.Itoa(len(op.result))
	}
	if op.Status == "FAILED" && op.partial != nil {
		partial = s.storageObject("results/"+strconv.FormatInt(op.ID, 10)+"-partial.jsonl", op.partial)
	}
	var completed any
	if !op.CompletedAt.IsZero() {
		completed = ts(op.CompletedAt)
	}
	objects, roots := op.objects, op.roots
	if !finalStatus(op.Status) {
		objects, roots = 0, 0
	}
	return fields("BulkOperation", map[string]any{
		"id": op.GID(), "type": op.Type, "status": op.Status, "errorCode": nullable(op.ErrorCode),
		"objectCount": strconv.FormatInt(objects, 10), "rootObjectCount": strconv.FormatInt(roots, 10),
		"fileSize": size, "url": url, "partialDataUrl": partial, "query": op.Query,
		"createdAt": ts(op.CreatedAt), "completedAt": completed,
	})
}

func finalStatus(st string) bool {
	return st == "COMPLETED" || st == "FAILED" || st == "CANCELED" || st == "EXPIRED"
}

// running counts the operations of typ not yet final.
func (s *Server) running(typ string) int {
	n := 0
	for _, op := range s.bulk.ops {
		if op.Type == typ && !finalStatus(op.Status) {
			n++
		}
	}
	return n
}

// concurrency is how many operations of typ may run at once in version.
func concurrency(typ, version string) int {
	if typ == "QUERY" {
		return shopify.MaxConcurrentBulkQueries(version)
	}
	return 1
}

func bulkPayload(op *bulkOp, s *Server, errs ...map[string]any) map[string]any {
	var node any
	if op != nil {
		node = s.bulkObj(op)
	}
	return map[string]any{"bulkOperation": node, "userErrors": userErrs(errs...)}
}

func bulkErr(code string, field []string, msg string) map[string]any {
	e := uerr(field, msg)
	e["code"] = code
	return e
}

func (s *Server) bulkRunQuery(query string, now time.Time, version string) *obj {
	payload := func(op *bulkOp, errs ...map[string]any) *obj {
		return fields("BulkOperationRunQueryPayload", bulkPayload(op, s, errs...))
	}
	if s.running("QUERY") >= concurrency("QUERY", version) {
		return payload(nil, bulkErr("OPERATION_IN_PROGRESS", nil,
			"A bulk query operation for this app and shop is already in progress: "+s.runningIDs("QUERY")+"."))
	}
	result, roots, objects, err := s.runBulkQuery(query)
	if err != nil {
		return payload(nil, bulkErr("INVALID", []string{"query"}, err.Error()))
	}
	s.docs = append(s.docs, query) // recorded like every document received
	op := s.startBulk("QUERY", query, now, version)
	op.result, op.roots, op.objects = result, roots, objects
	op.Lines = int(objects)
	return payload(op)
}

func (s *Server) runningIDs(typ string) string {
	var ids []string
	for _, op := range sortedValues(s.bulk.ops) {
		if op.Type == typ && !finalStatus(op.Status) {
			ids = append(ids, op.GID())
		}
	}
	return strings.Join(ids, ", ")
}

// startBulk records a new operation and schedules its completion.
func (s *Server) startBulk(typ, query string, now time.Time, version string) *bulkOp {
	op := &bulkOp{BulkOperation: BulkOperation{ID: s.newID(), Type: typ, Status: "CREATED", Query: query, Version: version, CreatedAt: now}}
	if len(s.bulk.failNext) > 0 {
		op.fail = &s.bulk.failNext[0]
		s.bulk.failNext = s.bulk.failNext[1:]
	}
	s.bulk.ops[op.ID] = op
	s.bulk.wg.Add(1)
	op.timer = time.AfterFunc(s.cfg.bulk.duration, func() { defer s.bulk.wg.Done(); s.finishBulk(op) })
	return op
}

// finishBulk moves op to its final status and sends the webhook.
func (s *Server) finishBulk(op *bulkOp) {
	s.mu.Lock()
	if s.bulk.closed || finalStatus(op.Status) {
		s.mu.Unlock()
		return
	}
	now := s.base.Now()
	if limit := bulkTimeLimit[op.Type]; op.fail == nil && now.Sub(op.CreatedAt) > limit {
		op.fail = &BulkFailure{ErrorCode: "TIMEOUT"}
	}
	switch {
	case op.Status == "CANCELING":
		op.Status = "CANCELED"
	case op.fail != nil:
		op.Status, op.ErrorCode = "FAILED", op.fail.ErrorCode
		if n := op.fail.PartialLines; n > 0 && op.Type == "MUTATION" {
			// The lines before the failure ran.
			op.partial, op.objects = s.runBulkMutation(op, now, n)
		} else if n > 0 {
			op.partial = firstLines(op.result, n)
		}
		op.result = nil
	default:
		if op.Type == "MUTATION" {
			op.result, op.objects = s.runBulkMutation(op, now, -1)
			op.roots, op.Lines = op.objects, int(op.objects)
		}
		op.Status = "COMPLETED"
	}
	op.CompletedAt = now
	url := s.cfg.bulk.finish
	payload := map[string]any{
		"admin_graphql_api_id": op.GID(), "completed_at": ts(now), "created_at": ts(op.CreatedAt),
		"error_code": nullable(strings.ToLower(op.ErrorCode)), "status": strings.ToLower(op.Status), "type": strings.ToLower(op.Type),
	}
	s.mu.Unlock()
	if url != "" {
		_, _ = s.SendWebhook(context.Background(), url, shopify.TopicBulkOperationsFinish, payload)
	}
}

func firstLines(b []byte, n int) []byte {
	end := 0
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(b[end:], '\n')
		if j < 0 {
			return b
		}
		end += j + 1
	}
	return b[:end]
}

func (s *Server) bulkCancel(id string) *obj {
	payload := func(op *bulkOp, errs ...map[string]any) *obj {
		return fields("BulkOperationCancelPayload", bulkPayload(op, s, errs...))
	}
	n, ok := strings.CutPrefix(id, bulkPrefix)
	num, _ := strconv.ParseInt(n, 10, 64)
	op := s.bulk.ops[num]
	if !ok || op == nil {
		return payload(nil, uerr([]string{"id"}, "Bulk operation does not exist"))
	}
	switch {
	case op.Status == "CANCELING":
	case finalStatus(op.Status):
		return payload(op, uerr(nil, "A bulk operation cannot be canceled when it is "+strings.ToLower(op.Status)))
	default:
		op.Status = "CANCELING"
		// Cancelling takes "a short delay", whatever the operation's
		// remaining run time.
		if op.timer.Stop() {
			op.timer = time.AfterFunc(min(s.cfg.bulk.duration, DefaultBulkDuration), func() { defer s.bulk.wg.Done(); s.finishBulk(op) })
		}
	}
	return payload(op)
}

// bulkNode is an object of a bulk query with the model it comes from, so
// that its nested connections can be listed.
type bulkNode struct {
	o     *obj
	cust  *Customer
	order *Order
}

// runBulkQuery runs a bulk query against the state and returns its JSONL.
func (s *Server) runBulkQuery(query string) (out []byte, roots, objects int64, err error) {
	doc, gerrs := gqlparser.LoadQuery(s.schema, query)
	if len(gerrs) > 0 {
		return nil, 0, 0, fmt.Errorf("Invalid bulk query: %s", gerrs[0].Message)
	}
	if len(doc.Operations) != 1 || doc.Operations[0].Operation != ast.Query {
		return nil, 0, 0, errors.New("Invalid bulk query: the document must hold one query")
	}
	op := doc.Operations[0]
	if len(op.VariableDefinitions) > 0 {
		return nil, 0, 0, errors.New("Invalid bulk query: bulk queries take no variables")
	}
	conns, depth := 0, 0
	countConnections(op.SelectionSet, 0, &conns, &depth)
	switch {
	case conns == 0:
		return nil, 0, 0, errors.New("Bulk queries must contain at least one connection.")
	case conns > maxBulkConnections:
		return nil, 0, 0, fmt.Errorf("Bulk queries cannot contain more than %d connections.", maxBulkConnections)
	case depth > maxBulkNesting:
		return nil, 0, 0, fmt.Errorf("Bulk queries cannot contain connections with a nesting depth greater than %d.", maxBulkNesting)
	}
	var buf bytes.Buffer
	root := bulkNode{o: s.queryRoot()}
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || !isConnection(f) {
			return nil, 0, 0, errors.New("Invalid bulk query: every top-level field must be a connection")
		}
		if f.Name == "node" || f.Name == "nodes" {
			return nil, 0, 0, errors.New("Invalid bulk query: the top-level node and nodes fields can't be used")
		}
		n, err := s.bulkConnection(&buf, root, f, "", &objects)
		if err != nil {
			return nil, 0, 0, err
		}
		roots += n
	}
	return buf.Bytes(), roots, objects, nil
}

func isConnection(f *ast.Field) bool {
	return f.Definition != nil && strings.HasSuffix(f.Definition.Type.Name(), "Connection")
}

func countConnections(ss ast.SelectionSet, level int, n, depth *int) {
	for _, sel := range ss {
		switch x := sel.(type) {
		case *ast.Field:
			l := level
			if isConnection(x) {
				*n++
				l++
				*depth = max(*depth, l)
			}
			countConnections(x.SelectionSet, l, n, depth)
		case *ast.InlineFragment:
			countConnections(x.SelectionSet, level, n, depth)
		case *ast.FragmentSpread:
			countConnections(x.Definition.SelectionSet, level, n, depth)
		}
	}
}

// nodeSelection returns the selection of one node of connection field f:
// edges { node { ... } } or nodes { ... }.
func nodeSelection(f *ast.Field) (ast.SelectionSet, error) {
	var out ast.SelectionSet
	for _, sel := range f.SelectionSet {
		g, ok := sel.(*ast.Field)
		if !ok {
			return nil, fmt.Errorf("%s: fragments on a connection are not modelled by the fake", f.Name)
		}
		switch g.Name {
		case "nodes":
			out = append(out, g.SelectionSet...)
		case "edges":
			for _, s2 := range g.SelectionSet {
				h, ok := s2.(*ast.Field)
				if !ok || h.Name != "node" {
					return nil, fmt.Errorf("%s.edges: only node is read in a bulk query", f.Name)
				}
				out = append(out, h.SelectionSet...)
			}
		default:
			return nil, fmt.Errorf("%s.%s: a bulk query reads only edges { node } or nodes of a connection", f.Name, g.Name)
		}
	}
	return out, nil
}

// bulkConnection writes every node of connection f under parent, then
// their nested connections, and returns how many nodes it wrote.
func (s *Server) bulkConnection(buf *bytes.Buffer, parent bulkNode, f *ast.Field, parentID string, objects *int64) (int64, error) {
	args := f.ArgumentMap(nil)
	for _, a := range []string{"after", "before", "last"} {
		if args[a] != nil {
			return 0, fmt.Errorf("%s(%s:): pagination arguments are not used in bulk queries", f.Name, a)
		}
	}
	nodes, err := s.bulkChildren(parent, f.Name, args)
	if err != nil {
		return 0, err
	}
	sel, err := nodeSelection(f)
	if err != nil {
		return 0, err
	}
	var flat ast.SelectionSet
	var nested []*ast.Field
	for _, x := range sel {
		if g, ok := x.(*ast.Field); ok && isConnection(g) {
			nested = append(nested, g)
			continue
		}
		flat = append(flat, x)
	}
	for _, n := range nodes {
		e := &executor{}
		row := e.selection(flat, n.o, nil)
		if len(e.errors) > 0 {
			return 0, errors.New(e.errors[0].Message)
		}
		id, _ := n.o.get("id", nil)
		if parentID != "" {
			row.set("__parentId", parentID)
		}
		b, err := json.Marshal(row)
		if err != nil {
			return 0, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
		*objects++
		for _, g := range nested {
			if _, err := s.bulkConnection(buf, n, g, str(id), objects); err != nil {
				return 0, err
			}
		}
	}
	return int64(len(nodes)), nil
}

// bulkChildren lists the nodes of the connection field under parent that
// the fake's bulk queries model.
func (s *Server) bulkChildren(parent bulkNode, field string, args map[string]any) ([]bulkNode, error) {
	switch {
	case parent.o.typ == "QueryRoot" && field == "customers":
		list, err := filter("customers", str(args["query"]), customerSearch, sortedValues(s.customers))
		if err == nil {
			err = sortBy(list, str(args["sortKey"]), customerSorts, func(c *Customer) int64 { return c.ID })
		}
		out := make([]bulkNode, len(list))
		for i, c := range list {
			out[i] = bulkNode{o: customerObj(c), cust: c}
		}
		return out, err
	case parent.o.typ == "QueryRoot" && field == "orders":
		list, err := filter("orders", str(args["query"]), orderSearch, slices.DeleteFunc(sortedValues(s.orders), func(o *Order) bool { return !s.readable(o) }))
		if err == nil {
			err = sortBy(list, str(args["sortKey"]), orderSorts, func(o *Order) int64 { return o.ID })
		}
		return s.orderNodes(list), err
	case parent.cust != nil && field == "orders":
		var list []*Order
		for _, o := range sortedValues(s.orders) {
			if o.CustomerID == parent.cust.ID && s.readable(o) {
				list = append(list, o)
			}
		}
		list, err := filter("orders", str(args["query"]), orderSearch, list)
		if err == nil {
			err = sortBy(list, cmpOr(str(args["sortKey"]), "ID"), orderSorts, func(o *Order) int64 { return o.ID })
		}
		return s.orderNodes(list), err
	case parent.order != nil && field == "lineItems":
		o := parent.order
		out := make([]bulkNode, len(o.LineItems))
		for i := range o.LineItems {
			out[i] = bulkNode{o: lineItemObj(o, i)}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s.%s: this connection is not modelled by the fake's bulk queries", parent.o.typ, field)
}

func (s *Server) orderNodes(list []*Order) []bulkNode {
	out := make([]bulkNode, len(list))
	for i, o := range list {
		base := s.orderObj(o)
		current := fields("MoneyBag", map[string]any{"shopMoney": moneyObj(o.Total), "presentmentMoney": moneyObj(o.Total)})
		out[i] = bulkNode{order: o, o: &obj{typ: "Order", get: func(f string, a map[string]any) (any, error) {
			if f == "currentTotalPriceSet" {
				return current, nil // the fake models no refunds: the current total is the total
			}
			return base.get(f, a)
		}}}
	}
	return out
}

// runBulkMutation runs each staged line of a bulk mutation (the first
// limit ones when limit >= 0) and returns the result file: one line per
// input line, {"data": ..., "__lineNumber": n}, with "errors" when the
// line failed.
func (s *Server) runBulkMutation(op *bulkOp, now time.Time, limit int) ([]byte, int64) {
	file := s.bulk.uploads[op.staged]
	mop := op.mutDoc.Operations[0]
	var buf bytes.Buffer
	var n int64
	root := s.withMarketing(s.mutationRoot(now), now)
	for line := range bytes.Lines(file) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if limit >= 0 && n >= int64(limit) {
			break
		}
		out := map[string]any{}
		var vars map[string]any
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&vars); err != nil {
			out["errors"] = []gqlErr{{Message: "Invalid JSON on line " + strconv.FormatInt(n+1, 10)}}
		} else {
			e := &executor{vars: normalizeNumbers(vars)}
			out["data"] = e.selection(mop.SelectionSet, root, nil)
			for _, sel := range mop.SelectionSet {
				if f, ok := sel.(*ast.Field); ok {
					s.ops[f.Name]++
				}
			}
			if len(e.errors) > 0 {
				out["errors"] = e.errors
			}
		}
		out["__lineNumber"] = n
		b, _ := json.Marshal(out)
		buf.Write(b)
		buf.WriteByte('\n')
		n++
	}
	return buf.Bytes(), n
}

// bulkMutations are the mutations the fake runs in bulk.
var bulkMutations = []string{"tagsAdd", "tagsRemove"}

func (s *Server) bulkRunMutation(mutation, path string, now time.Time, version string) *obj {
	payload := func(op *bulkOp, errs ...map[string]any) *obj {
		return fields("BulkOperationRunMutationPayload", bulkPayload(op, s, errs...))
	}
	if s.running("MUTATION") >= concurrency("MUTATION", version) {
		return payload(nil, bulkErr("OPERATION_IN_PROGRESS", nil,
			"A bulk mutation operation for this app and shop is already in progress: "+s.runningIDs("MUTATION")+"."))
	}
	doc, gerrs := gqlparser.LoadQuery(s.schema, mutation)
	switch {
	case len(gerrs) > 0:
		return payload(nil, bulkErr("INVALID_MUTATION", []string{"mutation"}, "Invalid mutation: "+gerrs[0].Message))
	case len(doc.Operations) != 1 || doc.Operations[0].Operation != ast.Mutation:
		return payload(nil, bulkErr("INVALID_MUTATION", []string{"mutation"}, "The document must hold one mutation."))
	}
	mop := doc.Operations[0]
	if names := topLevelFields(mop); len(names) != 1 || len(mop.SelectionSet) != 1 {
		return payload(nil, bulkErr("INVALID_MUTATION", []string{"mutation"}, "A bulk mutation runs exactly one mutation field."))
	} else if !slices.Contains(bulkMutations, names[0]) {
		return payload(nil, bulkErr("INVALID_MUTATION", []string{"mutation"}, names[0]+" is not modelled by the fake's bulk mutations"))
	}
	if _, ok := s.bulk.uploads[path]; !ok {
		return payload(nil, bulkErr("NO_SUCH_FILE", []string{"stagedUploadPath"}, "The JSONL file could not be found."))
	}
	for line := range bytes.Lines(s.bulk.uploads[path]) {
		var v map[string]any
		if len(bytes.TrimSpace(line)) > 0 && json.Unmarshal(line, &v) != nil {
			return payload(nil, bulkErr("INVALID_STAGED_UPLOAD_FILE", []string{"stagedUploadPath"}, "Unexpected file structure - expected JSONL"))
		}
	}
	s.docs = append(s.docs, mutation)
	op := s.startBulk("MUTATION", mutation, now, version)
	op.staged, op.mutDoc = path, doc
	return payload(op)
}

package shopifytest

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

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
	return shopify.MaxConcurrentBulkMutations(version)
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
	s.emit("BULK_OPERATIONS_FINISH", payload) // to the subscriptions made through the API
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

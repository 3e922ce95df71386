package shopify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// BulkService runs bulk operations: a query or a mutation that Shopify
// runs in the background and whose result is a JSONL file on a storage
// host, read with [BulkService.Rows].
type BulkService struct{ c *Client }

// BulkOperationType is a bulk operation's type (BulkOperationType).
type BulkOperationType string

// Bulk operation types.
const (
	BulkQuery    BulkOperationType = "QUERY"
	BulkMutation BulkOperationType = "MUTATION"
)

// BulkOperationStatus is a bulk operation's status (BulkOperationStatus).
type BulkOperationStatus string

// Bulk operation statuses. COMPLETED, CANCELED, FAILED and EXPIRED are
// final.
const (
	BulkCreated   BulkOperationStatus = "CREATED"
	BulkRunning   BulkOperationStatus = "RUNNING"
	BulkCompleted BulkOperationStatus = "COMPLETED"
	BulkCanceling BulkOperationStatus = "CANCELING"
	BulkCanceled  BulkOperationStatus = "CANCELED"
	BulkFailed    BulkOperationStatus = "FAILED"
	BulkExpired   BulkOperationStatus = "EXPIRED"
)

// Final reports whether the status is one an operation never leaves.
func (s BulkOperationStatus) Final() bool {
	return s == BulkCompleted || s == BulkCanceled || s == BulkFailed || s == BulkExpired
}

// BulkErrorCode says why a bulk operation failed (BulkOperationErrorCode).
type BulkErrorCode string

// Bulk operation error codes. Each may come with partial data.
const (
	BulkAccessDenied        BulkErrorCode = "ACCESS_DENIED"
	BulkInternalServerError BulkErrorCode = "INTERNAL_SERVER_ERROR"
	BulkTimeout             BulkErrorCode = "TIMEOUT"
)

// BulkOperation is the state of a bulk operation.
type BulkOperation struct {
	ID        string // a BulkOperation GID
	Type      BulkOperationType
	Status    BulkOperationStatus
	ErrorCode BulkErrorCode // "" unless the operation failed
	// ObjectCount counts every object processed so far, RootObjectCount
	// those at the root of the query.
	ObjectCount     int64
	RootObjectCount int64
	FileSize        int64 // bytes of the file at URL
	// URL is the result file once COMPLETED; PartialDataURL what a failed
	// operation wrote before it failed. Both expire 7 days after the
	// operation finishes, and both are on a storage host: read them with
	// [BulkService.Rows], which sends no Shopify credential.
	URL            string
	PartialDataURL string
	Query          string // the document the operation runs
	CreatedAt      time.Time
	CompletedAt    time.Time // zero until it completes
}

const bulkOpFields = `id type status errorCode objectCount rootObjectCount fileSize url partialDataUrl query createdAt completedAt`

type wireBulkOp struct {
	ID              string              `json:"id"`
	Type            BulkOperationType   `json:"type"`
	Status          BulkOperationStatus `json:"status"`
	ErrorCode       *BulkErrorCode      `json:"errorCode"`
	ObjectCount     string              `json:"objectCount"`
	RootObjectCount string              `json:"rootObjectCount"`
	FileSize        *string             `json:"fileSize"`
	URL             *string             `json:"url"`
	PartialDataURL  *string             `json:"partialDataUrl"`
	Query           string              `json:"query"`
	CreatedAt       time.Time           `json:"createdAt"`
	CompletedAt     *time.Time          `json:"completedAt"`
}

func (w *wireBulkOp) op() *BulkOperation {
	if w == nil {
		return nil
	}
	o := &BulkOperation{ID: w.ID, Type: w.Type, Status: w.Status, URL: str(w.URL), PartialDataURL: str(w.PartialDataURL),
		Query: w.Query, CreatedAt: w.CreatedAt}
	if w.ErrorCode != nil {
		o.ErrorCode = *w.ErrorCode
	}
	o.ObjectCount, _ = strconv.ParseInt(w.ObjectCount, 10, 64)
	o.RootObjectCount, _ = strconv.ParseInt(w.RootObjectCount, 10, 64)
	o.FileSize, _ = strconv.ParseInt(str(w.FileSize), 10, 64)
	if w.CompletedAt != nil {
		o.CompletedAt = *w.CompletedAt
	}
	return o
}

// MaxConcurrentBulkQueries returns how many bulk queries Shopify lets an
// app run at once on one shop with API version v: one before 2026-01 and
// five from 2026-01 ("unstable" counts as the newest). Starting one more is
// refused with OPERATION_IN_PROGRESS, a [*BulkInProgressError].
func MaxConcurrentBulkQueries(v string) int {
	if v == "unstable" || v >= "2026-01" {
		return 5
	}
	return 1
}

// MaxConcurrentBulkMutations returns how many bulk mutations Shopify lets
// an app run at once on one shop with API version v: like queries, one
// before 2026-01 and five from 2026-01, as Shopify's bulk import guide and
// its December 2025 changelog say. Starting one more is refused with
// OPERATION_IN_PROGRESS, a [*BulkInProgressError].
func MaxConcurrentBulkMutations(v string) int { return MaxConcurrentBulkQueries(v) }

// RunQuery starts a bulk query. The document must hold at least one
// connection (customers, orders, ...), at most five, nested at most two
// deep, and connections take no first/after: Shopify reads them whole.
// When the app already runs as many bulk queries as the version allows,
// the error is a *BulkInProgressError; other refusals are *UserErrors.
//
// Starting is not idempotent, and a start whose answer is lost may have
// left an operation running, which a blind second start would meet as
// OPERATION_IN_PROGRESS (or, from 2026-01, run twice). So RunQuery first
// reads the app's current bulk query (currentBulkOperation, one point),
// and when an answer leaves the outcome unknown (a dropped connection, a
// lost answer, a 5xx, a body cut off) it reads it again: an operation
// running the same query text that is not the one current before the call
// is the one this call started, and is returned; otherwise nothing
// started and the start is sent again, within the client's retry policy.
// A second start refused as in progress is checked the same way, for a
// first one Shopify was still processing. (From 2026-01, where several
// bulk queries run at once, the same query started at that moment by
// another caller of the app would be taken for this one.)
//
//spec:graphql mutation bulkOperationRunQuery
func (s *BulkService) RunQuery(ctx context.Context, query string) (*BulkOperation, *Response, error) {
	if strings.TrimSpace(query) == "" {
		return nil, nil, &InputError{Field: "query", Reason: "must not be empty"}
	}
	q := `mutation bulkOperationRunQuery($query: String!) { bulkOperationRunQuery(query: $query) { bulkOperation { ` + bulkOpFields + ` } userErrors { field message code } } }`
	before, _, err := s.Current(ctx, BulkQuery)
	if err != nil {
		return nil, nil, err
	}
	// started finds the operation this call started, if one did.
	started := func(ctx context.Context) (*BulkOperation, bool, error) {
		cur, _, err := s.Current(ctx, BulkQuery)
		if err != nil || cur == nil || cur.Query != query {
			return nil, false, err
		}
		if before != nil && (cur.ID == before.ID || cur.CreatedAt.Before(before.CreatedAt)) {
			return nil, false, nil
		}
		return cur, true, nil
	}
	var resp *Response
	sent := 0
	op, err := transport.Recover(ctx, s.c.tr, transport.Recovery[*BulkOperation]{
		Op: "bulkOperationRunQuery",
		Send: func(ctx context.Context) (*BulkOperation, error) {
			sent++
			op, r, err := s.run(ctx, "bulkOperationRunQuery", BulkQuery, q, map[string]any{"query": query})
			resp = r
			var busy *BulkInProgressError
			if sent > 1 && errors.As(err, &busy) {
				if cur, found, ferr := started(ctx); ferr == nil && found {
					return cur, nil
				}
			}
			return op, err
		},
		Unknown: maybeApplied,
		Find:    started,
	})
	if err != nil {
		return nil, resp, err
	}
	return op, resp, nil
}

func (s *BulkService) run(ctx context.Context, name string, typ BulkOperationType, q string, vars map[string]any) (*BulkOperation, *Response, error) {
	var out map[string]*struct {
		BulkOperation *wireBulkOp   `json:"bulkOperation"`
		UserErrors    userErrorList `json:"userErrors"`
	}
	// Not retried unless refused: a lost answer may hide a started
	// operation, which the next attempt would meet as "in progress"
	// (RunQuery looks for it before sending again).
	resp, err := s.c.do(ctx, &call{query: q, vars: vars, cost: mutationCost, retry: ifRefused}, &out)
	if err != nil {
		return nil, resp, err
	}
	p := out[name]
	if p == nil {
		return nil, resp, &shopcrm.ResponseError{Op: name, Reason: "no payload in the answer"}
	}
	if err := s.c.mutationErrors(name, p.UserErrors); err != nil {
		for _, u := range p.UserErrors.errs {
			if u.Code == "OPERATION_IN_PROGRESS" {
				return nil, resp, &BulkInProgressError{Type: typ, Err: err}
			}
		}
		return nil, resp, err
	}
	if p.BulkOperation == nil {
		return nil, resp, &shopcrm.ResponseError{Op: name, Reason: "no bulk operation in the answer"}
	}
	return p.BulkOperation.op(), resp, nil
}

// Get reads a bulk operation by id (through node(id:), which 2025-01
// serves; bulkOperation(id:) arrives later). An unknown id is a
// *NotFoundError.
//
//spec:graphql query node
func (s *BulkService) Get(ctx context.Context, id string) (*BulkOperation, *Response, error) {
	if err := checkBulkID(id); err != nil {
		return nil, nil, err
	}
	var out struct {
		Node *wireBulkOp `json:"node"`
	}
	q := `query bulkOperation($id: ID!) { node(id: $id) { ... on BulkOperation { ` + bulkOpFields + ` } } }`
	resp, err := s.c.do(ctx, &call{query: q, vars: map[string]any{"id": id}, cost: 1, retry: idempotent}, &out)
	if err != nil {
		return nil, resp, err
	}
	if out.Node == nil || out.Node.ID == "" {
		return nil, resp, &NotFoundError{ID: id}
	}
	return out.Node.op(), resp, nil
}

// Current reads the app's most recent bulk operation of type typ
// (currentBulkOperation); nil when there is none.
//
//spec:graphql query currentBulkOperation
func (s *BulkService) Current(ctx context.Context, typ BulkOperationType) (*BulkOperation, *Response, error) {
	if typ != BulkQuery && typ != BulkMutation {
		return nil, nil, &InputError{Field: "typ", Value: string(typ), Reason: "must be QUERY or MUTATION"}
	}
	var out struct {
		Op *wireBulkOp `json:"currentBulkOperation"`
	}
	q := `query currentBulkOperation($type: BulkOperationType!) { currentBulkOperation(type: $type) { ` + bulkOpFields + ` } }`
	resp, err := s.c.do(ctx, &call{query: q, vars: map[string]any{"type": string(typ)}, cost: 1, retry: idempotent}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out.Op.op(), resp, nil
}

// Cancel starts cancelling a running bulk operation; it moves to
// CANCELING, then CANCELED. Cancelling is idempotent, so it is retried
// like a read.
//
//spec:graphql mutation bulkOperationCancel
func (s *BulkService) Cancel(ctx context.Context, id string) (*BulkOperation, *Response, error) {
	if err := checkBulkID(id); err != nil {
		return nil, nil, err
	}
	var out struct {
		P *struct {
			BulkOperation *wireBulkOp   `json:"bulkOperation"`
			UserErrors    userErrorList `json:"userErrors"`
		} `json:"bulkOperationCancel"`
	}
	q := `mutation bulkOperationCancel($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { ` + bulkOpFields + ` } userErrors { field message } } }`
	resp, err := s.c.do(ctx, &call{query: q, vars: map[string]any{"id": id}, cost: mutationCost, retry: idempotent}, &out)
	if err != nil {
		return nil, resp, err
	}
	if out.P == nil {
		return nil, resp, &shopcrm.ResponseError{Op: "bulkOperationCancel", Reason: "no payload in the answer"}
	}
	if err := s.c.mutationErrors("bulkOperationCancel", out.P.UserErrors); err != nil {
		return nil, resp, err
	}
	return out.P.BulkOperation.op(), resp, nil
}

// BulkInProgressError is Shopify's OPERATION_IN_PROGRESS: the app already
// runs as many bulk operations of this type as its API version allows
// (see [MaxConcurrentBulkQueries]). It matches ErrConflict.
type BulkInProgressError struct {
	Type BulkOperationType
	Err  error // the *UserErrors
}

// Error describes the error.
func (e *BulkInProgressError) Error() string {
	return "shopify: a bulk " + strings.ToLower(string(e.Type)) + " is already in progress: " + e.Err.Error()
}

// Unwrap returns the *UserErrors.
func (e *BulkInProgressError) Unwrap() error { return e.Err }

// Is matches ErrConflict.
func (e *BulkInProgressError) Is(target error) bool { return target == ErrConflict }

// BulkOperationError reports a bulk operation that ended without a
// complete result: FAILED (see ErrorCode: ACCESS_DENIED matches
// ErrUnauthorized, TIMEOUT ErrBulkTimeout), CANCELED or EXPIRED.
// Operation.PartialDataURL, when set, holds what it wrote before failing.
type BulkOperationError struct {
	Operation *BulkOperation
}

// ErrBulkTimeout matches a bulk operation that failed with TIMEOUT, as one
// running past Shopify's time limit does (10 days for a query, 24 hours
// for a mutation).
var ErrBulkTimeout = errors.New("shopify: bulk operation timed out")

// Error describes the error.
func (e *BulkOperationError) Error() string {
	o := e.Operation
	s := fmt.Sprintf("shopify: bulk operation %s %s", o.ID, strings.ToLower(string(o.Status)))
	if o.ErrorCode != "" {
		s += " (" + string(o.ErrorCode) + ")"
	}
	if o.PartialDataURL != "" {
		s += "; partial data available"
	}
	return s
}

// Is matches ErrUnauthorized for ACCESS_DENIED and ErrBulkTimeout for
// TIMEOUT.
func (e *BulkOperationError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Operation.ErrorCode == BulkAccessDenied
	case ErrBulkTimeout:
		return e.Operation.ErrorCode == BulkTimeout
	}
	return false
}

const bulkGIDPrefix = "gid://shopify/BulkOperation/"

// checkBulkID validates a BulkOperation GID (package gid does not know the
// type: nothing else in this SDK refers to it).
func checkBulkID(id string) error {
	n, ok := strings.CutPrefix(id, bulkGIDPrefix)
	if v, err := strconv.ParseInt(n, 10, 64); !ok || err != nil || v <= 0 {
		return &InputError{Field: "id", Value: id, Reason: "must be a BulkOperation GID like " + bulkGIDPrefix + "123"}
	}
	return nil
}

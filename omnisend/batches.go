package omnisend

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/pager"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// BatchesService runs batch operations: many creates or updates of one
// kind in one request, processed asynchronously.
type BatchesService struct{ c *Client }

// DefaultBatchSize is the most items in one batch for API version
// 2026-03-15 ("up to 100 actions"; v3 allowed 1,000).
const DefaultBatchSize = 100

// BatchStatus is where a batch is in its processing.
type BatchStatus string

// Batch statuses. A batch ends finished, or stopped after too many errors.
const (
	BatchPending    BatchStatus = "pending"
	BatchInProgress BatchStatus = "inProgress"
	BatchFinished   BatchStatus = "finished"
	BatchStopped    BatchStatus = "stopped"
)

// Done reports a status a batch does not leave.
func (s BatchStatus) Done() bool { return s == BatchFinished || s == BatchStopped }

// BatchItem is one item of a batch as processed: what was asked, what
// the endpoint answered and its status code.
type BatchItem struct {
	ItemID       string          `json:"itemID"`
	Request      json.RawMessage `json:"request,omitempty"`
	Response     json.RawMessage `json:"response,omitempty"`
	ResponseCode int             `json:"responseCode"`
	Status       string          `json:"status"`
}

// Batch is a batch operation.
type Batch struct {
	ID            string
	Method        string // POST or PUT
	Endpoint      string // contacts, products, events, categories
	Origin        string
	Status        BatchStatus
	TotalCount    int
	FinishedCount int
	ErrorsCount   int
	CreatedAt     time.Time
	StartedAt     time.Time
	EndedAt       time.Time
	// Responses and Errors are filled by Items: the items that succeeded
	// and those that failed.
	Responses []BatchItem
	Errors    []BatchItem
}

type wireBatch struct {
	BatchID       string      `json:"batchID"`
	Method        string      `json:"method"`
	Endpoint      string      `json:"endpoint"`
	Origin        string      `json:"origin"`
	Status        BatchStatus `json:"status"`
	TotalCount    int         `json:"totalCount"`
	FinishedCount int         `json:"finishedCount"`
	ErrorsCount   int         `json:"errorsCount"`
	CreatedAt     string      `json:"createdAt"`
	StartedAt     string      `json:"startedAt"`
	EndedAt       string      `json:"endedAt"`
	Responses     []BatchItem `json:"responses"`
	Errors        []BatchItem `json:"errors"`
}

func (w *wireBatch) batch() *Batch {
	return &Batch{ID: w.BatchID, Method: w.Method, Endpoint: w.Endpoint, Origin: w.Origin, Status: w.Status,
		TotalCount: w.TotalCount, FinishedCount: w.FinishedCount, ErrorsCount: w.ErrorsCount,
		CreatedAt: parseTime(w.CreatedAt), StartedAt: parseTime(w.StartedAt), EndedAt: parseTime(w.EndedAt),
		Responses: w.Responses, Errors: w.Errors}
}

// BatchRequest is a batch to create.
type BatchRequest struct {
	Method   string // POST (create) or PUT (update)
	Endpoint string // contacts, products, events or categories
	Origin   string // optional
	// Items are the request bodies, each as the endpoint takes it alone;
	// 1 to DefaultBatchSize (see [BatchesService.Run] for more).
	Items []json.RawMessage
}

type wireBatchRequest struct {
	Method   string            `json:"method"`
	Endpoint string            `json:"endpoint"`
	Origin   string            `json:"origin,omitempty"`
	Items    []json.RawMessage `json:"items"`
}

func (r *BatchRequest) check(maxItems int) error {
	if r == nil {
		return invalid("BatchRequest", "nil")
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		return &InputError{Field: "BatchRequest.Method", Value: r.Method, Reason: "must be POST or PUT"}
	}
	switch r.Endpoint {
	case "contacts", "products", "events", "categories":
	default:
		return &InputError{Field: "BatchRequest.Endpoint", Value: r.Endpoint, Reason: "must be contacts, products, events or categories"}
	}
	if len(r.Items) == 0 || len(r.Items) > maxItems {
		return &InputError{Field: "BatchRequest.Items", Value: strconv.Itoa(len(r.Items)), Reason: fmt.Sprintf("must hold 1 to %d items", maxItems)}
	}
	for i, it := range r.Items {
		if !json.Valid(it) {
			return invalid(fmt.Sprintf("BatchRequest.Items[%d]", i), "not valid JSON")
		}
	}
	return nil
}

// Create submits a batch (201) and returns its id and item count. A
// batch is not idempotent (a second copy of events fires automations
// again), so it is retried only when refused with a 429.
//
//spec:openapi POST /batches
func (s *BatchesService) Create(ctx context.Context, r *BatchRequest) (*Batch, *Response, error) {
	return s.create(ctx, r, DefaultBatchSize)
}

func (s *BatchesService) create(ctx context.Context, r *BatchRequest, maxItems int) (*Batch, *Response, error) {
	if err := r.check(maxItems); err != nil {
		return nil, nil, err
	}
	var w struct {
		BatchID    string `json:"batchID"`
		TotalCount int    `json:"totalCount"`
	}
	body := &wireBatchRequest{Method: r.Method, Endpoint: r.Endpoint, Origin: r.Origin, Items: r.Items}
	resp, err := s.c.do(ctx, &call{op: "createBatch", method: http.MethodPost, path: "/batches", body: body, retry: transport.RetryIfRefused, out: &w})
	if err != nil {
		return nil, resp, err
	}
	if w.BatchID == "" {
		return nil, resp, &shopcrm.ResponseError{Op: "POST /batches", Reason: "no batchID"}
	}
	return &Batch{ID: w.BatchID, Method: r.Method, Endpoint: r.Endpoint, Origin: r.Origin, Status: BatchPending, TotalCount: w.TotalCount}, resp, nil
}

// Get reads a batch's status and counts.
//
//spec:openapi GET /batches/{batchID}
func (s *BatchesService) Get(ctx context.Context, id string) (*Batch, *Response, error) {
	return s.get(ctx, "getBatch", id, "")
}

// Items reads a batch with its per-item results (Responses and Errors).
//
//spec:openapi GET /batches/{batchID}/items
func (s *BatchesService) Items(ctx context.Context, id string) (*Batch, *Response, error) {
	return s.get(ctx, "getBatchItems", id, "/items")
}

func (s *BatchesService) get(ctx context.Context, op, id, suffix string) (*Batch, *Response, error) {
	if err := checkID("id", id); err != nil {
		return nil, nil, err
	}
	var w wireBatch
	r, err := s.c.do(ctx, &call{op: op, method: http.MethodGet, path: "/batches/" + url.PathEscape(id) + suffix, retry: transport.RetryIdempotent, out: &w})
	if err != nil {
		return nil, r, err
	}
	switch BatchStatus(w.Status) {
	case BatchPending, BatchInProgress, BatchFinished, BatchStopped:
	case "":
		// Not a batch still running: Wait would poll it forever.
		return nil, r, &shopcrm.ResponseError{Op: op, Reason: "no batch status in the answer"}
	default:
		// A status the API version does not list: Wait could only poll it
		// until the deadline.
		return nil, r, &shopcrm.ResponseError{Op: op, Reason: fmt.Sprintf("unknown batch status %q", w.Status)}
	}
	return w.batch(), r, nil
}

// Wait polls a batch every interval until it is finished or stopped, and
// returns it with its per-item results. It reads the items endpoint, which
// carries the status too, so a batch already done costs one request.
func (s *BatchesService) Wait(ctx context.Context, id string, interval time.Duration) (*Batch, error) {
	for {
		b, _, err := s.Items(ctx, id)
		if err != nil {
			return nil, err
		}
		if b.Status.Done() {
			return b, nil
		}
		if err := transport.Sleep(ctx, interval); err != nil {
			return nil, err
		}
	}
}

// BatchListOptions filter a listing of batches.
type BatchListOptions struct {
	Endpoint string      // required: contacts, products or events
	Status   BatchStatus // optional
	// From and To (optional) bound the batches' creation times, both
	// inclusive. Omnisend filters by date only (yyyy-mm-dd), so the client
	// asks for the whole UTC days around them and drops the batches
	// outside the exact times.
	From, To time.Time
	PageSize int // 1 to 250; 0 means 100
}

// List iterates over batches, newest first as Omnisend orders them.
//
//spec:openapi GET /batches
func (s *BatchesService) List(ctx context.Context, opts BatchListOptions) iter.Seq2[Batch, error] {
	return pager.Seq(ctx, opts, func(ctx context.Context, o BatchListOptions, offset int) ([]Batch, int, bool, error) {
		switch o.Endpoint {
		case "contacts", "products", "events":
		default:
			return nil, 0, false, &InputError{Field: "BatchListOptions.Endpoint", Value: o.Endpoint, Reason: "must be contacts, products or events"}
		}
		n := o.PageSize
		if n == 0 {
			n = 100
		}
		if n < 1 || n > 250 {
			return nil, 0, false, &InputError{Field: "BatchListOptions.PageSize", Value: strconv.Itoa(n), Reason: "must be 1 to 250"}
		}
		q := url.Values{"endpoint": {o.Endpoint}, "offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(n)}}
		switch o.Status {
		case "":
		case BatchPending, BatchInProgress, BatchFinished, BatchStopped:
			q.Set("status", string(o.Status))
		default:
			return nil, 0, false, &InputError{Field: "BatchListOptions.Status", Value: string(o.Status), Reason: "must be pending, inProgress, finished or stopped"}
		}
		if !o.From.IsZero() {
			q.Set("dateFrom", o.From.UTC().Format(time.DateOnly))
		}
		if !o.To.IsZero() {
			// The day after To: whether Omnisend reads dateTo as inclusive
			// or not, every batch up to To is listed; later ones are dropped
			// below.
			q.Set("dateTo", o.To.UTC().AddDate(0, 0, 1).Format(time.DateOnly))
		}
		var w struct {
			Batches []wireBatch `json:"batches"`
			Paging  struct {
				Next string `json:"next"`
			} `json:"paging"`
		}
		if _, err := s.c.do(ctx, &call{op: "listBatches", method: http.MethodGet, path: "/batches", query: q, retry: transport.RetryIdempotent, out: &w}); err != nil {
			return nil, 0, false, err
		}
		out := make([]Batch, 0, len(w.Batches))
		for i := range w.Batches {
			b := w.Batches[i].batch()
			if (!o.From.IsZero() && b.CreatedAt.Before(o.From)) || (!o.To.IsZero() && b.CreatedAt.After(o.To)) {
				continue
			}
			out = append(out, *b)
		}
		// The next offset counts what the server listed, kept or not.
		return out, offset + len(w.Batches), w.Paging.Next != "" && len(w.Batches) > 0, nil
	})
}

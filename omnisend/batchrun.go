package omnisend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/bulk"
	"github.com/shopcrm/shopcrm/omnisend/internal/wire"
)

// BatchRunOptions tune [BatchesService.Run].
type BatchRunOptions struct {
	// Origin is sent with every batch (optional).
	Origin string
	// BatchSize is the most items per batch: DefaultBatchSize (100) when
	// zero. Omnisend's v3 API allowed 1,000; raise it only for a version
	// that does.
	BatchSize int
	// PollInterval is the wait between reads of an unfinished batch
	// (default 1 s).
	PollInterval time.Duration
	// OnResult, when set, receives each item's result as soon as its batch
	// is done (in no particular order, from one goroutine at a time), so
	// that a caller can work on them while later batches wait for the
	// rate limit.
	OnResult func(BatchItemResult)
}

// BatchItemResult is what became of one item of a Run: Applied when the
// batch reported it with a 2xx code, Failed with a *BatchItemError for a
// 4xx or 5xx, Unknown when the batch may exist but its results were not
// read (a lost answer), NotSent after a terminal error.
type BatchItemResult struct {
	Index        int             // position in the input
	Outcome      shopcrm.Outcome // see above
	ResponseCode int             // the endpoint's status for the item
	Response     json.RawMessage // the endpoint's answer for the item
	BatchID      string
	Err          error
}

// BatchItemError is an item a batch processed with an error status.
type BatchItemError struct {
	BatchID      string
	ItemID       string
	ResponseCode int
	Response     json.RawMessage
}

// Error gives the batch, the item and the status.
func (e *BatchItemError) Error() string {
	return fmt.Sprintf("omnisend: batch %s item %s: %d %s", e.BatchID, e.ItemID, e.ResponseCode, bytes.TrimSpace(e.Response))
}

// Run sends items to endpoint in batches of up to BatchSize, MaxInFlight
// batches at once, waits for each to finish and returns one result per
// item in input order, with the terminal error that stopped it, if any.
// Items are matched to the batch's per-item results by their request
// body. Batching events can fire automations again for events already
// sent; send real-time events with [EventsService.Send] instead.
func (s *BatchesService) Run(ctx context.Context, method, endpoint string, items []json.RawMessage, opts BatchRunOptions) ([]BatchItemResult, error) {
	size := opts.BatchSize
	if size == 0 {
		size = DefaultBatchSize
	}
	if size < 1 {
		return nil, &InputError{Field: "BatchRunOptions.BatchSize", Value: strconv.Itoa(size), Reason: "must be positive"}
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	for i := 0; i < len(items); i += size {
		r := &BatchRequest{Method: method, Endpoint: endpoint, Origin: opts.Origin, Items: items[i:min(i+size, len(items))]}
		if err := r.check(size); err != nil {
			return nil, err
		}
	}
	res := make([]BatchItemResult, len(items))
	w := bulk.Writer[json.RawMessage]{
		Max:      bulk.Limits{Items: size},
		InFlight: s.c.maxInFlight,
		Send: func(ctx context.Context, c *bulk.Chunk[json.RawMessage]) error {
			b, _, err := s.create(ctx, &BatchRequest{Method: method, Endpoint: endpoint, Origin: opts.Origin, Items: c.Items}, size)
			if err != nil {
				return err
			}
			for _, i := range c.Index {
				res[i].BatchID = b.ID
			}
			done, err := s.Wait(ctx, b.ID, opts.PollInterval)
			if err != nil {
				for i := range c.Results {
					c.Results[i] = bulk.ItemResult{Outcome: shopcrm.Unknown, Err: fmt.Errorf("omnisend: batch %s: %w", b.ID, err)}
				}
				return nil
			}
			s.match(done, c, res)
			return nil
		},
		Classify: func(err error) bulk.Class {
			var ie *BatchItemError
			if errors.As(err, &ie) {
				return bulk.Class{Outcome: shopcrm.Failed}
			}
			return classify(err)
		},
		OnResult: func(r bulk.Result[json.RawMessage]) {
			res[r.Index].Index, res[r.Index].Outcome, res[r.Index].Err = r.Index, r.Outcome, r.Err
			if opts.OnResult != nil {
				opts.OnResult(res[r.Index])
			}
		},
	}
	_, err := w.Run(ctx, slices.Values(items))
	return res, err
}

// match gives each item of c the result the batch reported for a request
// equal to it.
func (s *BatchesService) match(b *Batch, c *bulk.Chunk[json.RawMessage], res []BatchItemResult) {
	byBody := map[string][]BatchItem{}
	for _, it := range append(slices.Clone(b.Responses), b.Errors...) {
		k := canonical(it.Request)
		byBody[k] = append(byBody[k], it)
	}
	for j, item := range c.Items {
		k := canonical(item)
		got := byBody[k]
		if len(got) == 0 {
			c.Results[j] = bulk.ItemResult{Outcome: shopcrm.Unknown, Err: fmt.Errorf("omnisend: batch %s (%s) reported no result for the item", b.ID, b.Status)}
			continue
		}
		it := got[0]
		byBody[k] = got[1:]
		i := c.Index[j]
		res[i].ResponseCode, res[i].Response = it.ResponseCode, it.Response
		if it.ResponseCode < 200 || it.ResponseCode > 299 {
			c.Results[j] = bulk.ItemResult{Outcome: shopcrm.Failed, Err: &BatchItemError{BatchID: b.ID, ItemID: it.ItemID, ResponseCode: it.ResponseCode, Response: it.Response}}
		}
	}
}

// canonical compacts JSON so that spacing does not matter. Omnisend
// echoes each item's request; a server that also reordered keys would
// leave its items Unknown, never matched to the wrong item.
func canonical(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// Contact decodes the item's response as the contact a contacts batch
// created or updated.
func (r *BatchItemResult) Contact() (*Contact, error) {
	var w wire.Contact
	if err := json.Unmarshal(r.Response, &w); err != nil {
		return nil, &shopcrm.ResponseError{Op: "batch item " + strconv.Itoa(r.Index), Err: err}
	}
	if w.ID == "" {
		return nil, &shopcrm.ResponseError{Op: "batch item " + strconv.Itoa(r.Index), Reason: "no contact in the response"}
	}
	return contactOf(&w), nil
}

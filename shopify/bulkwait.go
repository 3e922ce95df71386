package shopify

import (
	"context"
	"errors"
	"iter"
	"time"
)

// DefaultBulkPollInterval is how often [BulkService.Wait] reads an
// operation's status unless told otherwise. Shopify documents no rate;
// a status read costs one point.
const DefaultBulkPollInterval = 2 * time.Second

// WaitOptions tune [BulkService.Wait].
type WaitOptions struct {
	// Interval between status reads; 0 means DefaultBulkPollInterval.
	Interval time.Duration
	// Finished, when set, delivers the ids of bulk operations the
	// bulk_operations/finish webhook reported (BulkOperationFinishPayload.GID):
	// Wait then reads the status when told, and polls only every
	// PollWithWebhook as a safety net against a lost webhook. Closing it
	// returns Wait to polling every Interval.
	Finished <-chan string
	// PollWithWebhook is the safety-net interval used with Finished; 0
	// means ten times Interval.
	PollWithWebhook time.Duration
}

// Wait reads the operation's status until it is final and returns it. A
// COMPLETED operation is returned with a nil error; FAILED, CANCELED and
// EXPIRED ones with a *BulkOperationError (which carries the operation,
// partial data URL and error code included).
func (s *BulkService) Wait(ctx context.Context, id string, opts *WaitOptions) (*BulkOperation, error) {
	if err := checkBulkID(id); err != nil {
		return nil, err
	}
	var o WaitOptions
	if opts != nil {
		o = *opts
	}
	if o.Interval < 0 || o.PollWithWebhook < 0 {
		return nil, &InputError{Field: "WaitOptions.Interval", Reason: "must not be negative"}
	}
	if o.Interval == 0 {
		o.Interval = DefaultBulkPollInterval
	}
	every := o.Interval
	if o.Finished != nil {
		every = o.PollWithWebhook
		if every == 0 {
			every = 10 * o.Interval
		}
	}
	t := time.NewTimer(0)
	defer t.Stop()
	finished := o.Finished
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		case got, ok := <-finished:
			if !ok {
				// No more webhooks: poll at the plain interval.
				finished, every = nil, o.Interval
				t.Reset(0)
				continue
			}
			if got != id {
				continue
			}
		}
		op, _, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if op.Status.Final() {
			if op.Status != BulkCompleted {
				return op, &BulkOperationError{Operation: op}
			}
			return op, nil
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(every)
	}
}

// BulkQueryOptions tune [BulkService.Query].
type BulkQueryOptions struct {
	// Wait tunes the wait for the result.
	Wait WaitOptions
	// WaitInProgress makes Query wait for a free slot, starting the
	// query again every Wait.Interval, while the app already runs as many
	// bulk queries as its API version allows. Without it that case ends
	// the sequence with a *BulkInProgressError.
	WaitInProgress bool
	// Partial makes a failed operation that wrote partial data yield
	// those rows before its *BulkOperationError. The last root object may
	// then miss children.
	Partial bool
	// Started, when set, is called with the operation once Shopify
	// accepted it: its id can be kept to cancel it or to find it again.
	Started func(*BulkOperation)
}

// Query runs a bulk query, waits for it and streams its result: the
// whole of [BulkService.RunQuery], [BulkService.Wait] and
// [BulkService.Rows]. Errors end the sequence: the run's refusal, a
// *BulkOperationError for an operation that did not complete, a
// *StorageError for a download that broke. Breaking out of the loop stops
// reading; the operation itself has already finished by then.
func (s *BulkService) Query(ctx context.Context, query string, opts *BulkQueryOptions) iter.Seq2[*BulkRow, error] {
	var o BulkQueryOptions
	if opts != nil {
		o = *opts
	}
	return func(yield func(*BulkRow, error) bool) {
		op, err := s.start(ctx, o.WaitInProgress, o.Wait.Interval, func() (*BulkOperation, error) {
			op, _, err := s.RunQuery(ctx, query)
			return op, err
		})
		if err != nil {
			yield(nil, err)
			return
		}
		if o.Started != nil {
			o.Started(op)
		}
		done, err := s.Wait(ctx, op.ID, &o.Wait)
		var be *BulkOperationError
		if errors.As(err, &be) && o.Partial && done.PartialDataURL != "" {
			for row, rerr := range s.Rows(ctx, done.PartialDataURL) {
				if !yield(row, rerr) || rerr != nil {
					return
				}
			}
		}
		if err != nil {
			yield(nil, err)
			return
		}
		if done.URL == "" {
			return // no object matched: Shopify writes no file
		}
		for row, err := range s.Rows(ctx, done.URL) {
			if !yield(row, err) || err != nil {
				return
			}
		}
	}
}

// start runs begin, and when asked to wait runs it again every interval
// while the answer is OPERATION_IN_PROGRESS.
func (s *BulkService) start(ctx context.Context, wait bool, interval time.Duration, begin func() (*BulkOperation, error)) (*BulkOperation, error) {
	if interval <= 0 {
		interval = DefaultBulkPollInterval
	}
	for {
		op, err := begin()
		var busy *BulkInProgressError
		if !wait || !errors.As(err, &busy) {
			return op, err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

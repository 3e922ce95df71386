package bulk

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"

	"github.com/shopcrm/shopcrm"
)

// Outcome is what became of one item; see [shopcrm.Outcome].
type Outcome = shopcrm.Outcome

// The outcomes of an item.
const (
	Applied = shopcrm.Applied
	Failed  = shopcrm.Failed
	Unknown = shopcrm.Unknown
	NotSent = shopcrm.NotSent
)

// Result is the outcome of one input item.
type Result[T any] struct {
	// Index is the item's position in the input, from 0.
	Index int
	// Item is the item itself.
	Item T
	// Outcome says what became of it.
	Outcome Outcome
	// Err says why it is not Applied; nil when it is.
	Err error
}

// ItemResult is what a send reports for one item of its chunk.
//
// The zero value means applied. An entry with Err set and no Outcome takes
// the Outcome that [Writer.Classify] gives Err, so a send can record the
// error it got and leave the meaning to the classifier.
type ItemResult struct {
	Outcome Outcome
	Err     error
}

// Chunk is one request's worth of items, handed to [Writer.Send].
type Chunk[T any] struct {
	// Seq numbers the chunks from 0 in the order they were cut. With
	// static limits the same input gives the same chunks, so a send may
	// derive an idempotency key from it (LINE's X-Line-Retry-Key).
	Seq int
	// Items are the items to send, in input order.
	Items []T
	// Index holds each item's position in the input (for error paths
	// such as "To[503]").
	Index []int
	// Results has one entry per item, zeroed (applied). Send sets the
	// entries of the items that did not apply.
	Results []ItemResult
}

// Limits bound one chunk.
type Limits struct {
	// Items is the most items in one chunk.
	Items int
	// Weight is the most total weight in one chunk; 0 means no bound.
	Weight int
}

// Progress counts what a run has done so far; see [shopcrm.Progress].
type Progress = shopcrm.Progress

// Class is what an error means for the items it concerns.
type Class struct {
	// Outcome is the items' outcome: Failed, Unknown or NotSent.
	Outcome Outcome
	// Terminal stops the run: no request starts after it, and every item
	// not yet sent is reported NotSent.
	Terminal bool
}

// DefaultClassify is the classifier a [Writer] uses when it has none:
//
//   - a context error is terminal and leaves the items Unknown, since the
//     request may have reached the server before the deadline;
//   - shopcrm.ErrUnauthorized and shopcrm.ErrQuotaExceeded are terminal
//     and fail the items: every later request would get the same answer;
//   - the other shopcrm sentinels (rate limited, not found, conflict,
//     invalid input) are answers the server gave without acting: Failed;
//   - anything else (a network error, a 5xx, a body that did not decode)
//     is Unknown: nothing proves the server did not act.
//
// Clients wrap it to add what they know, e.g. that a dial error means the
// request never left.
func DefaultClassify(err error) Class {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Class{Outcome: Unknown, Terminal: true}
	case errors.Is(err, shopcrm.ErrUnauthorized), errors.Is(err, shopcrm.ErrQuotaExceeded):
		return Class{Outcome: Failed, Terminal: true}
	case errors.Is(err, shopcrm.ErrRateLimited), errors.Is(err, shopcrm.ErrNotFound),
		errors.Is(err, shopcrm.ErrConflict), errors.Is(err, shopcrm.ErrInvalidInput):
		return Class{Outcome: Failed}
	}
	return Class{Outcome: Unknown}
}

// ClassifyIn is DefaultClassify for a run under ctx: a context error stops
// the run only when ctx itself is done. One attempt's own timeout (an HTTP
// client's Timeout, which also matches context.DeadlineExceeded) leaves
// its items Unknown, and the run goes on with the others.
func ClassifyIn(ctx context.Context, err error) Class {
	c := DefaultClassify(err)
	if c.Terminal && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		c.Terminal = false
	}
	return c
}

// ErrNotSent matches the error of every item reported NotSent.
var ErrNotSent = shopcrm.ErrNotSent

// NotSentError is the error of an item the engine did not send.
type NotSentError = shopcrm.NotSentError

// WeightError fails an item that cannot go in any chunk: its weight alone
// exceeds the chunk's weight limit, or is negative. It matches
// shopcrm.ErrInvalidInput: sending it again will not help.
type WeightError struct {
	// Weight is the item's weight.
	Weight int
	// Max is the weight limit of the chunk it was refused from.
	Max int
}

// Error describes the error.
func (e *WeightError) Error() string {
	if e.Weight < 0 {
		return fmt.Sprintf("item weight %d is negative", e.Weight)
	}
	return fmt.Sprintf("item weight %d exceeds the chunk limit of %d", e.Weight, e.Max)
}

// Is matches shopcrm.ErrInvalidInput.
func (e *WeightError) Is(target error) bool { return target == shopcrm.ErrInvalidInput }

// Writer describes a bulk write: the platform's limits, how to send one
// chunk, and where outcomes go. Set Send and Max.Items; the other fields
// are optional. A Writer is not changed by Run and may run several inputs
// at once. Limit, Weight and Key are called from the goroutine that called
// Run, one call at a time.
type Writer[T any] struct {
	// Send sends one chunk. It returns nil and fills c.Results with
	// per-item outcomes, or returns one error for the whole chunk, which
	// Classify turns into the outcome of every item (c.Results is then
	// ignored). It runs on several goroutines at once (see InFlight) and
	// must honour ctx. It must not keep c or its slices after returning:
	// their memory is reused for later chunks. Retries inside Send are
	// safe for ordering: the chunk's keys stay held until Send returns.
	Send func(ctx context.Context, c *Chunk[T]) error

	// Max is the platform's ceiling for one chunk: Items is required.
	Max Limits
	// Limit, when set, is consulted each time a chunk is cut and may
	// lower Max for that chunk, for limits learned while running
	// (Shopify's bucket size). Zero fields leave Max as it is; the
	// result never exceeds Max. A chunk is cut while the chunks before it
	// are in flight, so its limits reflect the responses to the chunks
	// before those.
	Limit func() Limits
	// Weight gives an item's weight (bytes, query cost); nil counts 0. An
	// item heavier than the chunk's weight limit fails with *WeightError
	// without being sent.
	Weight func(T) int

	// Key names the resource an item writes to; nil means no ordering.
	// Writes to one key take effect in input order: a chunk holding key k
	// starts only after every earlier chunk holding k has finished.
	// Consecutive items with one key are kept in one chunk when the
	// limits allow, so that they do not make chunks wait on each other.
	// Keys are compared by a 64-bit hash: a collision can only add a wait.
	Key func(T) string
	// DistinctKeys allows at most one item per key in a chunk, for
	// platforms that do not apply the items of one request in order.
	DistinctKeys bool

	// InFlight is the most chunks being sent at once; 0 means 1. The next
	// chunk is cut meanwhile, so that a sender finishing one request
	// starts the next without waiting.
	InFlight int
	// Classify says what an error from Send (or in c.Results) means; nil
	// means DefaultClassify. It runs on several goroutines at once.
	Classify func(error) Class

	// OnResult, when set, receives every item's result exactly once.
	// Progress, when set, receives the counts after each chunk's results
	// (and after results the engine decides alone: not sent, too heavy).
	// Both are called from one goroutine, one call at a time, in order,
	// never under a lock of the engine. A slow callback holds the engine
	// back (results are not queued without bound) but never deadlocks it.
	OnResult func(Result[T])
	Progress func(Progress)

	// hooks lets the tests observe the engine under its lock.
	hooks *hooks
}

// hooks are called with the engine's lock held, so that tests can order
// chunk starts against the moment a terminal error is recorded.
type hooks struct {
	start func(seq int)
	stop  func(err error)
}

// Collect runs the write like Run and returns every result, in input
// order, as well as passing each to OnResult. It is for inputs small
// enough to hold in memory.
func (w *Writer[T]) Collect(ctx context.Context, items iter.Seq[T]) ([]Result[T], error) {
	var out []Result[T]
	cw := *w
	cw.OnResult = func(r Result[T]) {
		out = append(out, r)
		if w.OnResult != nil {
			w.OnResult(r)
		}
	}
	_, err := cw.Run(ctx, items)
	slices.SortFunc(out, func(a, b Result[T]) int { return a.Index - b.Index })
	return out, err
}

// check reports a Writer that cannot run.
func (w *Writer[T]) check() error {
	switch {
	case w.Send == nil:
		return &shopcrm.InputError{Field: "Writer.Send", Reason: "nil"}
	case w.Max.Items <= 0:
		return &shopcrm.InputError{Field: "Writer.Max.Items", Value: strconv.Itoa(w.Max.Items), Reason: "must be positive"}
	case w.Max.Weight < 0:
		return &shopcrm.InputError{Field: "Writer.Max.Weight", Value: strconv.Itoa(w.Max.Weight), Reason: "must not be negative"}
	case w.InFlight < 0:
		return &shopcrm.InputError{Field: "Writer.InFlight", Value: strconv.Itoa(w.InFlight), Reason: "must not be negative"}
	}
	return nil
}

package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/tagging"
)

// BulkApplyOptions tune [TagsService.ApplyBulk].
type BulkApplyOptions struct {
	// Wait tunes the wait for each operation.
	Wait WaitOptions
	// WaitInProgress makes ApplyBulk wait while another bulk mutation of
	// the app runs, instead of stopping with a *BulkInProgressError.
	WaitInProgress bool
	// MaxFileSize bounds each staged file; 0 means MaxStagedUploadSize.
	MaxFileSize int
	// Progress, when set, is called after each bulk operation (Chunks
	// counts them) with the changes whose every mutation is decided so
	// far, and once at the end. Calls come one at a time, in order.
	Progress func(shopcrm.Progress)
}

// ApplyAuto applies changes with aliased batches ([TagsService.Apply])
// or, when there are more than the client's bulk threshold
// ([WithBulkTagThreshold], default [DefaultBulkTagThreshold]), with bulk
// mutations ([TagsService.ApplyBulk]). Both return the same results.
// Above the threshold only opts.Progress applies.
func (s *TagsService) ApplyAuto(ctx context.Context, changes []tagging.Change, opts *ApplyOptions) ([]ChangeResult, error) {
	if n := s.c.bulkOver; n > 0 && len(changes) > n {
		var bo *BulkApplyOptions
		if opts != nil {
			bo = &BulkApplyOptions{Progress: opts.Progress}
		}
		return s.ApplyBulk(ctx, changes, bo)
	}
	return s.Apply(ctx, changes, opts)
}

// bulkTagOp is one tagsAdd or tagsRemove of a bulk plan.
type bulkTagOp struct {
	tagOp
	change  int // index of its change
	outcome shopcrm.Outcome
	err     error
}

const (
	bulkTagsAdd    = `mutation tagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { field message } } }`
	bulkTagsRemove = `mutation tagsRemove($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { userErrors { field message } } }`
)

// ApplyBulk applies tag changes with bulk mutations: the changes'
// tagsAdd and tagsRemove go into staged JSONL files of at most
// MaxStagedUploadSize bytes and run as bulk mutations, one after the
// other. Shopify runs one mutation type per operation, so removals and
// additions run in rounds that alternate between the two, and a
// resource's operations go into successive rounds in input order: the
// changes to one resource take effect in the order given, as with Apply.
// Most inputs take two rounds; a resource changed several times takes
// more.
//
// It returns one result per change, as Apply does: Applied when every
// mutation of the change ran without userErrors, Failed when one was
// refused (or the change was invalid and never sent), Unknown when an
// operation failed without a result for it (tag edits are idempotent:
// applying it again is safe), NotSent when an earlier error stopped the
// run or an earlier change to the same resource has an unknown outcome.
// The error is the one that stopped the run (a refused upload or
// operation, a cancelled context); results are complete even then.
func (s *TagsService) ApplyBulk(ctx context.Context, changes []tagging.Change, opts *BulkApplyOptions) ([]ChangeResult, error) {
	var o BulkApplyOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxFileSize <= 0 || o.MaxFileSize > MaxStagedUploadSize {
		o.MaxFileSize = MaxStagedUploadSize
	}
	res := make([]ChangeResult, len(changes))
	var rounds [][]*bulkTagOp
	last := map[string]int{} // resource -> last round used + 1
	left := make([]int, len(changes))
	prog := shopcrm.Progress{Seen: len(changes)}
	count := func(r *ChangeResult) {
		switch r.Outcome {
		case shopcrm.Applied:
			prog.Applied++
		case shopcrm.Failed:
			prog.Failed++
		case shopcrm.Unknown:
			prog.Unknown++
		case shopcrm.NotSent:
			prog.NotSent++
		}
	}
	decide := func(ops []*bulkTagOp) {
		for _, op := range ops {
			worse(&res[op.change], op.outcome, op.err)
			if left[op.change]--; left[op.change] == 0 {
				count(&res[op.change])
			}
		}
	}
	for i, ch := range changes {
		res[i] = ChangeResult{ID: ch.ID, Outcome: shopcrm.Applied, Applied: true}
		if err := s.c.checkChange(ch); err != nil {
			res[i] = ChangeResult{ID: ch.ID, Outcome: shopcrm.Failed, Err: err}
			count(&res[i])
			continue
		}
		if len(ops(ch)) == 0 {
			count(&res[i]) // nothing to do: applied
		}
		for _, op := range ops(ch) {
			left[i]++
			// Even rounds remove, odd rounds add.
			r := last[op.id]
			if (r%2 == 0) != (op.op == "tagsRemove") {
				r++
			}
			for len(rounds) <= r {
				rounds = append(rounds, nil)
			}
			rounds[r] = append(rounds[r], &bulkTagOp{tagOp: op, change: i})
			last[op.id] = r + 1
		}
	}
	var stop error
	doubt := map[string]bool{} // resources with an op of unknown outcome
	seen := map[string]bool{}  // operations this call ran
	for r, round := range rounds {
		doc := bulkTagsRemove
		if r%2 == 1 {
			doc = bulkTagsAdd
		}
		var send, held []*bulkTagOp
		for _, op := range round {
			switch {
			case stop != nil:
				op.outcome, op.err = shopcrm.NotSent, &shopcrm.NotSentError{Reason: stop}
				held = append(held, op)
			case doubt[op.id]:
				op.outcome, op.err = shopcrm.NotSent, &shopcrm.NotSentError{Reason: errors.New("an earlier change to " + op.id + " has an unknown outcome")}
				held = append(held, op)
			default:
				send = append(send, op)
			}
		}
		decide(held)
		for len(send) > 0 && stop == nil {
			file, n := bulkFile(send, o.MaxFileSize)
			part := send[:n]
			send = send[n:]
			if err := s.runBulkFile(ctx, doc, file, part, &o, seen); err != nil {
				stop = err
			}
			for _, op := range part {
				if op.outcome == shopcrm.Unknown {
					doubt[op.id] = true
				}
			}
			decide(part)
			prog.Chunks++
			if o.Progress != nil {
				o.Progress(prog)
			}
		}
		for _, op := range send {
			op.outcome, op.err = shopcrm.NotSent, &shopcrm.NotSentError{Reason: stop}
		}
		decide(send)
	}
	if o.Progress != nil {
		o.Progress(prog)
	}
	return res, stop
}

// worse keeps the worst outcome of a change's mutations: failed, then
// unknown, then not sent, then applied.
func worse(r *ChangeResult, o shopcrm.Outcome, err error) {
	rank := func(o shopcrm.Outcome) int {
		switch o {
		case shopcrm.Failed:
			return 3
		case shopcrm.Unknown:
			return 2
		case shopcrm.NotSent:
			return 1
		}
		return 0
	}
	if rank(o) > rank(r.Outcome) {
		r.Outcome, r.Err, r.Applied = o, err, false
	}
}

// bulkFile writes the variables of as many ops as fit in max bytes and
// returns the file and that count (at least one: a line is far below the
// cap).
func bulkFile(ops []*bulkTagOp, max int) ([]byte, int) {
	var buf bytes.Buffer
	var line []byte
	for i, op := range ops {
		line, _ = json.Marshal(struct {
			ID   string   `json:"id"`
			Tags []string `json:"tags"`
		}{op.id, op.tags})
		if i > 0 && buf.Len()+len(line)+1 > max {
			return buf.Bytes(), i
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), len(ops)
}

// adoptWindow is how far before its own request a current operation may
// have been created (clock skew between client and Shopify) and still be
// taken as the one a lost answer started.
const adoptWindow = 2 * time.Minute

// runBulkFile stages one file, runs the bulk mutation over it, waits and
// reads the result into the ops' outcomes. It returns an error that stops
// the run: the ops then hold NotSent (nothing started) or Unknown.
func (s *TagsService) runBulkFile(ctx context.Context, doc string, file []byte, part []*bulkTagOp, o *BulkApplyOptions, seen map[string]bool) error {
	set := func(out shopcrm.Outcome, err error) {
		for _, op := range part {
			op.outcome, op.err = out, err
		}
	}
	b := s.c.Bulk
	path, err := b.StageUpload(ctx, "tags.jsonl", file)
	if err != nil {
		set(shopcrm.NotSent, &shopcrm.NotSentError{Reason: err})
		return err
	}
	began := time.Now()
	op, err := b.start(ctx, o.WaitInProgress, o.Wait.Interval, func() (*BulkOperation, error) {
		op, _, err := b.RunMutation(ctx, doc, path)
		return op, err
	})
	if err != nil && ctx.Err() == nil && !errors.As(err, new(*UserErrors)) && !errors.As(err, new(*BulkInProgressError)) {
		// The answer was lost: the operation may have started. The
		// current bulk mutation, if it runs this document and started
		// since, is taken as ours (before 2026-01 Shopify runs one per
		// app at a time; from 2026-01, five, so another caller's start of
		// the same document at that moment would be taken for this one).
		if cur, _, cerr := b.Current(ctx, BulkMutation); cerr == nil && cur != nil && cur.Query == doc &&
			!seen[cur.ID] && !cur.CreatedAt.Before(began.Add(-adoptWindow)) {
			op, err = cur, nil
		}
	}
	if op != nil {
		seen[op.ID] = true
	}
	if err != nil {
		// Not retried unless refused, so a lost answer may hide a
		// started operation.
		out := shopcrm.NotSent
		if !errors.As(err, new(*UserErrors)) && !errors.As(err, new(*BulkInProgressError)) && !errors.As(err, new(*InputError)) {
			out = shopcrm.Unknown
		}
		set(out, err)
		if out == shopcrm.NotSent {
			set(out, &shopcrm.NotSentError{Reason: err})
		}
		return err
	}
	done, err := b.Wait(ctx, op.ID, &o.Wait)
	set(shopcrm.Unknown, errNoResultLine)
	if err != nil && done == nil {
		set(shopcrm.Unknown, err)
		return err
	}
	url := done.URL
	if err != nil {
		url = done.PartialDataURL
		set(shopcrm.Unknown, err)
	}
	if url == "" {
		return err
	}
	name := "tagsRemove"
	if doc == bulkTagsAdd {
		name = "tagsAdd"
	}
	for row, rerr := range b.Rows(ctx, url) {
		if rerr != nil {
			return rerr
		}
		l, derr := DecodeBulkMutationLine(row)
		if derr != nil {
			return derr
		}
		if l.Line < 0 || l.Line >= len(part) {
			return &BulkFormatError{Reason: "__lineNumber " + strconv.Itoa(l.Line) + " out of range"}
		}
		op := part[l.Line]
		op.outcome, op.err = lineOutcome(s.c, name, l)
	}
	return err
}

// lineOutcome reads one result line of a tagsAdd or tagsRemove.
func lineOutcome(c *Client, name string, l *BulkMutationLine) (shopcrm.Outcome, error) {
	if len(l.Errors) > 0 {
		return shopcrm.Failed, &GraphQLErrors{Errors: l.Errors}
	}
	var data map[string]*struct {
		UserErrors userErrorList `json:"userErrors"`
	}
	if err := json.Unmarshal(l.Data, &data); err != nil || data[name] == nil {
		return shopcrm.Unknown, &shopcrm.ResponseError{Op: name, Reason: "no payload in the bulk result line", Err: err}
	}
	if err := c.mutationErrors(name, data[name].UserErrors); err != nil {
		return shopcrm.Failed, err
	}
	return shopcrm.Applied, nil
}

// DefaultBulkTagThreshold is the number of tag changes above which
// [TagsService.ApplyAuto] uses bulk mutations instead of aliased batches
// (see [WithBulkTagThreshold]). Below it the batches finish sooner: a bulk
// mutation has a fixed cost of staging, starting and polling, while
// batches cost about one request per hundred changes.
const DefaultBulkTagThreshold = 20000

// WithBulkTagThreshold sets the number of tag changes above which
// [TagsService.ApplyAuto] runs bulk mutations (default
// [DefaultBulkTagThreshold]); 0 means never.
func WithBulkTagThreshold(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return &InputError{Field: "WithBulkTagThreshold", Value: strconv.Itoa(n), Reason: "must not be negative"}
		}
		c.bulkOver = n
		return nil
	}
}

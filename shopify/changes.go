package shopify

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/bulk"
	"github.com/shopcrm/shopcrm/tagging"
)

// ChangeResult is the outcome of one tagging.Change.
type ChangeResult struct {
	ID string
	// Outcome is what became of the change: shopcrm.Applied, Failed,
	// Unknown (the request may have acted: read the tags back or apply it
	// again, which is safe) or NotSent (a terminal error came first).
	Outcome shopcrm.Outcome
	// Applied is Outcome == shopcrm.Applied.
	Applied bool
	// Err says why the change was not (entirely) applied: an *InputError
	// (never sent), a *UserErrors, a *shopcrm.NotSentError, or the error of
	// the request carrying it.
	Err error
}

// ApplyOptions tunes [TagsService.Apply].
type ApplyOptions struct {
	// Progress, when set, is called after each request with the counts of
	// changes so far. Calls come one at a time, in order, never under a
	// lock of the client.
	Progress func(shopcrm.Progress)
	// MaxInFlight bounds concurrent requests; 0 means the client's
	// (WithMaxInFlight). The cost gate decides how many really run at once.
	MaxInFlight int
	// MaxMutationsPerRequest bounds aliased mutations in one document; 0
	// means as many as the query cost limit and the bucket size allow.
	MaxMutationsPerRequest int
}

type tagOp struct {
	op   string // tagsAdd or tagsRemove
	id   string
	tags []string
}

// ops splits a change into mutations of at most MaxTagsPerCall tags,
// removals first.
func ops(ch tagging.Change) []tagOp {
	var out []tagOp
	for _, kind := range []struct {
		op   string
		tags []string
	}{{"tagsRemove", ch.Remove}, {"tagsAdd", ch.Add}} {
		for t := kind.tags; len(t) > 0; {
			n := min(len(t), MaxTagsPerCall)
			out = append(out, tagOp{op: kind.op, id: ch.ID, tags: t[:n]})
			t = t[n:]
		}
	}
	return out
}

// Apply applies many tag changes with aliased tagsAdd/tagsRemove mutations
// packed into documents under the query cost limit and the current bucket
// size, 250 tags per mutation at most, with several requests in flight. It
// returns one result per change, in order. Changes with a bad ID or tag
// fail without being sent; changes to one resource take effect in input
// order. The error is the terminal error that stopped the run (a cancelled
// context, 401/403), after which nothing more was sent; results are
// complete even then.
func (s *TagsService) Apply(ctx context.Context, changes []tagging.Change, opts *ApplyOptions) ([]ChangeResult, error) {
	res := make([]ChangeResult, len(changes))
	_, err := s.ApplySeq(ctx, slices.Values(changes), opts, func(i int, r ChangeResult) { res[i] = r })
	return res, err
}

// ApplySeq is Apply for a stream of changes of any length: each result
// goes to each (with the change's position in the input) as soon as it is
// known, one call at a time, so memory stays bounded by the requests in
// flight.
func (s *TagsService) ApplySeq(ctx context.Context, changes iter.Seq[tagging.Change], opts *ApplyOptions, each func(int, ChangeResult)) (shopcrm.Progress, error) {
	if opts == nil {
		opts = &ApplyOptions{}
	}
	inFlight := opts.MaxInFlight
	if inFlight <= 0 {
		inFlight = s.c.maxInFlight
	}
	maxWeight := MaxQueryCost
	if m := opts.MaxMutationsPerRequest; m > 0 {
		maxWeight = min(maxWeight, m*mutationCost)
	}
	w := bulk.Writer[tagging.Change]{
		Max: bulk.Limits{Items: MaxQueryCost / mutationCost, Weight: maxWeight},
		// A document may cost up to four fifths of the gate's bucket: the
		// rest absorbs a request that reaches Shopify late, which would
		// otherwise leave the server's bucket full and wasting restore
		// while the next one is already on its way.
		Limit: func() bulk.Limits { return bulk.Limits{Weight: max(s.c.gate.Burst()*4/5, mutationCost)} },
		// A valid change is at most two mutations (a resource holds at most
		// 250 tags); an invalid one weighs one and fails in sendChunk
		// without being sent.
		Weight: func(ch tagging.Change) int {
			if n := len(ops(ch)); n == 2 {
				return 2 * mutationCost
			}
			return mutationCost
		},
		Key:      func(ch tagging.Change) string { return ch.ID },
		InFlight: inFlight,
		Send:     s.sendChunk,
		Progress: opts.Progress,
		OnResult: func(r bulk.Result[tagging.Change]) {
			if each != nil {
				each(r.Index, ChangeResult{ID: r.Item.ID, Outcome: r.Outcome, Applied: r.Outcome == shopcrm.Applied, Err: r.Err})
			}
		},
	}
	return w.Run(ctx, changes)
}

// sendChunk sends one document for a chunk of changes: the valid ones'
// mutations, in order; invalid changes fail without being sent.
func (s *TagsService) sendChunk(ctx context.Context, c *bulk.Chunk[tagging.Change]) error {
	var all []tagOp
	var owner []int // change of each op, within the chunk
	for i, ch := range c.Items {
		if err := s.c.checkChange(ch); err != nil {
			c.Results[i] = bulk.ItemResult{Outcome: shopcrm.Failed, Err: err}
			continue
		}
		for _, op := range ops(ch) {
			all = append(all, op)
			owner = append(owner, i)
		}
	}
	if len(all) == 0 {
		return nil
	}
	errs, whole := s.send(ctx, all)
	if ob := (*overBucketError)(nil); errors.As(whole, &ob) && len(c.Items) > 1 {
		// Cut before an answer reported a bucket smaller than the guess:
		// nothing ran, so send each half on its own.
		h := len(c.Items) / 2
		for _, part := range [][2]int{{0, h}, {h, len(c.Items)}} {
			sub := &bulk.Chunk[tagging.Change]{Seq: c.Seq, Items: c.Items[part[0]:part[1]], Index: c.Index[part[0]:part[1]], Results: c.Results[part[0]:part[1]]}
			if err := s.sendChunk(ctx, sub); err != nil {
				return err
			}
		}
		return nil
	}
	if whole != nil {
		// Errors of the whole document (a validation error) mean nothing
		// ran; other errors (network, 5xx, cancelled) are the engine's to
		// classify.
		res := bulk.ItemResult{Err: whole}
		if errors.As(whole, new(*GraphQLErrors)) {
			res.Outcome = shopcrm.Failed
		}
		for i := range c.Items {
			if c.Results[i].Err == nil && slices.Contains(owner, i) {
				c.Results[i] = res
			}
		}
		return nil
	}
	for j, err := range errs {
		if r := &c.Results[owner[j]]; err != nil && r.Err == nil {
			// A refusal (userErrors, an error on the alias) means the
			// mutation did not run; a missing payload leaves the outcome
			// to the engine's classifier: unknown.
			*r = bulk.ItemResult{Err: err}
			if !errors.Is(err, shopcrm.ErrMalformedResponse) {
				r.Outcome = shopcrm.Failed
			}
		}
	}
	return nil
}

func (c *Client) checkChange(ch tagging.Change) error {
	if err := checkID("ID", ch.ID, tagTypes...); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		tags []string
	}{{"Add", ch.Add}, {"Remove", ch.Remove}} {
		if err := checkTags(f.name, f.tags, c.tagMax(ch.ID)); err != nil {
			return err
		}
	}
	seen := make(map[string]bool, len(ch.Add))
	for _, t := range ch.Add {
		seen[strings.ToLower(t)] = true
	}
	for i, t := range ch.Remove {
		if seen[strings.ToLower(t)] {
			return &InputError{Field: "Remove[" + strconv.Itoa(i) + "]", Value: short(t), Reason: "tag is also in Add"}
		}
	}
	if n := len(ch.Add); n > tagging.MaxTags {
		return &InputError{Field: "Add", Reason: fmt.Sprintf("more than %d tags", tagging.MaxTags)}
	}
	if n := len(ch.Remove); n > tagging.MaxTags {
		return &InputError{Field: "Remove", Reason: fmt.Sprintf("more than %d tags (no resource holds more)", tagging.MaxTags)}
	}
	return nil
}

// send runs one document of aliased mutations. It returns the error of the
// request when it has no answer to give per mutation (whole), else an
// error per op: nil when applied, or what refused it.
func (s *TagsService) send(ctx context.Context, ops []tagOp) (errs []error, whole error) {
	var b strings.Builder
	b.WriteString("mutation applyTags(")
	vars := make(map[string]any, 2*len(ops))
	for i, op := range ops {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$i%d: ID!, $t%d: [String!]!", i, i)
		vars["i"+strconv.Itoa(i)] = op.id
		vars["t"+strconv.Itoa(i)] = op.tags
	}
	b.WriteString(") {\n")
	for i, op := range ops {
		fmt.Fprintf(&b, "  m%d: %s(id: $i%d, tags: $t%d) { userErrors { field message } }\n", i, op.op, i, i)
	}
	b.WriteString("}")
	var out map[string]*struct {
		UserErrors userErrorList `json:"userErrors"`
	}
	_, err := s.c.do(ctx, &call{query: b.String(), vars: vars, cost: mutationCost * len(ops), retry: idempotent}, &out)
	names := make([]string, len(ops))
	for i, op := range ops {
		names[i] = op.op
	}
	return s.c.perAlias(err, names, func(alias string) (userErrorList, bool) {
		if p := out[alias]; p != nil {
			return p.UserErrors, true
		}
		return userErrorList{}, false
	})
}

// perAlias reads the answer to a document of aliased mutations m0, m1, ...
// (ops names each one's mutation) whose request ended with err. It returns
// the error of the request when it has no answer to give per mutation
// (whole), else an error per mutation: nil when applied, the userErrors or
// the error on the alias that refused it, or a *shopcrm.ResponseError when
// the answer holds no payload for it (payload reports false) or a payload
// without its userErrors.
func (c *Client) perAlias(err error, ops []string, payload func(alias string) (userErrorList, bool)) (errs []error, whole error) {
	var gqlErrs *GraphQLErrors
	if err != nil && (!errors.As(err, &gqlErrs) || errors.As(err, new(*overBucketError))) {
		return nil, err
	}
	// Errors with a path name the alias they belong to; the others fail
	// the whole document.
	byAlias := map[string]error{}
	if gqlErrs != nil {
		for _, ge := range gqlErrs.Errors {
			if len(ge.Path) > 0 {
				if a, ok := ge.Path[0].(string); ok {
					byAlias[a] = ge
					continue
				}
			}
			return nil, gqlErrs
		}
	}
	errs = make([]error, len(ops))
	for i, op := range ops {
		alias := "m" + strconv.Itoa(i)
		ues, ok := payload(alias)
		switch {
		case byAlias[alias] != nil:
			errs[i] = byAlias[alias]
		case !ok:
			errs[i] = &shopcrm.ResponseError{Op: op, Reason: "no payload for " + alias}
		default:
			errs[i] = c.mutationErrors(op, ues)
		}
	}
	return errs, nil
}

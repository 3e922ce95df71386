package shopify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/shopcrm/shopcrm/tagging"
)

// ChangeResult is the outcome of one tagging.Change.
type ChangeResult struct {
	ID      string
	Applied bool
	// Err says why the change was not (entirely) applied: an *InputError
	// (never sent), a *UserErrors, or the error of the request carrying it.
	Err error
}

// ApplyOptions tunes [TagsService.Apply].
type ApplyOptions struct {
	// Progress, when set, is called after each request with the number of
	// changes finished so far and the total. Calls may come from several
	// goroutines but never concurrently.
	Progress func(done, total int)
	// MaxInFlight bounds concurrent requests; 0 means 8. The cost gate
	// decides how many of them really run at once.
	MaxInFlight int
	// MaxMutationsPerRequest bounds aliased mutations in one document; 0
	// means as many as the query cost limit and the bucket size allow.
	MaxMutationsPerRequest int
}

type tagOp struct {
	change int
	op     string // tagsAdd or tagsRemove
	id     string
	tags   []string
}

// Apply applies many tag changes with aliased tagsAdd/tagsRemove mutations
// packed into documents under the query cost limit and the current bucket
// size, 250 tags per mutation at most, with as many requests in flight as
// the bucket allows. It returns one result per change, in order. Changes
// with a bad ID or tag fail without being sent. The error is non-nil only
// when ctx ended; results are still complete (unsent changes fail with
// ctx's error).
func (s *TagsService) Apply(ctx context.Context, changes []tagging.Change, opts *ApplyOptions) ([]ChangeResult, error) {
	if opts == nil {
		opts = &ApplyOptions{}
	}
	res := make([]ChangeResult, len(changes))
	remaining := make([]int, len(changes))
	var ops []tagOp
	for i, ch := range changes {
		res[i].ID = ch.ID
		if err := checkChange(ch); err != nil {
			res[i].Err = err
			continue
		}
		for _, kind := range []struct {
			op   string
			tags []string
		}{{"tagsRemove", ch.Remove}, {"tagsAdd", ch.Add}} {
			for t := kind.tags; len(t) > 0; {
				n := min(len(t), MaxTagsPerCall)
				ops = append(ops, tagOp{change: i, op: kind.op, id: ch.ID, tags: t[:n]})
				remaining[i]++
				t = t[n:]
			}
		}
		if remaining[i] == 0 {
			res[i].Applied = true
		}
	}

	// A document may cost up to four fifths of the gate's bucket: the rest
	// absorbs a request that reaches Shopify late, which would otherwise
	// leave the server's bucket full and wasting restore while the next
	// one is already on its way.
	per := min(MaxQueryCost, s.c.gate.Burst()*4/5) / mutationCost
	per = max(per, 1)
	if opts.MaxMutationsPerRequest > 0 && opts.MaxMutationsPerRequest < per {
		per = opts.MaxMutationsPerRequest
	}
	var batches [][]tagOp
	for len(ops) > 0 {
		n := min(len(ops), per)
		batches = append(batches, ops[:n])
		ops = ops[n:]
	}

	total := len(changes)
	var mu sync.Mutex
	done := 0
	for i := range res {
		if remaining[i] == 0 {
			done++
		}
	}
	finish := func(op tagOp, err error) {
		if err != nil && res[op.change].Err == nil {
			res[op.change].Err = err
		}
		remaining[op.change]--
		if remaining[op.change] == 0 {
			res[op.change].Applied = res[op.change].Err == nil
			done++
		}
	}

	inFlight := opts.MaxInFlight
	if inFlight <= 0 {
		inFlight = 8
	}
	work := make(chan []tagOp)
	var wg sync.WaitGroup
	for range min(inFlight, len(batches)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				errs := s.send(ctx, b)
				mu.Lock()
				for j, op := range b {
					finish(op, errs[j])
				}
				if opts.Progress != nil {
					opts.Progress(done, total)
				}
				mu.Unlock()
			}
		}()
	}
	var ctxErr error
feed:
	for i, b := range batches {
		select {
		case work <- b:
		case <-ctx.Done():
			ctxErr = ctx.Err()
			mu.Lock()
			for _, rest := range batches[i:] {
				for _, op := range rest {
					finish(op, ctxErr)
				}
			}
			mu.Unlock()
			break feed
		}
	}
	close(work)
	wg.Wait()
	if ctxErr == nil {
		ctxErr = ctx.Err()
	}
	return res, ctxErr
}

func checkChange(ch tagging.Change) error {
	if err := checkID("ID", ch.ID, tagTypes...); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		tags []string
	}{{"Add", ch.Add}, {"Remove", ch.Remove}} {
		if len(f.tags) == 0 {
			continue
		}
		if err := checkTags(f.name, f.tags); err != nil {
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
	return nil
}

// send runs one document of aliased mutations and returns an error per op.
func (s *TagsService) send(ctx context.Context, ops []tagOp) []error {
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
		UserErrors []UserError `json:"userErrors"`
	}
	_, err := s.c.do(ctx, &call{query: b.String(), vars: vars, cost: mutationCost * len(ops), retry: idempotent}, &out)
	errs := make([]error, len(ops))
	var gqlErrs *GraphQLErrors
	if err != nil && !errors.As(err, &gqlErrs) {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	// Errors with a path name the alias they belong to; the others fail
	// the whole document.
	byAlias := map[string]error{}
	var whole error
	if gqlErrs != nil {
		for _, ge := range gqlErrs.Errors {
			if len(ge.Path) > 0 {
				if a, ok := ge.Path[0].(string); ok {
					byAlias[a] = ge
					continue
				}
			}
			whole = gqlErrs
		}
	}
	for i, op := range ops {
		alias := "m" + strconv.Itoa(i)
		switch {
		case whole != nil:
			errs[i] = whole
		case byAlias[alias] != nil:
			errs[i] = byAlias[alias]
		case out[alias] == nil:
			errs[i] = &GraphQLError{Message: "no payload for " + op.op, Path: []any{alias}}
		default:
			errs[i] = userErrors(op.op, out[alias].UserErrors)
		}
	}
	return errs
}

package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/tagging"
)

// SegmentsResult is what [Segments] computed: per segment, its members,
// metrics and analyses, and the plan it synced.
type SegmentsResult struct {
	*StepReport
	Reports []segment.Report
	Plans   []segment.Summary
}

// Segments (W2) reads every customer with their orders, evaluates the
// segments as of the end of the day, and mirrors each into its tag: the
// first run for a segment reconciles against who carries the tag in
// Shopify (strays lose it), later runs diff against the stored snapshot.
// Applied changes advance the snapshot, unknown ones are sent again next
// run, failed ones come back by themselves. Each segment tag also gets a
// Shopify customer segment of the same name selecting it.
func Segments(ctx context.Context, env *Env) (*SegmentsResult, error) {
	res := &SegmentsResult{StepReport: newStep("segments", !env.Apply)}
	start := time.Now()
	defer func() { res.Elapsed = time.Since(start) }()
	if err := env.check(); err != nil {
		return nil, err
	}
	if env.Shopify == nil {
		res.Skipped = "no Shopify client"
		return res, nil
	}
	customers, emails, err := Export(ctx, env.Shopify, env.BulkPoll)
	if err != nil {
		return nil, fmt.Errorf("segments: export: %w", err)
	}
	// Customers Shopify asked to erase are out of every segment and send,
	// whatever Shopify still returns for them.
	redacted := map[string]string{}
	if _, err := env.State.load(redactedRecord, &redacted); err != nil {
		return nil, err
	}
	if len(redacted) > 0 {
		customers = slices.DeleteFunc(customers, func(c segment.Customer) bool { return redacted[c.ID.String()] != "" })
		for id := range redacted {
			delete(emails, id)
		}
	}
	// The steps that reach customers by email read them from here.
	if err := env.State.save(emailsRecord, emails); err != nil {
		return nil, err
	}
	res.add("customers", len(customers))
	ev, err := segment.Evaluate(slices.Values(customers), env.Segments, segment.Options{Now: env.dayEnd()})
	if err != nil {
		return nil, fmt.Errorf("segments: %w", err)
	}
	store := env.State.Segments()
	var work segmentsWork
	defer func() {
		work.written = res.Counts["shopify segments created"] + res.Counts["shopify segments updated"]
		res.need(PlatformShopify, segmentsMinimum(env, work))
	}()
	for i := range ev.Segments {
		rep := &ev.Segments[i]
		plan, err := planSegment(ctx, env, store, rep, &work)
		if err != nil {
			return nil, err
		}
		sum := plan.Summary()
		res.Reports = append(res.Reports, *rep)
		res.Plans = append(res.Plans, sum)
		res.add("members", len(rep.Members))
		changes := plan.Changes()
		res.add("tag changes", len(changes))
		if !env.Apply {
			continue
		}
		work.sent = append(work.sent, changes...)
		if err := applyPlan(ctx, env, res.StepReport, plan, changes); err != nil {
			return nil, err
		}
		work.found++
		if err := keepShopifySegment(ctx, env.Shopify, rep, res.StepReport); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// segmentsWork is what Segments did on Shopify besides its two exports.
type segmentsWork struct {
	memberPages int              // pages of tag carriers the reconciliations needed
	carriers    int              // customers those pages held
	sent        []tagging.Change // tag changes sent
	found       int              // Shopify segments looked up by name
	written     int              // Shopify segments created or updated
}

// memberPage is the most segment members one request reads: Shopify
// serves up to 1,000 a page, and a page of ids costs 2 points plus one a
// member under the 1,000-point cap.
const memberPage = min(1000, shopify.MaxQueryCost-2)

// segmentsMinimum is what Segments needs from Shopify: the two exports,
// the carriers of each segment reconciled, the tag changes (a customer's
// changes across segments merged into one), a lookup of each Shopify
// segment and the ones created or updated.
func segmentsMinimum(env *Env, w segmentsWork) Minimum {
	var n shopifyNeed
	n.export(2)
	n.add(w.memberPages, 2*w.memberPages+w.carriers*shopifyObjectCost)
	n.tags(mergeChanges(w.sent))
	n.add(w.found, w.found*shopifyObjectCost)
	n.add(w.written, w.written*shopifyMutationCost)
	return n.minimum(env.Shopify)
}

// mergeChanges merges the changes to each resource into one.
func mergeChanges(changes []tagging.Change) []tagging.Change {
	at := map[string]int{}
	var out []tagging.Change
	for _, ch := range changes {
		i, ok := at[ch.ID]
		if !ok {
			at[ch.ID] = len(out)
			out = append(out, tagging.Change{ID: ch.ID})
			i = len(out) - 1
		}
		out[i].Add = append(out[i].Add, ch.Add...)
		out[i].Remove = append(out[i].Remove, ch.Remove...)
	}
	return out
}

// emailsRecord is the state record of the customers' emails by GID, as
// the last Segments step read them.
const emailsRecord = "customer-emails"

// planSegment diffs rep against its snapshot, or reconciles it against
// the tag's carriers when there is none yet.
func planSegment(ctx context.Context, env *Env, store segment.Store, rep *segment.Report, w *segmentsWork) (*segment.Plan, error) {
	_, ok, err := store.Load(ctx, rep.Name)
	if err != nil {
		return nil, fmt.Errorf("segments: %s: %w", rep.Name, err)
	}
	var plan *segment.Plan
	if ok {
		plan, err = rep.FromSnapshot(ctx, store)
	} else {
		carriers, n := env.Shopify.Segments.TaggedCustomers(ctx, rep.Tag), 0
		plan, err = rep.Reconcile(ctx, store, func(yield func(gid.ID, error) bool) {
			for id, err := range carriers {
				if err == nil {
					n++
				}
				if !yield(id, err) {
					return
				}
			}
		})
		w.memberPages += pages(n, memberPage)
		w.carriers += n
	}
	if err != nil {
		return nil, fmt.Errorf("segments: %s: %w", rep.Name, err)
	}
	return plan, nil
}

// applyPlan sends a plan's changes and commits their outcomes. A plan
// without changes is committed too: a reconciliation that finds every tag
// in place (a run killed after sending them, before saving the snapshot)
// must still leave the snapshot the later steps read.
func applyPlan(ctx context.Context, env *Env, rep *StepReport, plan *segment.Plan, changes []tagging.Change) error {
	if len(changes) == 0 {
		if err := plan.Commit(ctx, nil); err != nil {
			return fmt.Errorf("segments: %s: commit: %w", plan.Segment, err)
		}
		return nil
	}
	results, err := env.Shopify.Tags.ApplyAuto(ctx, changes, applyOpts(env, "segments"))
	countResults(rep, results)
	// Commit what is known even when the send stopped early: the rest
	// comes back in the next plan.
	if cerr := plan.CommitOutcomes(ctx, changes, outcomes(results)); cerr != nil {
		return fmt.Errorf("segments: %s: commit: %w", plan.Segment, cerr)
	}
	if err != nil {
		return fmt.Errorf("segments: %s: %w", plan.Segment, err)
	}
	return nil
}

// keepShopifySegment makes sure a Shopify segment named like rep selects
// its tag.
func keepShopifySegment(ctx context.Context, c *shopify.Client, rep *segment.Report, sr *StepReport) error {
	q, err := segment.Query(rep.Tag)
	if err != nil {
		return err
	}
	seg, err := c.Segments.FindByName(ctx, rep.Name)
	switch {
	case err != nil && !errors.Is(err, shopcrm.ErrNotFound):
		return fmt.Errorf("segments: find %q: %w", rep.Name, err)
	case seg == nil:
		if _, _, err := c.Segments.Create(ctx, rep.Name, q); err != nil {
			return fmt.Errorf("segments: create %q: %w", rep.Name, err)
		}
		sr.add("shopify segments created", 1)
	case seg.Query != q:
		if _, _, err := c.Segments.Update(ctx, seg.ID, rep.Name, q); err != nil {
			return fmt.Errorf("segments: update %q: %w", rep.Name, err)
		}
		sr.add("shopify segments updated", 1)
	}
	return nil
}

// outcomes are the results' outcomes, in order.
func outcomes(results []shopify.ChangeResult) []shopcrm.Outcome {
	out := make([]shopcrm.Outcome, len(results))
	for i, r := range results {
		out[i] = r.Outcome
	}
	return out
}

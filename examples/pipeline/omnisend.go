package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/omnisend"
)

// SyncOmnisend (W3) mirrors the segment tags onto Omnisend contacts: a
// contact whose customer is a member of a segment carries its tag, and
// loses it when the customer leaves. Tags other than the segment tags
// (the merchant's, other apps') are never touched. Customers are matched
// to contacts by email; members without a contact are counted, not
// created (whether a store's customers become contacts is the merchant's
// choice in Omnisend). Tag edits are idempotent, so a rerun only sends
// what is still missing. With Config.OmnisendEvents set, it then sends
// one segment's members their events (see [OmnisendEvents]).
func SyncOmnisend(ctx context.Context, env *Env) (*StepReport, error) {
	rep := newStep("omnisend", !env.Apply)
	start := time.Now()
	defer func() { rep.Elapsed = time.Since(start) }()
	if err := env.check(); err != nil {
		return nil, err
	}
	if env.Omnisend == nil {
		rep.Skipped = "no Omnisend client"
		return rep, nil
	}
	desired, owned, err := segmentTagsByEmail(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("omnisend: %w", err)
	}
	var current []omnisend.Contact
	var listed int
	var changes []omnisend.TagChange
	defer func() {
		events := rep.Counts["joined events to send"] + rep.Counts["daily events to send"]
		rep.need(PlatformOmnisend, omnisendMinimum(env, listed, changes, events))
	}()
	for c, err := range env.Omnisend.Contacts.List(ctx, omnisend.ListOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("omnisend: %w", err)
		}
		listed++
		if c.Email == "" {
			continue
		}
		current = append(current, c)
		// A contact carrying a segment tag without being a member (a
		// leaver) gets the empty set: the tag goes.
		if _, ok := desired[strings.ToLower(c.Email)]; !ok {
			for _, t := range c.Tags {
				if owned.has(t) {
					desired[strings.ToLower(c.Email)] = []string{}
					break
				}
			}
		}
	}
	rep.add("contacts", len(current))
	if !env.Apply {
		return rep, omnisendEvents(ctx, env, current, rep)
	}
	res, err := env.Omnisend.Tags.MirrorKnown(ctx, current, desired, omnisend.OwnedSet(owned.list...))
	if res != nil {
		rep.add("unchanged", res.Unchanged)
		rep.add("members without a contact", len(res.Missing))
		for _, r := range res.Results {
			changes = append(changes, r.Change)
			rep.add("tags "+r.Outcome.String(), 1)
			if r.Outcome != shopcrm.Applied && len(rep.Notes) < 5 {
				rep.notef("%s%s: %s %v", r.Change.ContactID, r.Change.Email, r.Outcome, r.Err)
			}
		}
	}
	if err == nil {
		err = omnisendEvents(ctx, env, current, rep)
	}
	if err != nil {
		return rep, fmt.Errorf("omnisend: %w", err)
	}
	return rep, nil
}

// omnisendMinimum is what SyncOmnisend needs from Omnisend: the pages of
// the contacts listed, the tag calls of the changes, each event sent.
func omnisendMinimum(env *Env, listed int, changes []omnisend.TagChange, events int) Minimum {
	need := endpointNeed[omnisend.Endpoint]{omnisend.EndpointDefault: pages(listed, omnisend.MaxPageSize) + events}
	if calls := tagCalls(changes); calls > 0 {
		need[omnisend.EndpointContactTags] = calls
	}
	return need.minimum(omnisendWindows(env.Omnisend))
}

// tagCalls is how few calls make changes: a call adds (or removes) up to
// 100 tags on up to 250 contacts. Of the two natural ways to group them,
// by the set of tags a contact gets (or loses) and by tag, it takes the
// one needing fewer calls, for the additions and the removals apart. A
// grouping mixing the two could save a call on some inputs; finding the
// best one is a covering problem not worth solving for a report.
func tagCalls(changes []omnisend.TagChange) int {
	calls := 0
	for _, tagsOf := range []func(omnisend.TagChange) []string{
		func(c omnisend.TagChange) []string { return c.Add },
		func(c omnisend.TagChange) []string { return c.Remove },
	} {
		bySet, byTag := map[string]int{}, map[string]int{}
		for _, c := range changes {
			tags := slices.Sorted(slices.Values(tagsOf(c)))
			if len(tags) == 0 {
				continue
			}
			bySet[strings.Join(tags, "\x00")]++
			for _, t := range tags {
				byTag[t]++
			}
		}
		sets := 0
		for set, n := range bySet {
			sets += ceilDiv(n, omnisend.MaxSelectorsPerCall) * ceilDiv(strings.Count(set, "\x00")+1, omnisend.MaxTagsPerCall)
		}
		one := 0
		for _, n := range byTag {
			one += ceilDiv(n, omnisend.MaxSelectorsPerCall)
		}
		calls += min(sets, one)
	}
	return calls
}

// omnisendEvents sends the configured events, if any, to contacts.
func omnisendEvents(ctx context.Context, env *Env, contacts []omnisend.Contact, rep *StepReport) error {
	if env.OmnisendEvents == nil {
		return nil
	}
	known := map[string]bool{}
	for _, c := range contacts {
		known[strings.ToLower(c.Email)] = true
	}
	return syncOmnisendEvents(ctx, env, known, rep)
}

// tagSet is the segment tags, in order and as a set.
type tagSet struct {
	list []string
	set  map[string]bool
}

func (t tagSet) has(tag string) bool { return t.set[strings.ToLower(strings.TrimSpace(tag))] }

// segmentTagsByEmail reads the segments' snapshots and the customers'
// emails, and returns each member's segment tags by lowercased email.
func segmentTagsByEmail(ctx context.Context, env *Env) (map[string][]string, tagSet, error) {
	emails := map[string]string{}
	if ok, err := env.State.load(emailsRecord, &emails); err != nil {
		return nil, tagSet{}, err
	} else if !ok {
		return nil, tagSet{}, fmt.Errorf("no customer emails recorded yet (run Segments first)")
	}
	owned := tagSet{set: map[string]bool{}}
	desired := map[string][]string{}
	store := env.State.Segments()
	for _, def := range env.Segments {
		owned.list = append(owned.list, def.Tag)
		owned.set[strings.ToLower(def.Tag)] = true
		snap, ok, err := store.Load(ctx, def.Name)
		if err != nil {
			return nil, tagSet{}, err
		}
		if !ok {
			return nil, tagSet{}, fmt.Errorf("segment %q has no snapshot yet (run Segments first)", def.Name)
		}
		for _, id := range snap.Members {
			if e, ok := emails[id.String()]; ok {
				k := strings.ToLower(e)
				desired[k] = append(desired[k], def.Tag)
			}
		}
	}
	return desired, owned, nil
}

package pipeline

import (
	"context"
	"fmt"
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
	for c, err := range env.Omnisend.Contacts.List(ctx, omnisend.ListOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("omnisend: %w", err)
		}
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

package segment

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/tagging"
)

// Snapshot is a segment's membership as last applied to Shopify: the
// customers known to carry Tag.
type Snapshot struct {
	Tag     string
	Members []gid.ID // strictly ascending customer ids
}

// Store keeps one snapshot per segment name. Implementations must be safe
// for concurrent use and must not keep the slices they are given or hand
// out slices they still use.
type Store interface {
	// Load returns the segment's snapshot, and false when there is none.
	Load(ctx context.Context, segment string) (Snapshot, bool, error)
	// Save replaces the segment's snapshot, all or nothing.
	Save(ctx context.Context, segment string, s Snapshot) error
	// Delete removes the segment's snapshot, if any: the next plan is a
	// first run, re-adding the tag to every member.
	Delete(ctx context.Context, segment string) error
}

// MemoryStore is a [Store] in memory, for tests and for programs that keep
// their own state. The zero value is ready to use.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]Snapshot
}

// Load implements [Store].
func (s *MemoryStore) Load(ctx context.Context, segment string) (Snapshot, bool, error) {
	if err := ctx.Err(); err != nil {
		return Snapshot{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, ok := s.m[segment]
	if !ok {
		return Snapshot{}, false, nil
	}
	return Snapshot{Tag: snap.Tag, Members: slices.Clone(snap.Members)}, true, nil
}

// Save implements [Store]. It checks the snapshot as a [FileStore] would.
func (s *MemoryStore) Save(ctx context.Context, segment string, snap Snapshot) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkSnapshot(segment, snap); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]Snapshot)
	}
	s.m[segment] = Snapshot{Tag: snap.Tag, Members: slices.Clone(snap.Members)}
	return nil
}

// Delete implements [Store].
func (s *MemoryStore) Delete(ctx context.Context, segment string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, segment)
	return nil
}

// checkSnapshot rejects what a later Load could not trust.
func checkSnapshot(segment string, snap Snapshot) error {
	if segment == "" {
		return &SnapshotError{Segment: segment, Reason: "empty segment name"}
	}
	if err := tagging.Check(snap.Tag); err != nil {
		return &SnapshotError{Segment: segment, Reason: "invalid tag", Err: err}
	}
	if err := checkSorted("Members", snap.Members); err != nil {
		return &SnapshotError{Segment: segment, Reason: "invalid members", Err: err}
	}
	if len(snap.Members) > 0 && snap.Members[0].Type != gid.Customer {
		return &SnapshotError{Segment: segment, Reason: "members are not customer ids"}
	}
	return nil
}

// Source says where a plan's previous membership came from.
type Source uint8

// The two checkpoint sources.
const (
	// SourceTags: the customers carrying the tag when they were read. A
	// failed change leaves the tag as it was, so it reappears in the next
	// diff by itself, and nothing is stored.
	SourceTags Source = iota + 1
	// SourceSnapshot: a stored [Snapshot], advanced only by applied changes.
	SourceSnapshot
)

// String returns "tags" or "snapshot".
func (s Source) String() string {
	switch s {
	case SourceTags:
		return "tags"
	case SourceSnapshot:
		return "snapshot"
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// Plan is one segment's sync: the delta against the previous membership and
// the tag changes that mirror it.
type Plan struct {
	Segment  string
	Tag      string
	Source   Source
	FirstRun bool // no snapshot yet: every member joins
	Previous int  // members before
	Current  int  // members now
	Delta    Delta

	store Store
	prev  []gid.ID // the snapshot as committed so far
}

// FromTags plans the sync with the tags customers carried when they were
// read as the previous membership. [Plan.Commit] stores nothing: the tags
// themselves are the state.
func (r *Report) FromTags() *Plan {
	d := r.TagDelta()
	return &Plan{
		Segment:  r.Name,
		Tag:      r.Tag,
		Source:   SourceTags,
		Previous: d.Unchanged + len(d.Left),
		Current:  len(r.Members),
		Delta:    d,
	}
}

// FromSnapshot plans the sync against the snapshot store holds for the
// segment. Without one, this is a first run: every member joins. A
// snapshot recorded for another tag is a [*SnapshotError]; delete it to
// start over with the new tag.
func (r *Report) FromSnapshot(ctx context.Context, store Store) (*Plan, error) {
	if err := tagging.Check(r.Tag); err != nil {
		return nil, &ConfigError{Field: "Report.Tag", Reason: "invalid", Err: err}
	}
	if err := checkSorted("Report.Members", r.Members); err != nil {
		return nil, &ConfigError{Field: "Report.Members", Reason: "invalid", Err: err}
	}
	if len(r.Members) > 0 && r.Members[0].Type != gid.Customer {
		return nil, &ConfigError{Field: "Report.Members", Reason: "not customer ids"}
	}
	snap, ok, err := store.Load(ctx, r.Name)
	if err != nil {
		return nil, err
	}
	if ok {
		if !strings.EqualFold(snap.Tag, r.Tag) {
			return nil, &SnapshotError{Segment: r.Name, Reason: "recorded for tag " + strconv.Quote(snap.Tag) + ", segment now uses " + strconv.Quote(r.Tag)}
		}
		// A store written by other code may not hold its promises.
		if err := checkSnapshot(r.Name, snap); err != nil {
			return nil, err
		}
	}
	return &Plan{
		Segment:  r.Name,
		Tag:      r.Tag,
		Source:   SourceSnapshot,
		FirstRun: !ok,
		Previous: len(snap.Members),
		Current:  len(r.Members),
		Delta:    diffIDs(snap.Members, r.Members),
		store:    store,
		prev:     snap.Members,
	}, nil
}

// Changes returns the tag changes to send: the tag added to every joined
// customer, then removed from every leaver.
func (p *Plan) Changes() []tagging.Change { return p.Delta.Changes(p.Tag) }

// Summary is a dry run: what a plan would do, before anything is sent.
type Summary struct {
	Segment   string
	Tag       string
	Source    Source
	FirstRun  bool
	Previous  int // members before
	Current   int // members now
	Joined    int // tags to add
	Left      int // tags to remove
	Unchanged int
}

// Summary returns the plan's counts.
func (p *Plan) Summary() Summary {
	return Summary{
		Segment:   p.Segment,
		Tag:       p.Tag,
		Source:    p.Source,
		FirstRun:  p.FirstRun,
		Previous:  p.Previous,
		Current:   p.Current,
		Joined:    len(p.Delta.Joined),
		Left:      len(p.Delta.Left),
		Unchanged: p.Delta.Unchanged,
	}
}

// String formats s for a log line:
// "first (tag ecp-first, snapshot): 2 -> 3 members, +2 -1, 1 unchanged".
func (s Summary) String() string {
	var b strings.Builder
	b.WriteString(s.Segment + " (tag " + s.Tag + ", " + s.Source.String())
	if s.FirstRun {
		b.WriteString(", first run")
	}
	b.WriteString("): " + strconv.Itoa(s.Previous) + " -> " + strconv.Itoa(s.Current) + " members, +" +
		strconv.Itoa(s.Joined) + " -" + strconv.Itoa(s.Left) + ", " + strconv.Itoa(s.Unchanged) + " unchanged")
	return b.String()
}

// Commit records the changes Shopify reported applied. For a snapshot plan
// the stored snapshot becomes the previous one plus the applied joins minus
// the applied leaves, so a change that failed, or was never sent, shows up
// again in the next plan. Commit may be called once per batch as results
// come in; each call saves everything committed so far.
//
// Every applied change must be one of [Plan.Changes] (same customer, the
// plan's tag, same direction), otherwise Commit returns a [*CommitError]
// and saves nothing. For a tags plan Commit only performs that check.
func (p *Plan) Commit(ctx context.Context, applied []tagging.Change) error {
	var joins, leaves []gid.ID
	for i, ch := range applied {
		id, err := gid.ParseAs(ch.ID, gid.Customer)
		if err != nil {
			return &CommitError{Index: i, ID: ch.ID, Reason: "bad id", Err: err}
		}
		var planned []gid.ID
		switch {
		case len(ch.Add) == 1 && len(ch.Remove) == 0 && tagEqual(ch.Add[0], p.Tag):
			planned, joins = p.Delta.Joined, append(joins, id)
		case len(ch.Remove) == 1 && len(ch.Add) == 0 && tagEqual(ch.Remove[0], p.Tag):
			planned, leaves = p.Delta.Left, append(leaves, id)
		default:
			return &CommitError{Index: i, ID: ch.ID, Reason: "not a change of tag " + strconv.Quote(p.Tag)}
		}
		if _, ok := slices.BinarySearchFunc(planned, id, gid.ID.Compare); !ok {
			return &CommitError{Index: i, ID: ch.ID, Reason: "not in the plan"}
		}
	}
	if p.Source != SourceSnapshot {
		return nil
	}
	next := applyMoves(p.prev, joins, leaves)
	if err := p.store.Save(ctx, p.Segment, Snapshot{Tag: p.Tag, Members: next}); err != nil {
		return err
	}
	p.prev = next
	return nil
}

// applyMoves returns prev (ascending) with joins added and leaves removed.
// Joins already in prev and leaves not in it change nothing, so a batch
// committed twice is harmless.
func applyMoves(prev, joins, leaves []gid.ID) []gid.ID {
	slices.SortFunc(joins, gid.ID.Compare)
	joins = slices.Compact(joins)
	slices.SortFunc(leaves, gid.ID.Compare)
	out := make([]gid.ID, 0, len(prev)+len(joins))
	i, j, k := 0, 0, 0
	for i < len(prev) || j < len(joins) {
		var next gid.ID
		switch {
		case j == len(joins) || i < len(prev) && prev[i].Compare(joins[j]) < 0:
			next = prev[i]
			i++
		case i == len(prev) || joins[j].Compare(prev[i]) < 0:
			next = joins[j]
			j++
		default: // the same id on both sides
			next = prev[i]
			i++
			j++
		}
		for k < len(leaves) && leaves[k].Compare(next) < 0 {
			k++
		}
		if k < len(leaves) && leaves[k] == next {
			continue
		}
		out = append(out, next)
	}
	return out
}

// Both stores satisfy Store.
var (
	_ Store = (*MemoryStore)(nil)
	_ Store = (*FileStore)(nil)
)

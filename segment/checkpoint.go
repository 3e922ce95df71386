package segment

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/tagging"
)

// Snapshot is a segment's membership as last applied to Shopify: the
// customers known to carry Tag, and those whose tag is in doubt.
//
// Members advances only by changes reported applied. Uncertain lists the
// customers a change was sent to whose outcome is unknown (a lost reply, a
// request in flight at a deadline): Shopify may or may not have made it, so
// whether such a customer carries Tag is not known, whatever Members says.
// Every customer outside Uncertain carries Tag in Shopify exactly when it
// is in Members (unless something else changed the tag: see
// [Report.Reconcile]). An id may be in both lists.
//
// Generation identifies the save that stored the snapshot: a [Store] gives
// every save of a segment a generation that segment has not had before,
// also after a Delete, and [Store.Load] returns it. It is 0 for a snapshot
// never saved, and for no snapshot at all. A plan remembers the generation
// it was made from, so a commit can tell that the snapshot was replaced
// in the meantime (see [ErrStalePlan]). Stores ignore the field of the
// snapshot they are given.
type Snapshot struct {
	Tag        string
	Members    []gid.ID // strictly ascending customer ids
	Uncertain  []gid.ID // strictly ascending customer ids; nil when none
	Generation uint64
}

// clone returns a copy of s sharing no slices with it.
func (s Snapshot) clone() Snapshot {
	return Snapshot{Tag: s.Tag, Members: slices.Clone(s.Members), Uncertain: slices.Clone(s.Uncertain), Generation: s.Generation}
}

// Store keeps one snapshot per segment name. Implementations must be safe
// for concurrent use and must not keep the slices they are given or hand
// out slices they still use.
//
// Every save, by Save or SaveIf, gives the stored snapshot a new
// generation ([Snapshot.Generation]): nonzero, and never one the segment
// had before, also across a Delete (a counter shared by all segments of
// the store does it; so does one more than the replaced snapshot's, as
// long as numbers are not handed out again after a Delete). SaveIf must
// compare and save atomically with respect to every other call on the
// store for the segment: this is what keeps two plans committed in
// overlap from silently overwriting each other.
type Store interface {
	// Load returns the segment's snapshot with its generation, and false
	// when there is none.
	Load(ctx context.Context, segment string) (Snapshot, bool, error)
	// Save replaces the segment's snapshot, all or nothing, every field
	// included (a store that dropped Uncertain would forget changes whose
	// outcome is unknown, and a stray tag could stay for good), whatever
	// is stored, under a new generation.
	Save(ctx context.Context, segment string, s Snapshot) error
	// SaveIf is Save on condition: it replaces the segment's snapshot only
	// if the stored one has generation gen (0: only if none is stored),
	// and returns the new generation. Otherwise it stores nothing and
	// returns an error matching [ErrStalePlan].
	SaveIf(ctx context.Context, segment string, gen uint64, s Snapshot) (uint64, error)
	// Delete removes the segment's snapshot, if any: the next plan is a
	// first run, re-adding the tag to every member.
	Delete(ctx context.Context, segment string) error
}

// MemoryStore is a [Store] in memory, for tests and for programs that keep
// their own state. The zero value is ready to use. Generations count the
// saves of all segments of the store, starting at 1.
type MemoryStore struct {
	mu  sync.Mutex
	m   map[string]Snapshot
	gen uint64 // the last generation given
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
	return snap.clone(), true, nil
}

// Save implements [Store]. It checks the snapshot as a [FileStore] would.
func (s *MemoryStore) Save(ctx context.Context, segment string, snap Snapshot) error {
	_, err := s.save(ctx, segment, 0, false, snap)
	return err
}

// SaveIf implements [Store]. It checks the snapshot as a [FileStore] would.
func (s *MemoryStore) SaveIf(ctx context.Context, segment string, gen uint64, snap Snapshot) (uint64, error) {
	return s.save(ctx, segment, gen, true, snap)
}

// save stores snap under a new generation, if cond only when the stored
// generation is gen.
func (s *MemoryStore) save(ctx context.Context, segment string, gen uint64, cond bool, snap Snapshot) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkSnapshot(segment, snap); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cond && s.m[segment].Generation != gen {
		return 0, &StalePlanError{Segment: segment}
	}
	if s.m == nil {
		s.m = make(map[string]Snapshot)
	}
	s.gen++
	snap = snap.clone()
	snap.Generation = s.gen
	s.m[segment] = snap
	return s.gen, nil
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
	for _, l := range []struct {
		field, what string
		ids         []gid.ID
	}{{"Members", "members", snap.Members}, {"Uncertain", "uncertain ids", snap.Uncertain}} {
		if err := checkSorted(l.field, l.ids); err != nil {
			return &SnapshotError{Segment: segment, Reason: "invalid " + l.what, Err: err}
		}
		if len(l.ids) > 0 && l.ids[0].Type != gid.Customer {
			return &SnapshotError{Segment: segment, Reason: l.what + " are not customer ids"}
		}
	}
	return nil
}

// Source says where a plan's previous membership came from.
type Source uint8

// The sources of a plan's previous membership.
const (
	// SourceTags: the customers carrying the tag when they were read. A
	// failed change leaves the tag as it was, so it reappears in the next
	// diff by itself, and nothing is stored.
	SourceTags Source = iota + 1
	// SourceSnapshot: a stored [Snapshot], advanced only by applied
	// changes; its uncertain customers are sent a change again.
	SourceSnapshot
	// SourceCarriers: every customer Shopify reports carrying the tag, read
	// for [Report.Reconcile]; the snapshot, if there is a store, is rebuilt
	// from them.
	SourceCarriers
)

// String returns "tags", "snapshot" or "carriers".
func (s Source) String() string {
	switch s {
	case SourceTags:
		return "tags"
	case SourceSnapshot:
		return "snapshot"
	case SourceCarriers:
		return "carriers"
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// Plan is one segment's sync: the delta against the previous membership and
// the tag changes that mirror it.
type Plan struct {
	Segment string
	Tag     string
	Source  Source
	// FirstRun: the store held no snapshot. From a snapshot every member
	// then joins; a reconciliation also removes the strays.
	FirstRun bool
	Previous int // members before (carriers, for a reconciliation)
	Current  int // members now
	// Delta holds the changes to send. From a snapshot, every customer in
	// its Uncertain list has one: in Joined when a member now, in Left
	// otherwise, even when the membership did not change.
	Delta Delta
	// Uncertain counts the changes of Delta re-sent because an earlier
	// outcome was unknown: the snapshot's Uncertain customers.
	Uncertain int

	mu    sync.Mutex // serialises commits, which read and replace prev, unc and gen
	store Store      // nil: Commit records nothing
	prev  []gid.ID   // the snapshot's members as committed so far
	unc   []gid.ID   // the snapshot's uncertain customers as committed so far
	gen   uint64     // the stored snapshot's generation as committed so far; 0: none
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
// segment: members not in its Members join, Members who are no longer
// members leave, and every customer in its Uncertain list is sent the
// change again whichever way membership went, the tag added to a member
// and removed from anyone else (tag edits are idempotent in Shopify, so a
// change made once already is harmless). Without a snapshot every member
// joins, but customers who already
// carry the tag without being members keep it: a new installation's first
// run should be a [Report.Reconcile] instead. A snapshot recorded for
// another tag is a [*SnapshotError]; delete it to start over with the new
// tag.
func (r *Report) FromSnapshot(ctx context.Context, store Store) (*Plan, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	snap, ok, err := r.load(ctx, store)
	if err != nil {
		return nil, err
	}
	return &Plan{
		Segment:   r.Name,
		Tag:       r.Tag,
		Source:    SourceSnapshot,
		FirstRun:  !ok,
		Previous:  len(snap.Members),
		Current:   len(r.Members),
		Delta:     snapshotDelta(snap, r.Members),
		Uncertain: len(snap.Uncertain),
		store:     store,
		prev:      snap.Members,
		unc:       snap.Uncertain,
		gen:       snap.Generation,
	}, nil
}

// Reconcile plans the sync against the truth instead of a checkpoint:
// carriers are the customers who carry the segment's tag in Shopify
// (customer_tags CONTAINS the tag, see [Query]; the Shopify client's
// SegmentsService.TaggedCustomers reads them), in any order. Members
// missing the tag join; every carrier who is not a member is a stray and
// leaves, however it came by the tag (by hand, by another tool, by a run
// whose snapshot was lost). See [Reconcile] for the diff itself.
//
// A new installation's first run reconciles, and so can any run, to
// repair drift. With a store, [Plan.Commit] saves the carriers plus the
// applied joins minus the applied leaves as the segment's snapshot,
// replacing what was stored, so the next [Report.FromSnapshot] starts
// from what Shopify holds; a change that failed shows up in it again.
// The stored snapshot's Uncertain list is dropped, the carriers being the
// truth; changes of this plan recorded with [Plan.CommitUnknown] start a
// new one. A
// snapshot recorded for another tag is a [*SnapshotError], as for
// FromSnapshot. With a nil store nothing is recorded.
//
// The carriers are held in memory, 16 bytes each; a duplicate, an
// invalid id or an id that is not a customer's is an error, as is an
// error from carriers itself, and nothing is planned.
func (r *Report) Reconcile(ctx context.Context, store Store, carriers iter.Seq2[gid.ID, error]) (*Plan, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	var prev []gid.ID
	var typ gid.Type
	chk := seqCheck{input: reconcileSides.prev, typ: &typ}
	for id, err := range carriers {
		if err == nil {
			err = chk.check(id)
		}
		if err != nil {
			return nil, err
		}
		prev = append(prev, id)
	}
	if typ != 0 && typ != gid.Customer {
		return nil, &SequenceError{Input: reconcileSides.prev, Index: 0, Prev: gid.ID{Type: gid.Customer}, ID: prev[0], Problem: MixedTypes}
	}
	slices.SortFunc(prev, gid.ID.Compare)
	for i := 1; i < len(prev); i++ {
		if prev[i] == prev[i-1] {
			return nil, dupErr(reconcileSides.prev, typ, uint64(prev[i].Num))
		}
	}
	firstRun := false
	var gen uint64
	if store != nil {
		snap, ok, err := r.load(ctx, store)
		if err != nil {
			return nil, err
		}
		firstRun, gen = !ok, snap.Generation
	}
	return &Plan{
		Segment:  r.Name,
		Tag:      r.Tag,
		Source:   SourceCarriers,
		FirstRun: firstRun,
		Previous: len(prev),
		Current:  len(r.Members),
		Delta:    diffIDs(prev, r.Members),
		store:    store,
		prev:     prev,
		gen:      gen,
	}, nil
}

// check rejects a report a plan could not trust: a bad tag, members not
// strictly ascending or not customers.
func (r *Report) check() error {
	if err := tagging.Check(r.Tag); err != nil {
		return &ConfigError{Field: "Report.Tag", Reason: "invalid", Err: err}
	}
	if err := checkSorted("Report.Members", r.Members); err != nil {
		return &ConfigError{Field: "Report.Members", Reason: "invalid", Err: err}
	}
	if len(r.Members) > 0 && r.Members[0].Type != gid.Customer {
		return &ConfigError{Field: "Report.Members", Reason: "not customer ids"}
	}
	return nil
}

// load returns the segment's snapshot in store, checked: recorded for the
// report's tag and well formed.
func (r *Report) load(ctx context.Context, store Store) (Snapshot, bool, error) {
	snap, ok, err := store.Load(ctx, r.Name)
	if err != nil || !ok {
		return Snapshot{}, false, err
	}
	if !strings.EqualFold(snap.Tag, r.Tag) {
		return Snapshot{}, false, &SnapshotError{Segment: r.Name, Reason: "recorded for tag " + strconv.Quote(snap.Tag) + ", segment now uses " + strconv.Quote(r.Tag)}
	}
	// A store written by other code may not hold its promises.
	if err := checkSnapshot(r.Name, snap); err != nil {
		return Snapshot{}, false, err
	}
	return snap, true, nil
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
	Current   int // members now: Unchanged + Joined
	Joined    int // tags to add
	Left      int // tags to remove
	Unchanged int // members before and now whose tag is not in doubt
	// Uncertain counts the changes among Joined and Left sent again
	// because an earlier outcome was unknown.
	Uncertain int
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
		Uncertain: p.Uncertain,
	}
}

// String formats s for a log line:
// "first (tag ecp-first, snapshot): 2 -> 3 members, +2 -1, 1 unchanged",
// followed by ", 1 uncertain" when changes are sent again.
func (s Summary) String() string {
	var b strings.Builder
	b.WriteString(s.Segment + " (tag " + s.Tag + ", " + s.Source.String())
	if s.FirstRun {
		b.WriteString(", first run")
	}
	b.WriteString("): " + strconv.Itoa(s.Previous) + " -> " + strconv.Itoa(s.Current) + " members, +" +
		strconv.Itoa(s.Joined) + " -" + strconv.Itoa(s.Left) + ", " + strconv.Itoa(s.Unchanged) + " unchanged")
	if s.Uncertain > 0 {
		b.WriteString(", " + strconv.Itoa(s.Uncertain) + " uncertain")
	}
	return b.String()
}

// Commit records the changes Shopify reported applied. For a snapshot plan,
// or a reconciliation with a store, the stored snapshot's Members become
// the previous membership (the carriers, for a reconciliation) plus the
// applied joins minus the applied leaves, and each customer with an
// applied change leaves its Uncertain list: its tag is known again.
// Commit may be called once per batch as results come in; each call saves
// everything committed so far.
//
// Each outcome of a change (see [github.com/shopcrm/shopcrm.Outcome]) has its place:
//   - Applied: pass it to Commit.
//   - Unknown: pass it to [Plan.CommitUnknown], so the next plan sends it
//     again whichever way membership goes.
//   - Failed, NotSent, or never sent because the run stopped: pass it
//     nowhere. The snapshot stays as it was for that customer, so the
//     change shows up again in the next plan if it is still due.
//
// Every change must be one of [Plan.Changes] (same customer, the plan's
// tag, same direction), otherwise Commit returns a [*CommitError] and
// saves nothing. For a tags plan, or a reconciliation without a store,
// Commit only performs that check.
//
// Commit is safe to call from several goroutines (bulk results arrive
// concurrently), also alongside CommitUnknown: the calls are serialised,
// none is lost, and for a customer committed twice the later call wins.
//
// A plan saves its own view of the snapshot: the one it was made from
// plus its own commits. If the stored snapshot was replaced since the plan
// was made or last committed (by another plan's commit, a Delete, a
// reconciliation or any Save), that view would drop the other writer's
// record, so Commit saves nothing and returns a [*StalePlanError], which
// matches [ErrStalePlan]; so do all later commits of the plan. Of two
// plans for one segment made from the same snapshot, only the first to
// commit can commit at all: run one sync per segment at a time, and make
// a new plan (or reconcile) after a StalePlanError.
func (p *Plan) Commit(ctx context.Context, applied []tagging.Change) error {
	joins, leaves, err := p.planned(applied)
	if err != nil || p.store == nil {
		return err
	}
	done := append(slices.Clone(joins), leaves...)
	return p.save(ctx, func(prev, unc []gid.ID) ([]gid.ID, []gid.ID) {
		return applyMoves(prev, joins, leaves), applyMoves(unc, nil, done)
	})
}

// CommitUnknown records the changes whose outcome is unknown: Shopify may
// have made them or not (a lost reply, a request in flight when the
// context ended). For a snapshot plan, or a reconciliation with a store,
// each customer joins the stored snapshot's Uncertain list and its
// Members entry stays as it was, so the next [Report.FromSnapshot] sends
// the customer the change that matches its membership then: the tag
// added to a member, removed from anyone else. An unknown join of a
// customer who has left by then is thus undone, and an unknown leave of
// one who has come back is redone. A later [Plan.Commit] of the same
// change, once it is sent again and applied, clears the doubt; so does a
// [Report.Reconcile], which reads the truth.
//
// The checks, concurrency and the calls with no store are as for Commit.
func (p *Plan) CommitUnknown(ctx context.Context, unknown []tagging.Change) error {
	joins, leaves, err := p.planned(unknown)
	if err != nil || p.store == nil {
		return err
	}
	doubt := append(joins, leaves...)
	return p.save(ctx, func(prev, unc []gid.ID) ([]gid.ID, []gid.ID) {
		return prev, applyMoves(unc, doubt, nil)
	})
}

// CommitOutcomes commits a send's results in one call: outcomes[i] is
// what became of changes[i] (as a client's per-change results report
// it). Applied changes are committed with [Plan.Commit], unknown ones
// with [Plan.CommitUnknown]; failed and unsent ones are left out, so they
// come back in the next plan. Both commits are tried even when the first
// fails.
func (p *Plan) CommitOutcomes(ctx context.Context, changes []tagging.Change, outcomes []shopcrm.Outcome) error {
	if len(outcomes) != len(changes) {
		return &InputError{Field: "outcomes", Reason: "must have one outcome per change (" + strconv.Itoa(len(outcomes)) + " for " + strconv.Itoa(len(changes)) + ")"}
	}
	var applied, unknown []tagging.Change
	for i, o := range outcomes {
		switch o {
		case shopcrm.Applied:
			applied = append(applied, changes[i])
		case shopcrm.Unknown:
			unknown = append(unknown, changes[i])
		}
	}
	return errors.Join(p.Commit(ctx, applied), p.CommitUnknown(ctx, unknown))
}

// planned checks that every change is one of the plan's and returns the
// customers of its joins and leaves.
func (p *Plan) planned(changes []tagging.Change) (joins, leaves []gid.ID, err error) {
	for i, ch := range changes {
		id, err := gid.ParseAs(ch.ID, gid.Customer)
		if err != nil {
			return nil, nil, &CommitError{Index: i, ID: ch.ID, Reason: "bad id", Err: err}
		}
		var planned []gid.ID
		switch {
		case len(ch.Add) == 1 && len(ch.Remove) == 0 && tagEqual(ch.Add[0], p.Tag):
			planned, joins = p.Delta.Joined, append(joins, id)
		case len(ch.Remove) == 1 && len(ch.Add) == 0 && tagEqual(ch.Remove[0], p.Tag):
			planned, leaves = p.Delta.Left, append(leaves, id)
		default:
			return nil, nil, &CommitError{Index: i, ID: ch.ID, Reason: "not a change of tag " + strconv.Quote(p.Tag)}
		}
		if _, ok := slices.BinarySearchFunc(planned, id, gid.ID.Compare); !ok {
			return nil, nil, &CommitError{Index: i, ID: ch.ID, Reason: "not in the plan"}
		}
	}
	return joins, leaves, nil
}

// save stores the snapshot next makes of the one committed so far, if
// the stored snapshot is still that one, and keeps it as the plan's view
// once stored.
func (p *Plan) save(ctx context.Context, next func(prev, unc []gid.ID) (members, uncertain []gid.ID)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	members, unc := next(p.prev, p.unc)
	if len(unc) == 0 {
		unc = nil
	}
	gen, err := p.store.SaveIf(ctx, p.Segment, p.gen, Snapshot{Tag: p.Tag, Members: members, Uncertain: unc})
	if err != nil {
		if se := (*StalePlanError)(nil); errors.Is(err, ErrStalePlan) && (!errors.As(err, &se) || se.Segment != p.Segment) {
			err = &StalePlanError{Segment: p.Segment, Err: err}
		}
		return err
	}
	p.prev, p.unc, p.gen = members, unc, gen
	return nil
}

// snapshotDelta is the delta from snap to the members cur (ascending):
// the diff of snap.Members and cur, plus a change for every uncertain
// customer the diff leaves out, a join for a member who was one before
// and a leave for a non-member who was not.
func snapshotDelta(snap Snapshot, cur []gid.ID) Delta {
	d := diffIDs(snap.Members, cur)
	var joins, leaves []gid.ID
	for _, id := range snap.Uncertain {
		_, was := slices.BinarySearchFunc(snap.Members, id, gid.ID.Compare)
		_, is := slices.BinarySearchFunc(cur, id, gid.ID.Compare)
		switch {
		case was && is:
			joins = append(joins, id)
		case !was && !is:
			leaves = append(leaves, id)
		}
	}
	if len(joins) > 0 {
		d.Joined = applyMoves(d.Joined, joins, nil)
		d.Unchanged -= len(joins)
	}
	if len(leaves) > 0 {
		d.Left = applyMoves(d.Left, leaves, nil)
	}
	return d
}

// applyMoves returns prev (ascending) with joins added and leaves removed,
// in a new slice. Joins already in prev and leaves not in it change
// nothing, so a batch committed twice is harmless.
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

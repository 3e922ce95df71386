// Package segment computes customer segments from Shopify order data and
// keeps a Shopify customer tag in step with each segment: membership from
// composable rules, the daily diff turned into tag changes, checkpoints,
// and the metrics and analyses a segment tool reports.
//
// The package is pure: it reads customers from an iterator and returns
// values. The only I/O is [FileStore], one of the two snapshot stores.
//
// # Ids
//
// Customers, orders and products are identified by [gid.ID], the SDK's one
// Shopify id type: a resource type and an int64, ordered numerically and
// formatted back to the GID. [ParseIDs] reads GIDs or plain numbers
// ("123", as exports store them) with [gid.ParseAs].
//
// # Rules and membership
//
// A [Definition] names a segment, the tag that mirrors it and a [Rule].
// Built-in rules cover first-time, repeat and loyal buyers, product-line
// fans, tags (HasTag("line") for LINE-linked customers), subscribers
// (active, on a plan, paused, cancelled: read per contract from the
// subscription tags with package tagging's schema, so they follow its
// grammar), and lapsed and new buyers; [And], [Or] and [Not] compose them, [RuleFunc]
// adds your own. Time-relative rules take the evaluation time as an
// argument and ignore orders placed after it, so evaluating with a past
// time gives the membership as it was then.
//
// [Evaluate] reads a stream of customers once, each with its orders, and
// returns every segment's members, metrics and analyses; only one
// customer's orders are held at a time.
//
// # Diff and sync
//
// Sync is a mirror: customers who joined get the segment tag and customers
// who left always lose it. [Diff] compares two memberships given in any
// order, holding 8 bytes per id; [DiffSorted] streams the comparison of two
// ascending sequences in constant memory. [Delta.Changes] turns a diff into
// [tagging.Change]s.
//
// Yesterday's membership comes from one of two checkpoints. With
// [Report.FromTags] it is the customers who carried the tag when they were
// read (a report records it in Tagged and TaggedNonMembers): nothing is
// stored, and a change that failed leaves the tag as it was, so it comes
// back in tomorrow's diff by itself. With [Report.FromSnapshot] it is a
// [Snapshot] in a [Store] ([MemoryStore], [FileStore]), and a run with no
// snapshot treats every member as joined. [Plan.Summary] gives the counts
// before anything is sent. [Query] returns the Shopify segment query that
// selects a tag's customers.
//
// What a snapshot records depends on each change's outcome
// ([github.com/shopcrm/shopcrm.Outcome]):
//   - Applied: pass it to [Plan.Commit]. The snapshot's Members advance
//     (the customer joins or leaves them), and any doubt about the
//     customer is cleared.
//   - Failed or NotSent, or never sent because the run stopped: record
//     nothing. The snapshot stays as it was, so the change reappears in
//     the next plan if it is still due.
//   - Unknown (Shopify may have made the change: a lost reply, a request
//     in flight at a deadline): pass it to [Plan.CommitUnknown]. Members
//     stay as they were and the customer is added to the snapshot's
//     Uncertain list. The next plan sends every uncertain customer the
//     change its membership calls for then, whichever way membership
//     went: the tag added to a member, removed from anyone else. Tag edits
//     are idempotent in Shopify, so re-sending one already made is
//     harmless, and a tag added by an unknown join is removed if the
//     customer has left since (and one removed by an unknown leave is
//     added back if the customer has returned). The doubt ends when such
//     a change is applied, or when a [Report.Reconcile] reads the truth.
//
// So the snapshot never drifts from Shopify for good: every customer
// outside its Uncertain list carries the tag exactly when the snapshot
// lists it as a member, and every uncertain customer is sent a change on
// every run until one is applied.
//
// That holds for one sync per segment at a time. Each plan saves its own
// view of the snapshot, so plans overlapping for one segment would
// overwrite each other's record; instead, a commit of a plan whose stored
// snapshot was replaced since it was made (by another plan's commit, a
// Delete, a reconciliation) saves nothing and returns a
// [*StalePlanError]: snapshots carry a generation, and a [Store] saves a
// plan's snapshot only if the generation is still the plan's.
//
// # First run and repair: reconciliation
//
// Both checkpoints see only the customers they know of: a snapshot those
// it recorded, the tags those that were read. A customer who carries the
// segment's tag without being a member, tagged by hand, by an earlier
// tool or by a run whose snapshot was lost, would keep it for good.
// A reconciliation starts instead from who actually carries the tag in
// Shopify, the members of the segment query [Query] returns (read with the
// Shopify client's SegmentsService.TaggedCustomers): members missing the
// tag get it, and every other carrier, a stray, loses it.
//
// The first run of a new installation reconciles, with
// [Report.Reconcile]; so can any later run, to repair drift. Its plan
// commits like a snapshot plan, rebuilding the snapshot from the carriers
// and the applied changes, so the next daily [Report.FromSnapshot] diff
// starts from what Shopify holds. [Reconcile] and [ReconcileSorted] are
// the same comparison without a checkpoint, for ids in any order and for
// ascending ids streamed in constant memory: they are [Diff] and
// [DiffSorted] with the carriers in place of the previous membership.
//
// # Metrics and analyses
//
// Each [Report] carries [Metrics] (customers, repeat rate all-time and in
// a window, net revenue, LTV, average order value, orders per customer),
// exact and per currency through package money, plus the products of the
// first and second purchase and the acquisition channel mix. A [Send]
// measures the revenue and conversion of a segment's audience in the days
// after a message.
//
// # Bad input
//
// A customer with an unusable field (an id of the wrong type, an order
// without a time, an unknown currency, two orders with one id) stops the
// evaluation with an [*InputError] naming the field; so does a customer id
// seen twice ([*SequenceError]). Skipping instead would drop a member and
// strip its tag. Orders may come in any order; where sequence matters they
// are ordered by time, then id. A negative order total is a refund entry:
// it lowers revenue but is not an order. A rule that cannot judge a
// customer returns a [*RuleError], never false. An empty segment has
// zero counts, empty money lists and undefined ([ratio.Ratio]) rates.
//
// Diff inputs must hold valid ids of one resource type without duplicates;
// DiffSorted also requires ascending order. Anything else is an error, not
// a guess.
package segment

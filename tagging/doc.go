// Package tagging implements the subscription tags a subscription app writes
// on Shopify customers and orders so that other apps (LINE, Klaviyo,
// Omnisend, segment tools) can target subscribers: the tag grammar, tag-set
// plans that never touch other apps' tags, and the lifecycle rules that turn
// subscription events into tag changes.
//
// The package is pure: no I/O and no platform import. A [Schema] is
// immutable and safe for concurrent use.
//
// # Grammar
//
// Customer tags describe one subscription contract ({id} is the contract id,
// ASCII digits); order tags describe the order a contract produced:
//
//	subscription-{id}-plan:PLAN           plan name
//	subscription-{id}-product:PRODUCT     product name
//	subscription-{id}-cancel:YYYY-MM-DD   removed when the contract resumes
//	subscription-{id}-skip-count:N        replaced on every skip
//	subscription-{id}-pause:YYYY-MM-DD    template; removed when the contract resumes
//	subscription-rank:RANK                template; member rank
//	subscription-{id}-status:STATUS       template; purchase status
//	subscription-count:N                  order: the contract's order count
//	subscription-id:NNNNNNNNNN            order: exactly 10 digits
//	delivery-{id}:YYYY-MM-DD TIME         order: delivery date and time slot
//
// The "subscription" and "delivery" prefixes are set separately with
// [WithPrefix] and [WithDeliveryPrefix]. The source documents name pause,
// rank and purchase-status tags without giving a layout; the ones above are
// defaults that [WithTemplate] replaces.
//
// Plan and product names, ranks, statuses and time slots are free text,
// Japanese included, kept byte for byte. Free text follows [Check]'s rules:
// no comma, control or bidi formatting character, no whitespace at either
// end (Shopify would split or trim it), and something visible. Literal parts (prefixes, keywords, template text) match
// without regard to ASCII case, as Shopify matches tags.
//
// [Schema.Parse] and [Schema.Format] are inverses: a tag Format writes
// parses back to the same [Tag], and a tag Parse accepts formats back to
// itself, up to the case of its literal parts.
//
// # Ownership, plans and events
//
// A schema owns the tags it can parse and the tags of its purchase-count
// rules ([Rule], "at the 3rd order add tag X"). Everything else on a
// resource, such as "line" from CRM PLUS on LINE, "ecp-first" from a segment
// tool or a merchant's "VIP", belongs to someone else and is never removed.
// A malformed tag under the subscription prefix is not owned either.
//
// [Schema.Plan] computes the minimal [Change] from a resource's current tags
// to the owned tags it should have, and [Schema.PlanAll] does so over many
// resources without allocating for unchanged ones. [Schema.Apply] turns one
// lifecycle [Event] on a customer (created, plan or product changed, order
// placed, skipped, paused, cancelled, resumed, rank or status changed,
// deleted, rules changed) into a Change that touches only that event's
// contract and kinds of tag, so several contracts on one customer never
// interfere and a plan change never takes the product tag.
// [Schema.ApplyOrder] writes an order's tags ([OrderPlaced],
// [DeliveryChanged]). Change is also what package segment produces and
// what the Shopify client applies.
//
// [Schema.Contracts] reads the tags back per contract: a [Contract] says
// what the customer's tags of one contract say (plan, product, cancelled,
// paused, skips, status), and [Schema.ContractTags] lists those tags.
// Package segment's subscriber rules are built on it.
//
// [Set] holds tags with Shopify's semantics: trimmed, matched without regard
// to case, first spelling kept, insertion order.
//
// # Limits
//
// Shopify allows [MaxLength] characters per tag and [MaxTags] tags per
// resource, and splits tags on commas. These are the defaults of every
// schema, overridden per schema with [WithMaxLength] and [WithMaxTags].
// Format, Plan and the events check them; [Check] checks one tag, and is
// the check package segment and the Shopify client use as well.
//
// # Errors
//
// Every error is typed; match it with [errors.As] or [errors.Is].
// Parse returns a [*ParseError] giving the offset where the input stopped
// matching, the kind being read and what was expected there; it never
// panics. Format returns a [*FormatError] naming the field that cannot be
// written. A tag that cannot be written as it stands returns a [*TagError]
// naming the tag, whose Err is [ErrEmpty], [ErrSpace], [ErrComma],
// [ErrEncoding], [ErrControl], [ErrBidi], [ErrInvisible], [ErrTooLong],
// [ErrTooMany] or [ErrForeign]. Options that
// cannot be used return a [*ConfigError], and an event that cannot be
// applied for another reason an [*EventError].
package tagging

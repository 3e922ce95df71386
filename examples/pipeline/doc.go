// Package pipeline is the day a Shopify marketing integration runs, as
// step functions a program, a test or a workflow engine calls:
//
//   - [Lifecycle] (W1): the day's subscription events become customer and
//     order tags;
//   - [Segments] (W2): customers and orders are read, segments computed,
//     the segment tags mirrored (joiners get the tag, leavers lose it) and
//     a Shopify customer segment kept on each tag;
//   - [SendLINE] (W3): one segment's LINE-linked members get a message;
//   - [SyncOmnisend] (W3): the segment tags are mirrored onto Omnisend
//     contacts, and one segment's members get their [OmnisendEvents]:
//     real-time ones at most once, historical ones as often as needed;
//   - [SyncKlaviyo] (W3, W5, W6): a segment mirrored into a Klaviyo list,
//     email consent and activity collected, computed properties written
//     back (update only), loyalty points as events;
//   - [Marketing] (W4, W7): the day's orders are attributed to channels,
//     the rollup reported, and the app's daily engagements sent back to
//     Shopify;
//   - [Redact]: a customers/redact request carried to the state, Klaviyo
//     and Omnisend.
//
// [RunDay] runs them in order (all but Redact, which runs per request).
// Every step is safe to run again for the same day: what it writes is
// either idempotent by nature (tag edits, upserts by remote id) or
// recorded in the [State] before it is sent, under keys made of the shop,
// the day, the step and the item, never of anything random. A rerun after
// a crash or a cancel therefore finishes the day without sending anything
// twice, and a rerun of a finished day writes nothing.
//
// Each step's report states, per platform, the minimum its work needs
// ([Minimum]): the fewest requests at the platform's batch and page
// sizes, and the least time the platform's rate limits allow (the
// floor). With a [Meter], [RunDay] sets the requests each step made
// beside them, and the report prints both, with the efficiency (floor
// ÷ time).
//
// Steps take an [Env]: the shop's [Config], its [Clients] (a nil client
// skips its step) and its [State]. With Config.Apply false the steps plan
// and report without writing.
package pipeline

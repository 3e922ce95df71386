// Package attribution credits orders to marketing and sums spend,
// engagement and revenue per channel, campaign, ad group and ad.
//
// It is pure: no I/O besides writing a report to an io.Writer, no platform
// client. Inputs are plain values (from Shopify, Klaviyo, ad platforms or a
// database) and the outputs are plain values too, including the daily rows
// that the Shopify client sends as marketing engagements.
//
// # Inputs
//
// [Touchpoint]s (ad impressions and clicks; email sent, opened, clicked,
// bounced; SMS sent and clicked; LINE or push messages sent, opened,
// clicked, bounced; direct visits) and [Conversion]s (orders) are streamed
// as iter.Seq values, both sorted by customer and then time: grouped by
// customer, each customer's events in time order, customers in ascending
// byte order. [SortTouchpoints] and [SortConversions] sort slices
// that are not. [Spend] rows (per day: spend, impressions, clicks) and
// [Messages] rows (per day: sends, opens, clicks, bounces, unsubscribes,
// complaints) come in any order. Memory follows the distinct (key, day)
// pairs, not the number of touchpoints.
//
// # Models
//
// A conversion's journey is the customer's credit-eligible touchpoints
// (clicks and direct visits; never impressions, sends or opens) within the
// lookback window (30 days by default) up to and including the order's
// instant. [LastNonDirectClick] (Shopify's default and the zero [Model]),
// [LastClick], [FirstClick], [Linear], [TimeDecay] (half-life 7 days by
// default), [PositionBased] (40/20/40) and [AnyClick] (Shopify's: every
// clicked node gets the whole order) share it out. A journey of direct
// visits only goes to the direct channel; no eligible touchpoint at all
// leaves the order unattributed ([Unattributed]).
//
// For every model but AnyClick a conversion's credits sum to exactly one:
// credit is kept in millionths ([Credit]) and split, like revenue, with the
// largest-remainder rule of [money.Amount.Allocate], so the parts of an
// order's revenue add up to it to the minor unit. Touchpoints at the same
// instant are ordered by key, and a rounding tie goes to the key touched
// first, so the result never depends on input order.
//
// # Rollups and KPIs
//
// [Config.Rollup] returns a [Result] with a row per level, key and day
// ([Result.Daily]) and per level and key over the period ([Result.Period]).
// Rows carry additive [Measures]; KPIs (CTR, CPC, CPM, CPA, ROAS,
// conversion, open, click and bounce rates) are methods computed from the
// row's sums, undefined when their denominator is zero. Money stays per
// currency ([money.Totals]) and money KPIs are rounded half to even to the
// currency's minor unit with [money.Amount.MulDiv].
//
// Activity is dated in the shop's time zone ([Config.Location]);
// conversions are dated by the order, as Shopify's reports do.
//
// # Bad input
//
// Nothing panics and nothing is dropped silently. Defined cases:
//
//   - Touchpoints after a conversion do not count toward it (they may count
//     toward a later one); one at the very instant of the order does.
//   - A conversion with no customer is unattributed (Unattributed.NoCustomer).
//   - Spend or message rows on a day with no other activity are reported as
//     they are: ROAS is then 0 and CPC, CTR and the like are undefined.
//   - Exact duplicates (same touchpoint twice for a customer, same order
//     twice for a customer, same row twice for a key and day) are dropped
//     and counted in [Stats.Duplicates]; duplicates that differ are an
//     [*InputError] wrapping [ErrDuplicate]. Order ids are checked within a
//     customer. Identical anonymous touchpoints all count: without a
//     customer they may be different people.
//   - Mixed currencies never add up: sums and money KPIs are per currency,
//     ROAS pairs revenue and spend of the same currency, and an engagement
//     row that would need two currencies in one field is an error.
//   - Streams out of order, missing or invalid fields, negative counts or
//     amounts and unknown currencies are an [*InputError] naming the input,
//     its index and the field.
//   - Touchpoint counts that a channel also reports in rows for the same
//     day are taken from the rows only ([Stats.Superseded]).
//
// # Reports and Shopify
//
// [WriteTable] and [WriteCSV] print rows. [Config.Engagements] turns daily
// rows into [Engagement] values shaped for Shopify's
// MarketingEngagementInput, at activity level (remote id) or channel level
// (channel handle).
package attribution

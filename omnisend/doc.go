// Package omnisend is a client for the Omnisend API, date version
// 2026-03-15 (https://api-docs.omnisend.com): contacts, contact tags,
// customer events and batches.
//
// Requests go to https://api.omnisend.com/api with the Omnisend-Version
// header and either a brand's API key ("Authorization: Omnisend-API-Key
// <key>", [APIKey]) or an app's OAuth access token ([OAuth]). The older v3
// and v5 APIs (X-API-KEY, offset or link paging, carts and orders) are not
// covered.
//
// # Services
//
//   - [Client.Contacts]: create-or-update by email (201 created, 200
//     updated), get, update by id or by email, and cursor-paged listings
//     with Omnisend's filters ([ListOptions] says which combine).
//   - [Client.Tags]: add and remove tags for up to 250 contacts a call,
//     [TagsService.Apply] for any number of changes at the endpoint's own
//     limit, and [TagsService.Mirror] (or [TagsService.MirrorKnown] from
//     contacts already read), which keeps the tags a caller owns
//     ([Ownership]) equal to a desired set without touching other tags.
//   - [Client.Events]: custom and recommended customer events, with
//     deterministic event ids ([EventID]).
//   - [Client.Batches]: batch operations of up to 100 items, polled to the
//     end with their per-item results; [BatchesService.Run] for any number
//     of items.
//   - [Client.Do] for the endpoints without typed methods.
//
// # Events and retries
//
// Omnisend deduplicates events by eventID and eventTime only when they are
// historical; real-time events, the ones automations react to, are
// processed every time they arrive. So the client retries an event marked
// [Event.Historical] on any failure (exactly one copy is recorded; one
// newer than [DefaultHistoricalAge] is refused, as Omnisend would take it
// for a real-time one), but a real-time event only on a 429, which proves
// it was not processed. A
// real-time event whose answer was lost is never resent: it comes back as
// an [*UnknownEventError] naming it (Outcome Unknown in
// [EventsService.SendAll]), and the caller decides.
//
// Contact upserts with an email, updates and tag calls are idempotent by
// nature and retried on network errors, 5xx and 429, and so are reads; both
// also when a 2xx answer arrives cut off or malformed. Batch creation is
// retried only on 429.
//
// # Rate limits
//
// Omnisend limits each brand over a sliding minute: 400 requests by
// default and 60 on /contacts/tags ([DefaultLimits], overridable with
// [WithEndpointLimit]). The client holds every span of the window to the
// count on its side, so a single client is never refused. A 429 is waited
// out for the longest of the problem body's retryAfter, Retry-After and
// X-Rate-Limit-Reset, never less; a wait beyond the retry policy's MaxWait
// ends the call with a [*RateLimitError] carrying it.
//
// # Errors
//
// Errors follow the shape every shopcrm client shares (see package
// [shopcrm]): [*InputError] for bad input before any request, [*APIError]
// for a non-2xx answer with the RFC 9457 problem's type, title, detail and
// field errors, and [*RateLimitError] for throttling not waited out. Use
// errors.Is with [ErrRateLimited], [ErrUnauthorized], [ErrNotFound],
// [ErrConflict], [ErrIdentifierConflict], [ErrVersionRetired] and
// [ErrInvalidInput].
//
// The fake in package omnisendtest serves the same API for tests.
package omnisend

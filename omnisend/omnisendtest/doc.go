// Package omnisendtest is a fake Omnisend API (version 2026-03-15) for
// tests and examples, in the manner of net/http/httptest: NewServer starts
// it, URL is the base URL for omnisend.WithBaseURL, and Client returns a
// real *omnisend.Client already pointed at it.
//
// # What it models
//
//   - Authentication: "Authorization: Omnisend-API-Key <key>"
//     (DefaultAPIKey, WithAPIKey) or "Bearer <token>" (WithOAuthToken);
//     401 otherwise. The Omnisend-Version header is required: 400 when
//     missing, 410 for a version other than 2026-03-15.
//   - Contacts keyed by their identifiers: POST /contacts updates the
//     contact holding the email (200) or creates one (201). No two contacts
//     share an email or phone: on a create or an upsert an identifier
//     another contact holds is ignored, and a new contact left with none is
//     not created (the fake answers a 400 validation problem; Omnisend does
//     not document the answer). PATCH by id or by email refuses such an
//     identifier with 409 "Contact identifier already exists". Tags sent on
//     a create or update are added to the contact's tags, never removed
//     (the fake's reading); custom properties are merged; createdAt is
//     stored as the custom property externalCreated.
//   - Listings: GET /contacts with limit (1–250), after cursors, sort,
//     direction and the email, phone, status, tag and updatedAtFrom filters,
//     refusing tag with status and updatedAtFrom with any other filter.
//   - Tags: POST and DELETE /contacts/tags with up to 250 contact ids,
//     emails and phones and 1 to 100 tags (202). Omnisend tags
//     asynchronously; the fake applies the change before it answers, or
//     WithTagDelay later on its clock, in the order the calls came.
//   - Events: POST /events (202) creates or updates the event's contact and
//     records the event. An event with an eventID and an eventTime at least
//     WithHistoricalAge (default an hour) old is historical and recorded
//     once per eventID and eventTime; every other event is recorded each
//     time it arrives, as Omnisend does for real-time events, so a test sees
//     a resent event twice (Events).
//   - Batches: POST /batches of contacts or events (201, at most 100 items,
//     WithMaxBatchItems), moving pending → inProgress → finished over
//     WithBatchPolls reads each, items processed as their endpoint alone
//     would with per-item responses and errors; GET /batches (newest first,
//     offset paging, status and yyyy-mm-dd dateFrom and dateTo read as
//     whole UTC days), /batches/{id} and /batches/{id}/items.
//   - Rate limits per endpoint class over a sliding window counted on
//     arrival: 400 a minute, and 60 a minute on /contacts/tags
//     (omnisend.DefaultLimits, WithRateLimit). A refused request gets a 429
//     RateLimitProblem whose retryAfter is the whole seconds until the window
//     admits it, and counts as throttled in Stats.
//   - Errors as RFC 9457 problems (type, title, status, detail, instance),
//     validation problems with field errors.
//   - Scripted and seeded faults (WithFaults, AddFaults, WithChaos) with the
//     kinds of package shopcrmtest, by operation name or path; a clock of
//     its own (WithNow, Advance, SetNow); latency (WithLatency).
//   - Inspection and seeding: Requests, Stats, Events, Contacts, Contact,
//     AddContact, SetTags.
//
// # What it does not model
//
// Request bodies are decoded strictly: a field the fake does not know is a
// 400, never ignored, and so is a query parameter an operation does not
// take. It refuses, with a 400 problem saying so, segments
// (the segmentID filter and selector), the before cursor, and batches other
// than POST batches of contacts and events (products, categories, PUT).
// It serves no other endpoint (products, campaigns, segments, ...), nor the
// v3 and v5 APIs. Contacts are never deleted; segments, opt-outs and
// welcome messages have no effect. Emails match case-insensitively;
// validation is the documented one, not every rule Omnisend applies.
package omnisendtest

// Package linetest is a stateful fake of the LINE Messaging API for tests
// and example programs, in the manner of net/http/httptest.
//
// A Server serves api.line.me and api-data.line.me routes from one address.
// It keeps followers and profiles seeded by the test, records every message
// delivered per user, and counts what it did ([Server.Stats]: requests,
// throttled, faults and accepted, per endpoint class).
//
// # What it enforces, as LINE does
//
//   - User ids: "U" and 32 lowercase hex digits ([UserID] makes them), in
//     push and multicast recipients (push also takes group "C" and room "R"
//     ids), in audience uploads (JSON and file; IFA audiences are not
//     checked) and when seeding followers. A malformed id is answered 400
//     {"message":"The property, 'to[3]', in the request body is invalid
//     (line: -, column: -)"}, LINE's answer to a malformed push recipient;
//     that LINE answers multicast and audience uploads alike is assumed.
//   - Retry keys, stored for 24 hours of the server's clock: 409 with
//     x-line-accepted-request-id on reuse (a push's 409 repeats the first
//     request's sentMessages, as LINE documents), 400 when a key is sent to an
//     endpoint that does not take one. The first retry of a narrowcast within
//     [NarrowcastRaceWindow] is accepted instead and then fails with error
//     code 3, as when LINE finds the conflict after accepting the retry.
//   - Narrowcasts move from waiting to sending to succeeded as their
//     progress is read, or fail: when seeded ([Server.FailNextNarrowcast]),
//     and with error code 4 when they include an audience of fewer than 50
//     recipients ([WithMinNarrowcastAudience]).
//   - Every audience upload is a job moving from QUEUED to WORKING to
//     FINISHED (or FAILED, when seeded with [Server.FailNextAudienceJob]) as
//     its group is read or the clock advances; its users join the audience
//     only when it finishes, and a group is IN_PROGRESS until the job of its
//     creation finished. An upload while 10 jobs of the same audience run is
//     answered 429 ([WithAudienceJobs]; the figure and the message are not
//     from LINE's own documents).
//   - Send bodies as messaging-api.yml states them: at most 13 quick reply
//     items, a sender name of at most 20 characters and an icon URL of at
//     most 2,000 on any message, forbidPartialDelivery
//     only with upToRemainingQuota, a multicast aggregation unit matching
//     ^[a-zA-Z0-9_]{1,30}$; the audience list's status must be one of
//     LINE's, and its includesExternalPublicGroups and createRoute filters,
//     which the fake does not evaluate, are answered 400; a group's name
//     (description) is unique, case-insensitively, on creation and renaming.
//   - Channel access tokens: stateless, short-lived (at most
//     [MaxShortLivedTokens] valid at once) and a long-lived one, issued,
//     verified and revoked.
//   - Per-endpoint rate limits ([WithRateLimit]): token buckets for the
//     per-second ones, windows of the server's clock for those LINE counts
//     per hour or minute; and a monthly quota, with LINE's 429 bodies.
//
// # Faults
//
// Faults are injected in the vocabulary every bundled fake shares (package
// shopcrmtest), scripted ([WithFaults], [Server.AddFaults]) or seeded
// ([WithChaos]): a status such as 500 or 401, a 429 with LINE's rate-limit
// body, dropped connections, timeouts, truncated bodies, and "acted, then
// the response was lost". A fault's op is an endpoint class ("push",
// "multicast", ...) or a request path. A webhook emitter signs bodies with
// the channel secret.
//
// # Time
//
// The server's clock is real time plus an offset that Advance and SetNow
// move, so slow things (24 h keys, hourly limits, audience jobs, months) can
// be skipped while per-second limits still run in real time.
//
// # Not modelled
//
// Demographic filters (a narrowcast with filter.demographic is answered
// 400 naming the property, since followers here have no demographics),
// message content beyond the checks of the send endpoints (Flex
// contents are not checked), whether a push or multicast recipient is a
// friend (any well-formed id receives the message), the reply endpoint and
// reply tokens, rich menus, groups and rooms, insight, message content
// download, the 2 MB request size limit (bodies up to 64 MB are read,
// larger ones are answered 413), audience expiry after 180 days, v2.1
// JWT-assertion tokens, and the exact wording of LINE's error messages
// where LINE does not publish it.
package linetest

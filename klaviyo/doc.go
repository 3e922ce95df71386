// Package klaviyo is a client for Klaviyo's JSON:API REST API: profiles
// (read, create, update, upsert, bulk import jobs, update-only imports),
// events (one, or in bulk jobs, each recorded once through its unique_id),
// lists and segments and their members, consent (subscribe, unsubscribe
// from a list or globally, suppress, unsuppress), metrics and their
// aggregates, data-privacy deletion of a profile
// ([ProfilesService.RequestDeletion]), and system webhook subscriptions.
//
// One [Client] is safe for concurrent use. It authenticates with a private
// API key ([PrivateKey]) or OAuth access tokens ([OAuth]) and sends the
// revision header on every request ([DefaultRevision], [WithRevision]).
//
// # Services and responses
//
// The client's fields group the API: [Client.Profiles], [Client.Events],
// [Client.Lists], [Client.Segments], [Client.Subscriptions];
// [Client.Do] calls any other endpoint. A method that makes one request
// returns its [*Response] (status, request id, the steady window's
// RateLimit-* state) beside its result. Listings are iter.Seq2 iterators
// that follow links.next to the last page; filters are built with
// [Equals], [Any], [GreaterThan] and the others, and checked against what
// each endpoint allows before anything is sent.
//
// # Bulk writes
//
// Writes of many items ([EventsService.BulkCreate],
// [ListsService.AddProfiles], [SubscriptionsService.Subscribe],
// [ProfilesService.Import], ...) cut their input into requests at
// Klaviyo's documented caps (1,000 events, 1,000 list members, 1,000
// subscribes, 100 unsubscribes or suppressions, 10,000 profiles and 5 MB
// per import job), keep several requests in flight, and return one
// [ItemResult] per input item: Applied, Failed, Unknown (the request may
// have acted) or NotSent.
//
// # Idempotency
//
// Every event carries a unique_id: Klaviyo records only the first event
// with a given unique_id per profile and metric. The client derives one
// when the caller gives none ([DefaultUniqueID]); without it, Klaviyo would
// keep one event per profile, metric and second and silently drop the
// rest. The loyalty constructors ([Loyalty]) derive theirs from business
// keys (an order, a reward, a referral), so a replayed send is recorded
// once. Event writes are therefore retried on network errors and 5xx
// (except events whose profile patch appends or unappends, sent once like
// such an update); profile updates, upserts, imports, list membership and
// consent changes are idempotent by nature and retried too (patches that
// append or unappend excepted), and so are deletion requests
// (deleting twice deletes once). Reads and these writes are also retried
// when a 2xx answer arrives cut off or malformed. A profile create is sent
// once. A list create that a lost answer, a dropped connection, a 5xx or a
// damaged body leaves in doubt looks for a list of its name that was not
// there before, and is sent again only when there is none
// ([ListsService.Create]).
//
// # Rate limits
//
// Klaviyo limits each endpoint with a burst window (1 s) and a steady
// window (1 min). The client's gate per endpoint lets no second hold more
// than its burst count and no minute more than its steady count (each
// window a little longer, [BurstMargin], [SteadyMargin]; a 429 lengthens
// the second), with the spec's tiers as defaults ([DefaultLimits], [WithEndpointLimit]); a
// RateLimit-Limit header lower than the default lowers the minute window.
// A 429 waits at least its Retry-After before the retry, or, when the
// header is missing (seen in a recorded answer), the wait its error detail
// names ("Expected available in 2 seconds.").
//
// # Errors
//
// Errors follow the shape every shopcrm client shares (see package
// [shopcrm]): [*InputError] for bad input before any request,
// [*APIError] with Klaviyo's JSON:API errors for a non-2xx answer,
// [*RateLimitError] when throttling outlasted the retries. A 409
// duplicate_profile matches [ErrDuplicateProfile] and
// [APIError.DuplicateProfileID] names the existing profile.
//
// # Webhooks and OAuth
//
// [WebhookHandler] serves system webhook deliveries: it caps the body
// ([DefaultMaxWebhookBody]), checks Klaviyo-Signature over the raw body and
// Klaviyo-Timestamp with one or more secrets and the delivery's age by the
// body's meta.timestamp ([WebhookVerifier], [DefaultWebhookMaxAge]), and
// hands Handle each event
// whose external_id it has not handled before. Refusals are
// *[WebhookError] values ([ErrInvalidSignature], [ErrStaleWebhook],
// [ErrMalformedWebhook], [ErrBodyTooLarge]) given to OnError. An OAuth app
// checks the redirect with [OAuthConfig.VerifyCallback] (a
// *[CallbackError] when refused) and trades its code and PKCE verifier with
// [OAuthConfig.Exchange]. docs/webhooks.md compares the platforms.
//
// # Fake
//
// Package klaviyotest is a stateful fake of the API for tests.
package klaviyo

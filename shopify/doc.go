// Package shopify is a client for Shopify's Admin GraphQL API, covering
// what marketing integrations need: customers with their marketing
// consent, orders with their line items and customer journey, tags,
// customer segments and their members, and external marketing activities
// with their daily engagement.
//
// # Client
//
// [New] takes the shop domain (name.myshopify.com), a [TokenSource] for the
// access token and options. The client is safe for concurrent use; every
// method takes a context and honours its cancellation, also while waiting
// for the rate limit. Lists are iterators ([iter.Seq2]) that fetch pages as
// they go. [Client.Do] sends any document. Money is exact ([money.Amount]).
//
// # Rate limits
//
// Shopify charges each document a calculated cost from a leaky bucket per
// app and shop. The client keeps a gate mirroring that bucket: each call
// waits until the bucket should hold its requested cost, and every
// response's extensions.cost.throttleStatus retunes the gate's size, restore
// rate and level, so the defaults ([DefaultRestoreRate], [DefaultBucketSize])
// are only a first guess. The gate's bucket is kept a little smaller than
// the server's (5% of it or 50ms of restore, whichever is larger, at most a
// quarter), so that a call reaching Shopify earlier than the one before it
// still finds its cost there; after a THROTTLED answer the gate's rate is
// lowered and then recovers call by call. A THROTTLED answer (HTTP 200) is
// retried after (requested - available) / restoreRate plus jitter, or after
// the retry policy's exponential backoff when it carries no cost
// information; a 429 after its Retry-After. A 429 neither ran the document
// nor charged the bucket, so the gate gives the attempt's points back (a
// THROTTLED answer reports the bucket's level, which the gate takes
// instead). MAX_COST_EXCEEDED is never retried. [Response] reports each
// call's cost.
//
// Queries, tagsAdd and tagsRemove (idempotent), consent updates, and
// marketing activity upserts, updates and deletions (idempotent by remote
// id) are also retried on network errors, 5xx and answers cut off;
// segment deletion, marketing activity creation and engagements only on
// throttling. Two writes that are not idempotent but leave a trace
// Shopify can be asked about are sent again only after looking: a bulk
// query start ([BulkService.RunQuery]: the current bulk operation) and a
// segment creation ([SegmentsService.Create]: the segment of that name).
// When the answer leaves the outcome unknown, the write found is adopted,
// and one not found is sent again, within the retry policy.
//
// # Services and responses
//
// The client's fields group the API: [Client.Customers], [Client.Orders],
// [Client.Tags], [Client.Segments] and [Client.Marketing]; [Client.Do] and [Client.Mutate] send
// any other document. A method that makes one request returns its
// [*Response] (request id, cost and bucket state, served API version) as
// its second-to-last result; bulk writes report per change, and iterators
// fetch pages without exposing them.
//
// # Errors
//
// Errors follow the shape every shopcrm client shares (see package
// [shopcrm]). Bad input is an [*InputError] naming the field, returned
// before any request. A non-2xx answer is an [*APIError]. Throttling the
// retries did not get past, or a wait beyond the retry policy's MaxWait, is
// a [*RateLimitError] carrying the wait and wrapping the last answer (an
// [*APIError] for a 429, a [*ThrottledError] for THROTTLED). Top-level
// errors[] are a [*GraphQLErrors] holding [*GraphQLError]s with their code,
// path and locations; a mutation's userErrors a [*UserErrors]; a null
// resource a [*NotFoundError]; a segment whose members run past Shopify's
// pagination limit of 25,000 objects a [*PaginationLimitError] (read such a
// segment with a bulk export instead). Use errors.Is with [ErrRateLimited],
// [ErrUnauthorized], [ErrNotFound], [ErrConflict], [ErrMaxCostExceeded] and
// [ErrInvalidInput].
//
// # Access scopes
//
// What the app may read and write is the access scopes the shop granted
// it ([ScopeReadCustomers] and its kin). [Client.AccessScopes] lists them and
// [Client.RequireScopes] fails with a [*MissingScopesError] when some are
// missing. Shopify withholds orders older than 60 days from an app without
// read_all_orders without an error, so a program that needs every order
// should require [ScopeReadAllOrders] before it starts.
//
// # OAuth and session tokens
//
// An [App] holds a public app's client id and secret ([NewApp]). Install:
// [App.AuthorizeURL] with a [NewState] nonce, [App.VerifyCallback] on the
// redirect (hmac, shop domain, state, timestamp; a [*CallbackError] names the
// failing check), then [App.ExchangeCode] for an offline token, expiring on
// request. Embedded apps: [App.VerifySessionToken] checks an App Bridge
// session token (HS256 only, exp/nbf with [DefaultSessionTokenLeeway], aud,
// dest; a [*SessionTokenError] names the check), [App.ExchangeSessionToken]
// trades it for an offline or online token, and [App.Refresh] renews an
// expiring one. [App.TokenSource] serves a shop's token from a [TokenStore]
// (the app's database; [MemoryTokenStore] by default), refreshing it
// [DefaultRefreshBefore] its expiry. Credentials are [Secret]s throughout.
//
// # Tags in bulk
//
// [TagsService.Apply] applies many [tagging.Change]s with aliased
// tagsAdd/tagsRemove mutations packed under the cost limit and the bucket
// size, with several requests in flight, and returns one result per change.
//
// Above a threshold ([WithBulkTagThreshold], default
// [DefaultBulkTagThreshold] changes) [TagsService.ApplyAuto] switches to
// [TagsService.ApplyBulk]: the changes' mutations go into staged JSONL
// files of at most [MaxStagedUploadSize] bytes and run as bulk mutations,
// removals and additions in alternating operations (Shopify runs one
// mutation type per operation) so that each resource's changes keep their
// order; the result files come back as the same per-change results.
//
// # Bulk operations
//
// [BulkService] runs bulk queries ([BulkService.RunQuery]) and bulk
// mutations ([BulkService.RunMutation] over a [BulkService.StageUpload]),
// reads their status ([BulkService.Get] by id, [BulkService.Current]),
// cancels them, and waits for them by polling or by the
// bulk_operations/finish webhook ([WaitOptions].Finished).
// [BulkService.Query] does it all and streams the JSONL result as
// [*BulkRow]s, each root object with its nested objects reattached by
// __parentId, in constant memory ([DecodeBulkRows]). The result URL and
// the upload target are on a storage host: they are reached over a path of
// their own ([WithStorageHTTPClient], [WithStorageIdleTimeout]) that sends
// no Shopify credential and times out when no byte moves rather than after
// a total time. OPERATION_IN_PROGRESS is a [*BulkInProgressError] (or a
// wait, with [BulkQueryOptions].WaitInProgress; [MaxConcurrentBulkQueries]
// gives the version's limit), and an operation that did not complete is a
// [*BulkOperationError] carrying its errorCode and partial data URL.
//
// [BulkService.ExportCustomers] and [BulkService.ExportOrders] are the
// typed exports: customers with their orders, straight into segment's
// input ([ExportedCustomer.Segment]), and orders with line items and
// customer journey, straight into attribution's conversions and
// touchpoints ([ExportedOrder.Conversion], [ExportedOrder.Touchpoints]).
// Both check the access scopes they need first ([MissingScopesError]).
//
// # Marketing activities and engagement
//
// [MarketingService] creates external marketing activities in the tree
// campaign → ad group → ad ([Activity]: hierarchy level and parent remote
// id, UTM or URL parameter, budget, ad spend, status) and upserts, updates
// and deletes them by the app's remote id. The fields Shopify fixes at
// creation are refused before sending when the previous activity is known
// ([CheckActivityChange]); Shopify's userErrors codes are
// [MarketingErrorCode] constants that errors.Is finds in a [*UserErrors].
//
// Daily engagement goes to an activity (remote id) or to the app's channel
// (channel handle) straight from [attribution.Engagement] rows.
// Shopify adds a second engagement for a day sent twice, and has no way to
// replace or read back one day, so [MarketingService.SendEngagements]
// keeps an [EngagementRecord] the caller persists: a day once applied is
// never sent again, and a day whose answer was lost is reported unknown
// instead of being resent; the caller deletes and resends the channel's
// data ([MarketingService.DeleteChannelEngagements]) or leaves it.
//
// # Page sizes
//
// Lists ask for as many items per page as Shopify allows and the query cost
// limit leaves room for: customers 249 (each brings three objects: amount
// spent, email and SMS consent), a tag's carriers 998 (ids only), orders 20 with their first
// [DefaultLineItems] line items each (50 without line items; each order
// brings its journey), segment members 249 (Shopify accepts up to 1000, but
// with the email, phone and amount objects a page of 1000 would cost more
// than 1000 points). ListOptions.PageSize, ListOptions.LineItems and
// MembersOptions.PageSize change them; [OrdersService.LineItems] reads all
// of an order's line items.
//
// # API version
//
// [DefaultAPIVersion] is requested unless [WithAPIVersion] says otherwise.
// The documents are validated against the 2025-01 schema; when the server
// answers with another version (X-Shopify-API-Version), the client logs it
// once.
//
// # Webhooks and app proxies
//
// [WebhookHandler] serves Shopify's webhook deliveries: it caps the body
// ([DefaultMaxWebhookBody]), checks X-Shopify-Hmac-Sha256 on the raw body
// against one or more client secrets ([VerifyWebhook]; give two during a
// rotation), decodes the envelope and a typed payload per topic
// ([ParseWebhook]; unknown topics arrive as raw JSON), drops deliveries
// whose X-Shopify-Event-Id it has handled before through a
// [shopcrm.DedupeStore], and releases the event when Handle fails so that
// Shopify's retry is handled again. Refusals are *[WebhookError] values
// ([ErrInvalidSignature], [ErrMalformedWebhook], [ErrBodyTooLarge]) given
// to OnError; docs/webhooks.md compares the three platforms' webhooks.
// [VerifyProxy] and [ProxyVerifier] check
// the signature and timestamp of requests forwarded by an app proxy.
//
// The package shopifytest provides a fake Admin API for tests; it also
// sends signed webhooks (SendWebhook, Redeliver).
package shopify

// Package line is a client for the LINE Messaging API: push, multicast,
// broadcast and narrowcast sends with retry keys, audiences, quota, profiles,
// follower ids, account-link tokens, channel access tokens and webhooks.
//
// One [Client] talks to both LINE hosts (api.line.me and api-data.line.me).
// It is safe for concurrent use; every call takes a context and carries its
// own state, so one client can be shared by many goroutines.
//
// # Services and responses
//
// The client's fields group the API: [Client.Messages] (push, multicast,
// narrowcast, broadcast, quota), [Client.Audiences] and [Client.Users]
// (followers, profiles, account links); [Client.Do] calls any other
// endpoint. A method that makes one request returns its [*Response] (status
// and x-line-request-id) as its second-to-last result; multicast reports a
// request id per chunk.
//
// # Errors
//
// Errors follow the shape every shopcrm client shares (see package
// [shopcrm]): [*InputError] for bad input before any request, [*APIError]
// for a non-2xx answer (LINE's message and details), [*RateLimitError]
// carrying the wait when throttling outlasted the retries, [*SendError]
// carrying the retry key when a send failed after going out, and
// [*NarrowcastError] for a narrowcast that failed after it was accepted.
// Use errors.Is with [ErrRateLimited], [ErrQuotaExceeded],
// [ErrUnauthorized], [ErrNotFound], [ErrConflict] and [ErrInvalidInput].
//
// # Webhooks
//
// [WebhookHandler] serves LINE's webhook deliveries: it caps the body
// ([DefaultMaxWebhookBody]), checks X-Line-Signature on the raw body
// against one or more channel secrets ([Verify]), decodes the events
// ([Parse]) and hands Handle the events whose webhookEventId it has not
// handled before (through a [DedupeStore]), releasing them when Handle
// fails so that LINE's redelivery is handled. Refusals are *[WebhookError]
// values ([ErrInvalidSignature], [ErrMalformedWebhook], [ErrBodyTooLarge])
// given to OnError; docs/webhooks.md compares the platforms' webhooks.
//
// # User ids
//
// A LINE user id is "U" and 32 lowercase hex digits, scoped to the LINE
// provider. The client sends ids as given: LINE answers a malformed one with
// 400 (an [*APIError]; in a multicast, the chunk that carried it fails), so
// check ids that come from another system with [ValidUserID] before a send.
//
// # Retry keys
//
// Every send (push, multicast, narrowcast, broadcast) carries an
// X-Line-Retry-Key. The caller may supply one (see [KeyFrom] to derive it from
// an order id); otherwise one is generated and returned in the result. A
// send that failed after going out returns a [*SendError] carrying its key,
// so a resend with that key never delivers twice; LINE answers 409 for a
// key it already accepted, which is reported as success with Duplicate set
// and, for a push, the SentMessages of the request accepted first. LINE's
// guide to retrying API requests documents the 409, its
// x-line-accepted-request-id header and its body. LINE remembers a key for
// 24 hours ([RetryKeyLifetime]): a resend after that is a new send.
//
// A multicast to more than 500 users is split into chunks, each with its
// own key derived from the send key. A rerun usually re-reads its
// recipients, so the list changes between runs; the [SendRecord] a
// multicast returns (and can save before it sends anything) says which
// recipients went out under which chunk key, and a rerun given the record
// sends to each current recipient once: see [MessagesService.Multicast].
// A narrowcast retry can instead be accepted and then fail with error code
// 3 (LINE found the key taken after accepting the retry);
// [NarrowcastResult.Wait] reports it as a duplicate and follows the
// original request, never as a failure to resend.
//
// # Retries and rate limits
//
// Sends are retried, with the same key, on 5xx, timeouts, connection
// errors and answers cut off, and on a rate-limit 429 for push and
// multicast. A monthly-quota 429
// ([ErrQuotaExceeded]) and any 429 on narrowcast or broadcast (limited to 60
// per hour) are never retried, nor is any other 4xx. Each endpoint class has
// its own client-side rate gate with LINE's documented limits as defaults
// (see [DefaultLimits]); the mapping of endpoints to limits is not fully
// documented by LINE and can be overridden with [WithEndpointLimit]. For
// the limits LINE counts per hour or per minute (narrowcast, broadcast,
// audiences; see [Endpoint.Window]) the gate also holds every window to the
// count: a burst lets the first requests go at once, never a 61st into the
// hour.
//
// The fake in package linetest serves the same API for tests.
package line

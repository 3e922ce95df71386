// Package shopcrm holds what every shopcrm client shares in public: the
// [Secret] type and the [TokenSource] interface for credentials, the error
// sentinels matched with errors.Is, and the error types every client returns
// for the same conditions ([InputError], [RateLimitError]), and the store
// webhook handlers deduplicate events with ([DedupeStore], [MemoryDedupe]).
//
// The platform packages (shopify, line, ...) alias these names, so
// errors.As(err, &shopify.RateLimitError{}) and errors.As(err,
// &shopcrm.RateLimitError{}) find the same value, and code that handles
// several platforms can test for them once.
//
// # Errors
//
// Every client reports the same condition the same way:
//
//   - bad input, found before any request is sent: *InputError naming the
//     field; errors.Is(err, ErrInvalidInput);
//   - a non-2xx answer: the package's own *APIError (status, platform code,
//     message, request id), matching ErrUnauthorized (401/403), ErrNotFound
//     (404), ErrConflict (409) and ErrRateLimited (429);
//   - throttling that retries did not get past, or a server-requested wait
//     beyond the client's cap or the context's deadline: *RateLimitError
//     carrying the wait, which unwraps to the package's *APIError (or the
//     platform's own throttling error) and matches ErrRateLimited;
//   - a network failure: the *url.Error of net/http, unwrapped as is;
//   - a cancelled or expired context: an error matching context.Canceled or
//     context.DeadlineExceeded.
//
// # Webhooks and OAuth callbacks
//
// The platforms' webhook verifiers and handlers refuse a delivery with a
// *WebhookError naming the platform and the HTTP status the handler
// answers, which unwraps to ErrInvalidSignature (401), ErrStaleWebhook
// (401), ErrMalformedWebhook (400, 405) or a *BodyTooLargeError (413,
// ErrBodyTooLarge). A replayed or redelivered event is not an error: the
// handlers acknowledge it and skip it through a [DedupeStore]. An OAuth
// callback refused before any token request is a *CallbackError naming
// the failed check (ErrInvalidCallback). None of them holds a secret, a
// signature, a code or a token. See docs/webhooks.md.
//
// # Programming errors
//
// As in the standard library, a nil context.Context and a client not made
// by its package's New are programming errors: they panic, the way a nil
// context panics in net/http, rather than returning an error nobody
// checks for. Everything a caller can get wrong with valid code (bad input,
// a nil request pointer, a nil message, a nil option, which is skipped) is
// an *InputError or is handled.
package shopcrm

// Package transport is the HTTP plumbing shared by the shopcrm platform
// clients: a go-retryablehttp client whose retries are opt-in per request, a
// Retry-After aware backoff, an x/time/rate gate applied to every attempt,
// the base API error and its sentinels, secrets that never print, and a
// log/slog adapter that redacts.
//
// Nothing here knows about a platform. Each client passes what differs
// (retry rules, request-id header, rates) through [Config] and [Request].
package transport
